"""Container registry settings: the account's DigitalOcean Container Registry (DOCR), which
stack declares it, and an optional pull secret for images kept elsewhere.

DOCR registries are private. A cluster pulls from the account's registry through
`registry_integration` (the provider's call to POST /v2/kubernetes/registry), which DigitalOcean
allows only once the registry exists; an image in any other private registry needs a pull
secret. Registry names are global across DigitalOcean (openapi registry_create.yml: "A globally
unique name"), so the name is the team's own choice and part of every image reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.platform import platform_rules, value_problem
from components.settings.reader import ConfigReader, Secret, shown

DOCR_HOST = "registry.digitalocean.com"
_REGISTRY = "digitalocean:index/containerRegistry:ContainerRegistry"

# The stack that declares the registry: the first one the pipeline deploys, so the registry
# exists before any other stack's clusters ask for access to it. Every other stack of the
# account uses it by name.
_OWNER_KINDS = {"production": False, "staging": True, "dev": False}
# basic: 5 repositories, 5 GiB (a release per app a month fits); professional allows more
# registries per account (openapi DigitalOcean-public.v2.yaml, registry tag).
SUBSCRIPTION_TIER = "basic"
# DOCR is offered in nyc3, sfo3, ams3, sgp1, fra1 (openapi registry_create.yml region enum).
REGISTRY_REGION = "nyc3"


@dataclass(frozen=True)
class RegistrySettings:
    name: str
    # True in the one stack of the account that declares (and protects) the registry.
    declare: bool
    tier: str
    region: str
    # A .dockerconfigjson for images outside the account's registry (Secret, never shown).
    pull_secret: Secret | None

    @property
    def prefix(self) -> str:
        return f"{DOCR_HOST}/{self.name}"


def read_registry(reader: ConfigReader, kind: str, personal: bool) -> RegistrySettings:
    name = reader.required_string("containerRegistry", "the name of the account's DigitalOcean Container Registry")
    problem = value_problem(platform_rules().allowed(_REGISTRY, "name"), name)
    if problem:
        raise reader.error("containerRegistry", f"{problem}: registry names are lowercase letters, digits and '-'")
    declare = reader.boolean("ownsContainerRegistry", _OWNER_KINDS[kind] and not personal)
    return RegistrySettings(
        name=name,
        declare=declare,
        tier=SUBSCRIPTION_TIER,
        region=REGISTRY_REGION,
        pull_secret=reader.secret("imagePullSecret"),
    )


def check_images(reader: ConfigReader, registry: RegistrySettings, images: dict[str, str]) -> None:
    """Every image in DigitalOcean's registry host must be in the account's registry: the
    clusters' registry access covers that one only."""
    for app, image in images.items():
        host, _, rest = image.partition("/")
        if host != DOCR_HOST:
            continue
        other = rest.split("/", 1)[0]
        if other != registry.name:
            raise reader.error(
                f"images.{app}",
                f"{shown(image)} is in the registry {other!r}, but the clusters can pull only from this account's registry "
                f"{registry.name!r} (marketplace:containerRegistry); push it there, or use another registry with "
                "marketplace:imagePullSecret",
            )
