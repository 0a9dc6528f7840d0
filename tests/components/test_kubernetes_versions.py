"""The Kubernetes version table: dated, sourced, consistent, and the default minor has months
of support left."""

from __future__ import annotations

import datetime

import yaml

from components.kubernetes_versions import SLUG, minor_of, slug_key, support, version_table
from offline.mocks import DOKS_VERSIONS
from offline.stack_config import ROOT


def test_the_table_is_dated_sourced_and_consistent():
    table = version_table()
    assert table.read == datetime.date(2026, 12, 6) and table.source.startswith("https://kubernetes.io/releases/")
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


def test_the_offline_mock_offers_the_tables_offered_slugs_newest_first():
    assert version_table().offered_slugs() == DOKS_VERSIONS
    assert list(DOKS_VERSIONS) == sorted(DOKS_VERSIONS, key=slug_key, reverse=True)
    assert not any(v.startswith(("1.33.", "1.34.")) for v in DOKS_VERSIONS), "ended minors are not offered"


def test_support_on_a_given_day():
    assert support("1.36.1-do.0", datetime.date(2026, 12, 6)).problem is None
    near = support("1.36.1-do.0", datetime.date(2027, 6, 1))
    assert not near.refused and near.problem == "Kubernetes 1.36 reaches its end of life on 2027-06-28, in 27 days"
    ended = support("1.36.1-do.0", datetime.date(2027, 6, 28))
    assert ended.refused and not ended.unknown
    unknown = support("1.99.0-do.0", datetime.date(2026, 12, 6))
    assert unknown.refused and unknown.unknown
