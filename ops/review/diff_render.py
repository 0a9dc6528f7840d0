"""`ops diff`'s two renderings of a plan diff: text for a terminal and Markdown for the
pull-request comment, each with what the policy pack says first, then the change in
monthly cost and in deploy time. Nothing that changed is cut (diff_values.py); a comment
too long for GitHub first folds the resources that are only re-created along with
something else into counts, and only then ends early, between lines."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ops.review import plandoc
from ops.review.computed import AFTER_DEPLOY
from ops.review.diff_compare import OPS, SYMBOL, PlanDiff, ResourceChange
from ops.review.diff_values import property_lines

# Room under GitHub's 65,536-character comment limit for the other stacks' sections.
MARKDOWN_LIMIT = 25_000


def _resource_lines(change: ResourceChange) -> Iterator[str]:
    reason = f"  [replace: {', '.join(change.replace_reasons)}]" if change.op == "replace" else ""
    yield f"{SYMBOL[change.op]:<2} {change.type}  {change.name}{reason}"
    for prop in change.properties:
        yield from (f"       {line}" for line in property_lines(prop))


def carried_along(change: ResourceChange) -> bool:
    """A resource created, or re-created only because the cluster it runs on is (a
    Kubernetes object whose provider is new, a provider whose cluster is new): in a long
    comment, these are what folds into counts."""
    if change.op == "create":
        return True
    reasons = change.replace_reasons
    if change.op != "replace" or not reasons or any(p.after is not AFTER_DEPLOY for p in change.properties):
        return False
    on_new_cluster = all(r.startswith("provider ") and r.endswith(" is new") for r in reasons)
    new_provider = change.type == plandoc.K8S_PROVIDER and all(r.startswith("kubeconfig refers to new ") for r in reasons)
    return on_new_cluster or new_provider


def _compact_lines(changes: list[ResourceChange]) -> Iterator[str]:
    """Every resource with a change of its own in full; the ones carried along as counts."""
    along = [c for c in changes if carried_along(c)]
    for change in changes:
        if not carried_along(change):
            yield from _resource_lines(change)
    for op in ("create", "replace"):
        types = Counter(c.type for c in along if c.op == op)
        if types:
            what = ", ".join(f"{n} \u00d7 {type_}" for type_, n in sorted(types.items()))
            why = "new" if op == "create" else "re-created with the cluster they run on"
            yield f"{SYMBOL[op]:<2} {sum(types.values())} {why}: {what}"


def _groups(diff: PlanDiff) -> list[tuple[str, list[ResourceChange]]]:
    order = plandoc.regions_of(diff.head) + (plandoc.regions_of(diff.base) if diff.base else [])
    groups: dict[str, list[ResourceChange]] = {}
    for change in sorted(diff.changes, key=lambda c: (c.name, c.type, c.op)):
        groups.setdefault(change.group, []).append(change)
    rank = {name: i for i, name in enumerate(dict.fromkeys(order))}
    return sorted(groups.items(), key=lambda item: (item[0] not in rank, rank.get(item[0], 0), item[0]))


def _group_summary(changes: list[ResourceChange]) -> str:
    words = {"create": "to add", "update": "to change", "replace": "to replace", "delete": "to delete"}
    return ", ".join(f"{n} {words[op]}" for op in OPS if (n := sum(1 for c in changes if c.op == op)))


@dataclass(frozen=True)
class Insight:
    """Cost and deploy time of both sides, computed once for both renderers."""

    cost: Any
    fresh_before: Any
    fresh_after: Any
    change: Any


def insight(diff: PlanDiff) -> Insight:
    from ops.review.cost import cost_change
    from ops.review.deploytime import TimeTable, change_deploy, fresh_deploy

    table = TimeTable.load()
    base_urns = plandoc.by_urn(diff.base) if diff.base else {}
    return Insight(
        cost=cost_change(diff.base, diff.head),
        fresh_before=fresh_deploy(diff.base, table) if diff.base else None,
        fresh_after=fresh_deploy(diff.head, table),
        change=change_deploy(
            diff.head,
            diff.created,
            table,
            updated={c.urn for c in diff.changes if c.op == "update"},
            base=diff.base,
            # Removed, and the old copy of what is replaced (create before delete).
            deleted={c.urn for c in diff.changes if c.op == "delete" or (c.op == "replace" and c.urn in base_urns)},
        ),
    )


def _time_change(before: Any, after: Any) -> str:
    from ops.review.deploytime import duration

    if before is None:
        return duration(after.seconds)
    if round(before.seconds) == round(after.seconds):
        return f"{duration(after.seconds)} (unchanged)"
    return f"{duration(before.seconds)} → {duration(after.seconds)}"


def _change_counts(diff: PlanDiff) -> str:
    words = (("update", "updated"), ("delete", "deleted"), ("replace", "replaced"), ("create", "created"))
    counted = [f"{n} {word}" for op, word in words if (n := diff.count(op))]
    return f" ({', '.join(counted)})" if counted else ""


def warnings_text(findings: Sequence[Any]) -> list[str]:
    """The warnings (ops/review/findings.py) as the text review opens with: the loud ones
    under a heading that counts them, then one `warning:` line each for the rest."""
    loud = [f for f in findings if f.loud]
    lines = [f"WARNING: {len(loud)} thing(s) this change does that a reviewer must not miss:"] if loud else []
    lines += [f"  ! {f.message}" for f in loud]
    lines += [f"warning: {f.message}" for f in findings if not f.loud]
    return [*lines, ""] if lines else []


def warnings_markdown(findings: Sequence[Any]) -> list[str]:
    """The same for the comment: GitHub's caution and warning callouts, never folded."""
    out: list[str] = []
    loud = [f for f in findings if f.loud]
    if loud:
        out += ["> [!CAUTION]", f"> **{len(loud)} thing(s) this change does that a reviewer must not miss**", ">"]
        out += [f"> - {html.escape(f.message, quote=False)}" for f in loud]
        out.append("")
    quiet = [f for f in findings if not f.loud]
    if quiet:
        out += ["> [!WARNING]"] + [f"> - {html.escape(f.message, quote=False)}" for f in quiet] + [""]
    return out


