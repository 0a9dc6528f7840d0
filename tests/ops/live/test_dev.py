"""`ops dev` against a fake `pulumi` CLI (tests/fake_pulumi/pulumi) first on PATH.

The Automation API runs in this process exactly as it would for an operator; only the
executable it spawns is the fake, which logs every call and keeps the backend's stacks
and tags in a JSON file. The tests read that log to prove which commands ran, with which
stack names and tags, and that every refusal happens before anything is created.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ops import cli
from ops.live import dev

FAKE_DIR = Path(__file__).resolve().parents[2] / "fake_pulumi"
TODAY = date(2030, 1, 1)

# Values the credentials carry in these tests; none may ever appear in the output.
SECRETS = {
    "PULUMI_CONFIG_PASSPHRASE": "passphrase-SENTINEL-1",
    "DIGITALOCEAN_TOKEN": "dop_v1_SENTINEL-2",
    "SPACES_ACCESS_KEY_ID": "spaces-key-SENTINEL-3",
    "SPACES_SECRET_ACCESS_KEY": "spaces-secret-SENTINEL-4",
    "CLOUDFLARE_API_TOKEN": "cloudflare-SENTINEL-5",
}
ALTERNATIVE_CREDENTIALS = ("PULUMI_CONFIG_PASSPHRASE_FILE", "DIGITALOCEAN_ACCESS_TOKEN")
# What the fake prints for the secret stack output when asked with --show-secrets.
SECRET_OUTPUT = "FAKE-KUBECONFIG-SECRET"

# Calls that change the backend (or which stack is selected).
MUTATING = (
    ("stack", "init"),
    ("stack", "select"),
    ("stack", "tag", "set"),
    ("stack", "tag", "rm"),
    ("stack", "rm"),
    ("config",),
    ("up",),
    ("destroy",),
)


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class FakePulumi:
    log: Path
    state: Path
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    stacks: dict[str, Any] = field(default_factory=dict)

    def seed(self, name: str, tags: dict[str, str] | None = None, resources: int = 0) -> None:
        self.stacks[name] = {"tags": dict(tags or {}), "config": {}, "resources": resources, "history": []}
        self.state.write_text(json.dumps({"stacks": self.stacks, "current": None}))

    def backend(self) -> dict[str, Any]:
        if not self.state.exists():
            return {}
        stacks: dict[str, Any] = json.loads(self.state.read_text())["stacks"]
        return stacks

    def calls(self) -> list[list[str]]:
        """Every call's arguments, without the --non-interactive the API puts first."""
        if not self.log.exists():
            return []
        calls = []
        for line in self.log.read_text().splitlines():
            argv = json.loads(line)["argv"]
            calls.append([arg for arg in argv if arg != "--non-interactive"])
        return calls

    def mutations(self) -> list[list[str]]:
        return [call for call in self.calls() if any(tuple(call[: len(m)]) == m for m in MUTATING)]

    def ops_dev(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = cli.main(["dev", *argv])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[FakePulumi]:
    # The fake, run by this very interpreter without `site` (-S): a call then costs a few
    # milliseconds instead of the ~100 a `python3` shim on PATH may take, and the suite
    # makes hundreds.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    source = (FAKE_DIR / "pulumi").read_text(encoding="utf-8").split("\n", 1)[1]
    executable = bin_dir / "pulumi"
    executable.write_text(f"#!{sys.executable} -S\n{source}", encoding="utf-8")
    executable.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(tmp_path / "backend.json"))
    for name in (
        "FAKE_PULUMI_FAIL",
        "FAKE_PULUMI_LOGGED_OUT",
        "FAKE_PULUMI_VERSION",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK",
        *ALTERNATIVE_CREDENTIALS,
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    # Pin the git identity (GIT_CONFIG_* outranks every config file) so no test depends on
    # the machine's; tests that care set their own.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.email")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "carol@example.com")
    monkeypatch.setenv("GIT_CONFIG_KEY_1", "user.name")
    monkeypatch.setenv("GIT_CONFIG_VALUE_1", "Carol")
    monkeypatch.setattr(dev, "today", lambda: TODAY)
    yield FakePulumi(tmp_path / "calls.jsonl", tmp_path / "backend.json", monkeypatch, capsys)


def assert_no_secret_printed(result: Result) -> None:
    for value in [*SECRETS.values(), SECRET_OUTPUT]:
        assert value not in result.out
        assert value not in result.err


def assert_refused(result: Result, fake: FakePulumi, action: str, message: str) -> None:
    """One clear line on stderr, a failing exit code, and nothing created or changed."""
    assert result.code != 0
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"ops dev {action}: ")
    assert message in lines[0]
    assert fake.mutations() == []
    assert_no_secret_printed(result)


