"""Cluster generations: blue and green side by side in a region during an upgrade, each on
an exact DOKS version, and the version lifecycle guards (data/kubernetes-versions.yaml)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from components.kubernetes_versions import minor_number, minor_of, support
from components.regions import REGIONS
from components.settings.cluster import check_node_size, version_problem
from components.settings.reader import ConfigReader, FieldType, shown


@dataclass(frozen=True)
class Generation:
    """One cluster of a region. A region runs one generation, or two during an upgrade:
    `blue` and `green`, each a full copy of the regional cluster and what runs on it."""

    name: str  # blue | green
    index: int  # its address slot in components/network.py
    # Exact DOKS version slug ("1.36.1-do.0"): written by `ops upgrade`, never resolved.
    version: str
    node_size: str
    # Share of the region's traffic, relative to its sibling (Cloudflare origin weight).
    weight: float
    # False once `ops upgrade --step retire` has lifted a production cluster's protection,
    # the reviewed step before its removal.
    protect: bool = True
    # The config key the version was read from: the generation's own kubernetesVersion, or
    # the stack's, which a generation without one runs.
    version_key: str = "kubernetesVersion"


GENERATION_NAMES = ("blue", "green")


# `object`: the checks below word what is wrong better than a type would.
_FIELDS: dict[str, FieldType] = {
    "name": object,
    "kubernetesVersion": object,
    "weight": (int, float),
    "nodeSize": object,
    "protect": bool,
}


def read_generations(
    reader: ConfigReader, regions: tuple[str, ...], version: str, node_size: str
) -> dict[str, tuple[Generation, ...]]:
    declared = reader.obj("generations", dict.fromkeys(REGIONS, list)) or {}
    for region in declared:
        if region not in regions:
            raise reader.error(f"generations.{region}", f"region {shown(region)} is not in marketplace:regions")
    result: dict[str, tuple[Generation, ...]] = {}
    for region in regions:
        entries = declared.get(region)
        if entries is None:
            result[region] = (Generation("blue", 0, version, node_size, 1.0),)
            continue
        key = f"generations.{region}"
        if not entries:
            raise reader.error(key, "is empty: a region needs at least one generation (remove the key for the default)")
        if len(entries) > len(GENERATION_NAMES):
            raise reader.error(key, f"declares {len(entries)} generations; a region runs at most two (blue and green)")
        generations = []
        for position, given in enumerate(entries):
            where = f"{key}[{position}]"
            entry = reader.nested_obj(where, given, _FIELDS)
            name = entry.get("name")
            if name not in GENERATION_NAMES:
                raise reader.error(f"{where}.name", f"must be 'blue' or 'green', got {shown(name)}")
            version_key = f"{where}.kubernetesVersion" if "kubernetesVersion" in entry else "kubernetesVersion"
            generation_version = entry.get("kubernetesVersion", version)
            problem = version_problem(generation_version)
            if problem:
                raise reader.error(version_key, problem)
            weight = entry.get("weight")
            if weight is None or not 0 <= weight <= 1:
                raise reader.error(f"{where}.weight", f"must be a number from 0 to 1, got {shown(weight)}")
            size = check_node_size(reader, f"{where}.nodeSize", entry.get("nodeSize", node_size))
            protect = entry.get("protect", True)
            if not protect and weight > 0:
                raise reader.error(
                    f"{where}.protect",
                    f"is false while {name} still serves (weight {weight}): only a generation out of rotation may lose "
                    "its protection",
                )
            index = GENERATION_NAMES.index(name)
            generations.append(Generation(name, index, generation_version, size, float(weight), protect, version_key))
        names = [g.name for g in generations]
        if len(set(names)) != len(names):
            raise reader.error(key, f"generation {shown(names[0])} is declared twice")
        if not any(g.weight > 0 for g in generations):
            raise reader.error(key, "has no generation with weight above 0: the region would serve no traffic")
        if len(generations) == 2:
            older, newer = sorted(generations, key=lambda g: minor_number(g.version))
            if minor_number(newer.version) - minor_number(older.version) > 1:
                raise reader.error(
                    key,
                    f"{newer.name} ({newer.version}) is more than one minor version from "
                    f"{older.name} ({older.version}); DOKS upgrades one minor at a time",
                )
        result[region] = tuple(sorted(generations, key=lambda g: g.index))
    return result


def version_warnings(
    reader: ConfigReader, generations: dict[str, tuple[Generation, ...]], today: datetime.date
) -> tuple[str, ...]:
    """Refuses a region whose only generations run a minor past its end of life (or one the
    table does not know); returns a warning for each generation within the table's warning
    window, and for an ended one whose upgrade is under way (its sibling is supported)."""
    warnings = []
    for region, members in generations.items():
        statuses = {g.name: support(g.version, today) for g in members}
        for generation in members:
            status = statuses[generation.name]
            if status.problem is None:
                continue
            siblings_fine = any(not statuses[g.name].refused for g in members if g is not generation)
            if status.unknown or (status.refused and not siblings_fine):
                next_minor = f"1.{minor_number(generation.version) + 1}"
                hint = (
                    ""
                    if status.unknown
                    else f"; upgrade: ops upgrade {region} --to {next_minor} --step add --stack {reader.stack}"
                )
                raise reader.error(
                    generation.version_key, f"{generation.name} in {region} runs {generation.version}: {status.problem}{hint}"
                )
            what = "its upgrade is under way" if status.refused else f"upgrade {region} before then"
            warnings.append(
                f"stack '{reader.stack}': {generation.name} in {region} runs {minor_of(generation.version)} "
                f"({generation.version}): {status.problem}; {what}"
            )
    return tuple(warnings)
