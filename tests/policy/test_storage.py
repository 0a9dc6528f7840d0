"""policy/storage.py: each bucket policy on hand-built buckets."""

from __future__ import annotations

import pytest

from policy import storage
from tests.policy.policycases import (
    BUCKET,
    Case,
    assert_good_passes_and_bad_fails,
    bucket,
    case_ids,
    cases_of,
    check,
)

CASES = cases_of(storage)


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_a_good_resource_passes_and_a_bad_one_fails_with_its_message(case: Case):
    assert_good_passes_and_bad_fails(case)


def test_production_buckets_are_protected():
    assert check(storage.production_protect, BUCKET, bucket(), "production", protect=True) == []
    assert check(storage.production_protect, BUCKET, bucket(), "production", protect=False) == [
        "production buckets are protected (ResourceOptions(protect=True)): `pulumi destroy` must not empty them"
    ]
    assert check(storage.production_protect, BUCKET, bucket(), "dev-alice", protect=False) == []
