"""Latency percentiles, one definition for every tool and test.

Nearest rank, no interpolation: each p50/p95/p99 printed is a latency that was measured, and
the benchmark, the NLU server cost and the load test give the same p95 for the same samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 < q <= 100) of `values` by the nearest-rank method."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is not in (0, 100]")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def percentiles_ms(
    seconds: Sequence[float], qs: Iterable[float] = (50, 95, 99)
) -> dict[float, float]:
    """Percentiles of latencies given in seconds, in milliseconds: {50: ..., 95: ..., 99: ...}."""
    return {q: percentile(seconds, q) * 1000 for q in qs}
