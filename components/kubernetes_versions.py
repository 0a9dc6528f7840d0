"""Kubernetes versions on DOKS: which minors exist, when each reaches its end of life, and the
exact version slugs (`1.36.1-do.0`) the stack files pin. Static data (data/kubernetes-versions.yaml,
with its sources and the day it was read); no cloud calls.

Why exact slugs: a minor alone ("1.36") resolves to the newest patch at every deploy, so one
DOKS patch release would upgrade every region in one `pulumi up`, past the staging-first
runbook. A slug moves only when someone writes a new one (`ops upgrade`).
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

VERSIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "kubernetes-versions.yaml"

# Anchored at both ends and ASCII only: `match` accepts neither "1.36\n" nor Unicode digits.
SLUG = re.compile(r"^1\.([0-9]{1,2})\.([0-9]{1,3})-do\.([0-9]{1,3})\Z", re.ASCII)
MINOR = re.compile(r"^1\.([0-9]{1,2})\Z", re.ASCII)


@dataclass(frozen=True)
class Minor:
    name: str  # "1.36"
    released: datetime.date
    end_of_life: datetime.date
    # Believed offered by DigitalOcean on the day the table was read.
    offered: bool
    # Known DOKS slugs, newest first.
    slugs: tuple[str, ...]


@dataclass(frozen=True)
class VersionTable:
    read: datetime.date
    source: str
    warn_days: int
    minors: dict[str, Minor]

    def newest_slug(self, minor: str) -> str | None:
        known = self.minors.get(minor)
        return max(known.slugs, key=slug_key) if known and known.slugs else None

    def offered_slugs(self) -> tuple[str, ...]:
        """Every slug of the minors marked offered, newest first (as DigitalOcean lists them)."""
        slugs = [slug for minor in self.minors.values() if minor.offered for slug in minor.slugs]
        return tuple(sorted(slugs, key=slug_key, reverse=True))


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


@functools.cache
def version_table(path: Path = VERSIONS_FILE) -> VersionTable:
    with path.open(encoding="utf-8") as handle:
        raw: dict[str, Any] = yaml.safe_load(handle)
    minors = {
        str(name): Minor(
            name=str(name),
            released=_date(entry["released"]),
            end_of_life=_date(entry["end_of_life"]),
            offered=bool(entry["offered"]),
            slugs=tuple(entry.get("slugs") or ()),
        )
        for name, entry in raw["minors"].items()
    }
    return VersionTable(read=_date(raw["read"]), source=str(raw["source"]), warn_days=int(raw["warn_days"]), minors=minors)


def slug_key(slug: str) -> tuple[int, ...]:
    match = SLUG.match(slug)
    return tuple(int(part) for part in match.groups()) if match else (-1,)


def minor_of(slug: str) -> str:
    """ "1.36" of "1.36.1-do.0" (and of "1.36")."""
    return ".".join(slug.split(".")[:2])


def minor_number(version: str) -> int:
    return int(minor_of(version).split(".")[1])


@dataclass(frozen=True)
class Support:
    """What the table says of a slug on a given day: refused (past its end of life, or a
    minor the table does not know), warned about (within warn_days of it), or fine
    (problem None)."""

    refused: bool
    problem: str | None
    unknown: bool = False


def support(slug: str, today: datetime.date, table: VersionTable | None = None) -> Support:
    table = table or version_table()
    minor = table.minors.get(minor_of(slug))
    if minor is None:
        known = ", ".join(table.minors)
        return Support(True, f"Kubernetes {minor_of(slug)} is not in data/kubernetes-versions.yaml (known: {known})", True)
    left = (minor.end_of_life - today).days
    if left <= 0:
        return Support(
            True,
            f"Kubernetes {minor.name} reached its end of life on {minor.end_of_life}: DigitalOcean force-upgrades "
            "such clusters to the next minor",
        )
    if left <= table.warn_days:
        return Support(False, f"Kubernetes {minor.name} reaches its end of life on {minor.end_of_life}, in {left} days")
    return Support(False, None)
