"""Personal dev stacks: `ops dev up | down | list | reap`.

A personal stack is `dev-<owner>`: the program's dev defaults, no stack file to write or
review, tagged with its owner and an expiry date so the scheduled `reap` can destroy the
ones nobody extended. Everything goes through the Pulumi Automation API, which drives the
`pulumi` CLI on PATH against whatever backend `pulumi login` chose.

Every check that can refuse a command runs before anything is created, and `down`/`reap`
refuse any stack that is not `dev-<owner>`: `staging`, `production` and the shared `dev`
stack are out of reach of this module, whatever its tags say.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi.automation import LocalWorkspace, Stack, StackSummary

ROOT = Path(__file__).resolve().parents[2]

OWNER_TAG = "marketplace:owner"
DISABLE_DEFAULT_PROVIDERS = "pulumi:disable-default-providers[0]"
EXPIRES_TAG = "marketplace:expires"
DEFAULT_TTL_DAYS = 7
# A forgotten stack runs a DOKS cluster: a month is the most anyone may book at once.
MAX_TTL_DAYS = 30

# What the Pulumi CLI accepts as a stack name.
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)

# Each entry: the variables any one of which provides that credential. `up`, `down` and
# `reap` need them all: the program creates clusters, a Spaces bucket and Cloudflare
# records, and destroying them needs the same providers. The passphrase decrypts the
# stack's secrets (the project's secrets provider is `passphrase`).
DEPLOY_CREDENTIALS: tuple[tuple[str, ...], ...] = (
    ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"),
    ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"),
    ("SPACES_ACCESS_KEY_ID",),
    ("SPACES_SECRET_ACCESS_KEY",),
    ("CLOUDFLARE_API_TOKEN",),
)


class DevStackError(Exception):
    """A refusal or failure, told to the operator as one line."""


@dataclass(frozen=True)
class DevStack:
    name: str
    owner: str | None
    expires: date | None
    resource_count: int | None

    def expired(self, on: date) -> bool:
        # A stack without a readable expiry is never reaped: nothing proves it is abandoned.
        return self.expires is not None and self.expires <= on


def today() -> date:
    """The date expiry is judged by: UTC, so a runner and a laptop agree."""
    return datetime.now(UTC).date()


# ---------------------------------------------------------------------------- owner


def slugify(text: str) -> str:
    """An owner slug from a free-form git identity: 'Alice.Smith' -> 'alice-smith'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].rstrip("-")


def owner_from_identity(email: str | None, name: str | None) -> str | None:
    """The owner a git identity stands for: the e-mail's local part, else the name."""
    for candidate in ((email or "").split("@", 1)[0], name or ""):
        slug = slugify(candidate)
        if slug:
            return slug
    return None


