"""Pure scaling arithmetic: the backlog-per-task target and the burst bands."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stable_fargate import ConfigError, defaults
from stable_fargate.scaling import (
    Band,
    backlog_per_task_target,
    burst_bands,
    burst_capacities,
    capacity_for,
    check_processing_times,
    tasks_to_drain,
)


def test_portfolio_import_target_is_thirty_messages_per_task() -> None:
    # 60 s acceptable latency / 2 s per message.
    assert backlog_per_task_target(average_processing_seconds=2, acceptable_latency_seconds=60) == 30


@pytest.mark.parametrize(
    ("average", "latency", "target"),
    [(2, 60, 30), (7, 60, 9), (0.1, 0.3, 3), (60, 60, 1), (0.5, 1, 2), (3, 100, 34)],
)
def test_target_is_the_ceiling_of_latency_over_average(average: float, latency: float, target: int) -> None:
    assert backlog_per_task_target(average_processing_seconds=average, acceptable_latency_seconds=latency) == target


def test_target_refuses_impossible_inputs() -> None:
    with pytest.raises(ValueError):
        backlog_per_task_target(average_processing_seconds=0, acceptable_latency_seconds=60)
    with pytest.raises(ValueError):
        backlog_per_task_target(average_processing_seconds=61, acceptable_latency_seconds=60)


def test_processing_time_above_latency_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        check_processing_times("portfolio-import", average_seconds=90, longest_seconds=120, acceptable_latency_seconds=60)
    assert err.value.subject == "portfolio-import"
    assert err.value.field == "average_processing_time"
    assert err.value.value == "90s"
    assert "acceptable latency (60s)" in str(err.value)


def test_longest_below_average_and_non_positive_average_are_refused() -> None:
    with pytest.raises(ConfigError, match="longest_processing_time='1s'"):
        check_processing_times("w", average_seconds=2, longest_seconds=1, acceptable_latency_seconds=60)
    with pytest.raises(ConfigError, match="average_processing_time='0s'"):
        check_processing_times("w", average_seconds=0, longest_seconds=1, acceptable_latency_seconds=60)


def test_prod_portfolio_import_bands() -> None:
    """0 to 20 tasks at 30 messages per task: one band per task count, the last one open."""
    bands = burst_bands(target=30, min_tasks=0, max_tasks=20)
    assert len(bands) == 20 <= defaults.MAX_STEP_ADJUSTMENTS
    assert bands[0] == Band(lower=0, upper=30, capacity=1)
    assert bands[1] == Band(lower=30, upper=60, capacity=2)
    assert bands[-1] == Band(lower=570, upper=None, capacity=20)
    # A nightly drop of 3,000 messages: the cap (20 tasks drain 600 a minute, so 5 minutes).
    assert capacity_for(bands, 3000) == 20
    assert capacity_for(bands, 45) == 2
    assert capacity_for(bands, 0) == 1


def test_dev_and_staging_bands() -> None:
    assert burst_bands(target=30, min_tasks=0, max_tasks=2) == (Band(0, 30, 1), Band(30, None, 2))
    assert [b.capacity for b in burst_bands(target=30, min_tasks=0, max_tasks=5)] == [1, 2, 3, 4, 5]


def test_more_tasks_than_steps_spread_geometrically_and_end_at_max() -> None:
    caps = burst_capacities(min_tasks=0, max_tasks=100)
    assert len(caps) <= defaults.MAX_STEP_ADJUSTMENTS
    assert caps[0] == 1 and caps[-1] == 100
    assert list(caps) == sorted(set(caps))


def test_min_tasks_raise_the_first_band() -> None:
    assert burst_capacities(min_tasks=3, max_tasks=5) == (3, 4, 5)
    assert burst_bands(target=10, min_tasks=3, max_tasks=5)[0] == Band(0, 30, 3)


def test_tasks_to_drain() -> None:
    assert tasks_to_drain(0, 30) == 0
    assert tasks_to_drain(31, 30) == 2


@given(
    target=st.integers(min_value=1, max_value=500),
    min_tasks=st.integers(min_value=0, max_value=30),
    extra=st.integers(min_value=0, max_value=300),
    visible=st.integers(min_value=0, max_value=1_000_000),
)
def test_bands_are_contiguous_capped_and_drain_within_latency(target: int, min_tasks: int, extra: int, visible: int) -> None:
    max_tasks = max(1, min_tasks) + extra
    bands = burst_bands(target=target, min_tasks=min_tasks, max_tasks=max_tasks)
    assert 1 <= len(bands) <= defaults.MAX_STEP_ADJUSTMENTS
    assert bands[0].lower == 0 and bands[-1].upper is None and bands[-1].capacity == max_tasks
    for before, after in itertools.pairwise(bands):
        assert before.upper == after.lower and before.capacity < after.capacity
    for band in bands:
        assert max(1, min_tasks) <= band.capacity <= max_tasks
        if band.upper is not None:
            # Every message count in the band is drained within the latency by its capacity.
            assert band.capacity * target >= band.upper
    capacity = capacity_for(bands, visible)
    assert capacity is not None
    assert capacity >= min(max_tasks, math.ceil(visible / target))
