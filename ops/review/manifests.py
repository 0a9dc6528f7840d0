"""Kubernetes manifests of a plan: what each cluster would be asked to hold.

`ops plan --manifests DIR` writes one YAML file per Kubernetes object under DIR/<region>/,
and the cluster's Helm releases and charts (chart, repository, version, values) to
DIR/<region>/releases.yaml. Reviewers read them; validators and scanners check them. Secret
values never reach a file: a Secret keeps its keys with a placeholder value (valid base64
under `data`), and any other secret value reads "[secret]".
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from offline.engine import Plan, PlannedResource, SecretValue, redact, reveal

# Helm installs these itself; their objects are not known until the chart is rendered.
CHART_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart")
SECRET_PLACEHOLDER = "[secret]"
SECRET_PLACEHOLDER_B64 = base64.b64encode(SECRET_PLACEHOLDER.encode()).decode()
RELEASES_FILE = "releases.yaml"
_GLOBAL = "global"


# libyaml's emitter writes the same bytes as PyYAML's own, five times faster.
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    """Multi-line strings (certificates, config files) as literal blocks, for readers."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def is_manifest(resource: PlannedResource) -> bool:
    """A Kubernetes object the plan declares (not a provider, not a chart)."""
    return resource.custom and resource.type.startswith("kubernetes:") and resource.type not in CHART_TYPES


def _api_version_and_kind(resource: PlannedResource) -> tuple[str, str]:
    # "kubernetes:apps/v1:Deployment" -> ("apps/v1", "Deployment"); core is "core/v1" -> "v1"
    _, group_version, kind = resource.type.split(":", 2)
    api_version = group_version.removeprefix("core/")
    return (
        str(resource.inputs.get("apiVersion") or api_version),
        str(resource.inputs.get("kind") or kind),
    )


def _secret_keys(value: Any, placeholder: str) -> dict[str, str]:
    # Only the keys are read; the values are replaced before anything is written.
    keys = reveal(value) if isinstance(value, SecretValue) else value
    return dict.fromkeys(keys or {}, placeholder)


def _sorted(value: Any) -> Any:
    """Keys in a stable order, so two plans of one stack write identical files."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def manifest(resource: PlannedResource) -> dict[str, Any]:
    """The object as `kubectl apply` would receive it, secrets replaced."""
    api_version, kind = _api_version_and_kind(resource)
    body = {key: value for key, value in resource.inputs.items() if key not in ("apiVersion", "kind", "metadata")}
    metadata = dict(reveal(resource.inputs.get("metadata")) or {})
    # Auto-named objects get their name from the provider: read it off the outputs.
    name = (resource.outputs.get("metadata") or {}).get("name")
    if not metadata.get("name") and name:
        metadata["name"] = name
    if kind == "Secret" and api_version == "v1":
        if "data" in body:
            body["data"] = _secret_keys(body["data"], SECRET_PLACEHOLDER_B64)
        if "stringData" in body:
            body["stringData"] = _secret_keys(body["stringData"], SECRET_PLACEHOLDER)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _sorted(redact(metadata)),
        **_sorted(redact(body)),
    }


def release(resource: PlannedResource) -> dict[str, Any]:
    """What a Helm release or chart installs: enough to render it (`helm template`)."""
    inputs = resource.inputs
    entry = {
        "resource": resource.name,
        "type": resource.type,
        "name": inputs.get("name"),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
        "version": inputs.get("version"),
        "skipCrds": inputs.get("skipCrds"),
        "values": inputs.get("values") or {},
    }
    entry["values"] = _sorted(entry["values"])
    return redact({key: value for key, value in entry.items() if value is not None})


def _file_name(document: dict[str, Any]) -> str:
    metadata = document["metadata"]
    return f"{metadata.get('namespace') or 'cluster'}.{document['kind'].lower()}.{metadata.get('name')}.yaml"


def _dump(path: Path, documents: Iterable[Any]) -> Path:
    path.write_text(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=110), encoding="utf-8")
    return path


def write_manifests(plan: Plan, directory: Path | str) -> list[Path]:
    """Write the plan's Kubernetes objects under directory/<region>/; the paths written."""
    from components.regions import REGIONS

    directory = Path(directory)
    objects: dict[str, list[dict[str, Any]]] = {}
    charts: dict[str, list[dict[str, Any]]] = {}
    for resource in plan.resources:
        region = plan.region_of(resource, REGIONS) or _GLOBAL
        if resource.type in CHART_TYPES:
            charts.setdefault(region, []).append(release(resource))
        elif is_manifest(resource):
            objects.setdefault(region, []).append(manifest(resource))

    written: list[Path] = []
    for region in sorted(set(objects) | set(charts)):
        folder = directory / region
        folder.mkdir(parents=True, exist_ok=True)
        # A folder holds one plan: files of objects that left the program go with it.
        for stale in folder.glob("*.yaml"):
            stale.unlink()
        for document in objects.get(region, []):
            written.append(_dump(folder / _file_name(document), [document]))
        if region in charts:
            entries = sorted(charts[region], key=lambda entry: (entry["type"], entry["resource"]))
            written.append(_dump(folder / RELEASES_FILE, [{"releases": entries}]))
    return written
