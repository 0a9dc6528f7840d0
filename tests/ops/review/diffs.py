"""Shared by the `ops diff` tests: head-side documents of cached plans and lookups in a diff."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ops.review.diff import comparable_document
from ops.review.diff_compare import diff_documents
from tests.conftest import plan_of
from tests.plandocs import DEV_TWO_REGIONS, real

KEY = b"k" * 32
LABEL = "abc1234 (merge base with main)"
NEW_TOKEN = {"marketplace:kubernetesApiToken": {"secure": "v1:bm90LXJlYWw="}}
TWO = DEV_TWO_REGIONS["marketplace:regions"]


def comparable(stack: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """A head-side document of a cached plan: fingerprinted secrets, property dependencies."""
    return copy.deepcopy(comparable_document(plan_of(stack, overrides=overrides), KEY))


def ops_of(diff) -> dict[str, str]:
    return {change.name: change.op for change in diff.changes}


def change_of(diff, name: str):
    (found,) = (c for c in diff.changes if c.name == name)
    return found


def adding_fra1():
    return diff_documents(real("dev"), real("dev", TWO))
