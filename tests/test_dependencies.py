"""The lock files install what requirements*.txt pin, every file by its hash.

`make` installs the virtualenvs from the locks only; a pin changed in a requirements file (by
hand or by Dependabot) without `make lock` would never reach them, so this test says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline.stack_config import ROOT

# requirements file -> its lock
LOCKS = {
    "requirements.txt": "requirements.lock",
    "requirements-dev.txt": "requirements-dev.lock",
    "requirements-checkov.txt": "requirements-checkov.lock",
    "requirements-uv.txt": "requirements-uv.lock",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version of each `name==version` line, following `-r` includes."""
    found: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("-r "):
            found |= pins(path.parent / line.split(None, 1)[1])
        elif match := PIN.match(line):
            found[normalized(match[1])] = match[2]
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of each entry of a lock."""
    entries: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            name = normalized(match[1])
            entries[name] = (match[2], 0)
        elif line.strip().startswith("--hash=sha256:") and name:
            version, hashes = entries[name]
            entries[name] = (version, hashes + 1)
    return entries


@pytest.mark.parametrize("requirements", sorted(LOCKS))
def test_each_lock_pins_what_its_requirements_pin_with_hashes(requirements: str):
    wanted = pins(ROOT / requirements)
    lock = locked(ROOT / LOCKS[requirements])
    assert wanted, f"{requirements} pins nothing"
    stale = {name: (version, lock.get(name, ("missing", 0))[0]) for name, version in wanted.items() if lock.get(name, ("",))[0] != version}
    assert stale == {}, f"{LOCKS[requirements]} is stale (pinned, locked): run `make lock`"
    assert [name for name, (_, hashes) in lock.items() if hashes == 0] == []
    # Everything is pinned exactly: the lock holds the requirements and what they pull in.
    assert len(lock) >= len(wanted)


def test_the_program_lock_is_a_subset_of_the_development_lock():
    # CI jobs that run `pulumi` install requirements.lock alone; tests run on the dev lock.
    # Compiled apart, the two disagreed: pulumi-policy holds protobuf below 6, so the tests
    # ran protobuf 5 while a deploy would have run 6.
    program = locked(ROOT / "requirements.lock")
    development = locked(ROOT / "requirements-dev.lock")
    assert {name: entry[0] for name, entry in program.items()} == {
        name: development[name][0] for name in program if name in development
    }
    assert set(program) <= set(development)


def test_the_reader_of_pins_follows_includes_and_ignores_comments(tmp_path: Path):
    (tmp_path / "base.txt").write_text("# pinned\nPyYAML==6.0.3\n")
    (tmp_path / "dev.txt").write_text("-r base.txt\nruamel.yaml==0.19.1  # comment\n")
    assert pins(tmp_path / "dev.txt") == {"pyyaml": "6.0.3", "ruamel-yaml": "0.19.1"}
    (tmp_path / "x.lock").write_text("a==1 \\\n    --hash=sha256:00\nb==2 ; sys_platform == 'win32' \\\n    --hash=sha256:11 \\\n    --hash=sha256:22\n")
    assert locked(tmp_path / "x.lock") == {"a": ("1", 1), "b": ("2", 2)}