def _git_config(key: str) -> str | None:
    try:
        result = subprocess.run(["git", "config", "--get", key], cwd=ROOT, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    value = result.stdout.strip()
    return value if result.returncode == 0 and value else None


def resolve_owner(explicit: str | None) -> str:
    """The owner given with --owner (taken as is, never rewritten), else the git identity's."""
    if explicit is not None:
        check_owner(explicit)
        return explicit
    owner = owner_from_identity(_git_config("user.email"), _git_config("user.name"))
    if owner is None:
        raise DevStackError("cannot tell who you are: set git config user.email or pass --owner NAME")
    check_owner(owner)
    return owner


def personal_owner(stack_name: str) -> str | None:
    """The owner of a personal `dev-<owner>` stack by the program's own rule
    (components/settings/stack.py), so that a stack this module creates is always one the
    program can deploy; None for a shared stack or any other name."""
    # Here, not at the top: it loads the Pulumi SDK, which `ops dev --help` need not wait for.
    from components.settings import ConfigError
    from components.settings.stack import stack_kind

    try:
        return stack_kind(stack_name)[1]
    except ConfigError:
        return None


def check_owner(owner: str) -> None:
    if personal_owner(f"dev-{owner}") != owner or not _STACK_NAME.fullmatch(f"dev-{owner}"):
        raise DevStackError(
            f"invalid owner {owner!r}: use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
        )


def personal_stack_name(owner: str) -> str:
    check_owner(owner)
    return f"dev-{owner}"


def refuse_unless_personal(stack_name: str) -> None:
    """The one gate in front of every destroy: only `dev-<owner>` stacks, never shared ones."""
    if personal_owner(stack_name) is None:
        raise DevStackError(f"refusing to touch stack {stack_name!r}: ops dev only manages personal dev-<owner> stacks")


# ------------------------------------------------------------------------ pulumi glue


def _one_line(error: Exception) -> str:
    """The CLI's own error line out of an Automation API error, which carries the whole
    stdout and stderr of the command."""
    text = str(error)
    _, _, stderr = text.rpartition(" stderr: ")
    lines = [line.strip() for line in (stderr or text).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.lower().startswith("error"):
            return line
    return lines[-1] if lines else type(error).__name__


def _workspace() -> LocalWorkspace:
    from pulumi.automation import InvalidVersionError, LocalWorkspace

    try:
        # No project or stack settings are passed, so nothing is written into the repo;
        # the CLI reads Pulumi.yaml from ROOT like a `pulumi` run there would.
        return LocalWorkspace(work_dir=str(ROOT), secrets_provider="passphrase")
    except FileNotFoundError:
        raise DevStackError("the pulumi CLI is not installed or not on PATH") from None
    except InvalidVersionError as error:
        raise DevStackError(f"unsupported pulumi CLI: {str(error).splitlines()[0]}") from None
    except subprocess.CalledProcessError as error:
        raise DevStackError(f"`pulumi version` failed with exit code {error.returncode}") from None


def _require_login(workspace: LocalWorkspace) -> None:
    from pulumi.automation import CommandError

    try:
        workspace.who_am_i()
    except CommandError as error:
        raise DevStackError(
            f"not logged in to the Pulumi backend: run `pulumi login <backend URL>` ({_one_line(error)})"
        ) from None


def preflight(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> list[str]:
    """Everything that would stop the command before it touches the backend, all at once:
    Python, the project's packages, the pulumi CLI, each credential, the owner, the TTL."""
    from ops.live.prereq import cli_problem, collect, credentials_problem, packages_problem, python_problem

    env = os.environ if environ is None else environ
    missing_packages = packages_problem()
    problems = collect(python_problem(), missing_packages, cli_problem())
    # Creating and destroying need every provider; listing, and a dry run, only the backend.
    if args.action in ("up", "down") or (args.action == "reap" and not args.dry_run):
        problems += collect(credentials_problem(DEPLOY_CREDENTIALS, env))
    # The owner is judged by the program's rule, which needs the program's packages.
    if args.action in ("up", "down") and missing_packages is None:
        try:
            resolve_owner(args.owner)
        except DevStackError as error:
            problems.append(str(error))
    if args.action == "up" and not 1 <= args.ttl_days <= MAX_TTL_DAYS:
        problems.append(f"--ttl-days must be between 1 and {MAX_TTL_DAYS}, not {args.ttl_days}")
    return problems


def _short_name(listed: str) -> str:
    # A backend may list `organization/marketplace/dev-alice`; the stack is the last part.
    return listed.rsplit("/", 1)[-1]


def _parse_expiry(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _tagged(workspace: LocalWorkspace, summary: StackSummary) -> DevStack:
    """A listed stack with its tags, read without selecting it (selecting would change the
    user's current stack and, for a missing stack, fail)."""
    name = _short_name(summary.name)
    tags = workspace.list_tags(name)
    return DevStack(
        name=name,
        owner=tags.get(OWNER_TAG),
        expires=_parse_expiry(tags.get(EXPIRES_TAG)),
        resource_count=summary.resource_count,
    )


def _dev_stacks(workspace: LocalWorkspace) -> list[DevStack]:
    personal = [summary for summary in workspace.list_stacks() if personal_owner(_short_name(summary.name))]
    return sorted((_tagged(workspace, summary) for summary in personal), key=lambda stack: stack.name)


def _find(workspace: LocalWorkspace, stack_name: str) -> DevStack | None:
    names = {_short_name(summary.name): summary for summary in workspace.list_stacks()}
    return _tagged(workspace, names[stack_name]) if stack_name in names else None


def _print_line(line: str) -> None:
    print(line, flush=True)


def _print_error_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _destroy(workspace: LocalWorkspace, stack_name: str) -> None:
    from pulumi.automation import Stack

    refuse_unless_personal(stack_name)
    stack: Stack = Stack.select(stack_name, workspace)
    # remove=True: `pulumi stack rm` after the destroy, so the name and its tags go too.
    stack.destroy(on_output=_print_line, on_error=_print_error_line, remove=True, show_secrets=False)


# --------------------------------------------------------------------------- commands


def _up(args: argparse.Namespace) -> int:
    from pulumi.automation import CommandError, ConfigValue, Stack

    owner = resolve_owner(args.owner)
    stack_name = personal_stack_name(owner)
    workspace = _workspace()
    _require_login(workspace)

    existing = _find(workspace, stack_name)
    if existing is not None and existing.owner not in (None, owner):
        raise DevStackError(f"stack {stack_name} belongs to {existing.owner!r} ({OWNER_TAG}); pick another --owner")
    expires = today() + timedelta(days=args.ttl_days)

    created = existing is None
    stack = Stack.create(stack_name, workspace) if created else Stack.select(stack_name, workspace)
    try:
        # Tagged before `up`, so a stack whose update fails half-way is still reaped.
        stack.set_tag(OWNER_TAG, owner)
        stack.set_tag(EXPIRES_TAG, expires.isoformat())
        # What every stack file says and a personal stack has no file for: nothing may be
        # applied to whatever cluster an ambient kubeconfig points at.
        stack.set_config(DISABLE_DEFAULT_PROVIDERS, ConfigValue("kubernetes"), path=True)
    except CommandError as error:
        if created:
            workspace.remove_stack(stack_name)
        raise DevStackError(f"could not tag {stack_name}: {_one_line(error)}") from None

    verb = "creating" if created else "updating"
    print(f"ops dev up: {verb} {stack_name} (owner {owner}, expires {expires.isoformat()})", flush=True)
    try:
        result = stack.up(on_output=_print_line, on_error=_print_error_line, show_secrets=False)
    except CommandError as error:
        raise DevStackError(
            f"pulumi up of {stack_name} failed: {_one_line(error)}; the stack is kept until "
            f"{expires.isoformat()}: fix and rerun `ops dev up`, or `ops dev down`"
        ) from None
    for key, output in sorted(result.outputs.items()):
        if not output.secret:
            print(f"  {key}: {output.value}")
    print(f"ops dev up: {stack_name} is up until {expires.isoformat()} (extend: ops dev up --ttl-days N)")
    return 0


def _down(args: argparse.Namespace) -> int:
    from pulumi.automation import CommandError

    # A --stack was refused by run() before anything else if not personal; the caller's own
    # stack is personal by its name. _destroy still passes the gate, as every destroy does.
    owner = resolve_owner(args.owner)
    stack_name = args.stack or personal_stack_name(owner)
    workspace = _workspace()
    _require_login(workspace)

    existing = _find(workspace, stack_name)
    if existing is None:
        raise DevStackError(f"no stack named {stack_name} in this backend")
    if existing.owner not in (None, owner):
        raise DevStackError(
            f"stack {stack_name} belongs to {existing.owner!r}, not {owner!r}: "
            f"pass --owner {existing.owner} if you really mean to destroy it"
        )
    print(f"ops dev down: destroying {stack_name}", flush=True)
    try:
        _destroy(workspace, stack_name)
    except CommandError as error:
        raise DevStackError(f"destroy of {stack_name} failed: {_one_line(error)}") from None
    print(f"ops dev down: {stack_name} destroyed and removed")
    return 0


def _list(args: argparse.Namespace) -> int:
    workspace = _workspace()
    _require_login(workspace)
    stacks = _dev_stacks(workspace)
    if not stacks:
        print("no personal dev stacks")
        return 0
    now = today()
    rows = [("STACK", "OWNER", "EXPIRES", "RESOURCES", "STATUS")]
    for stack in stacks:
        if stack.expires is None:
            status = "NO EXPIRY TAG (never reaped)"
        elif stack.expired(now):
            status = "EXPIRED"
        else:
            status = f"{(stack.expires - now).days} days left"
        rows.append(
            (
                stack.name,
                stack.owner or "-",
                stack.expires.isoformat() if stack.expires else "-",
                "-" if stack.resource_count is None else str(stack.resource_count),
                status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _reap(args: argparse.Namespace) -> int:
    from pulumi.automation import CommandError

    workspace = _workspace()
    _require_login(workspace)
    now = today()
    expired = [stack for stack in _dev_stacks(workspace) if stack.expired(now)]
    if not expired:
        print("ops dev reap: no expired personal dev stacks")
        return 0
    failed = []
    for stack in expired:
        assert stack.expires is not None
        what = f"{stack.name} (owner {stack.owner or '-'}, expired {stack.expires.isoformat()})"
        if args.dry_run:
            print(f"ops dev reap: would destroy {what}")
            continue
        print(f"ops dev reap: destroying {what}", flush=True)
        try:
            _destroy(workspace, stack.name)
        except (CommandError, DevStackError) as error:
            # One stuck stack must not keep the others running: report it and go on.
            message = str(error) if isinstance(error, DevStackError) else _one_line(error)
            print(f"ops dev reap: {stack.name} not destroyed: {message}", file=sys.stderr)
            failed.append(stack.name)
    if failed:
        print(f"ops dev reap: {len(failed)} stack(s) left: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "up": _up,
    "down": _down,
    "list": _list,
    "reap": _reap,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="create or update your dev-<owner> stack and extend its expiry")
    up.add_argument("--owner", help="owner slug (default: from git config user.email / user.name)")
    up.add_argument(
        "--ttl-days",
        type=int,
        default=DEFAULT_TTL_DAYS,
        help=f"days until the stack may be reaped (default {DEFAULT_TTL_DAYS}, at most {MAX_TTL_DAYS})",
    )
    down = actions.add_parser("down", help="destroy and remove your dev-<owner> stack")
    down.add_argument("--owner", help="owner slug (default: from git config user.email / user.name)")
    down.add_argument("--stack", help="a dev-<owner> stack name (default: dev-<your owner>)")
    actions.add_parser("list", help="every personal dev stack with its owner and expiry")
    reap = actions.add_parser("reap", help="destroy every expired personal dev stack (scheduled in CI)")
    reap.add_argument("--dry-run", action="store_true", help="only say what would be destroyed")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "down" and args.stack is not None:
            # Before anything else, even before what is missing: never negotiable.
            refuse_unless_personal(args.stack)
    except DevStackError as error:
        print(f"ops dev {args.action}: {error}", file=sys.stderr)
        return 1
    problems = preflight(args)
    if problems:
        print(f"ops dev {args.action}: cannot start: {'; '.join(problems)}", file=sys.stderr)
        return 1
    from pulumi.automation import CommandError

    try:
        return ACTIONS[args.action](args)
    except DevStackError as error:
        print(f"ops dev {args.action}: {error}", file=sys.stderr)
        return 1
    except CommandError as error:
        print(f"ops dev {args.action}: pulumi failed: {_one_line(error)}", file=sys.stderr)
        return 1
