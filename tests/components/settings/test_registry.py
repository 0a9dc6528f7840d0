"""Registry settings: one stack of the account declares it, images and registry agree."""

from __future__ import annotations

from components.settings import Secret, parse_settings
from offline.stack_config import load_stack_config

BASE = {key: value for key, value in load_stack_config("dev-base").values.items() if key.startswith("marketplace:")}
SECRETS = frozenset({"marketplace:catalogApiKey", "marketplace:imagePullSecret"})
TOKEN = {"DIGITALOCEAN_TOKEN": "dop_v1_test"}


def parse(stack: str, **values: str):
    return parse_settings(stack, {**BASE, "marketplace:catalogApiKey": "k", **values}, SECRETS, environ=TOKEN)


def test_staging_declares_the_accounts_registry_and_every_other_stack_uses_it():
    # Staging is the first stack the pipeline deploys: the registry exists before anyone pulls.
    declares = {stack: parse(stack).registry.declare for stack in ("staging", "production", "dev", "dev-alice")}
    assert declares == {"staging": True, "production": False, "dev": False, "dev-alice": False}
    assert parse("production", **{"marketplace:ownsContainerRegistry": "true"}).registry.declare
    registry = parse("staging").registry
    assert (registry.name, registry.tier, registry.region) == ("marketplace", "basic", "nyc3")


def test_default_images_live_in_the_accounts_registry_whatever_its_name():
    settings = parse("production", **{"marketplace:containerRegistry": "acme-catalog"})
    assert settings.workloads.web.image == "registry.digitalocean.com/acme-catalog/catalog-web:1.0.0"
    assert settings.workloads.api.image == "registry.digitalocean.com/acme-catalog/catalog-api:1.0.0"


def test_images_elsewhere_are_allowed_and_the_pull_secret_stays_secret():
    settings = parse(
        "production",
        **{
            "marketplace:images": '{"web": "ghcr.io/acme/catalog-web:1.0.0"}',
            "marketplace:imagePullSecret": '{"auths": {"ghcr.io": {"auth": "c2VjcmV0"}}}',
        },
    )
    assert settings.workloads.web.image == "ghcr.io/acme/catalog-web:1.0.0"
    assert settings.registry.pull_secret == Secret("marketplace:imagePullSecret", '{"auths": {"ghcr.io": {"auth": "c2VjcmV0"}}}')
    assert "c2VjcmV0" not in repr(settings)
