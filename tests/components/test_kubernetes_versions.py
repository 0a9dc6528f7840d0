"""The Kubernetes version table: dated, sourced, consistent, offering no ended minor, and the
default minor has months of support left; the offline mock answers from it as DigitalOcean
lists its versions."""

from __future__ import annotations

import datetime
from typing import Any

import yaml
from pulumi.runtime import MockCallArgs

import offline.mocks
from components.kubernetes_versions import SLUG, minor_number, minor_of, slug_key, support, version_table
from offline.stack_config import ROOT

VERSIONS_INVOKE = "digitalocean:index/getKubernetesVersions:getKubernetesVersions"


def offered(**args: str) -> dict[str, Any]:
    """The offline mock's answer to the program's get_kubernetes_versions invoke."""
    answer: dict[str, Any] = offline.mocks.INVOKES[VERSIONS_INVOKE](MockCallArgs(VERSIONS_INVOKE, args, ""))
    return answer


def test_the_table_is_dated_sourced_and_consistent():
    table = version_table()
    # Read on a real day: not one still to come.
    assert table.read <= datetime.date.today() and table.source.startswith("https://kubernetes.io/releases/")
    for name, minor in table.minors.items():
        assert minor.released < minor.end_of_life, name
        assert minor.slugs, name
        for slug in minor.slugs:
            assert SLUG.match(slug) and minor_of(slug) == name, slug
    # 1.33's end is the date DigitalOcean retired it on.
    assert table.minors["1.33"].end_of_life == datetime.date(2026, 6, 28)


def test_the_default_and_every_stack_pin_an_offered_minor_with_months_left_on_the_day_read():
    table = version_table()
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    pins = [project["config"]["kubernetesVersion"]["default"]]
    for stack in ("dev", "staging", "production"):
        pins.append(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["marketplace:kubernetesVersion"])
    for pin in pins:
        minor = table.minors[minor_of(pin)]
        assert minor.offered and pin in minor.slugs
        assert (minor.end_of_life - table.read).days >= 180, f"{pin}: fewer than six months of support left"


def test_no_minor_is_marked_offered_past_its_end_of_life_on_the_day_read():
    """DigitalOcean force-upgrades a minor at its end of life and stops offering it."""
    table = version_table()
    current = [name for name, minor in table.minors.items() if minor.offered]
    assert current
    for name in current:
        assert table.minors[name].end_of_life > table.read, f"{name} ended on {table.minors[name].end_of_life}"
    # Offered minors are the newest ones: none older than a minor that is not.
    ended = [name for name, minor in table.minors.items() if not minor.offered]
    assert all(minor_number(old) < minor_number(new) for old in ended for new in current)


def test_the_offline_mock_answers_as_digitalocean_lists_its_versions():
    """Through the invoke the program makes: every offered minor has a slug, the newest first,
    and a version prefix narrows the answer to that minor (doctl kubernetes options versions)."""
    table = version_table()
    everything = offered()
    valid = everything["validVersions"]
    assert valid == sorted(valid, key=slug_key, reverse=True) and everything["latestVersion"] == valid[0]
    assert {minor_of(v) for v in valid} == {name for name, minor in table.minors.items() if minor.offered}
    for name, minor in table.minors.items():
        narrowed = offered(versionPrefix=f"{name}.")
        if minor.offered:
            assert narrowed["latestVersion"] == table.newest_slug(name)
            assert set(narrowed["validVersions"]) == set(minor.slugs)
        else:
            assert narrowed["validVersions"] == [] and narrowed["latestVersion"] == ""


def test_support_on_a_given_day():
    assert support("1.36.1-do.0", datetime.date(2026, 12, 6)).problem is None
    near = support("1.36.1-do.0", datetime.date(2027, 6, 1))
    assert not near.refused and near.problem == "Kubernetes 1.36 reaches its end of life on 2027-06-28, in 27 days"
    ended = support("1.36.1-do.0", datetime.date(2027, 6, 28))
    assert ended.refused and not ended.unknown
    unknown = support("1.99.0-do.0", datetime.date(2026, 12, 6))
    assert unknown.refused and unknown.unknown
