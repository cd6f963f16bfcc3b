"""Pure scaling arithmetic: the backlog-per-task target and the burst steps."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from stable_fargate import ConfigError
from stable_fargate.scaling import (
    Step,
    WarmWindow,
    backlog_per_task_target,
    burst_addition,
    burst_additions,
    burst_shortfall,
    burst_steps,
    check_processing_times,
    tasks_needed,
    tasks_to_drain,
    wake_bands,
    wake_capacity,
)


def test_portfolio_import_target_is_fifteen_messages_per_task() -> None:
    # Half of the 60 s acceptable latency at 2 s per message; the other half is for scaling to react.
    assert backlog_per_task_target(average_processing_seconds=2, acceptable_latency_seconds=60) == 15


@pytest.mark.parametrize(
    ("average", "latency", "target"),
    # ceil(0.5 x latency / average), at least one message
    [(2, 60, 15), (7, 60, 5), (0.1, 0.3, 2), (60, 60, 1), (0.5, 1, 1), (3, 100, 17)],
)
def test_target_is_the_ceiling_of_half_the_latency_over_average(average: float, latency: float, target: int) -> None:
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


def test_prod_portfolio_import_steps() -> None:
    """0 to 20 tasks: one step per missing task count, the last one open."""
    steps = burst_steps(max_tasks=20)
    assert len(steps) == 20  # Application Auto Scaling's quota of step adjustments
    assert steps[0] == Step(lower=0, upper=2, add=1)
    assert steps[1] == Step(lower=2, upper=3, add=2)
    assert steps[-1] == Step(lower=20, upper=None, add=20)


def test_a_nightly_drop_from_zero_starts_the_tasks_that_drain_it() -> None:
    steps = burst_steps(max_tasks=20)
    # 3,000 messages at 30 per task: 100 tasks missing; the maximum (20) is added at once.
    assert burst_shortfall(visible=3000, desired=0, target=30) == 100
    assert burst_addition(steps, 100) == 20
    # One message and no task: the first task starts (scale from zero).
    assert burst_addition(steps, burst_shortfall(visible=1, desired=0, target=30)) == 1
    # 45 messages, one task wanted: one more.
    assert burst_addition(steps, burst_shortfall(visible=45, desired=1, target=30)) == 1
    # Enough tasks wanted: nothing.
    assert burst_shortfall(visible=60, desired=2, target=30) == 0


def test_dev_and_staging_steps() -> None:
    assert burst_steps(max_tasks=2) == (Step(0, 2, 1), Step(2, None, 2))
    assert [s.add for s in burst_steps(max_tasks=5)] == [1, 2, 3, 4, 5]


def test_more_tasks_than_steps_spread_geometrically_and_end_at_max() -> None:
    adds = burst_additions(max_tasks=100)
    assert len(adds) <= 20
    assert adds[0] == 1 and adds[-1] == 100
    assert list(adds) == sorted(set(adds))


def test_tasks_to_drain() -> None:
    assert tasks_to_drain(0, 30) == 0
    assert tasks_to_drain(31, 30) == 2


BURST_BRANCHES: Counter[str] = Counter()


@given(
    # Small queues and fleets as well as large ones, so that every branch below runs.
    target=st.integers(min_value=1, max_value=20) | st.integers(min_value=1, max_value=500),
    max_tasks=st.integers(min_value=1, max_value=20) | st.integers(min_value=1, max_value=300),
    visible=st.integers(min_value=0, max_value=300) | st.integers(min_value=0, max_value=1_000_000),
    desired=st.integers(min_value=0, max_value=20) | st.integers(min_value=0, max_value=300),
    lag=st.integers(min_value=0, max_value=300),
)
def _burst_property(target: int, max_tasks: int, visible: int, desired: int, lag: int) -> None:
    desired = min(desired, max_tasks)
    steps = burst_steps(max_tasks=max_tasks)
    assert 1 <= len(steps) <= 20
    assert steps[0].lower == 0 and steps[-1].upper is None and steps[-1].add == max_tasks
    for before, after in itertools.pairwise(steps):
        assert before.upper == after.lower and before.add < after.add
    # With a fresh metric: never more than the missing tasks, and enough once capped.
    shortfall = burst_shortfall(visible=visible, desired=desired, target=target)
    added = burst_addition(steps, shortfall)
    assert 0 <= added <= shortfall
    needed = min(max_tasks, math.ceil(visible / target))
    if shortfall > 0 and shortfall <= max_tasks and shortfall in {s.add for s in steps}:
        BURST_BRANCHES["reaches the need"] += 1
        event("a step adds exactly the shortfall")
        assert added == shortfall
        assert min(max_tasks, desired + added) >= needed
    elif shortfall == 0:
        BURST_BRANCHES["nothing missing"] += 1
        event("nothing missing")
        assert added == 0
    else:
        BURST_BRANCHES["a smaller step"] += 1
        event("a smaller step, or the maximum")
    # With a stale metric (it reports fewer tasks than are wanted): still only adds.
    stale = burst_shortfall(visible=visible, desired=max(0, desired - lag), target=target)
    assert burst_addition(steps, stale) >= 0


def test_burst_only_adds_never_more_than_missing_and_reaches_the_need() -> None:
    BURST_BRANCHES.clear()
    _burst_property()
    # Every branch of the property ran: an exact step, nothing missing, a smaller step.
    assert min(BURST_BRANCHES[b] for b in ("reaches the need", "nothing missing", "a smaller step")) >= 5, dict(BURST_BRANCHES)


def test_tasks_needed_is_the_larger_of_backlog_and_arrivals() -> None:
    # 300 waiting at 15 per task: 20 tasks; 240 arriving a minute at 2 s each and 80 % busy: 10.
    assert tasks_needed(visible=290, in_flight=10, sent_per_minute=240, backlog_target=15, average_processing_seconds=2) == 20
    # A fleet that keeps up (little backlog) still needs what the stream needs: no scale-in mid-batch.
    assert tasks_needed(visible=0, in_flight=15, sent_per_minute=240, backlog_target=15, average_processing_seconds=2) == 10
    assert tasks_needed(visible=0, in_flight=0, sent_per_minute=0, backlog_target=15, average_processing_seconds=2) == 0


def test_warm_windows_are_daily_and_within_the_day() -> None:
    window = WarmWindow(schedule="55 1 * * ? *", time_zone="Europe/London", tasks=10, duration_minutes=55)
    assert (window.start_minute, window.end_schedule()) == (115, "50 2 * * ? *")
    for bad in (
        {"schedule": "*/5 1 * * ? *"}, {"schedule": "55 1 * * *"}, {"time_zone": "BST"}, {"tasks": 0}, {"tasks": True},
        {"duration_minutes": 0}, {"schedule": "0 23 * * ? *", "duration_minutes": 61},
    ):
        with pytest.raises(ConfigError):
            WarmWindow(**{"schedule": "55 1 * * ? *", "time_zone": "Europe/London", "tasks": 10, "duration_minutes": 55, **bad})


# --- Worked examples, computed by hand -------------------------------------------------------


def test_a_hundred_tasks_spread_over_twenty_steps_geometrically() -> None:
    # ratio = 100 ** (1 / 19) = 1.274; ceil(ratio ** i) for i = 0..19 is
    # 1, 2, 2, 3, 3, 4, 5, 6, 7, 9, 12, 15, 19, 24, 30, 38, 49, 62, 79, 100; repeats dropped.
    assert burst_additions(max_tasks=100) == (1, 2, 3, 4, 5, 6, 7, 9, 12, 15, 19, 24, 30, 38, 49, 62, 79, 100)
    # Twenty tasks fit the twenty steps one by one; twenty-one do not.
    assert burst_additions(max_tasks=20) == tuple(range(1, 21))
    assert len(burst_additions(max_tasks=21)) < 21 and burst_additions(max_tasks=21)[-1] == 21
    assert burst_additions(max_tasks=0) == ()


def test_burst_steps_for_five_tasks() -> None:
    # A shortfall in [a, next a) adds a; the first step starts at the alarm's threshold, 0.
    assert burst_steps(max_tasks=5) == (Step(0, 2, 1), Step(2, 3, 2), Step(3, 4, 3), Step(4, 5, 4), Step(5, None, 5))
    steps = burst_steps(max_tasks=5)
    assert [burst_addition(steps, shortfall) for shortfall in range(-1, 8)] == [0, 0, 1, 2, 3, 4, 5, 5, 5]
    assert burst_addition((), 3) == 0  # no steps (no task may run): nothing to add


@pytest.mark.parametrize(
    ("visible", "in_flight", "polls", "capacity"),
    [
        (0, 0, 0, 0),  # nothing waits: the alarm does not fire
        (1, 0, 0, 1),  # ceil(1 / 15): one task
        (15, 0, 0, 1),  # ceil(15 / 15)
        (16, 0, 0, 2),  # ceil(16 / 15)
        (300, 0, 0, 20),  # ceil(300 / 15)
        (301, 0, 0, 20),  # ceil(301 / 15) = 21, above the maximum: the last band, 20
        (16, 1, 0, 0),  # a message in flight: some task consumes, the burst policy's job
        (16, 0, 1, 0),  # a receive call in the minute: some task polls
    ],
)
def test_wake_sets_the_tasks_that_drain_the_queue_when_nobody_consumes(visible: int, in_flight: int, polls: int, capacity: int) -> None:
    bands = wake_bands(max_tasks=20)
    assert wake_capacity(bands, visible=visible, in_flight=in_flight, polls=polls, target=15) == capacity


def test_wake_bands_for_three_tasks() -> None:
    # ceil(visible / target) in [lower, upper) sets exactly `add` tasks; never fewer than needed.
    assert wake_bands(max_tasks=3) == (Step(0, 2, 1), Step(2, 3, 2), Step(3, None, 3))


@pytest.mark.parametrize(
    ("visible", "in_flight", "sent", "needed"),
    [
        (290, 10, 240, 20.0),  # backlog (290 + 10) / 15 = 20 beats arrivals 240 x 2 / 48 = 10
        (0, 15, 240, 10.0),  # the fleet keeps up: the arrival rate holds 10 tasks
        (0, 0, 24, 1.0),  # 24 a minute x 2 s = 48 s of work a task-minute at 80 %: one task
        (30, 0, 0, 2.0),  # 30 waiting, nothing arriving: 30 / 15
    ],
)
def test_tasks_needed_worked_examples(visible: int, in_flight: int, sent: int, needed: float) -> None:
    assert tasks_needed(visible=visible, in_flight=in_flight, sent_per_minute=sent, backlog_target=15,
                        average_processing_seconds=2) == needed


def test_a_warm_window_of_one_task_and_one_minute_is_accepted() -> None:
    window = WarmWindow(schedule="0 0 * * ? *", time_zone="Etc/UTC", tasks=1, duration_minutes=1)
    assert (window.tasks, window.start_minute, window.end_schedule()) == (1, 0, "1 0 * * ? *")


def test_warm_windows_cannot_be_changed_after_they_are_checked() -> None:
    window = WarmWindow(schedule="55 1 * * ? *", time_zone="Europe/London", tasks=10, duration_minutes=55)
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.tasks = 0  # type: ignore[misc]


def test_a_warm_window_ending_on_the_hour_and_at_the_last_minute_of_the_day() -> None:
    assert WarmWindow(schedule="25 8 * * ? *", time_zone="Europe/London", tasks=2, duration_minutes=35).end_schedule() == "0 9 * * ? *"
    last = WarmWindow(schedule="0 23 ? * MON-FRI *", time_zone="Europe/London", tasks=2, duration_minutes=59)
    assert (last.start_minute, last.end_schedule()) == (1380, "59 23 ? * MON-FRI *")
    with pytest.raises(ConfigError, match="duration_minutes=60"):
        WarmWindow(schedule="0 23 * * ? *", time_zone="Europe/London", tasks=2, duration_minutes=60)
