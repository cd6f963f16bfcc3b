"""The CloudWatch / Application Auto Scaling model: each documented rule on a worked example."""

from __future__ import annotations

from tests.aws_models.cloudwatch import Alarm, Step, StepPolicy, evaluate, notifications


def test_arithmetic_comparisons_and_if() -> None:
    series: dict[str, list[float | None]] = {"a": [1.0, 5.0, None], "b": [2.0, 0.0, 1.0]}
    assert evaluate("a + b * 2", series, 3) == [5.0, 5.0, None]  # precedence; a gap stays a gap
    assert evaluate("IF(a > 2 AND b == 0, 10, 20)", series, 3) == [20.0, 10.0, None]
    assert evaluate("CEIL(a / 2)", series, 3) == [1.0, 3.0, None]


def test_division_by_zero_has_no_datapoint() -> None:
    assert evaluate("a / b", {"a": [4.0, 4.0], "b": [2.0, 0.0]}, 2) == [2.0, None]


def test_fill_fills_gaps_but_invents_no_series() -> None:
    assert evaluate("FILL(a, 0)", {"a": [None, 3.0, None]}, 3) == [0.0, 3.0, 0.0]
    # A metric with no datapoint at all (a service that runs no task): nothing to fill.
    assert evaluate("FILL(a, 0)", {"a": [None, None]}, 2) == [None, None]
    assert evaluate("FILL(missing, 0)", {}, 2) == [None, None]


def test_diff_is_the_change_from_the_preceding_datapoint() -> None:
    assert evaluate("DIFF(a)", {"a": [0.0, 1.0, 1.0, 3.0]}, 4) == [None, 1.0, 0.0, 2.0]


def test_alarm_m_of_n_and_missing_data() -> None:
    alarm = Alarm(threshold=1, comparison="GreaterThanOrEqualToThreshold", evaluation_periods=2, datapoints_to_alarm=1)
    assert alarm.states([0.0, 1.0, 0.0, 0.0]) == ["OK", "ALARM", "ALARM", "OK"]
    breaching = Alarm(threshold=1, comparison="GreaterThanThreshold", treat_missing="breaching")
    assert breaching.states([None]) == ["ALARM"]


def test_alarm_sees_datapoints_late() -> None:
    alarm = Alarm(threshold=0, comparison="GreaterThanThreshold")
    assert alarm.states([1.0, 1.0, 0.0], lag=1) == ["OK", "ALARM", "ALARM"]


def test_sns_notifies_only_on_the_change_into_alarm() -> None:
    assert notifications(["OK", "ALARM", "ALARM", "OK", "ALARM"]) == [1, 4]


def test_step_bounds_are_relative_to_the_threshold() -> None:
    policy = StepPolicy("ChangeInCapacity", (Step(0, 5, 1), Step(5, None, 3)), 0, threshold=10, min_capacity=0, max_capacity=10)
    assert policy.invoke(0, 2, 12) == 3  # offset 2: +1
    assert policy.invoke(1, 3, 16) == 6  # offset 6: +3


def test_cooldown_counts_the_initiating_step_as_already_added() -> None:
    """AWS's own example: +2 starts a cooldown; a +3 trigger inside it adds only 1."""
    policy = StepPolicy("ChangeInCapacity", (Step(0, 1, 2), Step(1, None, 3)), 3, threshold=0, min_capacity=0, max_capacity=20)
    assert policy.invoke(0, 4, 0.5) == 6
    assert policy.invoke(1, 6, 0.5) == 6  # the same step again: nothing
    assert policy.invoke(2, 6, 2) == 7  # a larger step: only the difference
    assert policy.invoke(3, 7, 0.5) == 9  # cooldown over: a new step


def test_exact_capacity_sets_and_clamps() -> None:
    policy = StepPolicy("ExactCapacity", (Step(0, 2, 1), Step(2, None, 8)), 1, threshold=0, min_capacity=0, max_capacity=5)
    assert policy.invoke(0, 0, 1) == 1
    assert policy.invoke(1, 1, 3) == 5  # clamped at the maximum