def render_text(
    diff: PlanDiff, base_label: str, extra: Insight | None = None, policy: Any = None, warnings: Sequence[Any] = ()
) -> str:
    from ops.review.cost import delta_text, quantity, range_text
    from ops.review.deploytime import duration, path_summary

    extra = extra or insight(diff)
    lines = [f"Offline diff of {diff.project}/{diff.stack}: working tree against {base_label}", ""]
    if policy is not None:
        from ops.review.policycheck import render_text as render_policy

        lines += [render_policy(policy).rstrip("\n"), ""]
    lines += warnings_text(warnings)
    if diff.base_note:
        lines += [f"note: {diff.base_note}", ""]
    for group, changes in _groups(diff):
        lines.append(f"  {group}: {_group_summary(changes)}")
        for change in changes:
            lines.extend(f"    {line}" for line in _resource_lines(change))
        lines.append("")
    if diff.outputs:
        lines.append("  Outputs:")
        lines.extend(f"    {line}" for p in diff.outputs for line in property_lines(p))
        lines.append("")
    lines.append(f"Resources: {diff.summary()}, {diff.unchanged} unchanged")
    if not diff.changes:
        lines.append("No changes.")
    cost = extra.cost
    lines += [
        "",
        f"Monthly cost: {range_text(cost.before.min_total, cost.before.max_total)} → "
        f"{range_text(cost.after.min_total, cost.after.max_total)} ({delta_text(cost.min_delta, cost.max_delta)})",
    ]
    for old, new in cost.items:
        item = new or old
        sign = "+" if old is None else "-" if new is None else "~"
        before = range_text(old.min_monthly, old.max_monthly) if old else "$0"
        after = range_text(new.min_monthly, new.max_monthly) if new else "$0"
        lines.append(f"    {sign} {item.label}: {quantity(item)}, {before} → {after}")
    lines += [
        "",
        "Deploy time (critical path, data/deploy-times.yaml): fresh deploy "
        + _time_change(extra.fresh_before, extra.fresh_after),
        f"    fresh deploy: {path_summary(extra.fresh_after)}",
        f"    this change{_change_counts(diff)}: ~{duration(extra.change.seconds)}: {path_summary(extra.change)}",
    ]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    # Inside a fenced block only another fence can break out.
    return text.replace("```", "'''")


