"""Every PromQL expression of the dashboards parses with promtool (one call for all of them).

promtool 2.42 has no `promql parse` subcommand; each expression becomes a recording rule of
one file that `promtool check rules` parses. Grafana's variables are replaced first by what
Grafana would send: a duration for the interval macros, a regex for a template variable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from components.pane import DASHBOARDS_DIR
from tests.promtools import run

# Grafana's built-in macros and what a query receives for them.
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def targets(panel: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from panel.get("targets", [])
    for child in panel.get("panels", []):
        yield from targets(child)


def expressions() -> dict[str, str]:
    """ "<file> panel <id> <refId>" -> expression, Grafana's variables substituted."""
    found = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in targets(panel):
                expr = target["expr"]
                for macro, value in MACROS.items():
                    expr = expr.replace(macro, value)
                found[f"{path.name} panel {panel['id']} {target['refId']}"] = VARIABLE.sub(".+", expr)
    return found


def check(tmp_path: Path, exprs: dict[str, str]) -> Any:
    rules = [{"record": f"dashboard:expr_{n}", "expr": expr} for n, expr in enumerate(exprs.values())]
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return run("promtool", "check", "rules", path)


def test_every_dashboard_expression_parses(tmp_path: Path) -> None:
    exprs = expressions()
    assert len(exprs) >= 30
    assert all("$" not in expr.replace('"$1"', "") for expr in exprs.values()), "a Grafana variable was left in a query"
    result = check(tmp_path, exprs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


def test_the_check_catches_a_query_grafana_would_fail_on(tmp_path: Path) -> None:
    result = check(tmp_path, {"broken": "sum by (app) (rate(app:catalog_requests:rate5m[5m])"})
    assert result.returncode == 1
