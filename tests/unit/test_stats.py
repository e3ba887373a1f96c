"""The one percentile helper (tools/stats.py) on data whose percentiles are known."""

from __future__ import annotations

import random

import pytest

from tools.stats import percentile, percentiles_ms


def test_nearest_rank_on_one_to_hundred() -> None:
    values = [float(v) for v in range(1, 101)]
    random.Random(0).shuffle(values)  # order of the samples does not matter
    assert [percentile(values, q) for q in (1, 50, 95, 99, 100)] == [1.0, 50.0, 95.0, 99.0, 100.0]


def test_every_percentile_is_a_measured_value() -> None:
    values = [0.012, 0.020, 0.031, 0.5, 2.0]
    # ceil(0.5 * 5) = 3rd, ceil(0.95 * 5) = 5th value: no interpolation between samples
    assert percentile(values, 50) == 0.031
    assert percentile(values, 95) == 2.0
    assert percentile([7.0], 99) == 7.0


def test_small_sample_rank_rounds_up() -> None:
    # 10 samples: p95 is the 10th (ceil 9.5), p90 the 9th, p10 the 1st
    values = list(range(10, 110, 10))
    assert (percentile(values, 10), percentile(values, 90), percentile(values, 95)) == (10, 90, 100)


def test_milliseconds_from_seconds() -> None:
    assert percentiles_ms([0.1, 0.2, 0.3, 0.4], (50, 95)) == {50: 200.0, 95: 400.0}


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], 0), ([1.0], 101)])
def test_bad_input_is_refused(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)
