"""Fixtures of the live-operation tests."""

from __future__ import annotations

import pytest

from tests.conftest import once_per_session
from tests.ops.live.pki import Pki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    # A dozen openssl runs: once per session, read by every worker.
    return once_per_session(tmp_path_factory, "pki", make_pki)
