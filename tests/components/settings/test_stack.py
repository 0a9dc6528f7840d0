"""Stack settings: defaults per stack kind and the exact message of every refusal."""

from __future__ import annotations

import contextvars

import pulumi
import pytest

from components.settings import ConfigError, Secret, parse_settings
from components.settings.stack import DEFAULT_PROVIDERS, _current_config, stack_kind
from offline.stack_config import load_stack_config
from tests.conftest import plan_error

# The project defaults, as the CLI applies them to a stack without a file.
BASE = {key: value for key, value in load_stack_config("dev-base").values.items() if key.startswith("marketplace:")}
BASE["marketplace:catalogApiKey"] = "catalog-key"
SECRETS = frozenset({"marketplace:catalogApiKey"})
TOKEN = {"DIGITALOCEAN_TOKEN": "dop_v1_test"}


def parse(stack: str = "production", **values: str):
    return parse_settings(stack, {**BASE, **values}, SECRETS, environ=TOKEN)


def refusal(stack: str = "production", **values: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(stack, **values)
    return str(caught.value)


def test_kind_defaults():
    production, staging, dev, alice = parse("production"), parse("staging"), parse("dev"), parse("dev-alice")
    assert production.regions == ("sfo3", "nyc3", "fra1", "blr1", "sgp1")
    assert staging.regions == production.regions
    assert dev.regions == ("nyc3",) and alice.regions == ("nyc3",)
    assert production.cluster.ha_control_plane and not staging.cluster.ha_control_plane
    assert production.cluster.node_pool.min_nodes >= 2
    assert production.assets.protect and production.assets.versioning and not dev.assets.protect
    assert (production.hostname, staging.hostname, dev.hostname, alice.hostname) == (
        "catalog.example.com",
        "staging.catalog.example.com",
        "dev.catalog.example.com",
        "alice.dev.catalog.example.com",
    )
    assert alice.personal_owner == "alice" and dev.personal_owner is None
    blocks = {s.network_block for s in (production, staging, dev, alice)}
    assert len(blocks) == 4, "each stack gets its own address block"


def test_values_from_the_stack_override_kind_defaults():
    settings = parse(
        "dev",
        **{
            "marketplace:regions": '["fra1", "sgp1"]',
            "marketplace:nodePool": '{"size": "s-4vcpu-8gb", "maxNodes": 5}',
            "marketplace:haControlPlane": "true",
            "marketplace:maintenanceWindow": '{"day": "tuesday", "startTime": "02:30"}',
        },
    )
    assert settings.regions == ("fra1", "sgp1")
    assert (settings.cluster.node_pool.size, settings.cluster.node_pool.min_nodes, settings.cluster.node_pool.max_nodes) == (
        "s-4vcpu-8gb",
        1,
        5,
    )
    assert settings.cluster.ha_control_plane
    assert (settings.cluster.maintenance.day, settings.cluster.maintenance.start_time) == ("tuesday", "02:30")


def test_token_sources_in_order_and_never_shown():
    dedicated = parse_settings(
        "dev",
        {**BASE, "marketplace:kubernetesApiToken": "k8s-only"},
        secret_keys=SECRETS | {"marketplace:kubernetesApiToken"},
        environ=TOKEN,
    )
    assert dedicated.kubernetes_api_token == Secret("marketplace:kubernetesApiToken", "k8s-only")
    assert "k8s-only" not in repr(dedicated)
    assert parse("dev").kubernetes_api_token.key == "DIGITALOCEAN_TOKEN"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"marketplace:regions": '["nyc3", "mars1"]'}, "config 'marketplace:regions': unknown region 'mars1'; known regions: "),
        ({"marketplace:regions": '["nyc3", "fra1", "nyc3"]'}, "config 'marketplace:regions': region 'nyc3' is listed twice"),
        ({"marketplace:regions": "[]"}, "config 'marketplace:regions': is empty: a stack needs at least one region"),
        ({"marketplace:regions": "nyc3"}, "config 'marketplace:regions': must be a list of strings, got 'nyc3'"),
        ({"marketplace:nodePool": '{"minNodes": 0}'}, "config 'marketplace:nodePool.minNodes': must be at least 1, got 0"),
        (
            {"marketplace:nodePool": '{"minNodes": 6, "maxNodes": 4}'},
            "config 'marketplace:nodePool.minNodes': (6) must not be above nodePool.maxNodes (4)",
        ),
        (
            {"marketplace:nodePool": '{"size": "s-64vcpu-1tb"}'},
            "config 'marketplace:nodePool.size': unknown droplet size 's-64vcpu-1tb'",
        ),
        (
            {"marketplace:nodePool": '{"minNodes": "3"}'},
            "config 'marketplace:nodePool.minNodes': must be a whole number, got '3'",
        ),
        ({"marketplace:nodePool": '{"min": 3}'}, "config 'marketplace:nodePool.min': unknown field"),
        (
            {"marketplace:kubernetesVersion": "1.36"},
            "config 'marketplace:kubernetesVersion': must be an exact DOKS version such as \"1.36.1-do.0\", got '1.36': "
            "a minor alone moves to every new patch release on its own",
        ),
        (
            {"marketplace:kubernetesVersion": "latest"},
            "config 'marketplace:kubernetesVersion': must be an exact DOKS version such as \"1.36.1-do.0\", got 'latest'",
        ),
        (
            {"marketplace:controlPlaneAllowList": '["2001:db8::/32"]'},
            "config 'marketplace:controlPlaneAllowList': 2001:db8::/32 is IPv6; only IPv4 is accepted: the control-plane "
            "firewall takes public IPv4 addresses or CIDRs only",
        ),
        (
            {"marketplace:controlPlaneAllowList": '["10.1.0.0/16"]'},
            "config 'marketplace:controlPlaneAllowList': 10.1.0.0/16 is not a public address",
        ),
        (
            # Shared address space (RFC 6598): carrier-grade NAT, no public host.
            {"marketplace:controlPlaneAllowList": '["100.64.0.0/10"]'},
            "config 'marketplace:controlPlaneAllowList': 100.64.0.0/10 is not a public address",
        ),
        (
            {"marketplace:cdnTtlSeconds": "7200"},
            "config 'marketplace:cdnTtlSeconds': 7200 is not a TTL the DigitalOcean CDN takes: one of 60, 600, 3600, "
            "86400, 604800",
        ),
        (
            {"marketplace:containerRegistry": "Market_Place"},
            "config 'marketplace:containerRegistry': 'Market_Place' does not match",
        ),
        (
            {"marketplace:images": '{"web": "registry.digitalocean.com/someone-else/catalog-web:1.0.0"}'},
            "config 'marketplace:images.web': 'registry.digitalocean.com/someone-else/catalog-web:1.0.0' is in the registry "
            "'someone-else', but the clusters can pull only from this account's registry 'marketplace'",
        ),
        (
            {"marketplace:imagePullSecret": "{}"},
            "config 'marketplace:imagePullSecret': is a secret but is stored in plain text",
        ),
        (
            {"marketplace:domain": "Catalog.Example.com"},
            "config 'marketplace:domain': must be a lowercase DNS name such as catalog.example.com, got 'Catalog.Example.com'",
        ),
        ({"marketplace:domain": "catalog..example.com"}, "config 'marketplace:domain': must be a lowercase DNS name"),
        (
            {"marketplace:domain": "catalog.example.org"},
            "config 'marketplace:domain': 'catalog.example.org' is not inside the Cloudflare zone 'example.com'",
        ),
        (
            {"marketplace:cloudflareZoneId": ""},
            "config 'marketplace:cloudflareZoneId': is missing: this stack needs a Cloudflare id "
            "(pulumi config set marketplace:cloudflareZoneId <value> -s production)",
        ),
        (
            {"marketplace:cloudflareAccountId": "12345"},
            "config 'marketplace:cloudflareAccountId': must be 32 lowercase hex digits, got '12345'",
        ),
        (
            {"marketplace:controlPlaneAllowList": "[]"},
            "config 'marketplace:controlPlaneAllowList': is empty: the control-plane firewall would shut out everyone",
        ),
        (
            {"marketplace:controlPlaneAllowList": '["10.0.0.300/8"]'},
            "config 'marketplace:controlPlaneAllowList': '10.0.0.300/8' is not an IP address or CIDR range",
        ),
        (
            {"marketplace:controlPlaneAllowList": '["0.0.0.0/0"]'},
            "config 'marketplace:controlPlaneAllowList': 0.0.0.0/0 admits every address: that opens the Kubernetes API to the whole internet",
        ),
        (
            {"marketplace:maintenanceWindow": '{"day": "someday"}'},
            "config 'marketplace:maintenanceWindow.day': must be one of any, monday",
        ),
        (
            {"marketplace:maintenanceWindow": '{"startTime": "25:00"}'},
            "config 'marketplace:maintenanceWindow.startTime': must be HH:MM (UTC), got '25:00'",
        ),
        ({"marketplace:haControlPlane": "yes"}, "config 'marketplace:haControlPlane': must be true or false, got 'yes'"),
        ({"marketplace:networkBlock": "64"}, "config 'marketplace:networkBlock': must be between 0 and 63, got 64"),
        ({"marketplace:spacesRegion": "tor1"}, "config 'marketplace:spacesRegion': Spaces is not offered in 'tor1'"),
        (
            {"marketplace:nodePol": '{"size": "s-2vcpu-4gb"}'},
            "config 'marketplace:nodePol': unknown key; did you mean 'marketplace:nodePool'?",
        ),
        (
            {"marketplace:kubernetesApiToken": "plain"},
            "config 'marketplace:kubernetesApiToken': is a secret but is stored in plain text",
        ),
    ],
)
def test_refusals_name_stack_key_and_problem(values: dict[str, str], message: str):
    error = refusal("production", **values)
    assert error.startswith("stack 'production': ")
    assert message in error


