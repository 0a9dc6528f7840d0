"""The pure parts of the smoke checks."""

from __future__ import annotations

from ops.live.smoke_checks import nearest_rank


def test_percentiles_are_nearest_rank() -> None:
    latencies = [float(n) for n in range(1, 21)]

    assert (nearest_rank(latencies, 0.50), nearest_rank(latencies, 0.95)) == (10.0, 19.0)
    assert nearest_rank([0.25], 0.95) == 0.25
