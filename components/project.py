"""The DigitalOcean Project that groups a stack's resources in the control panel and API."""

from __future__ import annotations

import pulumi
import pulumi_digitalocean as digitalocean

from components.settings.stack import StackSettings

_ENVIRONMENT = {"production": "Production", "staging": "Staging", "dev": "Development"}


class StackProject(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: StackSettings,
        resource_urns: list[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("marketplace:index:StackProject", name, None, opts)
        self.project = digitalocean.Project(
            f"{name}-project",
            name=settings.name_prefix,
            description=f"Marketplace catalog, stack {settings.stack}",
            purpose="Web Application",
            environment=_ENVIRONMENT[settings.kind],
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Membership is a resource of its own so that adding a region only adds a URN.
        self.resources = digitalocean.ProjectResources(
            f"{name}-resources",
            project=self.project.id,
            resources=resource_urns,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"projectId": self.project.id})
