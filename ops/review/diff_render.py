"""`ops diff`'s two renderings of a plan diff: text for a terminal and Markdown for the
pull-request comment, each with the change in monthly cost and in deploy time."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ops.review import plandoc
from ops.review.diff_compare import (
    AFTER_DEPLOY,
    MISSING,
    OPS,
    SYMBOL,
    PlanDiff,
    PropertyChange,
    ResourceChange,
    is_secret,
    scrub,
)

# Room under GitHub's 65,536-character comment limit for the other stacks' sections.
MARKDOWN_LIMIT = 25_000
VALUE_WIDTH = 80
PROPERTY_LINES = 25


def _show(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if is_secret(value):
        return "[secret]"
    text = json.dumps(scrub(value), sort_keys=True, default=str)
    return text if len(text) <= VALUE_WIDTH else f"{text[: VALUE_WIDTH - 1]}…({len(text)} chars)"


def _list_change(before: list[Any], after: list[Any]) -> str | None:
    """For lists of plain values: which items came and went, not both whole lists."""
    if any(isinstance(i, (dict, list)) for i in [*before, *after]):
        return None
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    if not added and not removed:
        return "reordered"
    parts = [f"+{_show(i)}" for i in added] + [f"-{_show(i)}" for i in removed]
    return ", ".join(parts)


def property_line(change: PropertyChange) -> str:
    if change.before is MISSING:
        text = f"+ {change.path}: {_show(change.after)}"
    elif change.after is MISSING:
        text = f"- {change.path}: {_show(change.before)}"
    elif change.after is AFTER_DEPLOY:
        text = f"{change.path}: (known after deploy)"
    elif change.secret:
        text = f"{change.path}: [secret] changed"
    elif isinstance(change.before, list) and isinstance(change.after, list) and _list_change(change.before, change.after):
        text = f"{change.path}: {_list_change(change.before, change.after)}"
    else:
        text = f"{change.path}: {_show(change.before)} => {_show(change.after)}"
    if not text.startswith(("+ ", "- ")):
        text = f"~ {text}"
    return text + ("  (forces replacement)" if change.replaces else "")


def _resource_lines(change: ResourceChange, properties: bool = True) -> Iterator[str]:
    reason = f"  [replace: {', '.join(change.replace_reasons)}]" if change.op == "replace" else ""
    yield f"{SYMBOL[change.op]:<2} {change.type}  {change.name}{reason}"
    if properties:
        lines = [property_line(p) for p in change.properties]
        shown = lines[:PROPERTY_LINES]
        yield from (f"       {line}" for line in shown)
        if len(lines) > len(shown):
            yield f"       … {len(lines) - len(shown)} more changed properties"


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
    return Insight(
        cost=cost_change(diff.base, diff.head),
        fresh_before=fresh_deploy(diff.base, table) if diff.base else None,
        fresh_after=fresh_deploy(diff.head, table),
        change=change_deploy(diff.head, diff.created, table),
    )


def _time_change(before: Any, after: Any) -> str:
    from ops.review.deploytime import duration

    if before is None:
        return duration(after.seconds)
    if round(before.seconds) == round(after.seconds):
        return f"{duration(after.seconds)} (unchanged)"
    return f"{duration(before.seconds)} → {duration(after.seconds)}"


def render_text(diff: PlanDiff, base_label: str, extra: Insight | None = None) -> str:
    from ops.review.cost import delta_text, quantity, range_text
    from ops.review.deploytime import duration, path_summary

    extra = extra or insight(diff)
    lines = [f"Offline diff of {diff.project}/{diff.stack}: working tree against {base_label}", ""]
    if diff.base_note:
        lines += [f"note: {diff.base_note}", ""]
    for group, changes in _groups(diff):
        lines.append(f"  {group}: {_group_summary(changes)}")
        for change in changes:
            lines.extend(f"    {line}" for line in _resource_lines(change))
        lines.append("")
    if diff.outputs:
        lines.append("  Outputs:")
        lines.extend(f"    {property_line(p)}" for p in diff.outputs)
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
        f"    this change: ~{duration(extra.change.seconds)}: {path_summary(extra.change)}",
    ]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    # Inside a fenced block only another fence can break out.
    return text.replace("```", "'''")


def render_markdown(diff: PlanDiff, base_label: str, extra: Insight | None = None, limit: int = MARKDOWN_LIMIT) -> str:
    extra = extra or insight(diff)
    text = _markdown(diff, base_label, extra, properties=True)
    if len(text) > limit:
        text = _markdown(diff, base_label, extra, properties=False)
    if len(text) > limit:
        text = text[: limit - 200].rsplit("\n", 1)[0] + "\n\n… cut here: run `ops diff` locally for the rest.\n"
        # A cut inside a fence or a <details> would swallow whatever follows the comment.
        if text.count("```") % 2:
            text += "```\n"
        text += "</details>\n" * (text.count("<details>") - text.count("</details>"))
    return text


def _markdown(diff: PlanDiff, base_label: str, extra: Insight, properties: bool) -> str:
    from ops.review.cost import delta_text, money, quantity, range_text
    from ops.review.deploytime import duration

    counts = [
        (diff.count("create"), "to add"),
        (diff.count("update"), "to change"),
        (diff.count("replace"), "to replace"),
        (diff.count("delete"), "to delete"),
    ]
    summary = ", ".join(f"**{n} {w}**" if n else f"{n} {w}" for n, w in counts)
    out = [
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

    def path(critical: Any) -> str:
        timed = [step for step in critical.steps if step.seconds]
        return " → ".join(f"`{step.name}` ({duration(step.seconds)})" for step in timed) or "nothing to wait for"

    out += [
        "**Deploy time** (critical path; typical times from `data/deploy-times.yaml`):",
        "",
        f"- this change: ~{duration(extra.change.seconds)}: {path(extra.change)}",
        f"- a fresh `pulumi up`: {_time_change(extra.fresh_before, extra.fresh_after)}: {path(extra.fresh_after)}",
        "",
    ]
    for group, changes in _groups(diff):
        out += [f"<details><summary><b>{html.escape(group)}</b>: {_group_summary(changes)}</summary>", "", "```diff"]
        for change in changes:
            out.extend(_code(line) for line in _resource_lines(change, properties))
        out += ["```", "", "</details>", ""]
    if diff.outputs:
        out += ["<details><summary>Stack outputs</summary>", "", "```diff"]
        out.extend(_code(property_line(p)) for p in diff.outputs)
        out += ["```", "", "</details>", ""]
    return "\n".join(out)
