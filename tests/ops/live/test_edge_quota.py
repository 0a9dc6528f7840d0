"""Cloudflare load-balancing quotas: the repository's stacks counted per account, and
`ops upgrade` refusing the generation that would go past the plan's endpoint quota."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from components.settings import StackSettings
from components.settings.edge import LoadBalancingQuotas
from offline.stack_config import ROOT
from ops.cli import main
from ops.live.edge_quota import Usage, account_usage, over_quota, repository_stacks

ACCOUNT = "0123456789abcdef0123456789abcdef"


def test_the_steady_state_uses_eleven_endpoints_and_pools_in_one_account() -> None:
    stacks = repository_stacks(ROOT, {})
    assert sorted(s.stack for s in stacks) == ["dev", "production", "staging"]
    # production 5 + staging 5 + dev 1, one generation each; three monitors and load balancers.
    assert account_usage(stacks, ACCOUNT) == Usage(load_balancers=3, pools=11, endpoints=11, monitors=3)
    assert account_usage(stacks, "f" * 32) == Usage()


def test_over_quota_names_each_exceeded_quota() -> None:
    quotas = LoadBalancingQuotas(load_balancers=20, pools=20, endpoints=12, monitors=30)
    assert over_quota(Usage(3, 11, 12, 3), quotas) == []
    assert over_quota(Usage(3, 21, 13, 3), quotas) == ["21 pools (quota 20)", "13 endpoints (quota 12)"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Production and staging, both five regions, in one account whose subscription holds
    twelve endpoints: ten serve, two are free for green generations."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    project["config"]["cloudflarePlan"]["default"] = "business"
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    for stack in ("production", "staging", "zone"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    with (tmp_path / "Pulumi.production.yaml").open("a") as handle:
        handle.write("  marketplace:cloudflareQuotas:\n    endpoints: 12\n")
    return tmp_path


def upgrade(project: Path, stack: str, region: str) -> int:
    return main(["upgrade", region, "--to", "1.37", "--step", "add", "--stack", stack, "--root", str(project)])


def test_an_upgrade_past_the_endpoint_quota_is_refused_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert upgrade(project, "production", "nyc3") == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Cloudflare account {ACCOUNT}: 11 of 12 endpoints, 10 of 20 pools, 2 of 30 monitors"
    )
    # Staging's upgrade counts against the same account, and its quota: the smallest any
    # stack of the account states.
    assert upgrade(project, "staging", "nyc3") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"Cloudflare account {ACCOUNT}: 12 of 12 endpoints")

    before = (project / "Pulumi.production.yaml").read_text()
    assert upgrade(project, "production", "fra1") == 1
    assert capsys.readouterr().err.strip() == (
        f"error: stack 'production': Cloudflare account {ACCOUNT} would hold 13 endpoints (quota 12) across this "
        "repository's stacks on its business plan: finish or roll back another upgrade first, or raise the "
        "subscription and set marketplace:cloudflareQuotas"
    )
    assert (project / "Pulumi.production.yaml").read_text() == before


def test_each_stack_is_read_once_and_the_edited_one_on_both_sides(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops.live import edge_quota

    read: list[str] = []
    settings = edge_quota._settings

    def counted(stack: str, root: Path, text: str | None) -> StackSettings:
        read.append(stack)
        return settings(stack, root, text)

    monkeypatch.setattr(edge_quota, "_settings", counted)
    assert upgrade(project, "production", "nyc3") == 0
    # The zone stack holds no load balancer: never read.
    assert sorted(read) == ["production", "production", "staging"]