def render_markdown(
    diff: PlanDiff,
    base_label: str,
    extra: Insight | None = None,
    *,
    limit: int = MARKDOWN_LIMIT,
    policy: Any = None,
    warnings: Sequence[Any] = (),
) -> str:
    """The pull-request comment: the policy verdict and the warnings first, never folded.
    Over `limit`, resources carried along by another change fold into counts; if it is
    still too long, it ends early between lines, saying so."""
    extra = extra or insight(diff)
    head = warnings_markdown(warnings)
    text = _markdown(diff, base_label, extra, policy, head, compact=False)
    if len(text) > limit:
        text = _markdown(diff, base_label, extra, policy, head, compact=True)
    if len(text) > limit:
        text = text[: limit - 200].rsplit("\n", 1)[0] + "\n\n… cut here: run `ops diff` locally for the rest.\n"
        # A cut inside a fence or a <details> would swallow whatever follows the comment.
        if text.count("```") % 2:
            text += "```\n"
        text += "</details>\n" * (text.count("<details>") - text.count("</details>"))
    return text


def _markdown(diff: PlanDiff, base_label: str, extra: Insight, policy: Any, head: list[str], *, compact: bool) -> str:
    from ops.review.cost import delta_text, money, quantity, range_text
    from ops.review.deploytime import duration, path_summary

    out: list[str] = []
    if policy is not None:
        from ops.review.policycheck import render_markdown as policy_markdown

        out += [policy_markdown(policy).rstrip("\n"), ""]
    out += head
    counts = [
        (diff.count("create"), "to add"),
        (diff.count("update"), "to change"),
        (diff.count("replace"), "to replace"),
        (diff.count("delete"), "to delete"),
    ]
    summary = ", ".join(f"**{n} {w}**" if n else f"{n} {w}" for n, w in counts)
    out += [
        f"Offline plan of `{diff.stack}` against {html.escape(base_label)}: {summary} ({diff.unchanged} unchanged)."
        + ("" if diff.changes else " No changes."),
        "",
    ]
    if diff.base_note:
        out += [f"> {diff.base_note}", ""]
    cost = extra.cost
    out += [
        "| monthly cost (list prices) | min | max |",
        "|---|---:|---:|",
        f"| before | {money(cost.before.min_total)} | {money(cost.before.max_total)} |",
        f"| after | {money(cost.after.min_total)} | {money(cost.after.max_total)} |",
        f"| **change** | **{delta_text(cost.min_delta, cost.min_delta)}** | **{delta_text(cost.max_delta, cost.max_delta)}** |",
        "",
    ]
    if cost.items:
        out += ["<details><summary>Cost items that change</summary>", "", "| | item | quantity | before | after |"]
        out.append("|---|---|---|---:|---:|")
        for old, new in cost.items:
            item = new or old
            sign = "+" if old is None else "-" if new is None else "~"
            before = range_text(old.min_monthly, old.max_monthly) if old else "$0"
            after = range_text(new.min_monthly, new.max_monthly) if new else "$0"
            out.append(f"| {sign} | {html.escape(item.label)} | {quantity(item)} | {before} | {after} |")
        out += ["", "</details>", ""]
    out += [
        "**Deploy time** (critical path; typical times from `data/deploy-times.yaml`):",
        "",
        f"- this change{_change_counts(diff)}: ~{duration(extra.change.seconds)}: {path_summary(extra.change, code=True)}",
        f"- a fresh `pulumi up`: {_time_change(extra.fresh_before, extra.fresh_after)}: "
        f"{path_summary(extra.fresh_after, code=True)}",
        "",
    ]
    for group, changes in _groups(diff):
        out += [f"<details><summary><b>{html.escape(group)}</b>: {_group_summary(changes)}</summary>", "", "```diff"]
        lines = _compact_lines(changes) if compact else (line for change in changes for line in _resource_lines(change))
        out.extend(_code(line) for line in lines)
        out += ["```", "", "</details>", ""]
    if diff.outputs:
        out += ["<details><summary>Stack outputs</summary>", "", "```diff"]
        out.extend(_code(line) for p in diff.outputs for line in property_lines(p))
        out += ["```", "", "</details>", ""]
    return "\n".join(out)
