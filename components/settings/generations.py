"""Cluster generations: blue and green side by side in a region during an upgrade."""

from __future__ import annotations

from dataclasses import dataclass

from components.regions import REGIONS
from components.settings.cluster import check_node_size, version_problem
from components.settings.reader import ConfigReader, shown


@dataclass(frozen=True)
class Generation:
    """One cluster of a region. A region runs one generation, or two during an upgrade:
    `blue` and `green`, each a full copy of the regional cluster and what runs on it."""

    name: str  # blue | green
    index: int  # its address slot in components/network.py
    version_prefix: str
    node_size: str
    # Share of the region's traffic, relative to its sibling (Cloudflare origin weight).
    weight: float


GENERATION_NAMES = ("blue", "green")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _minor(prefix: str) -> int:
    return int(prefix.split(".")[1])


def read_generations(
    reader: ConfigReader, regions: tuple[str, ...], version_prefix: str, node_size: str
) -> dict[str, tuple[Generation, ...]]:
    declared = reader.obj("generations", dict.fromkeys(REGIONS, list)) or {}
    for region in declared:
        if region not in regions:
            raise reader.error(f"generations.{region}", f"region {shown(region)} is not in marketplace:regions")
    result: dict[str, tuple[Generation, ...]] = {}
    for region in regions:
        entries = declared.get(region)
        if entries is None:
            result[region] = (Generation("blue", 0, version_prefix, node_size, 1.0),)
            continue
        key = f"generations.{region}"
        if not entries:
            raise reader.error(key, "is empty: a region needs at least one generation (remove the key for the default)")
        if len(entries) > len(GENERATION_NAMES):
            raise reader.error(key, f"declares {len(entries)} generations; a region runs at most two (blue and green)")
        generations = []
        for position, entry in enumerate(entries):
            where = f"{key}[{position}]"
            if not isinstance(entry, dict):
                raise reader.error(where, f"must be an object {{name, kubernetesVersion, weight}}, got {shown(entry)}")
            for field_name in entry:
                if field_name not in ("name", "kubernetesVersion", "weight", "nodeSize"):
                    raise reader.error(f"{where}.{field_name}", "unknown field")
            name = entry.get("name")
            if name not in GENERATION_NAMES:
                raise reader.error(f"{where}.name", f"must be 'blue' or 'green', got {shown(name)}")
            version = entry.get("kubernetesVersion", version_prefix)
            problem = version_problem(version)
            if problem:
                raise reader.error(f"{where}.kubernetesVersion", problem)
            weight = entry.get("weight")
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
                hint = ": remove the quotes" if isinstance(weight, str) and _is_number(weight) else ""
                raise reader.error(f"{where}.weight", f"must be a number from 0 to 1, got {shown(weight)}{hint}")
            size = check_node_size(reader, f"{where}.nodeSize", entry.get("nodeSize", node_size))
            generations.append(Generation(name, GENERATION_NAMES.index(name), version, size, float(weight)))
        names = [g.name for g in generations]
        if len(set(names)) != len(names):
            raise reader.error(key, f"generation {shown(names[0])} is declared twice")
        if not any(g.weight > 0 for g in generations):
            raise reader.error(key, "has no generation with weight above 0: the region would serve no traffic")
        if len(generations) == 2:
            older, newer = sorted(generations, key=lambda g: _minor(g.version_prefix))
            if _minor(newer.version_prefix) - _minor(older.version_prefix) > 1:
                raise reader.error(
                    key,
                    f"{newer.name} ({newer.version_prefix}) is more than one minor version from "
                    f"{older.name} ({older.version_prefix}); DOKS upgrades one minor at a time",
                )
        result[region] = tuple(sorted(generations, key=lambda g: g.index))
    return result
