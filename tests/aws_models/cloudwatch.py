"""A minute-by-minute model of CloudWatch metric math, alarms and Application Auto Scaling
step policies: enough to check when the library's alarms fire and what their scaling actions
do, from the expressions and steps the templates hold.

Sources, each rule at the code that follows it:

* Metric math: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
  (operators and functions; a division by zero gives no datapoint; ``DIFF`` is the difference
  from the preceding datapoint; ``FILL(m, v)`` fills the missing values of ``m``). Whether
  ``FILL`` invents datapoints for a metric that has none at all in the range is not
  established: the model reads it conservatively (a series with no datapoint stays empty).
* Alarms: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
  (M out of N datapoints, ``TreatMissingData``); actions of an alarm that stays in ALARM:
  Application Auto Scaling actions are invoked again every period, other actions (SNS) only on
  a state change (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html).
* Step scaling: https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html
  (step bounds relative to the threshold; ``ChangeInCapacity``/``ExactCapacity``; the scale-out
  cooldown: "the scaling policy won't increase the desired capacity again unless either a
  larger scale out is triggered or the cooldown period ends. While the cooldown period is in
  effect, capacity added by the initiating scale-out activity is calculated as part of the
  desired capacity for the next scale-out activity"); the result is clamped to min/max.

Time is in whole minutes; a series is a list with one value (or ``None``: no datapoint) per
minute. ``lag`` is how many minutes late a datapoint reaches the alarm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Series = list[float | None]

# --- Metric math --------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|>=|<=|[-+*/()<>,]))")
_PRECEDENCE = {"OR": 1, "AND": 2, "==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3, "<=": 3, "+": 4, "-": 4, "*": 5, "/": 5}


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"cannot read metric math at {text[pos:]!r}")
        out.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    return out


def _binary(op: str, a: float, b: float) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return None if b == 0 else a / b  # a division by zero has no datapoint
    if op == "AND":
        return float(bool(a) and bool(b))
    if op == "OR":
        return float(bool(a) or bool(b))
    return float({"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op])


Node = Callable[[Mapping[str, Series], int], Series]


def _pointwise(function: Callable[..., float | None], *args: Node) -> Node:
    def node(series: Mapping[str, Series], n: int) -> Series:
        columns = [a(series, n) for a in args]
        return [None if any(c[i] is None for c in columns) else function(*(c[i] for c in columns)) for i in range(n)]

    return node


def _fill(inner: Node, value: Node | None) -> Node:
    def node(series: Mapping[str, Series], n: int) -> Series:
        values = inner(series, n)
        if all(v is None for v in values):
            return values  # not established that FILL invents a series: read conservatively
        fill = value(series, n) if value else [None] * n
        return [values[i] if values[i] is not None else fill[i] for i in range(n)]

    return node


def _diff(inner: Node) -> Node:
    def node(series: Mapping[str, Series], n: int) -> Series:
        values = inner(series, n)
        out: Series = [None]
        for i in range(1, n):
            previous, current = values[i - 1], values[i]
            out.append(None if previous is None or current is None else current - previous)
        return out

    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def parse(self) -> Node:
        node = self._expression(0)
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos]!r}")
        return node

    def _next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _expression(self, minimum: int) -> Node:
        left = self._atom()
        while self.pos < len(self.tokens) and _PRECEDENCE.get(self.tokens[self.pos], 0) > minimum:
            op = self._next()
            right = self._expression(_PRECEDENCE[op])
            left = _pointwise(lambda a, b, op=op: _binary(op, a, b), left, right)
        return left

    def _atom(self) -> Node:
        token = self._next()
        if token == "(":
            node = self._expression(0)
            assert self._next() == ")"
            return node
        if token == "-":
            inner = self._atom()
            return _pointwise(lambda a: -a, inner)
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            constant = float(token)
            return lambda series, n: [constant] * n
        if self.pos < len(self.tokens) and self.tokens[self.pos] == "(":
            self._next()
            args: list[Node] = []
            while self.tokens[self.pos] != ")":
                args.append(self._expression(0))
                if self.tokens[self.pos] == ",":
                    self._next()
            self._next()
            return self._function(token, args)
        name = token
        return lambda series, n: list(series.get(name, [None] * n))[:n]

    @staticmethod
    def _function(name: str, args: list[Node]) -> Node:
        if name == "IF":
            return _pointwise(lambda c, a, b: a if c else b, *args)
        if name == "FILL":
            return _fill(args[0], args[1] if len(args) > 1 else None)
        if name == "CEIL":
            return _pointwise(lambda a: float(math.ceil(a)), args[0])
        if name == "FLOOR":
            return _pointwise(lambda a: float(math.floor(a)), args[0])
        if name == "DIFF":
            return _diff(args[0])
        raise ValueError(f"metric math function {name} is not modelled")


def evaluate(expression: str, series: Mapping[str, Series], minutes: int) -> Series:
    """The expression's value for each minute."""
    return _Parser(expression).parse()(series, minutes)


