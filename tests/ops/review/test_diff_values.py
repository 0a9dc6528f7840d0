"""One changed property as `ops diff` prints it: never cut."""

from __future__ import annotations

from ops.review.computed import AFTER_DEPLOY
from ops.review.diff_compare import MISSING, PropertyChange, compare
from ops.review.diff_values import WHOLE_WIDTH, property_lines, string_change


def test_a_long_string_shows_the_part_that_changed_with_context():
    before = "Marketplace staging: dynamic_latency steering across sfo3, nyc3, fra1, blr1, sgp1 and a long tail " * 2
    after = before.replace("blr1, sgp1 and a long tail Marketplace", "blr1 and a long tail Marketplace", 1)
    shown = string_change(before, after)
    assert len(f'"{before}" => "{after}"') > WHOLE_WIDTH
    old, new = shown.split(" => ")
    assert "blr1, sgp1 and" in old and "sgp1" not in new.split("…")[1]
    assert old.startswith('"…') and old.endswith('…"') and len(shown) < len(before)
    # Short changes print whole.
    assert string_change("a", "b") == '"a" => "b"'


def test_a_long_changed_part_is_never_cut():
    before, after = "x" * 10, "x" * 5 + "y" * 900 + "x" * 5
    assert "y" * 900 in string_change(before, after)
    (line,) = property_lines(PropertyChange("blob", MISSING, "z" * 2000))
    assert line == f'+ blob: "{"z" * 2000}"'


def test_a_multi_line_string_shows_a_diff_of_its_lines():
    before = "\n".join(f"line {i}" for i in range(20))
    after = before.replace("line 10", "line ten")
    lines = property_lines(PropertyChange("data.config", before, after))
    assert lines[0] == "~ data.config: text changed"
    assert "    -line 10" in lines and "    +line ten" in lines and "     line 9" in lines
    assert "     line 2" not in lines


def test_objects_and_lists_diff_field_by_field():
    before = {"items": [{"port": 80}, {"port": 443}], "spec": {"a": 1}}
    after = {"items": [{"port": 80}, {"port": 8443}, {"port": 9000}], "spec": {"a": 1, "b": {"c": [1, 2]}}}
    assert [(c.path, c.before, c.after) for c in compare(before, after)] == [
        ("items[1].port", 443, 8443),
        ("items[2].port", MISSING, 9000),
        ("spec.b.c", MISSING, [1, 2]),
    ]
    lines = [line for c in compare({"o": 1}, {"o": AFTER_DEPLOY, "p": [AFTER_DEPLOY]}) for line in property_lines(c)]
    assert lines == ["~ o: (known after deploy)", "+ p: [(known after deploy)]"]