# -------------------------------------------------------------------------------- up

# What `ops dev up` runs for dev-alice after it has tagged the stack.
CONFIGURE_AND_UP_ALICE = [
    ["config", "set", "--path", "pulumi:disable-default-providers[0]", "--plaintext", "--stack", "dev-alice", "--", "kubernetes"],
    ["up", "--yes", "--skip-preview", "--exec-kind", "auto.local", "--stack", "dev-alice"],
]


def test_up_creates_the_stack_tags_it_then_updates_it(fake: FakePulumi) -> None:
    result = fake.ops_dev("up", "--owner", "alice")

    assert result.code == 0, result.err
    assert fake.mutations() == [
        ["stack", "init", "dev-alice", "--secrets-provider", "passphrase"],
        ["stack", "tag", "set", "marketplace:owner", "alice", "--stack", "dev-alice"],
        ["stack", "tag", "set", "marketplace:expires", "2030-01-08", "--stack", "dev-alice"],
        *CONFIGURE_AND_UP_ALICE,
    ]
    # Dev defaults: the only config is the one every stack file carries (no default
    # Kubernetes provider), set before the first update.
    configs = [call for call in fake.calls() if call[0] == "config"]
    assert [call[3] for call in configs] == ["pulumi:disable-default-providers[0]"]
    stack = fake.backend()["dev-alice"]
    assert stack["tags"] == {"marketplace:owner": "alice", "marketplace:expires": "2030-01-08"}
    assert stack["resources"] == 7
    assert "url: https://dev-alice.dev.catalog.example.com" in result.out
    assert "kubeconfigs" not in result.out  # a secret output is not listed
    assert "2030-01-08" in result.out
    assert_no_secret_printed(result)


def test_up_checks_login_and_existing_stacks_before_creating(fake: FakePulumi) -> None:
    fake.ops_dev("up", "--owner", "alice")
    commands = [" ".join(call[:2]) for call in fake.calls()]
    assert commands.index("whoami --json") < commands.index("stack ls") < commands.index("stack init")


