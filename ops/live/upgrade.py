"""`ops upgrade REGION --to 1.37 --step STEP --stack STACK`: write the next step of a cluster upgrade into
a stack file, so nobody hand-edits weights or versions under pressure.

`--to` is an exact DOKS version (`1.37.1-do.0`, as `doctl kubernetes options versions` lists
them) or a minor (`1.37`: the newest version data/kubernetes-versions.yaml knows of it). The
stack file records the exact version: it never moves on its own.

Steps, one pull request each, region by region:
  add      the new generation beside the serving one, at weight 0 (up, out of rotation)
  canary   the new generation takes --weight of the region's traffic (default 0.1)
  promote  the new generation takes all of it; the old one stays up at weight 0 (straight
           after add, without a canary, only with --skip-canary)
  retire   the old generation is removed (torn down on `pulumi up`). Production clusters are
           protected: there the first `retire` only lifts the old generation's protection
           (`protect: false`), a reviewed change of its own that `pulumi up` applies; the
           second removes it.
`git revert` of any step's commit returns the previous weights.

The file is edited in place with its comments and layout kept; the change is printed as a
diff, and a file the program would refuse is never written.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import io
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from components.kubernetes_versions import MINOR, SLUG, minor_number, minor_of, slug_key, version_table
from offline.stack_config import ROOT, StackConfig, StackConfigError, load_stack_config

STEPS = ("add", "canary", "promote", "retire")
KEY = "marketplace:generations"
OTHER = {"blue": "green", "green": "blue"}


class UpgradeError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("region", help="region slug, e.g. nyc3")
    parser.add_argument("--to", required=True, help='the DOKS version to upgrade to: exact ("1.37.1-do.0") or a minor ("1.37")')
    parser.add_argument(
        "--step",
        required=True,
        choices=STEPS,
        help="add: the new generation at weight 0; canary: it takes --weight of the traffic; promote: all of it; "
        "retire: the old one goes (in production, first its protection)",
    )
    # No default: the stack file it writes is always named, never production by surprise.
    parser.add_argument("--stack", "-s", required=True, help="the stack whose file to change, e.g. staging or production")
    parser.add_argument("--weight", type=float, default=0.1, help="canary share of the region's traffic (default 0.1)")
    parser.add_argument(
        "--skip-canary",
        action="store_true",
        help="let promote move all of the region's traffic to a generation that has served none of it",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the change, write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _generation(name: str, version: str, weight: float) -> CommentedMap:
    entry = CommentedMap()
    entry["name"] = name
    # Quoted: a bare 1.30 would be read back as the number 1.3.
    entry["kubernetesVersion"] = DoubleQuotedScalarString(version)
    entry["weight"] = weight
    entry.fa.set_flow_style()
    return entry


def _weight(value: float) -> float | int:
    rounded = round(value, 4)
    return int(rounded) if rounded.is_integer() else rounded


def _check_to(to: str) -> None:
    if not (SLUG.match(to) or MINOR.match(to)):
        raise UpgradeError(f'--to must be an exact DOKS version such as "1.37.1-do.0" or a minor such as "1.37", got {to!r}')


def resolve(to: str) -> str:
    """The exact version `--to` names: itself, or the newest the version table knows of a minor."""
    _check_to(to)
    if SLUG.match(to):
        return to
    newest = version_table().newest_slug(to)
    if newest is None:
        raise UpgradeError(f"data/kubernetes-versions.yaml knows no version of {to}: give the exact one (--to 1.x.y-do.z)")
    return newest


def _matches(version: str, to: str) -> bool:
    return version == to if SLUG.match(to) else minor_of(version) == to


def next_step(
    document: Any,
    stack_values: dict[str, str],
    region: str,
    to: str,
    step: str,
    *,
    canary_weight: float,
    protected: bool = False,
    skip_canary: bool = False,
) -> str:
    """Apply one step to the parsed stack file in place; returns a one-line summary.
    `protected`: the stack's clusters are protected (production), so retire takes two steps.
    `skip_canary`: promote may move all traffic to a generation that has served none."""
    _check_to(to)
    config = document.setdefault("config", CommentedMap())
    regions = stack_values.get("marketplace:regions")
    if regions is not None and f'"{region}"' not in regions:
        raise UpgradeError(f"region {region!r} is not in the stack's marketplace:regions")
    all_generations = config.get(KEY)
    if all_generations is None:
        all_generations = config[KEY] = CommentedMap()
    stack_version = stack_values["marketplace:kubernetesVersion"]
    current = all_generations.get(region)
    if current is None:
        current = CommentedSeq([_generation("blue", stack_version, 1)])

    def version_of(entry: Any) -> str:
        # A generation without a version of its own runs the stack's (components/settings/generations.py).
        return str(entry.get("kubernetesVersion", stack_version))

    if step == "add":
        if len(current) != 1:
            raise UpgradeError(f"{region} already runs {len(current)} generations; finish that upgrade first")
        (old,) = current
        target, serving = resolve(to), version_of(old)
        if serving == target:
            raise UpgradeError(f"{region} already runs {target}")
        if slug_key(target) < slug_key(serving):
            raise UpgradeError(f"{target} is lower than {serving}, which {region} runs: DOKS versions only move forward")
        if minor_number(target) - minor_number(serving) > 1:
            raise UpgradeError(f"{target} is more than one minor from {serving}; DOKS upgrades one minor at a time")
        new_name = OTHER[old["name"]]
        current.append(_generation(new_name, target, 0))
        all_generations[region] = current
        return f"{region}: added {new_name} on {target} at weight 0 beside {old['name']} on {serving}"

    candidates = [entry for entry in current if _matches(version_of(entry), to)] if len(current) == 2 else []
    if len(candidates) > 1:
        raise UpgradeError(f"both generations of {region} run {to}: name the new one's exact version (--to 1.x.y-do.z)")
    new = candidates[0] if candidates else None
    old = next((entry for entry in current if entry is not new), None)
    if new is None or old is None:
        raise UpgradeError(f"{region} has no generation on {to} beside another one: run --step add first")

    if step == "canary":
        if not 0 < canary_weight < 1:
            raise UpgradeError(f"--weight must be between 0 and 1 (exclusive), got {canary_weight}")
        new["weight"], old["weight"] = _weight(canary_weight), _weight(1 - canary_weight)
        return f"{region}: {new['name']} takes {canary_weight:.0%} of the region's traffic, {old['name']} the rest"
    if step == "promote":
        if not new["weight"] > 0 and not skip_canary:
            raise UpgradeError(
                f"{new['name']} has served none of {region}'s traffic: run --step canary first, "
                "or pass --skip-canary to move all of it at once"
            )
        new["weight"], old["weight"] = 1, 0
        return f"{region}: {new['name']} takes all traffic; {old['name']} stays up at weight 0"
    # retire
    if not new["weight"] > 0:
        raise UpgradeError(f"retiring {old['name']} would leave {region} without a serving generation: promote first")
    if old["weight"] > 0:
        raise UpgradeError(f"{old['name']} still serves traffic (weight {old['weight']}): promote first")
    if protected and old.get("protect", True) is not False:
        # Pulumi refuses to delete a protected resource: the protection is lifted by a
        # `pulumi up` of its own, reviewed like any other change, before the removal.
        old["protect"] = False
        return (
            f"{region}: lifted the protection of {old['name']} (out of rotation); once this is deployed, "
            f"run --step retire again to remove it"
        )
    current.remove(old)
    return f"{region}: retired {old['name']}; {new['name']} on {version_of(new)} serves alone"


def run(args: argparse.Namespace) -> int:
    # Here, not at the top: both load the Pulumi SDK, which `ops upgrade --help` need not wait for.
    from components.settings import ConfigError
    from ops.live.edge_quota import QuotaError, check_headroom

    path = args.root / f"Pulumi.{args.stack}.yaml"
    if not path.exists():
        print(f"error: no stack file {path.name}", file=sys.stderr)
        return 2
    yaml = _yaml()
    try:
        current = load_stack_config(args.stack, args.root)
        # The steps read the generations as the program does: a file it would refuse
        # is refused here, in its words, before any step is worked out.
        _check(args.stack, current, today=_BEFORE_ANY_END_OF_LIFE)
        before, document = _load(yaml, path)
        summary = next_step(
            document,
            current.values,
            args.region,
            args.to,
            args.step,
            canary_weight=args.weight,
            protected=_protected(args.stack),
            skip_canary=args.skip_canary,
        )
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        after = buffer.getvalue()
        try:
            _check(args.stack, load_stack_config(args.stack, args.root, stack_text=after))
        except ConfigError as error:
            raise UpgradeError(f"the result would be refused: {error.key}: {error.problem}") from None
        headroom = check_headroom(args.stack, args.root, before, after)
    except (StackConfigError, ConfigError) as error:
        # Their messages name the stack already.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (UpgradeError, QuotaError) as error:
        print(f"error: stack '{args.stack}': {error}", file=sys.stderr)
        return 1
    sys.stdout.writelines(
        difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path.name}", f"b/{path.name}")
    )
    print(summary)
    print(headroom)
    if not args.dry_run:
        path.write_text(after, encoding="utf-8")
    return 0


def _protected(stack: str) -> bool:
    """Whether the stack's clusters are protected (components/settings/cluster.py)."""
    from components.settings.reader import ConfigError
    from components.settings.stack import stack_kind

    try:
        return stack_kind(stack)[0] == "production"
    except ConfigError as error:
        raise UpgradeError(error.problem) from None


# A minor past its end of life is what an upgrade cures: the current file is checked as of a
# day before any minor ended, the result as of today.
_BEFORE_ANY_END_OF_LIFE = datetime.date.min


def _check(stack: str, config: StackConfig, today: datetime.date | None = None) -> None:
    """The program's settings guards on a stack's config: raises their ConfigError."""
    from components.settings import parse_settings

    parse_settings(
        stack,
        config.values,
        config.secret_keys | {"digitalocean:token"},
        environ={"DIGITALOCEAN_TOKEN": "check"},
        today=today,
    )


def _load(yaml: YAML, path: Path) -> tuple[str, Any]:
    """The stack file's text and its round-trip document (comments and layout kept). The
    program reads some files this cannot edit in place (UTF-16 text, as the CLI does)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UpgradeError(f"{path.name} is not UTF-8 text (offset {error.start}): ops upgrade edits UTF-8 files") from None
    try:
        return text, yaml.load(text) or CommentedMap()
    except YAMLError as error:
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise UpgradeError(f"{path.name} cannot be edited in place: {problem}") from None