def test_personal_stack_names():
    assert stack_kind("dev-alice") == ("dev", "alice")
    assert stack_kind("dev-team-7") == ("dev", "team-7")
    for bad in ("qa", "dev-", "dev-Alice", "dev-al_ice", "dev--x", f"dev-{'a' * 41}"):
        with pytest.raises(ConfigError) as caught:
            stack_kind(bad)
        assert f"stack '{bad}': config 'pulumi:stack': unknown stack kind" in str(caught.value)


def test_missing_token_is_refused_with_how_to_fix():
    with pytest.raises(ConfigError) as caught:
        parse_settings("staging", BASE, SECRETS, environ={})
    assert str(caught.value) == (
        "stack 'staging': config 'digitalocean:token': no DigitalOcean API token: export DIGITALOCEAN_TOKEN "
        "or run pulumi config set --secret digitalocean:token <token> -s staging"
    )


def test_bad_values_in_stack_files_stop_the_plan_before_any_resource():
    message = plan_error("production", overrides={"marketplace:nodePool": {"size": "s-4vcpu-8gb", "minNodes": 0, "maxNodes": 3}})
    assert message == "stack 'production': config 'marketplace:nodePool.minNodes': must be at least 1, got 0"
    message = plan_error("staging", overrides={"marketplace:regoins": ["nyc3"]})
    assert message == "stack 'staging': config 'marketplace:regoins': unknown key; did you mean 'marketplace:regions'?"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"minNodes": 1' + "0" * 5000 + "}", "config 'marketplace:nodePool': must be an object, got '{\"minNodes\": 1000"),
        ("[" * 100_000 + "]" * 100_000, "config 'marketplace:nodePool': must be an object, got '[[[["),
    ],
    ids=["5000-digit number", "nested 100,000 deep"],
)
def test_json_the_reader_cannot_parse_is_refused_cleanly(raw: str, message: str):
    # What `pulumi up` hands the program for an object: the CLI reads such numbers and
    # nesting fine, Python's json does not (int-string limit, recursion limit).
    error = refusal("dev", **{"marketplace:nodePool": raw})
    assert message in error and "characters)" in error