def test_up_again_selects_the_stack_and_moves_its_expiry(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice", "marketplace:expires": "2030-01-02"}, resources=7)

    result = fake.ops_dev("up", "--owner", "alice", "--ttl-days", "3")

    assert result.code == 0, result.err
    assert fake.mutations() == [
        ["stack", "select", "--stack", "dev-alice"],
        ["stack", "tag", "set", "marketplace:owner", "alice", "--stack", "dev-alice"],
        ["stack", "tag", "set", "marketplace:expires", "2030-01-04", "--stack", "dev-alice"],
        *CONFIGURE_AND_UP_ALICE,
    ]


def test_up_adopts_a_stack_nobody_has_tagged(fake: FakePulumi) -> None:
    fake.seed("dev-alice")
    result = fake.ops_dev("up", "--owner", "alice")
    assert result.code == 0, result.err
    assert fake.backend()["dev-alice"]["tags"]["marketplace:owner"] == "alice"


def test_up_takes_the_owner_from_the_git_identity(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("GIT_CONFIG_VALUE_0", "Alice.Smith+work@Example.com")
    result = fake.ops_dev("up")
    assert result.code == 0, result.err
    assert fake.backend()["dev-alice-smith-work"]["tags"]["marketplace:owner"] == "alice-smith-work"


def test_up_falls_back_to_the_git_user_name(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("GIT_CONFIG_VALUE_0", "@example.com")
    fake.monkeypatch.setenv("GIT_CONFIG_VALUE_1", "Bob de Vries")
    result = fake.ops_dev("up")
    assert result.code == 0, result.err
    assert "dev-bob-de-vries" in fake.backend()


@pytest.mark.parametrize(
    ("email", "name", "owner"),
    [
        ("alice@example.com", None, "alice"),
        ("Alice.Smith@example.com", "Whatever", "alice-smith"),
        ("--al__ice--@x", None, "al-ice"),
        (None, "Zoë Ångström", "zo-ngstr-m"),
        ("@example.com", "Bob", "bob"),
        ("", "", None),
        (None, "李小龙", None),
        ("a" * 60 + "@x", None, "a" * 40),
        ("a" * 39 + ".b@x", None, "a" * 39),
    ],
)
def test_owner_from_identity(email: str | None, name: str | None, owner: str | None) -> None:
    assert dev.owner_from_identity(email, name) == owner
    if owner is not None:
        dev.check_owner(owner)  # whatever git gives, the slug is a valid owner


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--owner", "Alice"], "invalid owner 'Alice'"),
        (["--owner", "alice smith"], "invalid owner"),
        (["--owner=-alice"], "invalid owner"),
        (["--owner", "alice-"], "invalid owner"),
        (["--owner", "al/ice"], "invalid owner"),
        (["--owner", "al.ice"], "invalid owner"),
        (["--owner", ""], "invalid owner"),
        (["--owner", "a" * 41], "invalid owner"),
        (["--owner", "alice", "--ttl-days", "0"], "--ttl-days must be between 1 and 30"),
        (["--owner", "alice", "--ttl-days", "31"], "--ttl-days must be between 1 and 30"),
    ],
)
def test_up_refuses_bad_input_before_calling_pulumi(fake: FakePulumi, argv: list[str], message: str) -> None:
    result = fake.ops_dev("up", *argv)
    assert_refused(result, fake, "up", message)
    assert fake.calls() == []


def test_up_refuses_when_git_gives_no_usable_owner(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("GIT_CONFIG_VALUE_0", "")
    fake.monkeypatch.setenv("GIT_CONFIG_VALUE_1", "李小龙")
    result = fake.ops_dev("up")
    assert_refused(result, fake, "up", "cannot tell who you are")
    assert fake.calls() == []


def test_up_refuses_a_stack_owned_by_someone_else(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "bob", "marketplace:expires": "2030-01-05"}, resources=3)
    result = fake.ops_dev("up", "--owner", "alice")
    assert_refused(result, fake, "up", "dev-alice belongs to 'bob'")
    assert fake.backend()["dev-alice"]["tags"]["marketplace:owner"] == "bob"


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        (("DIGITALOCEAN_TOKEN",), "missing credentials: set DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN"),
        (("PULUMI_CONFIG_PASSPHRASE",), "PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"),
        (
            ("SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY"),
            "SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY",
        ),
        (("CLOUDFLARE_API_TOKEN",), "CLOUDFLARE_API_TOKEN"),
    ],
)
def test_up_refuses_missing_credentials(fake: FakePulumi, unset: tuple[str, ...], message: str) -> None:
    for name in unset:
        fake.monkeypatch.delenv(name)
    result = fake.ops_dev("up", "--owner", "alice")
    assert_refused(result, fake, "up", message)
    assert fake.calls() == []


def test_an_empty_credential_counts_as_missing(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("DIGITALOCEAN_TOKEN", "")
    assert_refused(fake.ops_dev("up", "--owner", "alice"), fake, "up", "DIGITALOCEAN_TOKEN")


def test_the_alternative_credential_variables_are_accepted(fake: FakePulumi, tmp_path: Path) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("secret\n")
    fake.monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    fake.monkeypatch.setenv("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_other")
    fake.monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    fake.monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(passphrase_file))
    result = fake.ops_dev("up", "--owner", "alice")
    assert result.code == 0, result.err


