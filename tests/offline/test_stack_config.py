"""The offline plan reads config the way the Pulumi CLI does."""

from __future__ import annotations

import shutil

import pytest

from offline.stack_config import ROOT, StackConfigError, load_stack_config, stack_names, stand_in
from tests.conftest import plan_error


def test_defaults_apply_and_everything_reaches_the_program_as_strings():
    config = load_stack_config("production")
    assert config.values["marketplace:kubernetesVersion"] == "1.36.1-do.0"
    assert config.values["marketplace:regions"] == '["sfo3", "nyc3", "fra1", "blr1", "sgp1"]'
    assert config.values["marketplace:nodePool"] == '{"size": "s-4vcpu-8gb", "minNodes": 3, "maxNodes": 10}'


def test_secure_values_become_secret_stand_ins():
    text = "config:\n  marketplace:kubernetesApiToken:\n    secure: v1:AAAA\n"
    config = load_stack_config("dev", stack_text=text)
    key = "marketplace:kubernetesApiToken"
    assert config.values[key] == stand_in(key)
    assert key in config.secret_keys and config.stand_ins == {key: stand_in(key)}


def test_a_stand_in_is_shaped_like_what_its_key_holds():
    """A secret URL's stand-in is an https URL on a domain that never resolves, so the
    program's checks of its shape pass offline; other stand-ins are plain markers."""
    assert stand_in("marketplace:alertWebhookUrl") == "https://offline-stand-in.invalid/marketplace-alertWebhookUrl"
    assert stand_in("marketplace:catalogApiKey") == "offline-stand-in-for-marketplace-catalogApiKey"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  marketplace:regions: [nyc3\n", "stack 'dev': Pulumi.dev.yaml is not valid YAML"),
        (
            "config:\n  marketplace:kubernetesVersion: [1, 2]\n",
            "Stack 'dev' with configuration key 'marketplace:kubernetesVersion' must be of type 'string'",
        ),
        (
            "config:\n  marketplace:controlPlaneAllowList: 10.0.0.0/8\n",
            "Stack 'dev' with configuration key 'marketplace:controlPlaneAllowList' must be of type 'array'",
        ),
        ("config:\n  regions: [nyc3]\n", "stack 'dev': config key 'regions' must be namespaced, e.g. 'marketplace:regions'"),
        ("- just\n- a list\n", "stack 'dev': Pulumi.dev.yaml must be a mapping with a 'config' mapping"),
    ],
)
def test_stack_files_the_cli_refuses(text: str, message: str):
    with pytest.raises(StackConfigError) as caught:
        load_stack_config("dev", stack_text=text)
    assert str(caught.value).startswith(message)


def test_a_missing_declared_key_is_refused_like_the_cli(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: marketplace\nruntime: python\nconfig:\n  zoneId:\n    type: string\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config("dev-alice", root=tmp_path)
    assert str(caught.value) == "Stack 'dev-alice' is missing configuration value 'zoneId'"


def test_a_secret_declared_key_must_be_encrypted(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: marketplace\nruntime: python\nconfig:\n  apiKey:\n    type: string\n    secret: true\n    default: ''\n"
    )
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  marketplace:apiKey: plain\n")
    with pytest.raises(StackConfigError) as caught:
        load_stack_config("dev", root=tmp_path)
    assert str(caught.value) == "stack 'dev': configuration key 'marketplace:apiKey' must be encrypted as it's secret"


def test_unknown_stacks_need_a_file_and_the_plan_says_so():
    assert plan_error("qa") == "stack 'qa': no stack file Pulumi.qa.yaml (only dev-<name> stacks may go without)"
    assert plan_error("dev", stack_text="config: {marketplace:regions: [nyc3}").startswith(
        "stack 'dev': Pulumi.dev.yaml is not valid YAML"
    )


def test_plain_scalars_reach_the_program_as_written_like_the_cli_reads_them():
    # YAML 1.2, as the CLI's Go YAML library reads a stack file: `yes` and `04:00` stay
    # text (YAML 1.1 would make them true and the base-60 number 240), and a top-level
    # `1.30` reaches the program as "1.30", not as the float 1.3.
    text = (
        "config:\n"
        "  marketplace:kubernetesVersion: 1.30\n"
        "  marketplace:monitoring: yes\n"
        "  marketplace:hostname: null\n"
        "  marketplace:maintenanceWindow: {day: monday, startTime: 04:00}\n"
        "  marketplace:notificationEmail: 2026-12-06\n"
    )
    values = load_stack_config("dev", stack_text=text).values
    assert values["marketplace:kubernetesVersion"] == "1.30"
    assert values["marketplace:monitoring"] == "yes"
    assert values["marketplace:hostname"] == ""
    assert values["marketplace:maintenanceWindow"] == '{"day": "monday", "startTime": "04:00"}'
    assert values["marketplace:notificationEmail"] == "2026-12-06"


def test_a_utf16_stack_file_with_a_byte_order_mark_is_read(tmp_path):
    # YAML allows UTF-16 with a byte-order mark, and so do the CLI's YAML reader and this one.
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for encoding in ("utf-16-le", "utf-16-be"):
        (tmp_path / "Pulumi.dev.yaml").write_bytes("\ufeffconfig:\n  marketplace:regions: [fra1]\n".encode(encoding))
        config = load_stack_config("dev", root=tmp_path)
        assert config.values["marketplace:regions"] == '["fra1"]'


def test_an_alias_bomb_is_refused_before_it_expands():
    # Nine levels of ten: a billion values if expanded. The refusal comes from counting,
    # not from expanding (which took minutes); the bound is what this checks, not the time.
    levels = [f"l0: &l0 [{', '.join(['x'] * 10)}]"] + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 9)]
    with pytest.raises(StackConfigError) as caught:
        load_stack_config("dev", stack_text="\n".join([*levels, "config: {marketplace:regions: *l8}"]))
    assert "expands to more than 20000 values" in str(caught.value)


def test_small_aliases_and_merge_keys_still_work():
    text = "base: &pool {size: s-2vcpu-4gb, minNodes: 1}\nconfig:\n  marketplace:nodePool: {<<: *pool, maxNodes: 3}\n"
    values = load_stack_config("dev", stack_text=text).values
    assert values["marketplace:nodePool"] == '{"size": "s-2vcpu-4gb", "minNodes": 1, "maxNodes": 3}'


def test_the_stacks_are_those_with_a_stack_file(tmp_path):
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.zone.yaml", "Pulumi.dev-alice.yaml", "notes.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    assert stack_names(tmp_path) == ["dev-alice", "staging", "zone"]
