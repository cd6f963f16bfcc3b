"""Application Auto Scaling for an ECS service's desired count, as AWS documents it.

Each function is one rule, with its source:

* **Step selection** (:func:`select_step`): the bounds are relative to the alarm threshold;
  when the metric is above the threshold the lower bound is inclusive and the upper
  exclusive, when below the reverse; a missing bound is infinite.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-applicationautoscaling-scalingpolicy-stepadjustment.html
  Above or below is read from the alarm's comparison (a ``Greater...`` alarm breaches above).
* **Adjustment types** (:func:`adjusted_capacity`): ChangeInCapacity adds, ExactCapacity
  sets, PercentChangeInCapacity adds a percentage of the current capacity rounded towards 0
  ("add 30 percent of 11, 3.3, rounded down to 3"; "remove 10 percent of 14, 1.4, rounded
  down to 1"), a change between -1 and 1 counting as 1 (EC2 Auto Scaling's stated rule;
  Application Auto Scaling gives no other), and at least MinAdjustmentMagnitude.
  https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html
* **Cooldown** (:class:`Cooldowns`): "While the cooldown period is in effect, capacity added by
  the initiating scale-out activity is calculated as part of the desired capacity for the next
  scale-out activity. ... If the alarm triggers again during the cooldown period but at a more
  aggressive step adjustment of 3, the previous increase of 2 is considered part of the
  current capacity. Therefore, only 1 is added." Scale-in is blocked until its cooldown has
  expired; a scale-out during a scale-in cooldown happens at once (and ends that cooldown).
  Same page; the target-tracking cooldowns are described the same way in
  https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html
  Read here: a proposal during a scale-out cooldown is computed from the capacity before the
  initiating scale-out and applied only if it exceeds the current capacity; cooldowns are
  kept per policy.
* **Target tracking** (:func:`tracking_capacity`): it "scales out proportionally to the
  metric as fast as it can, but scales in more gradually", only when utilization is "usually
  more than 10% lower" than the target, and cannot scale on missing data (its alarm goes to
  INSUFFICIENT_DATA). https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
  The alarms it creates are, as observed and reported (AWS does not publish them): scale out
  when 3 of 3 one-minute datapoints are above the target, scale in when 15 of 15 are below
  90 % of it (:class:`TrackingAlarms`, parameters of the replay). The new capacity is
  ``ceil(current x metric / target)``: proportional, never below what keeps the metric under
  the target, and 0 from 0 (target tracking cannot leave zero).
* **Several policies** (:func:`combine`): "Application Auto Scaling gives precedence to the
  policy that provides the largest capacity for both scale out and scale in."
  https://docs.aws.amazon.com/cli/latest/reference/application-autoscaling/put-scaling-policy.html
* **Limits**: the result is clamped to the scalable target's MinCapacity and MaxCapacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stable_fargate.review.services import StepAdjustment


@dataclass(frozen=True)
class TrackingAlarms:
    """The alarms target tracking creates (AWS does not publish them; observed values)."""

    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_fraction: float = 0.9


def select_step(steps: Sequence[StepAdjustment], breach: float, *, above: bool) -> StepAdjustment | None:
    """The step whose interval holds ``breach`` (metric minus threshold), or None."""
    if breach != breach:
        return None
    for step in steps:
        lower = -math.inf if step.lower is None else step.lower
        upper = math.inf if step.upper is None else step.upper
        inside = lower <= breach < upper if above else lower < breach <= upper
        if inside:
            return step
    return None


def percent_change(current: int, percent: float, min_adjustment_magnitude: int | None = None) -> int:
    """PercentChangeInCapacity's change in tasks: rounded towards 0, at least 1 (and at least
    MinAdjustmentMagnitude) in the direction of the change."""
    change = current * percent / 100
    if change == 0:
        return 0
    whole = math.trunc(change) if abs(change) >= 1 else int(math.copysign(1, change))
    if min_adjustment_magnitude and abs(whole) < min_adjustment_magnitude:
        whole = int(math.copysign(min_adjustment_magnitude, change))
    return whole


def adjusted_capacity(adjustment_type: str, adjustment: float, current: int, min_adjustment_magnitude: int | None = None) -> int:
    """The capacity a step asks for, before the min/max clamp."""
    if adjustment_type == "ExactCapacity":
        return int(adjustment)
    if adjustment_type == "PercentChangeInCapacity":
        return current + percent_change(current, adjustment, min_adjustment_magnitude)
    return current + int(adjustment)


def tracking_capacity(current: int, metric: float, target: float) -> int | None:
    """Target tracking's proportional capacity; None when it cannot act (no datapoint, or a
    target of 0)."""
    if metric != metric or target <= 0:
        return None
    return max(0, math.ceil(round(current * metric / target, 9)))


def clamp(capacity: int, minimum: int, maximum: int) -> int:
    return max(minimum, min(maximum, capacity))


@dataclass
class Cooldowns:
    """One policy's cooldown bookkeeping (minutes are the replay's clock, seconds the policy's)."""

    scale_out_seconds: int
    scale_in_seconds: int
    scale_out_at: float = -math.inf
    capacity_before_scale_out: int = 0
    scale_in_at: float = -math.inf

    def in_scale_out_cooldown(self, now_seconds: float) -> bool:
        return now_seconds < self.scale_out_at + self.scale_out_seconds

    def in_scale_in_cooldown(self, now_seconds: float) -> bool:
        return now_seconds < self.scale_in_at + self.scale_in_seconds

    def base(self, current: int, now_seconds: float) -> int:
        """The capacity a scale-out proposal is computed from: during a scale-out cooldown,
        the capacity before the initiating scale-out (what it added counts as done)."""
        return self.capacity_before_scale_out if self.in_scale_out_cooldown(now_seconds) else current

    def allows(self, proposed: int, current: int, now_seconds: float) -> bool:
        """Whether a proposal may change the capacity now: a scale-in not during this
        policy's scale-in cooldown; a scale-out always (its size already accounts for the
        scale-out cooldown through :meth:`base`)."""
        if proposed < current:
            return not self.in_scale_in_cooldown(now_seconds)
        return proposed > current

    def record(self, before: int, after: int, now_seconds: float) -> None:
        if after > before:
            if not self.in_scale_out_cooldown(now_seconds):
                self.capacity_before_scale_out = before
            self.scale_out_at = now_seconds
            self.scale_in_at = -math.inf  # a scale-out ends a scale-in cooldown
        elif after < before:
            self.scale_in_at = now_seconds


def combine(current: int, proposals: Sequence[int]) -> int:
    """The capacity several policies' proposals of one evaluation lead to: the largest wins,
    for scale-out and scale-in alike."""
    return max(proposals) if proposals else current