def test_up_refuses_without_a_backend_login(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("FAKE_PULUMI_LOGGED_OUT", "1")
    result = fake.ops_dev("up", "--owner", "alice")
    assert_refused(result, fake, "up", "not logged in to the Pulumi backend: run `pulumi login")
    assert ["whoami", "--json"] in fake.calls()


def test_up_refuses_a_cli_older_than_the_automation_api_supports(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("FAKE_PULUMI_VERSION", "v3.0.0")
    result = fake.ops_dev("up", "--owner", "alice")
    assert_refused(result, fake, "up", "unsupported pulumi CLI")
    assert fake.calls() == [["version"]]


def test_up_says_when_there_is_no_pulumi_cli(fake: FakePulumi, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    fake.monkeypatch.setenv("PATH", str(empty))
    result = fake.ops_dev("up", "--owner", "alice")
    assert_refused(result, fake, "up", "the pulumi CLI is not installed or not on PATH")


def test_every_missing_prerequisite_is_named_in_one_pass(fake: FakePulumi, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    fake.monkeypatch.setenv("PATH", str(empty))
    for name in ("SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN"):
        fake.monkeypatch.delenv(name)
    result = fake.ops_dev("up", "--owner", "Alice", "--ttl-days", "99")
    assert_refused(result, fake, "up", "cannot start: ")
    problems = result.err.strip().split(": cannot start: ", 1)[1].split("; ")
    assert problems == [
        "the pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)",
        "missing credentials: set SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY, CLOUDFLARE_API_TOKEN in the environment",
        "invalid owner 'Alice': use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
        "--ttl-days must be between 1 and 30, not 99",
    ]


def test_listing_needs_the_cli_but_no_credentials(fake: FakePulumi, tmp_path: Path) -> None:
    for name in SECRETS:
        fake.monkeypatch.delenv(name)
    assert fake.ops_dev("list").code == 0
    fake.monkeypatch.setenv("PATH", str(tmp_path))
    assert_refused(fake.ops_dev("list"), fake, "list", "cannot start: the pulumi CLI is not installed")


def test_a_stack_whose_tagging_fails_is_removed_again(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("FAKE_PULUMI_FAIL", "stack tag set")
    result = fake.ops_dev("up", "--owner", "alice")
    assert result.code == 1
    assert result.err.splitlines() == [
        "ops dev up: could not tag dev-alice: error: stack tag set: the fake was told to fail here"
    ]
    assert fake.backend() == {}
    assert ["stack", "rm", "--yes", "dev-alice"] in fake.calls()
    assert not any(call[0] == "up" for call in fake.calls())


def test_a_failed_update_keeps_the_tagged_stack_for_the_reaper(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("FAKE_PULUMI_FAIL", "up")
    result = fake.ops_dev("up", "--owner", "alice")
    assert result.code == 1
    assert "pulumi up of dev-alice failed" in result.err.splitlines()[-1]
    assert fake.backend()["dev-alice"]["tags"]["marketplace:expires"] == "2030-01-08"
    assert_no_secret_printed(result)


# ------------------------------------------------------------------------------ down


def test_down_destroys_and_removes_your_stack(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice", "marketplace:expires": "2030-01-05"}, resources=7)
    fake.seed("dev-bob", {"marketplace:owner": "bob", "marketplace:expires": "2030-01-05"}, resources=7)

    result = fake.ops_dev("down", "--owner", "alice")

    assert result.code == 0, result.err
    assert fake.mutations() == [
        ["stack", "select", "--stack", "dev-alice"],
        ["destroy", "--skip-preview", "--yes", "--exec-kind", "auto.local", "--stack", "dev-alice"],
        ["stack", "rm", "--yes", "dev-alice"],
    ]
    assert set(fake.backend()) == {"dev-bob"}
    assert_no_secret_printed(result)


def test_down_by_stack_name(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice"}, resources=2)
    result = fake.ops_dev("down", "--owner", "alice", "--stack", "dev-alice")
    assert result.code == 0, result.err
    assert fake.backend() == {}


@pytest.mark.parametrize(
    "stack",
    [
        "production",
        "staging",
        "dev",
        "dev-",
        "prod-alice",
        "organization/marketplace/production",
        "dev-Alice",
        "dev-alice/../production",
        "production-dev-alice",
    ],
)
def test_down_refuses_anything_but_a_personal_stack_always(fake: FakePulumi, stack: str) -> None:
    # Even tagged as the caller's and expired, with every credential at hand.
    fake.seed(stack, {"marketplace:owner": "alice", "marketplace:expires": "2020-01-01"}, resources=40)
    result = fake.ops_dev("down", "--owner", "alice", "--stack", stack)
    assert_refused(result, fake, "down", f"refusing to touch stack {stack!r}")
    assert fake.calls() == []
    assert fake.backend()[stack]["resources"] == 40


def test_down_refuses_a_stack_owned_by_someone_else(fake: FakePulumi) -> None:
    fake.seed("dev-bob", {"marketplace:owner": "bob", "marketplace:expires": "2030-01-05"}, resources=7)
    result = fake.ops_dev("down", "--owner", "alice", "--stack", "dev-bob")
    assert_refused(result, fake, "down", "dev-bob belongs to 'bob', not 'alice'")
    assert fake.backend()["dev-bob"]["resources"] == 7


def test_down_of_a_missing_stack(fake: FakePulumi) -> None:
    assert_refused(fake.ops_dev("down", "--owner", "alice"), fake, "down", "no stack named dev-alice")


def test_down_refuses_missing_credentials_and_login(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice"}, resources=7)
    fake.monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    assert_refused(fake.ops_dev("down", "--owner", "alice"), fake, "down", "PULUMI_CONFIG_PASSPHRASE")
    fake.monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "again")
    fake.monkeypatch.setenv("FAKE_PULUMI_LOGGED_OUT", "1")
    assert_refused(fake.ops_dev("down", "--owner", "alice"), fake, "down", "not logged in")
    assert fake.backend()["dev-alice"]["resources"] == 7


# ------------------------------------------------------------------------- list, reap


def seed_mixed_backend(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice", "marketplace:expires": "2030-01-08"}, resources=7)
    fake.seed("dev-bob", {"marketplace:owner": "bob", "marketplace:expires": "2029-12-01"}, resources=9)
    fake.seed("dev-dave", {"marketplace:owner": "dave", "marketplace:expires": "2030-01-01"}, resources=1)
    fake.seed("dev-carol", {}, resources=4)
    fake.seed("dev-erin", {"marketplace:owner": "erin", "marketplace:expires": "soon"}, resources=2)
    # Shared stacks that, by mistake or malice, carry an expired tag.
    for shared in ("dev", "staging", "production"):
        fake.seed(shared, {"marketplace:owner": "bob", "marketplace:expires": "2020-01-01"}, resources=50)


def test_list_shows_owner_and_expiry_and_flags_expired_stacks(fake: FakePulumi) -> None:
    seed_mixed_backend(fake)
    for name in SECRETS:  # reading needs a login, not the deploy credentials
        fake.monkeypatch.delenv(name)

    result = fake.ops_dev("list")

    assert result.code == 0, result.err
    rows = {line.split()[0]: line for line in result.out.splitlines()[1:]}
    assert set(rows) == {"dev-alice", "dev-bob", "dev-carol", "dev-dave", "dev-erin"}
    assert rows["dev-alice"].split()[:4] == ["dev-alice", "alice", "2030-01-08", "7"]
    assert "7 days left" in rows["dev-alice"]
    assert rows["dev-bob"].split()[1:3] == ["bob", "2029-12-01"]
    assert rows["dev-bob"].endswith("EXPIRED")
    assert rows["dev-dave"].endswith("EXPIRED")  # expires today
    assert "NO EXPIRY TAG" in rows["dev-carol"]
    assert "NO EXPIRY TAG" in rows["dev-erin"]  # an unreadable date proves nothing
    assert fake.mutations() == []


def test_list_of_an_empty_backend(fake: FakePulumi) -> None:
    result = fake.ops_dev("list")
    assert (result.code, result.out) == (0, "no personal dev stacks\n")


def test_list_needs_a_login(fake: FakePulumi) -> None:
    fake.monkeypatch.setenv("FAKE_PULUMI_LOGGED_OUT", "1")
    assert_refused(fake.ops_dev("list"), fake, "list", "not logged in")


def test_reap_destroys_expired_personal_stacks_only(fake: FakePulumi) -> None:
    seed_mixed_backend(fake)

    result = fake.ops_dev("reap")

    assert result.code == 0, result.err
    assert fake.mutations() == [
        ["stack", "select", "--stack", "dev-bob"],
        ["destroy", "--skip-preview", "--yes", "--exec-kind", "auto.local", "--stack", "dev-bob"],
        ["stack", "rm", "--yes", "dev-bob"],
        ["stack", "select", "--stack", "dev-dave"],
        ["destroy", "--skip-preview", "--yes", "--exec-kind", "auto.local", "--stack", "dev-dave"],
        ["stack", "rm", "--yes", "dev-dave"],
    ]
    assert set(fake.backend()) == {"dev-alice", "dev-carol", "dev-erin", "dev", "staging", "production"}
    assert fake.backend()["production"]["resources"] == 50
    assert_no_secret_printed(result)


def test_reap_dry_run_changes_nothing_and_needs_no_credentials(fake: FakePulumi) -> None:
    seed_mixed_backend(fake)
    for name in SECRETS:
        fake.monkeypatch.delenv(name)

    result = fake.ops_dev("reap", "--dry-run")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "ops dev reap: would destroy dev-bob (owner bob, expired 2029-12-01)",
        "ops dev reap: would destroy dev-dave (owner dave, expired 2030-01-01)",
    ]
    assert fake.mutations() == []


def test_reap_goes_on_past_a_stack_it_cannot_destroy(fake: FakePulumi) -> None:
    seed_mixed_backend(fake)
    fake.monkeypatch.setenv("FAKE_PULUMI_FAIL", "destroy")

    result = fake.ops_dev("reap")

    assert result.code == 1
    destroys = [call[-1] for call in fake.calls() if call[0] == "destroy"]
    assert destroys == ["dev-bob", "dev-dave"]
    assert "ops dev reap: 2 stack(s) left: dev-bob, dev-dave" in result.err
    assert not any(call[:2] == ["stack", "rm"] for call in fake.calls())


def test_reap_refuses_missing_credentials(fake: FakePulumi) -> None:
    seed_mixed_backend(fake)
    fake.monkeypatch.delenv("DIGITALOCEAN_TOKEN")
    assert_refused(fake.ops_dev("reap"), fake, "reap", "DIGITALOCEAN_TOKEN")
    assert fake.calls() == []


def test_reap_with_nothing_expired(fake: FakePulumi) -> None:
    fake.seed("dev-alice", {"marketplace:owner": "alice", "marketplace:expires": "2030-01-02"})
    result = fake.ops_dev("reap")
    assert (result.code, result.out) == (0, "ops dev reap: no expired personal dev stacks\n")
    assert fake.mutations() == []


@pytest.mark.parametrize("stack", ["dev", "staging", "production", "dev-", "dev-a_b", "Dev-alice", "x/dev-alice"])
def test_the_destroy_gate_refuses_shared_and_malformed_names(stack: str) -> None:
    with pytest.raises(dev.DevStackError, match="refusing to touch stack"):
        dev.refuse_unless_personal(stack)


def test_the_destroy_gate_lets_personal_stacks_through() -> None:
    dev.refuse_unless_personal("dev-alice")
    dev.refuse_unless_personal("dev-" + "a" * 40)


@pytest.mark.parametrize(
    "owner",
    ["alice", "a", "a1", "alice-smith", "a" * 40, "a" * 41, "Alice", "-alice", "alice-", "al_ice", "al.ice", ""],
)
def test_an_owner_is_valid_exactly_when_the_program_accepts_its_stack(owner: str) -> None:
    from components.settings import ConfigError
    from components.settings.stack import stack_kind

    try:
        kind, program_owner = stack_kind(f"dev-{owner}")
        program_accepts = (kind, program_owner) == ("dev", owner)
    except ConfigError:
        program_accepts = False
    try:
        dev.check_owner(owner)
        ops_accepts = True
    except dev.DevStackError:
        ops_accepts = False
    assert ops_accepts is program_accepts