def test_the_offline_plan_reads_no_config_from_the_callers_environment(monkeypatch: pytest.MonkeyPatch):
    from offline.engine import run_plan

    monkeypatch.setenv("PULUMI_CONFIG", '{"marketplace:hostname": "elsewhere.example.com"}')
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["marketplace:hostname"]')
    assert run_plan("dev-alice").outputs["url"] == "https://alice.dev.catalog.example.com"
    monkeypatch.setenv("PULUMI_CONFIG", "{not json")
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", "[")
    assert run_plan("dev-alice").outputs["url"] == "https://alice.dev.catalog.example.com"


def test_under_the_cli_config_comes_from_its_variables_and_bad_ones_are_refused(monkeypatch: pytest.MonkeyPatch):
    # `pulumi up`'s language host passes config in PULUMI_CONFIG and sets no in-process
    # map: a fresh context is what the program sees there.
    monkeypatch.setenv("PULUMI_CONFIG", '{"marketplace:regions": "[\\"fra1\\"]"}')
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", '["marketplace:regions"]')
    values, secret_keys = contextvars.Context().run(_current_config, "dev")
    assert values == {"marketplace:regions": '["fra1"]'} and secret_keys == {"marketplace:regions"}
    monkeypatch.setenv("PULUMI_CONFIG", "{not json")
    with pytest.raises(ConfigError) as caught:
        contextvars.Context().run(_current_config, "dev")
    assert str(caught.value) == "stack 'dev': config 'PULUMI_CONFIG': the engine's config variables are not valid JSON"


def test_the_default_providers_the_settings_protect_are_the_ones_the_program_uses(planner):
    plan = planner("production")
    on_default_provider = {
        resource.type.split(":", 1)[0]
        for resource in plan.resources
        if resource.custom and resource.provider is None and not resource.type.startswith("pulumi:providers:")
    }
    assert on_default_provider == set(DEFAULT_PROVIDERS)


SECRET = "marketplace:catalogApiKey"


def test_in_process_the_config_and_its_secret_keys_come_from_the_engine_map():
    # The offline plan and the Automation API set the map (set_all_config): it is the whole
    # config, and the SDK's is_config_secret says which of its keys are secret.
    def configured() -> tuple[dict[str, str], frozenset[str]]:
        pulumi.runtime.set_all_config({"marketplace:domain": "a.example.com", SECRET: "k"}, [SECRET, "marketplace:unset"])
        return _current_config("dev")

    values, secret_keys = contextvars.Context().run(configured)
    assert values == {"marketplace:domain": "a.example.com", SECRET: "k"} and secret_keys == {SECRET}
