"""The offline plan reads config the way the Pulumi CLI does."""

from __future__ import annotations

import pytest

from offline.stack_config import StackConfigError, load_stack_config, stand_in
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
