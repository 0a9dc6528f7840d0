"""The policy pack in every review: `ops plan` and `ops diff` run the CrossGuard pack
(policy/) over the plan they just made, in process (policy/offline.py), with the pack config
the CI preview passes (policy/policy-config.json), and put what it reports first. A
mandatory violation is what `pulumi preview --policy-pack policy` would refuse to deploy:
the command exits with POLICY_EXIT after printing everything else."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from offline.stack_config import ROOT

CONFIG_FILE = ROOT / "policy" / "policy-config.json"
# 1 is a refused stack (nothing planned); 3 a plan that the policy pack refuses.
POLICY_EXIT = 3


@dataclass(frozen=True)
class Finding:
    policy: str
    enforcement: str  # mandatory | advisory
    urn: str
    message: str

    @property
    def resource(self) -> str:
        """The resource's name, from its URN (`...::type::name`); the stack for stack policies."""
        return self.urn.rsplit("::", 1)[-1] if self.urn else "(stack)"

    def as_json(self) -> dict[str, str]:
        return {"policy": self.policy, "enforcement": self.enforcement, "urn": self.urn, "message": self.message}


@dataclass(frozen=True)
class PolicyReport:
    findings: list[Finding]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement != "mandatory"]

    @property
    def blocks(self) -> bool:
        return bool(self.mandatory)

    def summary(self) -> str:
        if not self.findings:
            return "Policy pack: no violations"
        counts = Counter(f.policy for f in self.mandatory or self.advisory)
        which = ", ".join(f"{policy} \u00d7{n}" if n > 1 else policy for policy, n in sorted(counts.items()))
        if self.blocks:
            return f"Policy pack: {len(self.mandatory)} mandatory violation(s) ({which}): `pulumi up` would refuse this"
        return f"Policy pack: {len(self.advisory)} advisory violation(s) ({which}); nothing mandatory"


def pack_config() -> dict[str, Any]:
    loaded = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def check(plan: Any) -> PolicyReport:
    """Every violation the pack reports for a plan (an offline.engine.Plan)."""
    from policy.offline import analyze_plan

    violations = analyze_plan(plan, config=pack_config())
    findings = [Finding(v.policy, v.enforcement, v.urn, v.message) for v in violations]
    return PolicyReport(sorted(findings, key=lambda f: (f.enforcement != "mandatory", f.policy, f.resource)))


def _lines(findings: Sequence[Finding]) -> Iterator[str]:
    for finding in findings:
        yield f"[{finding.enforcement}] {finding.policy}: {finding.resource}: {finding.message}"


def render_text(report: PolicyReport) -> str:
    """The block `ops plan` and `ops diff` print first."""
    lines = [report.summary()]
    lines.extend(f"    {line}" for line in _lines(report.findings))
    return "\n".join(lines) + "\n"


def render_markdown(report: PolicyReport) -> str:
    """The head of the pull-request comment: every violation, never folded."""
    if not report.findings:
        return "Policy pack: no violations.\n"
    icon = ":no_entry:" if report.blocks else ":warning:"
    out = [f"{icon} **{html.escape(report.summary())}**", ""]
    out += ["| enforcement | policy | resource | why |", "|---|---|---|---|"]
    for finding in report.findings:
        cells = (finding.enforcement, f"`{finding.policy}`", f"`{finding.resource}`", _cell(finding.message))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split())).replace("|", "\\|")
