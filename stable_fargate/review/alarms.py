"""CloudWatch alarm evaluation, as AWS documents it, for the replay.

Source for every rule here (read in the CloudWatch User Guide, "Using Amazon CloudWatch
alarms": https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):

* **Evaluated every minute** on the window of Period x Evaluation Periods: a 5-minute alarm is
  evaluated at the end of every minute on the last 5 minutes ("alarm-evaluation").
* **M out of N**: ALARM when at least Datapoints to Alarm (M) of the last Evaluation Periods
  (N) datapoints breach.
* **Evaluation range**: CloudWatch retrieves more datapoints than N (5 for N = 3 in AWS's
  table). If none of the N newest is missing they decide; if some are missing but the range
  holds at least N real datapoints, the N newest real ones decide (TreatMissingData unused);
  if it holds fewer, the missing ones are filled per TreatMissingData, every real one still
  counts, and fills are used as few times as possible. With no real datapoint at all:
  ``missing`` -> INSUFFICIENT_DATA, ``ignore`` -> keep the state, ``breaching`` -> ALARM,
  ``notBreaching`` -> OK ("How alarm state is evaluated when data is missing").
* **Premature alarm state is avoided**, except that an alarm goes to ALARM when the oldest
  breaching datapoint among the N newest is at least M periods old and every more recent one
  is breaching or missing ("Avoiding premature transitions to alarm state"). AWS's example
  rows show this only where no real datapoint of the range is non-breaching, and only for
  ``missing`` (``ignore`` keeps the state, ``notBreaching`` says OK); that is how it is read here.
* **Actions**: "An alarm invokes actions only when the alarm changes state. The exception is
  for alarms with Auto Scaling actions. For Auto Scaling actions, the alarm continues to invoke
  the action once per minute that the alarm remains in the new state." The current page,
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html, still
  says "Except for Auto Scaling actions, the actions happen only on state transitions". So an
  SNS topic (a page) is notified once per transition into ALARM, a scaling policy every minute.

Assumption: the evaluation range is N + 2 datapoints (:data:`EXTRA_EVALUATION_RANGE`), as in
AWS's N = 3 example; AWS says only that it depends on the period and the resolution.

Each table row of AWS's two example tables is a unit test (tests/test_review_alarms.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]

EXTRA_EVALUATION_RANGE = 2
"""Datapoints retrieved beyond Evaluation Periods (AWS's example: 5 for N = 3)."""

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
COMPARISONS = OPERATORS
TREAT_MISSING = ("missing", "ignore", "breaching", "notBreaching")


@dataclass(frozen=True)
class AlarmRule:
    threshold: float
    comparison: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing: str = "missing"

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(f"comparison {self.comparison!r} is not replayed (use one of {', '.join(COMPARISONS)})")
        if self.treat_missing not in TREAT_MISSING:
            raise ValueError(f"TreatMissingData {self.treat_missing!r} is not one of {', '.join(TREAT_MISSING)}")

    @property
    def evaluation_range(self) -> int:
        return self.evaluation_periods + EXTRA_EVALUATION_RANGE

    @property
    def upward(self) -> bool:
        """Whether the alarm fires on high values (the metric is "above" the threshold when
        it breaches, which decides how step bounds include their ends)."""
        return self.comparison.startswith("Greater")

    def breaches(self, value: float) -> bool:
        return bool(COMPARISONS[self.comparison](value, self.threshold))


@dataclass(frozen=True)
class Evaluation:
    state: State
    used: tuple[float, ...]
    """The real datapoints the decision rests on, oldest first (what a step policy aggregates)."""


def evaluate(datapoints: Sequence[float], rule: AlarmRule, current: State = "INSUFFICIENT_DATA") -> Evaluation:
    """The alarm's state from the datapoints of its evaluation range, oldest first (``nan`` =
    missing; only the last :attr:`AlarmRule.evaluation_range` are read)."""
    n = rule.evaluation_periods
    window = list(datapoints[-rule.evaluation_range:])
    newest = window[-n:]
    real = [v for v in window if v == v]
    if len(newest) == n and all(v == v for v in newest):
        return _decide(newest, rule, 0)
    if len(real) >= n:
        return _decide(real[-n:], rule, 0)
    if not real:
        return Evaluation(no_data_state(rule, current), ())
    if rule.treat_missing in ("missing", "ignore") and _premature_alarm(newest, real, rule):
        return Evaluation("ALARM" if rule.treat_missing == "missing" else current, tuple(real))
    fills = n - len(real)
    return _decide(real, rule, fills if rule.treat_missing == "breaching" else 0)


def no_data_state(rule: AlarmRule, current: State) -> State:
    """The state when the evaluation range holds no real datapoint."""
    if rule.treat_missing == "missing":
        return "INSUFFICIENT_DATA"
    if rule.treat_missing == "ignore":
        return current
    return "ALARM" if rule.treat_missing == "breaching" else "OK"


def _decide(values: Sequence[float], rule: AlarmRule, breaching_fills: int) -> Evaluation:
    breaching = sum(1 for v in values if rule.breaches(v)) + breaching_fills
    return Evaluation("ALARM" if breaching >= rule.datapoints_to_alarm else "OK", tuple(values))


def _premature_alarm(newest: Sequence[float], real: Sequence[float], rule: AlarmRule) -> bool:
    """AWS's exception: every real datapoint breaches, and the oldest breaching one among the
    N newest is at least M periods old (the ones after it are missing)."""
    if not all(rule.breaches(v) for v in real):
        return False
    positions = [i for i, v in enumerate(newest) if v == v]
    if not positions:
        return False
    age = len(newest) - positions[0]
    return age >= rule.datapoints_to_alarm


def aggregate(values: Sequence[float], how: str) -> float:
    """A step policy's MetricAggregationType over the datapoints the alarm used."""
    if not values:
        return float("nan")
    if how == "Maximum":
        return max(values)
    if how == "Minimum":
        return min(values)
    return sum(values) / len(values)
