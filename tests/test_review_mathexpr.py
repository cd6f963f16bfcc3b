"""Metric math: each rule of AWS's "Metric math syntax and functions" and "Using IF
expressions" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html),
the documented example tables written out as cases."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from stable_fargate.review.mathexpr import NAN, MathError, compile_expression, evaluate, parse

_ = NAN


class Window:
    """History of the evaluated range: ``series[name]`` oldest first, the current value last."""

    def __init__(self, names: Sequence[str], series: dict[str, list[float]], period: int = 60) -> None:
        self.names = list(names)
        self.series = series
        self.period = period

    def previous(self, index: int) -> tuple[float, float]:
        values = self.series[self.names[index]][:-1]
        for back, value in enumerate(reversed(values), start=1):
            if value == value:
                return value, back * self.period
        return NAN, 0.0

    def window(self, index: int) -> list[float]:
        return self.series[self.names[index]]


def column(text: str, **series: list[float]) -> list[float]:
    """Evaluate ``text`` at every timestamp of the given series (each point on its own)."""
    compiled = compile_expression(text)
    length = len(next(iter(series.values())))
    return [compiled([series[name][i] for name in compiled.metrics]) for i in range(length)]


def same(actual: Sequence[float], expected: Sequence[float]) -> bool:
    return all((a != a and e != e) or a == e for a, e in zip(actual, expected, strict=True))


# --- AWS's example tables -----------------------------------------------------------------------

METRIC1 = [30.0, 20.0, 0.0, 0.0]
METRIC2 = [20.0, _, 20.0, _]


@pytest.mark.parametrize(("text", "expected"), [
    ("metric1 < metric2", [0, 0, 1, 0]),
    ("metric1 >= 30", [1, 0, 0, 0]),
    ("metric1 > 15 AND metric2 > 15", [1, 0, 0, 0]),
])
def test_comparison_and_logical_operators_follow_aws_example_table(text: str, expected: list[float]) -> None:
    """Between two series a missing value counts as 0 (AWS's table: metric2 = [20, -, 20, -])."""
    assert same(column(text, metric1=METRIC1, metric2=METRIC2), expected)


IF_M1 = [1.0, 1.0, 0.0, 0.0, _]
IF_M2 = [30.0, _, 0.0, 0.0, 30.0]
IF_M3 = [0.0, 0.0, 20.0, _, 20.0]


def test_if_with_three_series_follows_aws_table() -> None:
    assert same(column("IF(metric1, metric2, metric3)", metric1=IF_M1, metric2=IF_M2, metric3=IF_M3), [30, 0, 20, _, _])


def test_if_with_a_scalar_true_value_follows_aws_table() -> None:
    assert same(column("IF(metric1, 5, metric3)", metric1=IF_M1, metric3=IF_M3), [5, 5, 20, _, _])


def test_if_with_a_scalar_false_value_follows_aws_table() -> None:
    assert same(column("IF(metric1, metric2, 5)", metric1=IF_M1, metric2=IF_M2), [30, 0, 5, 5, _])


def test_if_without_a_false_value_drops_the_datapoint() -> None:
    assert same(column("IF(m1 < 400, m1)", m1=[100.0, 500.0]), [100, _])


def test_if_with_a_scalar_condition_picks_a_branch() -> None:
    assert same(column("IF(1, m1, m2)", m1=[1.0, _], m2=[9.0, 9.0]), [1, _])


def test_if_computes_only_the_value_its_condition_chooses() -> None:
    """CEIL(inf) raises in Python: computed only where m1 > 0 chooses it, it never runs here."""
    inf = math.inf
    assert same(column("IF(m1 > 0, CEIL(m2), 7)", m1=[0.0, 0.0, _], m2=[inf, inf, inf]), [7, 7, _])
    assert same(column("IF(m1 > 0, IF(m2 > 1, m1, m2), 0)", m1=[2.0, 2.0, 0.0], m2=[3.0, 0.5, inf]), [2, 0.5, 0])


# --- Arithmetic --------------------------------------------------------------------------------


def test_arithmetic_between_series_counts_a_missing_value_as_zero() -> None:
    assert same(column("a + b", a=[1.0, _, _], b=[2.0, 3.0, _]), [3, 3, _])


def test_a_series_with_a_scalar_keeps_the_series_datapoints_only() -> None:
    assert same(column("a * 5", a=[1.0, _]), [5, _])


def test_division_by_zero_drops_the_datapoint() -> None:
    """"If the value of a data point causes a function to attempt to divide by zero, the data
    point is dropped": backlog per task with no running task gives no datapoint."""
    assert same(column("(visible + inflight) / running", visible=[10.0, 10.0, 10.0], inflight=[5.0, 5.0, _],
                       running=[3.0, 0.0, _]), [5, _, _])
    assert math.isnan(evaluate("m1 / 0", {"m1": 3.0}))


def test_precedence_power_and_unary_minus() -> None:
    assert evaluate("2 * m1 ^ 2 - -m1", {"m1": 3.0}) == 21.0
    assert evaluate("(m1 + 1) * 2", {"m1": 3.0}) == 8.0


def test_ceil_floor_abs_keep_missing_values_missing() -> None:
    assert same(column("CEIL(m1 / 30)", m1=[31.0, 30.0, _]), [2, 1, _])
    assert same(column("FLOOR(m1)", m1=[1.9, _]), [1, _])
    assert same(column("ABS(m1)", m1=[-2.0]), [2])


def test_min_max_of_an_array_are_per_timestamp() -> None:
    assert same(column("MAX([a, b])", a=[1.0, _, _], b=[2.0, 3.0, _]), [2, 3, _])
    assert same(column("MIN([a, b])", a=[1.0, _], b=[2.0, 3.0]), [1, 3])
    assert same(column("SUM([a, b])", a=[1.0, _], b=[2.0, 3.0]), [3, 3])
    assert same(column("AVG([a, b])", a=[1.0, _], b=[3.0, 3.0]), [2, 1.5])


# --- Window functions ------------------------------------------------------------------------------


def test_fill_with_a_value_fills_a_missing_datapoint() -> None:
    compiled = compile_expression("FILL(desired, 0) * 30")
    history = Window(compiled.metrics, {"desired": [2.0, _]})
    assert compiled([NAN], history) == 0.0
    assert compiled([2.0], history) == 60.0


def test_fill_produces_nothing_for_a_series_without_any_datapoint_by_default() -> None:
    """Not established by AWS: the reading is a parameter, off by default."""
    empty = Window(["desired"], {"desired": [_, _, _]})
    assert math.isnan(compile_expression("FILL(desired, 0)")([NAN], empty))
    assert compile_expression("FILL(desired, 0)", fill_empty=True)([NAN], empty) == 0.0


def test_fill_repeat_uses_the_latest_earlier_datapoint() -> None:
    compiled = compile_expression("FILL(m1, REPEAT)")
    assert compiled([NAN], Window(compiled.metrics, {"m1": [4.0, 7.0, _]})) == 7.0
    assert math.isnan(compiled([NAN], Window(compiled.metrics, {"m1": [_, _, _]})))


def test_fill_linear_leaves_the_newest_datapoint_missing() -> None:
    compiled = compile_expression("FILL(m1, LINEAR)")
    assert math.isnan(compiled([NAN], Window(compiled.metrics, {"m1": [1.0, _]})))


def test_diff_and_rate_use_the_preceding_datapoint() -> None:
    diff = compile_expression("DIFF(m1)")
    assert diff([10.0], Window(diff.metrics, {"m1": [4.0, 10.0]})) == 6.0
    assert math.isnan(diff([10.0], Window(diff.metrics, {"m1": [_, 10.0]})))
    rate = compile_expression("RATE(m1)")
    assert rate([10.0], Window(rate.metrics, {"m1": [4.0, _, 10.0]})) == 6.0 / 120


def test_min_of_a_single_series_is_a_scalar_over_the_range() -> None:
    compiled = compile_expression("m1 - MIN(m1)")
    assert compiled([5.0], Window(compiled.metrics, {"m1": [2.0, 9.0, 5.0]})) == 3.0


# --- The shapes the library and aws_ecs_patterns synthesize ---------------------------------------


def test_the_wake_from_zero_shape() -> None:
    text = "IF(visible > 0 AND inflight == 0 AND (received + emptyreceives) == 0, CEIL(visible / 30), 0)"
    values = {"visible": 45.0, "inflight": 0.0, "received": 0.0, "emptyreceives": 0.0}
    assert evaluate(text, values) == 2.0
    assert evaluate(text, values | {"emptyreceives": 3.0}) == 0.0  # a task is polling: not asleep
    # NotVisible not published: the comparison has no datapoint, AND counts it as 0.
    assert evaluate(text, values | {"inflight": NAN}) == 0.0


def test_the_burst_shape_adds_the_missing_tasks() -> None:
    text = "IF(visible > FILL(desired, 0) * 30, CEIL(visible / 30) - FILL(desired, 0), 0)"
    compiled = compile_expression(text)
    history = Window(compiled.metrics, {"visible": [95.0], "desired": [1.0]})
    assert compiled([95.0, 1.0], history) == 3.0
    assert compiled([20.0, 1.0], history) == 0.0


def test_expressions_refer_to_other_expressions() -> None:
    compiled = compile_expression("e1 * 2", {"e1": "m1 + m2"})
    assert compiled.metrics == ("m1", "m2")
    assert compiled([1.0, 2.0]) == 6.0
    with pytest.raises(MathError, match="refers to itself"):
        compile_expression("e1", {"e1": "e1 + 1"})


# --- Refusals: one line, naming what is unsupported -------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("SEARCH('{AWS/SQS}', 'Sum')", "unexpected"),
    ("METRICS()", "not supported"),
    ("ANOMALY_DETECTION_BAND(m1)", "not supported"),
    ("m1 +", "expected"),
    ("(m1", "expected"),
    ("", "empty"),
    ("5", "time series"),
    ("m1 $ 2", "unexpected"),
    ("LOWER", "not supported"),
    ("FILL(m1)", "FILL"),
    ("DIFF(m1 + m2)", "metric id"),
])
def test_unsupported_expressions_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(MathError, match=message) as info:
        compile_expression(text)
    assert "\n" not in str(info.value)


def test_parse_builds_a_tree() -> None:
    tree = parse("IF(a > 1, CEIL(a / 2), 0)")
    assert type(tree).__name__ == "Call"
