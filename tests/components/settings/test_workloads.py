"""Workload settings: defaults per kind, overrides, and the exact refusals."""

from __future__ import annotations

import pytest

from components.settings import ConfigError, Secret, StackSettings, parse_settings
from components.settings.workloads import (
    APP_DEFAULTS,
    CATALOG_SERVICE_URLS,
    DEFAULT_IMAGES,
    cpu_millicores,
    memory_bytes,
)
from offline.stack_config import load_stack_config
from tests.conftest import plan_error

# The smallest config the CLI would hand a personal stack (project defaults applied).
# The project defaults, as the CLI applies them to a stack without a file.
BASE = {key: value for key, value in load_stack_config("dev-base").values.items() if key.startswith("marketplace:")}
TOKEN = {"DIGITALOCEAN_TOKEN": "dop_v1_test"}
KEY = "marketplace:catalogApiKey"


def settings_of(stack: str, extra: dict[str, str] | None = None, secret: bool = True) -> StackSettings:
    values = {**BASE, **(extra or {})}
    secret_keys = frozenset({KEY, "marketplace:grafanaAdminPassword"} if secret else set())
    return parse_settings(stack, values, secret_keys, environ=TOKEN)


def test_dev_kinds_default_small_without_monitoring_or_key() -> None:
    settings = settings_of("dev-alice")
    workloads = settings.workloads
    assert (workloads.web.replicas, workloads.web.max_replicas) == (1, 2)
    assert workloads.api.resources.memory_limit == "256Mi"
    assert settings.monitoring.enabled is False
    assert workloads.catalog_api_key is None
    assert workloads.catalog_service_url == CATALOG_SERVICE_URLS["dev"]
    assert workloads.web.image == f"registry.digitalocean.com/marketplace/{DEFAULT_IMAGES['web']}"


def test_production_defaults_are_larger_monitored_and_need_the_key() -> None:
    settings = settings_of("production", {KEY: "sk_live_key"})
    workloads = settings.workloads
    assert workloads.api.replicas == APP_DEFAULTS["production"]["api"]["replicas"] >= 2
    assert workloads.api.max_replicas > workloads.web.max_replicas
    assert settings.monitoring.enabled is True
    assert workloads.catalog_api_key == Secret(KEY, "sk_live_key")
    assert "sk_live_key" not in repr(workloads)
    assert workloads.gateway.replicas == 3


def test_a_stack_overrides_single_fields_and_keeps_the_other_defaults() -> None:
    settings = settings_of(
        "staging",
        {
            KEY: "k",
            "marketplace:workloads": '{"api": {"replicas": 4, "maxReplicas": 8, "cpuLimit": "2"}}',
            "marketplace:images": '{"web": "ghcr.io/acme/web@sha256:' + "a" * 64 + '"}',
            "marketplace:monitoring": "false",
            "marketplace:gateway": '{"loadBalancerSizeUnit": 3}',
        },
    )
    workloads = settings.workloads
    assert (workloads.api.replicas, workloads.api.max_replicas, workloads.api.resources.cpu_limit) == (
        4,
        8,
        "2",
    )
    assert workloads.api.resources.cpu_request == APP_DEFAULTS["staging"]["api"]["cpuRequest"]
    assert workloads.web.image.endswith("a" * 64)
    assert workloads.api.image == f"registry.digitalocean.com/marketplace/{DEFAULT_IMAGES['api']}"
    assert settings.monitoring.enabled is False
    assert workloads.gateway.load_balancer_size_unit == 3
    assert workloads.gateway.replicas == 2


def test_a_misspelled_workload_key_is_refused_not_ignored() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_of("dev", {"marketplace:workloadz": "{}"})
    assert str(caught.value) == (
        "stack 'dev': config 'marketplace:workloadz': unknown key; did you mean 'marketplace:workloads'?"
    )


@pytest.mark.parametrize(
    ("quantity", "millicores"),
    [
        ("250m", 250),
        ("1", 1000),
        ("1.5", 1500),
        ("0.1", 100),
        ("0", None),
        ("0m", None),
        ("1.5m", None),
        ("2 cores", None),
    ],
)
def test_cpu_quantities(quantity: str, millicores: int | None) -> None:
    assert cpu_millicores(quantity) == millicores


@pytest.mark.parametrize(
    ("quantity", "size"),
    [
        ("256Mi", 256 * 2**20),
        ("1Gi", 2**30),
        ("500M", 500 * 10**6),
        ("1024", 1024),
        ("256MB", None),
        ("0Mi", None),
    ],
)
def test_memory_quantities(quantity: str, size: int | None) -> None:
    assert memory_bytes(quantity) == size


# The refusals below run the whole program: each must stop before anything is declared.


def test_an_image_without_tag_or_digest_is_refused() -> None:
    message = plan_error("production", overrides={"marketplace:images": {"web": "registry.example.com/catalog-web"}})
    assert message == (
        "stack 'production': config 'marketplace:images.web': 'registry.example.com/catalog-web' has "
        "no tag or digest, so every node may pull a different image: pin a release tag "
        "(registry.example.com/catalog-web:1.4.2) or a digest "
        "(registry.example.com/catalog-web@sha256:<digest>)"
    )


