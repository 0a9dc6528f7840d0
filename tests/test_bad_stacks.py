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

ROWS = [pytest.param(row, id=row.what) for row in (*FOUNDATION, *WORKLOADS, *EDGE, *OBSERVABILITY)]


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

    with pytest.raises(PlanError) as refused:
        run_plan(row.stack, root=project)
    assert refused.value.declared == 0, f"{refused.value.declared} resources declared before: {refused.value}"


def test_every_table_row_names_a_feature_that_exists():
    for row in (*FOUNDATION, *WORKLOADS, *EDGE, *OBSERVABILITY):
        assert (row.text is None) or not (row.config or row.remove), f"{row.what}: text replaces the whole file"
