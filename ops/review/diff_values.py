"""How `ops diff` shows one changed property: never cut. A short value prints whole; a long
string prints the part that changed with some context either side, however long that part
is; a multi-line string prints as a diff of its lines; a list of plain values prints which
items came and went. Values only the deploy makes print as (known after deploy), secrets as
[secret]."""

from __future__ import annotations

import difflib
import json
from typing import Any

from ops.review.computed import AFTER_DEPLOY, as_text
from ops.review.diff_compare import MISSING, PropertyChange, is_secret, scrub

# A change whose two values fit in this many characters prints them whole.
WHOLE_WIDTH = 160
# Unchanged characters kept either side of the changed part of a long string.
CONTEXT = 24
# Unchanged lines kept either side of a change in a multi-line string.
CONTEXT_LINES = 2


def show(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if value is AFTER_DEPLOY:
        return repr(AFTER_DEPLOY)
    if is_secret(value):
        return "[secret]"
    return as_text(scrub(value))


def _list_change(before: list[Any], after: list[Any]) -> str | None:
    """For lists of plain values: which items came and went, not both whole lists."""
    if any(isinstance(i, (dict, list)) for i in [*before, *after]):
        return None
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    if not added and not removed:
        return "reordered"
    parts = [f"+{show(i)}" for i in added] + [f"-{show(i)}" for i in removed]
    return ", ".join(parts)


def _escaped(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def string_change(before: str, after: str) -> str:
    """`"old" => "new"`, or for long strings only what changed, with context either side:
    `"…across sfo3, nyc3, fra1, blr1, sgp1" => "…across sfo3, nyc3, fra1, blr1"`."""
    whole = f"{show(before)} => {show(after)}"
    if len(whole) <= WHOLE_WIDTH:
        return whole
    prefix = len(_common_prefix(before, after))
    room = min(len(before), len(after)) - prefix
    suffix = min(len(_common_prefix(before[::-1], after[::-1])), room)

    def part(text: str) -> str:
        start = max(0, prefix - CONTEXT)
        end = len(text) - max(0, suffix - CONTEXT)
        return f'"{"…" if start else ""}{_escaped(text[start:end])}{"…" if end < len(text) else ""}"'

    return f"{part(before)} => {part(after)}"


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return a[:length]


def _text_diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=CONTEXT_LINES)
    return [line for line in lines if not line.startswith(("---", "+++"))]


def property_lines(change: PropertyChange) -> list[str]:
    """The change as a line (`~ path: old => new`), and for a multi-line string the diff
    of its lines below it."""
    before, after = change.before, change.after
    extra: list[str] = []
    if before is MISSING:
        text = f"+ {change.path}: {show(after)}"
    elif after is MISSING:
        text = f"- {change.path}: {show(before)}"
    elif after is AFTER_DEPLOY:
        text = f"~ {change.path}: {show(after)}"
    elif change.secret:
        text = f"~ {change.path}: [secret] changed"
    elif isinstance(before, list) and isinstance(after, list) and _list_change(before, after):
        text = f"~ {change.path}: {_list_change(before, after)}"
    elif isinstance(before, str) and isinstance(after, str) and ("\n" in before or "\n" in after):
        text = f"~ {change.path}: text changed"
        extra = [f"    {line}" for line in _text_diff(before, after)]
    elif isinstance(before, str) and isinstance(after, str):
        text = f"~ {change.path}: {string_change(before, after)}"
    else:
        text = f"~ {change.path}: {show(before)} => {show(after)}"
    return [text + ("  (forces replacement)" if change.replaces else ""), *extra]