def test_the_latest_tag_is_refused() -> None:
    message = plan_error("dev", overrides={"marketplace:images": {"api": "registry.example.com/catalog-api:latest"}})
    assert message == (
        "stack 'dev': config 'marketplace:images.api': 'registry.example.com/catalog-api:latest' "
        "uses the moving tag 'latest': pin a release tag (registry.example.com/catalog-api:1.4.2) or a digest"
    )


@pytest.mark.parametrize("replicas", [0, 1])
def test_production_needs_at_least_two_replicas(replicas: int) -> None:
    message = plan_error("production", overrides={"marketplace:workloads": {"api": {"replicas": replicas}}})
    assert message == (
        "stack 'production': config 'marketplace:workloads.api.replicas': must be at least 2 in production "
        f"(one node drain must leave a pod serving), got {replicas}"
    )


def test_zero_replicas_is_refused_in_dev_too() -> None:
    message = plan_error("dev", overrides={"marketplace:workloads": {"web": {"replicas": 0}}})
    assert message == "stack 'dev': config 'marketplace:workloads.web.replicas': must be at least 1, got 0"


def test_a_ceiling_below_the_floor_is_refused() -> None:
    message = plan_error("dev", overrides={"marketplace:workloads": {"web": {"replicas": 3, "maxReplicas": 2}}})
    assert message == (
        "stack 'dev': config 'marketplace:workloads.web.maxReplicas': (2) must not be below workloads.web.replicas (3)"
    )


def test_a_cpu_limit_below_its_request_is_refused() -> None:
    message = plan_error("production", overrides={"marketplace:workloads": {"web": {"cpuRequest": "500m", "cpuLimit": "250m"}}})
    assert message == (
        "stack 'production': config 'marketplace:workloads.web.cpuLimit': (250m) must not be below "
        "workloads.web.cpuRequest (500m)"
    )


def test_a_memory_limit_below_its_request_is_refused_across_units() -> None:
    message = plan_error(
        "staging",
        overrides={"marketplace:workloads": {"api": {"memoryRequest": "1Gi", "memoryLimit": "1000Mi"}}},
    )
    assert message == (
        "stack 'staging': config 'marketplace:workloads.api.memoryLimit': (1000Mi) must not be below "
        "workloads.api.memoryRequest (1Gi)"
    )


def test_a_malformed_memory_quantity_is_refused() -> None:
    message = plan_error("production", overrides={"marketplace:workloads": {"web": {"memoryLimit": "256MB"}}})
    assert message == (
        "stack 'production': config 'marketplace:workloads.web.memoryLimit': must be a memory "
        "quantity such as "
        "256Mi or 1Gi, got '256MB'"
    )


def test_a_malformed_cpu_quantity_is_refused() -> None:
    message = plan_error("dev", overrides={"marketplace:workloads": {"api": {"cpuRequest": "half"}}})
    assert message == (
        "stack 'dev': config 'marketplace:workloads.api.cpuRequest': must be a CPU quantity such as 250m or 1.5, got 'half'"
    )


def test_a_misspelled_field_names_the_close_match() -> None:
    message = plan_error("dev", overrides={"marketplace:workloads": {"web": {"replica": 2}}})
    assert message == "stack 'dev': config 'marketplace:workloads.web.replica': unknown field; did you mean 'replicas'?"


def test_a_number_written_as_text_is_refused() -> None:
    message = plan_error("dev", overrides={"marketplace:workloads": {"web": {"replicas": "2"}}})
    assert (
        message == "stack 'dev': config 'marketplace:workloads.web.replicas': must be a whole number, got '2': remove the quotes"
    )


def test_staging_without_the_api_key_is_refused() -> None:
    message = plan_error("staging", stack_text="config:\n  pulumi:disable-default-providers: [kubernetes]\n")
    assert message == (
        "stack 'staging': config 'marketplace:catalogApiKey': is missing: staging calls the catalog "
        "service with "
        "its own key; set it with pulumi config set --secret marketplace:catalogApiKey <key> -s staging"
    )


def test_an_api_key_in_plain_text_is_refused() -> None:
    message = plan_error("production", overrides={KEY: "not-encrypted"})
    assert message == (
        "stack 'production': config 'marketplace:catalogApiKey': is a secret but is stored in plain "
        "text: set it "
        "with pulumi config set --secret marketplace:catalogApiKey -s production"
    )
    assert "not-encrypted" not in message


def test_the_catalog_service_must_be_https() -> None:
    message = plan_error("dev", overrides={"marketplace:catalogServiceUrl": "http://catalog.example.com"})
    assert message == (
        "stack 'dev': config 'marketplace:catalogServiceUrl': must be an https:// URL with a host name, "
        "got 'http://catalog.example.com'"
    )


def test_the_stack_files_carry_a_secure_placeholder_for_the_key() -> None:
    import yaml

    from offline.stack_config import ROOT

    for stack in ("staging", "production"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert set(config[KEY]) == {"secure"}
        assert config[KEY]["secure"].startswith("v1:")
