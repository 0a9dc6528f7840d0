"""The account's DigitalOcean Container Registry, declared by the one stack that owns it
(components/settings/registry.py says which), and the pull secret for images kept elsewhere."""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_kubernetes as kubernetes

from components.settings.reader import Secret
from components.settings.stack import StackSettings


class AccountRegistry(pulumi.ComponentResource):
    """The registry every stack's images come from. Protected and kept if it ever leaves the
    program: every cluster of the account pulls from it, and its name (global across
    DigitalOcean, part of every image reference) could be taken by someone else once freed."""

    registry: digitalocean.ContainerRegistry

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("marketplace:index:AccountRegistry", name, None, opts)
        registry = settings.registry
        self.registry = digitalocean.ContainerRegistry(
            f"{name}-registry",
            name=registry.name,
            subscription_tier_slug=registry.tier,
            region=registry.region,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.register_outputs({"endpoint": self.registry.endpoint})


def pull_secret(
    resource_name: str,
    secret: Secret,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> kubernetes.core.v1.Secret:
    """A kubernetes.io/dockerconfigjson Secret from the stack's `marketplace:imagePullSecret`
    (the content of a docker config.json), for images outside the account's registry."""
    return kubernetes.core.v1.Secret(
        resource_name,
        metadata=kubernetes.meta.v1.ObjectMetaArgs(namespace=namespace),
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": secret.output()},
        opts=opts,
    )