# --- Alarms -------------------------------------------------------------------------------

_COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


@dataclass(frozen=True)
class Alarm:
    threshold: float
    comparison: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing: str = "notBreaching"

    @classmethod
    def from_template(cls, properties: Mapping[str, Any]) -> Alarm:
        return cls(
            threshold=float(properties["Threshold"]),
            comparison=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            datapoints_to_alarm=int(properties.get("DatapointsToAlarm", properties["EvaluationPeriods"])),
            treat_missing=properties.get("TreatMissingData", "missing"),
        )

    def state(self, window: Sequence[float | None]) -> str:
        """ALARM when at least M of the last N datapoints breach (missing ones as configured)."""
        breaching = 0
        for value in window[-self.evaluation_periods:]:
            if value is None:
                breaching += self.treat_missing == "breaching"
            else:
                breaching += _COMPARE[self.comparison](value, self.threshold)
        return "ALARM" if breaching >= self.datapoints_to_alarm else "OK"

    def states(self, values: Series, *, lag: int = 0) -> list[str]:
        """The state at each minute, seeing datapoints ``lag`` minutes late."""
        out = []
        for minute in range(len(values)):
            seen = values[: max(0, minute + 1 - lag)]
            out.append(self.state(seen) if seen else "OK")
        return out


def notifications(states: Sequence[str]) -> list[int]:
    """Minutes at which an SNS action fires: only on a change into ALARM."""
    return [i for i, s in enumerate(states) if s == "ALARM" and (i == 0 or states[i - 1] != "ALARM")]


def alarm_properties(template: Mapping[str, Any], expression_fragment: str) -> dict[str, Any]:
    """The one alarm of a template whose metric math contains ``expression_fragment``."""
    (alarm,) = [
        r["Properties"] for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and any(expression_fragment in m.get("Expression", "") for m in r["Properties"].get("Metrics", []))
    ]
    return dict(alarm)


def expression_of(alarm: Mapping[str, Any]) -> str:
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData", True) and "Expression" in m]
    return str(expression)


# --- Application Auto Scaling step policies ------------------------------------------------


@dataclass(frozen=True)
class Step:
    lower: float | None
    upper: float | None
    adjustment: int


@dataclass
class StepPolicy:
    adjustment_type: str
    steps: tuple[Step, ...]
    cooldown_minutes: float
    threshold: float
    min_capacity: int
    max_capacity: int
    _cooldown_until: float = field(default=-1.0)
    _added_in_cooldown: int = field(default=0)

    @classmethod
    def from_template(cls, policy: Mapping[str, Any], alarm: Mapping[str, Any], *, min_capacity: int, max_capacity: int) -> StepPolicy:
        config = policy["StepScalingPolicyConfiguration"]
        steps = tuple(
            Step(s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"), int(s["ScalingAdjustment"]))
            for s in config["StepAdjustments"]
        )
        return cls(
            adjustment_type=config["AdjustmentType"], steps=steps, cooldown_minutes=config.get("Cooldown", 0) / 60,
            threshold=float(alarm["Threshold"]), min_capacity=min_capacity, max_capacity=max_capacity,
        )

    def _step(self, value: float) -> Step | None:
        offset = value - self.threshold
        for step in self.steps:
            if (step.lower is None or offset >= step.lower) and (step.upper is None or offset < step.upper):
                return step
        return None

    def invoke(self, minute: float, capacity: int, value: float) -> int:
        """The new desired capacity when the alarm invokes the policy with ``value``."""
        step = self._step(value)
        if step is None:
            return capacity
        if self.adjustment_type == "ExactCapacity":
            return max(self.min_capacity, min(self.max_capacity, step.adjustment))
        add = step.adjustment
        if minute < self._cooldown_until:
            # Inside the cooldown the capacity the initiating step added counts as there already.
            extra = add - self._added_in_cooldown
            if extra <= 0:
                return capacity
            self._added_in_cooldown = add
            return max(self.min_capacity, min(self.max_capacity, capacity + extra))
        new = max(self.min_capacity, min(self.max_capacity, capacity + add))
        if new != capacity:
            self._cooldown_until = minute + self.cooldown_minutes
            self._added_in_cooldown = add
        return new


def scaling_policy(template: Mapping[str, Any], adjustment_type: str) -> dict[str, Any]:
    (policy,) = [
        r["Properties"] for r in template["Resources"].values()
        if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
        and r["Properties"].get("StepScalingPolicyConfiguration", {}).get("AdjustmentType") == adjustment_type
    ]
    return dict(policy)
