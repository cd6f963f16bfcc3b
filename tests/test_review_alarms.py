"""CloudWatch alarm evaluation: AWS's two example tables, row by row
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
"How alarm state is evaluated when data is missing"), plus M out of N and aggregation."""

from __future__ import annotations

import math

import pytest

from stable_fargate.review.alarms import AlarmRule, aggregate, evaluate

NAN = float("nan")
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
RETAIN = "retain"


def points(row: str) -> list[float]:
    """AWS's notation: 0 non-breaching, X breaching, - missing (threshold 1, GreaterThanThreshold)."""
    return [{"0": 0.0, "X": 5.0, "-": NAN}[c] for c in row.split()]


# AWS's first table: Datapoints to Alarm = Evaluation Periods = 3, evaluation range 5.
FIRST_TABLE = [
    ("0 - X - X", ("OK", "OK", "OK", "OK")),
    ("0 - - - -", ("OK", "OK", "OK", "OK")),
    ("- - - - -", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("- - X - -", ("ALARM", RETAIN, "ALARM", "OK")),
]
# AWS's second table: 2 out of 3.
SECOND_TABLE = [
    ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("- - - X -", ("ALARM", RETAIN, "ALARM", "OK")),
]


@pytest.mark.parametrize(("m", "row", "expected"), [(3, r, e) for r, e in FIRST_TABLE] + [(2, r, e) for r, e in SECOND_TABLE])
@pytest.mark.parametrize("treatment", range(4), ids=TREATMENTS)
def test_aws_example_tables(m: int, row: str, expected: tuple[str, ...], treatment: int) -> None:
    rule = AlarmRule(threshold=1, comparison="GreaterThanThreshold", evaluation_periods=3, datapoints_to_alarm=m,
                     treat_missing=TREATMENTS[treatment])
    for current in ("OK", "ALARM"):
        state = evaluate(points(row), rule, current).state  # type: ignore[arg-type]
        want = current if expected[treatment] == RETAIN else expected[treatment]
        assert state == want, (row, TREATMENTS[treatment], current)


def test_evaluation_range_is_evaluation_periods_plus_two() -> None:
    rule = AlarmRule(threshold=1, comparison="GreaterThanThreshold", evaluation_periods=3, datapoints_to_alarm=3)
    assert rule.evaluation_range == 5
    # A breaching datapoint older than the range is not read.
    assert evaluate(points("X X - - - - -"), rule).state == "INSUFFICIENT_DATA"


def test_m_out_of_n_counts_breaches_that_need_not_be_consecutive() -> None:
    rule = AlarmRule(threshold=1, comparison="GreaterThanThreshold", evaluation_periods=5, datapoints_to_alarm=3)
    assert evaluate(points("X 0 X 0 X"), rule).state == "ALARM"
    assert evaluate(points("X 0 X 0 0"), rule).state == "OK"


@pytest.mark.parametrize(("comparison", "value", "breaches"), [
    ("GreaterThanThreshold", 1.0, False), ("GreaterThanOrEqualToThreshold", 1.0, True),
    ("LessThanThreshold", 1.0, False), ("LessThanOrEqualToThreshold", 1.0, True),
])
def test_comparisons_at_the_threshold(comparison: str, value: float, breaches: bool) -> None:
    assert AlarmRule(threshold=1, comparison=comparison).breaches(value) is breaches


def test_the_decision_reports_the_datapoints_it_used() -> None:
    rule = AlarmRule(threshold=1, comparison="GreaterThanThreshold", evaluation_periods=2, datapoints_to_alarm=2)
    assert evaluate([0.0, 7.0, 9.0, NAN], rule).used == (7.0, 9.0)


def test_step_aggregation_types() -> None:
    assert aggregate([1.0, 5.0, 3.0], "Maximum") == 5.0
    assert aggregate([1.0, 5.0, 3.0], "Minimum") == 1.0
    assert aggregate([1.0, 5.0, 3.0], "Average") == 3.0
    assert math.isnan(aggregate([], "Average"))


def test_unknown_comparison_or_treatment_is_refused() -> None:
    with pytest.raises(ValueError, match="not replayed"):
        AlarmRule(threshold=1, comparison="LessThanLowerOrGreaterThanUpperThreshold")
    with pytest.raises(ValueError, match="TreatMissingData"):
        AlarmRule(threshold=1, comparison="GreaterThanThreshold", treat_missing="zero")
