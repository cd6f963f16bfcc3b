"""Application Auto Scaling rules, each against the AWS text it follows (see the module
docstring of stable_fargate.review.autoscaling for the sources)."""

from __future__ import annotations

import pytest

from stable_fargate.review.autoscaling import (
    Cooldowns,
    adjusted_capacity,
    clamp,
    combine,
    percent_change,
    select_step,
    tracking_capacity,
)
from stable_fargate.review.services import StepAdjustment

# The CloudFormation page's example: threshold 50; [50, 60) is lower 0 / upper 10, (40, 50] is -10 / 0.
UP = StepAdjustment(lower=0, upper=10, adjustment=1)
DOWN = StepAdjustment(lower=-10, upper=0, adjustment=-1)


def test_step_bounds_above_the_threshold_include_the_lower_end() -> None:
    assert select_step([UP], 0, above=True) is UP          # metric 50 in [50, 60)
    assert select_step([UP], 10, above=True) is None       # metric 60 is outside
    assert select_step([UP], 9.99, above=True) is UP


def test_step_bounds_below_the_threshold_include_the_upper_end() -> None:
    assert select_step([DOWN], 0, above=False) is DOWN     # metric 50 in (40, 50]
    assert select_step([DOWN], -10, above=False) is None   # metric 40 is outside


def test_a_missing_bound_is_infinite() -> None:
    open_ended = StepAdjustment(lower=400, upper=None, adjustment=5)
    assert select_step([open_ended], 10_000, above=True) is open_ended
    lowest = StepAdjustment(lower=None, upper=0, adjustment=-1)
    assert select_step([lowest], -1e9, above=False) is lowest


def test_change_and_exact_capacity() -> None:
    assert adjusted_capacity("ChangeInCapacity", 3, 4) == 7
    assert adjusted_capacity("ChangeInCapacity", -1, 4) == 3
    assert adjusted_capacity("ExactCapacity", 2, 9) == 2


@pytest.mark.parametrize(("current", "percent", "change"), [
    (11, 30, 3),    # "add 30 percent of 11, 3.3, rounded down to 3"
    (14, -10, -1),  # "remove 10 percent of 14, 1.4, rounded down to 1"
    (10, 10, 1),
    (3, 10, 1),     # 0.3 counts as 1
    (3, -10, -1),
    (0, 50, 0),
])
def test_percent_change_rounds_towards_zero_and_at_least_one(current: int, percent: float, change: int) -> None:
    assert percent_change(current, percent) == change


def test_min_adjustment_magnitude() -> None:
    """"25 percent of 4 is 1. However, because you specified a MinAdjustmentMagnitude of 2,
    Application Auto Scaling scales out the service by 2 tasks.\""""
    assert adjusted_capacity("PercentChangeInCapacity", 25, 4, min_adjustment_magnitude=2) == 6


def test_scale_out_cooldown_counts_the_initiating_increase() -> None:
    """"when an alarm triggers a step scaling policy to increase the capacity by 2 ... If the alarm
    triggers again during the cooldown period but at a more aggressive step adjustment of 3, the
    previous increase of 2 is considered part of the current capacity. Therefore, only 1 is added.\""""
    cooldowns = Cooldowns(scale_out_seconds=300, scale_in_seconds=300)
    current = 4
    first = adjusted_capacity("ChangeInCapacity", 2, cooldowns.base(current, 0))
    cooldowns.record(current, first, 0)
    assert first == 6
    again = adjusted_capacity("ChangeInCapacity", 3, cooldowns.base(first, 60))
    assert again - first == 1
    same_step = adjusted_capacity("ChangeInCapacity", 2, cooldowns.base(first, 60))
    assert not cooldowns.allows(same_step, first, 60)  # the same step adds nothing
    assert cooldowns.base(first, 300) == first          # after the cooldown, from the current capacity


def test_scale_in_is_blocked_during_its_cooldown_but_scale_out_is_not() -> None:
    cooldowns = Cooldowns(scale_out_seconds=60, scale_in_seconds=300)
    cooldowns.record(5, 4, 0)
    assert not cooldowns.allows(3, 4, 120)
    assert cooldowns.allows(3, 4, 300)
    assert cooldowns.allows(6, 4, 120)  # "scales out your scalable target immediately"
    cooldowns.record(4, 6, 120)
    assert not cooldowns.in_scale_in_cooldown(150)  # the scale-out ended the scale-in cooldown


def test_target_tracking_is_proportional_and_cannot_leave_zero() -> None:
    assert tracking_capacity(4, 60, 30) == 8
    assert tracking_capacity(10, 20, 30) == 7   # never below what keeps the metric under target
    assert tracking_capacity(0, 500, 30) == 0   # from zero it stays at zero
    assert tracking_capacity(3, float("nan"), 30) is None  # no datapoint: no action


def test_largest_proposal_wins_and_limits_clamp() -> None:
    assert combine(5, [7, 3]) == 7
    assert combine(5, [3, 4]) == 4
    assert combine(5, []) == 5
    assert clamp(25, 0, 20) == 20
    assert clamp(-1, 0, 20) == 0
