"""Alert destinations: defaults in the stack's own zone, the webhook a secret, and refusals
that name the key without ever repeating a secret."""

from __future__ import annotations

import json

import pytest

from components.settings import ConfigError, Secret
from tests.stack_settings import settings_of

WEBHOOK = "marketplace:alertWebhookUrl"


def test_defaults_are_addresses_in_the_stacks_zone() -> None:
    alerting = settings_of("dev-alice").alerting
    assert alerting.email == "alerts@example.com"
    assert (alerting.smtp.smarthost, alerting.smtp.sender, alerting.smtp.username, alerting.smtp.require_tls) == (
        "smtp.example.com:587", "alertmanager@example.com", None, True,
    )  # fmt: skip
    assert (alerting.webhook_url, alerting.slack_channel, alerting.smtp_password, alerting.latency_threshold_ms) == (
        None, None, None, 2000,
    )  # fmt: skip


def test_a_stack_sets_its_destinations_and_secrets() -> None:
    alerting = settings_of(
        "production",
        {
            "marketplace:alerting": json.dumps(
                {
                    "email": "oncall+catalog@example.org",
                    "slackChannel": "#catalog-alerts",
                    "latencyThresholdMs": 800,
                    "smtp": {
                        "smarthost": "smtp.mailgun.org:2525",
                        "from": "am@example.org",
                        "username": "postmaster@example.org",
                    },
                }
            ),
            WEBHOOK: "https://hooks.slack.com/services/T01/B02/abc",
            "marketplace:alertSmtpPassword": "pw",
        },
    ).alerting
    assert (alerting.email, alerting.slack_channel, alerting.latency_threshold_ms) == (
        "oncall+catalog@example.org",
        "#catalog-alerts",
        800,
    )
    assert alerting.webhook_url == Secret(WEBHOOK, "https://hooks.slack.com/services/T01/B02/abc")
    assert "hooks.slack.com" not in repr(alerting)
    assert (alerting.smtp.smarthost, alerting.smtp.username) == ("smtp.mailgun.org:2525", "postmaster@example.org")


def refusal(extra: dict[str, str], plain: frozenset[str] = frozenset()) -> str:
    with pytest.raises(ConfigError) as caught:
        settings_of("staging", extra, plain=plain)
    return str(caught.value).removeprefix("stack 'staging': ")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"marketplace:alerting": '{"email": "ops@example.com\\nBcc: x@evil.example"}'},
            "config 'marketplace:alerting.email': must be one email address, got 'ops@example.com\\nBcc: x@evil.example'",
        ),
        (
            {"marketplace:alerting": '{"email": "ops@exämple.com"}'},
            "config 'marketplace:alerting.email': must be one email address, got 'ops@exämple.com'",
        ),
        (
            # No one-letter top-level domain exists: the edge's notificationEmail refused it already.
            {"marketplace:alerting": '{"email": "a@b.c"}'},
            "config 'marketplace:alerting.email': must be one email address, got 'a@b.c'",
        ),
        (
            {"marketplace:alerting": json.dumps({"smtp": {"smarthost": "relay" * 20}})},
            "config 'marketplace:alerting.smtp.smarthost': must be host:port of a mail relay, got "
            "'relayrelayrelayrelayrelayr...yrelayrelayrelayrelayrelay' (100 characters)",
        ),
        (
            {"marketplace:alerting": '{"slackChannel": "catalog alerts"}'},
            "config 'marketplace:alerting.slackChannel': must be a Slack channel name such as #catalog-alerts, got 'catalog alerts'",
        ),
        (
            {"marketplace:alerting": '{"slackChannel": "#alerts"}'},
            "config 'marketplace:alerting.slackChannel': needs the Slack webhook: pulumi config set --secret marketplace:alertWebhookUrl <url> -s staging",
        ),
        (
            {"marketplace:alerting": '{"latencyThresholdMs": 50}'},
            "config 'marketplace:alerting.latencyThresholdMs': must be between 100 and 30000, got 50",
        ),
        (
            {"marketplace:alerting": '{"smtp": {"smarthost": "smtp.example.com"}}'},
            "config 'marketplace:alerting.smtp.smarthost': must be host:port of a mail relay, got 'smtp.example.com'",
        ),
        (
            {"marketplace:alerting": '{"smtp": {"smarthost": "smtp.example.com:99999"}}'},
            "config 'marketplace:alerting.smtp.smarthost': must be host:port of a mail relay, got 'smtp.example.com:99999'",
        ),
        (
            {"marketplace:alerting": '{"smtp": {"username": "a b"}}'},
            "config 'marketplace:alerting.smtp.username': must be printable ASCII without spaces",
        ),
        (
            {"marketplace:alerting": '{"smtp": {"smarthosts": "a:25"}}'},
            "config 'marketplace:alerting.smtp.smarthosts': unknown field; did you mean 'smarthost'?",
        ),
        ({"marketplace:alerting": '{"pager": "x"}'}, "config 'marketplace:alerting.pager': unknown field"),
    ],
    ids=[
        "email newline",
        "email non-ascii",
        "email one-letter tld",
        "long value shortened",
        "channel",
        "channel without webhook",
        "latency",
        "smarthost no port",
        "smarthost port",
        "username",
        "smtp field",
        "field",
    ],
)
def test_bad_destinations_are_refused(extra: dict[str, str], message: str) -> None:
    assert refusal(extra) == message


SECRET_URLS = {
    "http://alerts.example.net/hook?token=s3cr3t": "must be an https:// URL with a host name",
    "https://user:s3cr3t@alerts.example.net/hook": "must carry no user, password or #fragment",
    "https://alerts.example.net/hook\n?token=s3cr3t": "must be a URL without spaces, quotes, control characters",
    "https://alerts.example.net/hook?token=s3cr3t\u00e9": "must be a URL without spaces, quotes, control characters",
    'https://alerts.example.net/hook?token="s3cr3t"': "must be a URL without spaces, quotes, control characters",
    "https://alerts.example.net:99999/hook?token=s3cr3t": "has a port that is no number between 0 and 65535",
    "https://alerts.example.net:0/hook?token=s3cr3t": "has port 0",
    "https://alerts.example.net/hook?token=s3cr3t#top": "must carry no user, password or #fragment",
    "https://alerts..example.net/hook?token=s3cr3t": "must name its host by a DNS name or an IP address",
}


@pytest.mark.parametrize("url", SECRET_URLS, ids=range(len(SECRET_URLS)))
def test_a_bad_webhook_is_refused_without_repeating_it(url: str) -> None:
    message = refusal({WEBHOOK: url})
    assert message.startswith(f"config '{WEBHOOK}': {SECRET_URLS[url]}")
    assert "s3cr3t" not in message and "alerts.example.net" not in message


def test_a_plain_text_webhook_is_refused() -> None:
    message = refusal({WEBHOOK: "https://alerts.example.net/hook"}, plain=frozenset({WEBHOOK}))
    assert (
        message
        == f"config '{WEBHOOK}': is a secret but is stored in plain text: set it with pulumi config set --secret {WEBHOOK} -s staging"
    )
