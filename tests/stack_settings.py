"""Settings parsed straight from config values, for tests of one settings family: the
project's defaults (as the CLI applies them to a stack without a file) plus the keys a test
sets. No plan is run."""

from __future__ import annotations

from components.settings import StackSettings, parse_settings
from offline.stack_config import load_stack_config

BASE = {key: value for key, value in load_stack_config("dev-base").values.items() if key.startswith("marketplace:")}
TOKEN = {"DIGITALOCEAN_TOKEN": "dop_v1_test"}
# Keys a stack sets with --secret; any of them a test passes counts as encrypted.
SECRET_KEYS = frozenset(
    {
        "marketplace:catalogApiKey",
        "marketplace:grafanaAdminPassword",
        "marketplace:alertWebhookUrl",
        "marketplace:alertSmtpPassword",
    }
)


def settings_of(stack: str, extra: dict[str, str] | None = None, *, plain: frozenset[str] = frozenset()) -> StackSettings:
    """`plain`: secret keys the test sets without --secret."""
    values = {**BASE, **(extra or {})}
    if stack in ("staging", "production"):
        values.setdefault("marketplace:catalogApiKey", "key")
    return parse_settings(stack, values, SECRET_KEYS - plain, environ=TOKEN)


# One dev stack with every observability feature on and every alert secret set: what tests
# of one cluster's monitoring, logs and alert destinations plan (one region is the cheapest
# plan; one shared override is one cached plan).
OBSERVED_DEV = {
    "marketplace:monitoring": True,
    "marketplace:logStore": {"enabled": True},
    "marketplace:alerting": {
        "email": "oncall@example.com",
        "slackChannel": "#catalog-alerts",
        "smtp": {"username": "alertmanager"},
    },
    "marketplace:alertWebhookUrl": {"secure": "v1:abc"},
    "marketplace:alertSmtpPassword": {"secure": "v1:abd"},
}
