"""Where alerts go: one email address and, optionally, a webhook, shared by every alert source
of the stack (each cluster's Alertmanager, DigitalOcean's uptime checks and node monitor
alerts), and the mail server Alertmanager sends through.

Patterns are matched whole (`re.fullmatch`) with explicit ASCII classes: a value that reaches
a rendered configuration never carries a newline, a quote or a Unicode look-alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.addresses import (
    EMAIL,  # noqa: F401 (re-exported: what every accepted address matches)
    https_url_problem,
)
from components.settings.reader import ConfigReader, Secret, shown


@dataclass(frozen=True)
class SmtpSettings:
    # host:port of the mail relay Alertmanager submits to.
    smarthost: str
    sender: str
    username: str | None
    require_tls: bool


@dataclass(frozen=True)
class AlertingSettings:
    email: str
    # An incoming-webhook URL (secret). With `slack_channel` it is a Slack incoming webhook
    # (https://hooks.slack.com/...), which DigitalOcean's uptime and monitor alerts call as
    # well; any other webhook only Alertmanager calls (DigitalOcean alerts notify email and
    # Slack only). Only its shape is checked: an offline plan never sees the real URL.
    webhook_url: Secret | None
    slack_channel: str | None
    smtp: SmtpSettings
    smtp_password: Secret | None
    # The uptime checks' latency alert fires above this, in milliseconds.
    latency_threshold_ms: int


_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?"
SMARTHOST = re.compile(rf"(?P<host>{_HOST}):(?P<port>[0-9]{{1,5}})")
SLACK_CHANNEL = re.compile(r"#?[a-z0-9][a-z0-9_-]{0,79}")
# Printable ASCII, no space: what an SMTP user name can be without quoting.
SMTP_USERNAME = re.compile(r"[\x21-\x7e]{1,256}")
LATENCY_BOUNDS = (100, 30000)

_FIELDS = {"email": str, "slackChannel": str, "smtp": dict, "latencyThresholdMs": int}
_SMTP_FIELDS = {"smarthost": str, "from": str, "username": str, "requireTls": bool}


def read_alerting(reader: ConfigReader, zone_name: str) -> AlertingSettings:
    """Defaults are addresses in the stack's own zone: replace them with your own (the
    README's "Deploying for real")."""
    given = reader.obj("alerting", _FIELDS) or {}
    email = reader.email("alerting.email", given.get("email", f"alerts@{zone_name}"))
    channel = given.get("slackChannel")
    if channel is not None and not SLACK_CHANNEL.fullmatch(channel):
        raise reader.error("alerting.slackChannel", f"must be a Slack channel name such as #catalog-alerts, got {shown(channel)}")
    latency = given.get("latencyThresholdMs", 2000)
    low, high = LATENCY_BOUNDS
    if not low <= latency <= high:
        raise reader.error("alerting.latencyThresholdMs", f"must be between {low} and {high}, got {latency}")
    webhook = reader.secret("alertWebhookUrl")
    if webhook is not None:
        problem = https_url_problem(webhook.value)
        if problem:
            # Never the value itself: it is a secret.
            raise reader.error("alertWebhookUrl", problem)
    elif channel is not None:
        raise reader.error(
            "alerting.slackChannel",
            f"needs the Slack webhook: pulumi config set --secret marketplace:alertWebhookUrl <url> -s {reader.stack}",
        )
    return AlertingSettings(
        email=email,
        webhook_url=webhook,
        slack_channel=channel,
        smtp=_read_smtp(reader, given.get("smtp"), zone_name),
        smtp_password=reader.secret("alertSmtpPassword"),
        latency_threshold_ms=latency,
    )


def _read_smtp(reader: ConfigReader, raw: object, zone_name: str) -> SmtpSettings:
    given = reader.nested_obj("alerting.smtp", raw, _SMTP_FIELDS) if raw is not None else {}
    smarthost = given.get("smarthost", f"smtp.{zone_name}:587")
    match = SMARTHOST.fullmatch(smarthost)
    if not match or not 1 <= int(match.group("port")) <= 65535:
        raise reader.error("alerting.smtp.smarthost", f"must be host:port of a mail relay, got {shown(smarthost)}")
    sender = reader.email("alerting.smtp.from", given.get("from", f"alertmanager@{zone_name}"))
    username = given.get("username")
    if username is not None and not SMTP_USERNAME.fullmatch(username):
        raise reader.error("alerting.smtp.username", "must be printable ASCII without spaces")
    return SmtpSettings(smarthost=smarthost, sender=sender, username=username, require_tls=given.get("requireTls", True))
