"""Replay a queue worker's scaling policies, as synthesized, against a trace of arrivals.

One-minute resolution. Every minute, in this order:

1. **Tasks**: tasks whose start has elapsed are RUNNING (a task asked for at the end of minute
   t runs from minute t + 1 + ceil(task start / 60 s); :attr:`ReplaySettings.task_start_seconds`).
2. **Queue** (a fluid model): the minute's arrivals join the backlog; running tasks take
   messages first in, first out at 60 / (average processing time) a minute each; what they
   cannot take stays visible. In flight: by Little's law the messages being processed,
   ``taken x processing time / 60`` (at most one per task, or
   :attr:`ReplaySettings.messages_per_task`). Oldest message age: from the arrival minute of the
   oldest message not yet taken (arrivals spread evenly over their minute).
3. **Metrics published** for the minute (the simulated CloudWatch samples):
   AWS/SQS ApproximateNumberOfMessagesVisible, ...NotVisible, ApproximateAgeOfOldestMessage
   (only while the queue holds a message), NumberOfMessagesSent, ...Received, ...Deleted
   (the messages taken) and NumberOfEmptyReceives (idle task time / the queue's long-poll
   wait; :attr:`ReplaySettings.short_poll_receives_per_minute` per idle task-minute without
   long polling); ECS/ContainerInsights RunningTaskCount and DesiredTaskCount; AWS/ECS
   CPUUtilization (idle + busy share of a task's time, for CPU-scaled workers). SQS publishes
   while the queue is active; with :attr:`ReplaySettings.sqs_idle_stop`, a queue with no message
   and no API call for 6 hours stops publishing and resumes 15 minutes after it is used again
   ("If an Amazon SQS queue is inactive for more than six hours, the Amazon SQS service is
   considered asleep and stops delivering metrics", up to 15 minutes to resume:
   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/monitoring-using-cloudwatch.html;
   long-polling tasks keep it active).
4. **Alarms** are evaluated at the end of the minute (:mod:`stable_fargate.review.alarms`):
   each datapoint is its metrics' statistic over the alarm's period, computed once when its
   samples have arrived, then the alarm's metric math (:mod:`stable_fargate.review.mathexpr`).
   Samples reach CloudWatch :attr:`ReplaySettings.metric_lag_seconds` late: until then the newest
   period is missing or partial, and the evaluation-range rules decide.
5. **Scaling** (:mod:`stable_fargate.review.autoscaling`): every policy whose alarm is in ALARM
   is invoked (once per minute); target tracking's own alarms are built from its metric and
   target (:class:`~stable_fargate.review.autoscaling.TrackingAlarms`); the largest proposal
   wins; cooldowns, bounds and min/max apply. A scale-in stops tasks still starting first.
   SNS actions count once per transition into ALARM (pages).

Two readings decide real outcomes and are parameters, stated in every report: datapoints
reach alarms about a minute late (``metric_lag_seconds``, default 60), and Container
Insights may publish nothing for a service that runs no task (``insights_at_zero``, default
False: nothing published while no task runs).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, repeat

from stable_fargate.review import alarms as cw
from stable_fargate.review import autoscaling as aas
from stable_fargate.review.mathexpr import MathError, compile_expression
from stable_fargate.review.services import Alarm, Metric, MetricQuery, ScheduledCapacity, Service, StepPolicy, TargetTrackingPolicy
from stable_fargate.review.traces import MINUTES_PER_DAY, Trace

NAN = float("nan")

DEFAULT_PROCESSING_SECONDS = 1.0
"""Used when neither the template's metadata nor the command line gives a worker's average
processing time (stated in the report)."""

SQS_IDLE_MINUTES = 6 * 60
SQS_RESUME_MINUTES = 15

SQS_METRICS = {
    "ApproximateNumberOfMessagesVisible": "visible",
    "ApproximateNumberOfMessagesNotVisible": "inflight",
    "ApproximateAgeOfOldestMessage": "age",
    "NumberOfMessagesSent": "sent",
    "NumberOfMessagesReceived": "received",
    "NumberOfMessagesDeleted": "deleted",
    "NumberOfEmptyReceives": "empty",
}
INSIGHTS_METRICS = {"RunningTaskCount": "running", "DesiredTaskCount": "desired"}
ECS_METRICS = {"CPUUtilization": "cpu"}
SOURCES = (*SQS_METRICS.values(), *INSIGHTS_METRICS.values(), *ECS_METRICS.values())

SWEEP_MINUTES = 8
"""Datapoints from which an alarm counts its real and breaching ones in one sweep."""
CHUNK_MINUTES = 32
"""Minutes an alarm tries to decide alike at once (when its datapoints there allow it)."""

STEADY_MINUTES = 4
STEADY_MAX_MINUTES = 240
"""A steady stretch's first and longest pass (what a pass computes past the minute a policy acts
is thrown away)."""


@dataclass(frozen=True)
class ReplaySettings:
    metric_lag_seconds: int = 60
    """Reading 1: how late a minute's datapoint reaches the alarms."""
    insights_at_zero: bool = False
    """Reading 2: whether Container Insights publishes RunningTaskCount/DesiredTaskCount (0)
    for a service that runs no task (default: it publishes nothing)."""
    sqs_idle_stop: bool = False
    """Model SQS's inactive-queue rule (6 h idle: no metrics; 15 min to resume)."""
    task_start_seconds: int = 60
    """From a scaling action to a running task (ENI, image pull, start): the same assumption
    as the library's rollout model."""
    processing_seconds: float | None = None
    """Average processing time per message, overriding the template's metadata."""
    messages_per_task: int = 1
    """Messages one task holds at a time (its ReceiveMessage batch)."""
    short_poll_receives_per_minute: float = 60.0
    """Empty receives an idle task makes a minute without long polling (one a second)."""
    cpu_idle_percent: float = 1.0
    cpu_busy_percent: float = 100.0
    """CPUUtilization of an idle and of a fully busy task (CPU-bound processing)."""
    fill_empty: bool = False
    """Whether FILL() produces datapoints for a series with none in the range."""
    tracking: aas.TrackingAlarms = field(default_factory=aas.TrackingAlarms)
    fast_forward: bool = True
    """Skip through quiet stretches in one step (same result: tests compare with it off)."""

    @property
    def lag_minutes(self) -> int:
        return max(0, math.ceil(self.metric_lag_seconds / 60))

    @property
    def start_minutes(self) -> int:
        return max(0, math.ceil(self.task_start_seconds / 60))


@dataclass(frozen=True)
class Action:
    minute: int
    policy: str
    old: int
    new: int


@dataclass(frozen=True)
class ReplayResult:
    service: str
    environment: str
    trace: str
    processing_seconds: float
    processing_source: str
    minutes: int
    warm_up_minutes: int
    arrivals: tuple[float, ...]
    visible: tuple[float, ...]
    in_flight: tuple[float, ...]
    oldest_age: tuple[float, ...]
    running: tuple[int, ...]
    desired: tuple[int, ...]
    billed_tasks: tuple[int, ...]
    actions: tuple[Action, ...]
    pages: int
    notes: tuple[str, ...]
    events: tuple[tuple[str, int], ...] = ()

    def window(self, values: Sequence[float]) -> Sequence[float]:
        return values[self.warm_up_minutes:]

    def reported(self, values: Sequence[int]) -> Sequence[int]:
        return values[self.warm_up_minutes:]

    @property
    def reported_actions(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.minute >= self.warm_up_minutes)

    @property
    def max_age(self) -> float:
        return max(self.window(self.oldest_age), default=0.0)

    def minutes_over(self, seconds: float) -> int:
        return sum(1 for a in self.window(self.oldest_age) if a > seconds)

    @property
    def task_hours(self) -> float:
        return sum(self.reported(self.billed_tasks)) / 60

    @property
    def peak_tasks(self) -> int:
        return max(self.reported(self.running), default=0)

    @property
    def backlog_peak(self) -> float:
        return max(self.window(self.visible), default=0.0)

    def first_scale_out_after(self, minute: int, within: int = 180) -> int | None:
        """Minutes from ``minute`` to the first action that raised the desired count."""
        for action in self.actions:
            if minute <= action.minute < minute + within and action.new > action.old:
                return action.minute - minute
        return None

    def first_capacity_after(self, minute: int, within: int = 180) -> int | None:
        """Minutes from ``minute`` until more tasks run than did at ``minute``."""
        if minute >= self.minutes:
            return None
        before = self.running[minute]
        for t in range(minute, min(self.minutes, minute + within)):
            if self.running[t] > before:
                return t - minute
        return None


# --- Binding metrics to the simulation ----------------------------------------------------------


def bind(metric: Metric, service: Service) -> str | None:
    """The simulated series a template's metric stands for, or None if it is not simulated."""
    dims = dict(metric.dimensions)
    if metric.namespace == "AWS/SQS" and service.queue and dims.get("QueueName") == service.queue.logical_id:
        return SQS_METRICS.get(metric.name)
    own_service = dims.get("ServiceName") in (None, service.logical_id)
    if metric.namespace == "ECS/ContainerInsights" and own_service:
        return INSIGHTS_METRICS.get(metric.name)
    if metric.namespace == "AWS/ECS" and own_service:
        return ECS_METRICS.get(metric.name)
    return None


def _statistic(stat: str) -> Callable[[Sequence[float]], float]:
    """The period's statistic over the samples present (chosen once, not per datapoint)."""
    def real(values: Sequence[float]) -> Sequence[float]:
        # Usually every sample is there: no copy then (NaN is not equal to itself).
        return values if all(map(operator.eq, values, values)) else [v for v in values if v == v]

    def total(values: Sequence[float]) -> float:
        present = real(values)
        return float(sum(present)) if present else NAN

    def maximum(values: Sequence[float]) -> float:
        present = real(values)
        return max(present) if present else NAN

    def minimum(values: Sequence[float]) -> float:
        present = real(values)
        return min(present) if present else NAN

    def count(values: Sequence[float]) -> float:
        present = real(values)
        return float(len(present)) if present else NAN

    def average(values: Sequence[float]) -> float:
        present = real(values)
        return float(sum(present)) / len(present) if present else NAN

    return {"Sum": total, "Maximum": maximum, "Minimum": minimum, "SampleCount": count}.get(stat, average)


# --- Alarms in the simulation -------------------------------------------------------------------


class _History:
    """Past datapoints of one alarm's metrics, for DIFF/RATE/FILL (the evaluated range)."""

    __slots__ = ("end", "period", "span", "windows")

    def __init__(self, windows: list[list[float]], period: int, span: int) -> None:
        self.windows = windows
        self.period = period
        self.span = span
        self.end = 0

    def previous(self, index: int) -> tuple[float, float]:
        series = self.windows[index]
        for k in range(1, self.span):
            e = self.end - k * self.period
            if e < 0:
                break
            if series[e] == series[e]:
                return series[e], k * self.period * 60.0
        return NAN, 0.0

    def window(self, index: int) -> list[float]:
        series = self.windows[index]
        return [series[e] for k in range(self.span) if (e := self.end - k * self.period) >= 0]


class _Datapoints:
    """The datapoints of one metric or expression at one period, computed once per minute
    when their samples have arrived, and shared by every alarm that reads them (target
    tracking's two alarms read the same)."""
    __slots__ = ("_partials", "compiled", "compute", "computed_until", "direct", "function", "history", "period", "replayable", "sources",
                 "values", "windows")

    def __init__(self, label: str, queries: Sequence[MetricQuery], period_seconds: int, span: int,
                 samples: dict[str, list[float]], service: Service, minutes: int, settings: ReplaySettings,
                 notes: list[str]) -> None:
        self.period = max(1, period_seconds // 60)
        self.values = [NAN] * minutes
        self.computed_until = -1
        self.replayable = True
        metrics = {q.id: q for q in queries if q.metric is not None}
        expressions = {q.id: q.expression for q in queries if q.expression}
        main = next((q for q in queries if q.return_data), queries[-1] if queries else None)
        self.compiled = None
        names: list[str] = []
        if main is not None and main.expression:
            try:
                self.compiled = compile_expression(main.expression, expressions, fill_empty=settings.fill_empty)
                names = list(self.compiled.metrics)
            except MathError as error:
                notes.append(f"{label}: not replayed ({error})")
                self.replayable = False
        elif main is not None:
            names = [main.id]
        self.windows: list[list[float]] = []
        self.sources: list[tuple[list[float], Callable[[Sequence[float]], float]]] = []
        for name in names:
            query = metrics.get(name)
            source = bind(query.metric, service) if query and query.metric else None
            if query is None or query.metric is None or source is None:
                described = f"{query.metric.namespace} {query.metric.name}" if query and query.metric else name
                notes.append(f"{label}: metric {described} is not simulated (no datapoints)")
                self.sources.append(([NAN] * minutes, _statistic("Average")))
            else:
                self.sources.append((samples[source], _statistic(query.metric.stat)))
            # One-minute periods read the samples themselves; longer ones keep their aggregates.
            self.windows.append(self.sources[-1][0] if self.period == 1 else [NAN] * minutes)
        self.direct = self.compiled is None and self.period == 1 and bool(self.windows)
        self.function = self.compiled.function if self.compiled is not None else None
        # The expression reads its windows at the datapoints' indices directly (no list per datapoint).
        self.compute = self.compiled.bind(self.windows) if self.compiled is not None else None
        self.history = _History(self.windows, self.period, span)
        self._partials: dict[tuple[int, int, int], float] = {}

    def value(self, values: list[float], end: int) -> float:
        if self.function is None:
            return values[0] if values and self.replayable else NAN
        self.history.end = end
        return self.function(values, self.history)

    def complete(self, e: int) -> None:
        """Compute the datapoints of the periods ending at minutes up to ``e`` (their samples are in)."""
        start = self.computed_until + 1
        if e < start:
            return
        self.computed_until = e
        values, windows = self.values, self.windows
        if self.direct:
            values[start:e + 1] = windows[0][start:e + 1]
            return
        period = self.period
        if period > 1:
            for i in range(start, e + 1):
                first = max(0, i - period + 1)
                for window, (series, stat) in zip(windows, self.sources, strict=True):
                    window[i] = stat(series[first:i + 1])
        if self.compute is not None:
            self.compute(start, e + 1, values, self.history)
        else:
            values[start:e + 1] = windows[0][start:e + 1] if windows and self.replayable else [NAN] * (e + 1 - start)

    def rewind(self, e: int) -> None:
        """Forget the datapoints after minute ``e``, and the partial ones (computed ahead of a
        stretch that ended sooner, from samples that are recomputed)."""
        self._partials.clear()
        if e >= self.computed_until:
            return
        stale = slice(max(0, e + 1), self.computed_until + 1)
        length = stale.stop - stale.start
        self.values[stale] = [NAN] * length
        for window in self.windows if self.period > 1 else ():
            window[stale] = [NAN] * length
        self.computed_until = e

    def newest(self, t0: int, t1: int, lag: int) -> list[float]:
        """:meth:`partial` of a metric (no expression) at the end of minutes ``t0`` to ``t1 - 1``,
        from the samples that have arrived ``lag`` minutes before."""
        if not self.sources:
            return [NAN] * (t1 - t0)
        (series, stat), = self.sources
        partials, period, out = self._partials, self.period, []
        for t in range(t0, t1):
            key = (t, t - lag, -1)
            value = partials.get(key)
            if value is None:
                first = max(0, t - period + 1)
                value = NAN if t - lag < first else partials.setdefault(key, stat(series[first:t - lag + 1]))
            out.append(value)
        return out

    def partial(self, end: int, arrived: int) -> float:
        """The newest period's datapoint from the samples that have arrived (up to ``arrived``)."""
        # Kept for the other alarms that read it (an expression's also reads the completed
        # datapoints: kept with how far they reach).
        key = (end, arrived, self.computed_until if self.function is not None else -1)
        value = self._partials.get(key)
        if value is None:
            first = max(0, end - self.period + 1)
            if arrived < first:
                return NAN
            value = self._partials[key] = self.value([stat(series[first:arrived + 1]) for series, stat in self.sources], end)
        return value


class _SimAlarm:
    """One alarm (a template's, or one that target tracking creates) in the replay.

    A one-minute alarm keeps running counts of its present and breaching datapoints, and
    decides from them what :func:`stable_fargate.review.alarms.evaluate` would decide over its
    evaluation range (the datapoints still in transit are missing), without building the range;
    the datapoints a decision rests on are read only when a policy asks (:attr:`used`). Longer
    periods, and a range that holds datapoints in transit (an alarm evaluated after the replay
    on datapoints a scaling alarm has already computed), go through that function itself."""
    __slots__ = ("_used", "_used_range", "breaching", "compare", "counted", "datapoints", "label", "m", "n", "no_data", "one_minute",
                 "present", "rule", "span", "state", "threshold", "trail", "trail_start", "trail_state", "treat_missing")

    def __init__(self, label: str, datapoints: _Datapoints, rule: cw.AlarmRule, minutes: int) -> None:
        self.label = label
        self.rule = rule
        self.datapoints = datapoints
        self.one_minute = datapoints.period == 1
        self.state: cw.State = "INSUFFICIENT_DATA"
        self.present = [0] * (minutes + 1)
        self.breaching = [0] * (minutes + 1)
        self.counted = 0
        self.n = rule.evaluation_periods
        self.m = rule.datapoints_to_alarm
        self.span = rule.evaluation_range
        self.compare = cw.OPERATORS[rule.comparison]
        self.threshold = rule.threshold
        self.treat_missing = rule.treat_missing
        # The state with no real datapoint in range; None: the state stays (TreatMissingData ignore).
        self.no_data: cw.State | None = None if rule.treat_missing == "ignore" else cw.no_data_state(rule, "OK")
        self._used: tuple[float, ...] | None = None
        self._used_range = (0, 0)
        self.trail: list[cw.State] = []
        self.trail_start = 0
        self.trail_state: cw.State = self.state

    def evaluate(self, t: int, lag: int) -> cw.State:
        """The state at the end of minute ``t`` (evaluated after minute ``t - 1``)."""
        data = self.datapoints
        e = t - lag
        if self.one_minute:
            known = data.computed_until
            if e > known:
                data.complete(e)
            self._count(e)
            state, used, used_low = self._decide(t, e, self.state, known)
            self.state, self._used, self._used_range = state, used, (used_low, e + 1)
            return state
        # The newest partial datapoint of a metric reads only its samples: the completed
        # datapoints wait until something reads them (completing is a catch-up, in order).
        if e >= 0 and not (self.n == 1 and data.period > lag and data.function is None):
            data.complete(e)
        if self.n == 1 and data.period > lag:
            newest = data.partial(t, t - lag)
            if newest == newest:
                # One evaluation period, and the newest (partly arrived) datapoint is real.
                self._used = (newest,)
                self.state = "ALARM" if self.compare(newest, self.threshold) else "OK"
                return self.state
        if e >= 0:
            data.complete(e)
        evaluation = cw.evaluate(self._range(t, lag, data.period, self.span), self.rule, self.state)
        self._used = evaluation.used
        self.state = evaluation.state
        return self.state

    def run(self, t0: int, t1: int, lag: int, stop: Callable[[int], bool] | None = None, settled: int | None = None) -> int:
        """Evaluate minutes ``t0`` to ``t1 - 1`` in turn; after a minute in ALARM, ``stop(t)``
        says whether to end there. Returns the minute it ended at, or ``t1``. Datapoints
        computed after ``settled`` (default: those this run computes) are in transit for the
        minutes before theirs; :meth:`rewind` undoes the minutes from a given one on."""
        self.trail_start = t0
        trail = self.trail
        trail.clear()
        self.trail_state = self.state
        data = self.datapoints
        if not self.one_minute:
            # One evaluation period of a metric: its newest (partly arrived) datapoints, in one go.
            one_period = self.n == 1 and data.period > lag and data.function is None
            compare, threshold = self.compare, self.threshold
            for t, value in zip(range(t0, t1), data.newest(t0, t1, lag) if one_period else [NAN] * (t1 - t0), strict=True):
                state: cw.State
                if value == value:
                    self._used = (value,)
                    state = self.state = "ALARM" if compare(value, threshold) else "OK"
                else:
                    state = self.evaluate(t, lag)
                trail.append(state)
                if stop is not None and state == "ALARM" and stop(t):
                    return t
            return t1
        # Datapoints computed before this run (an alarm evaluated after the replay on a scaling
        # alarm's datapoints) are in its evaluation range: the general evaluation reads them.
        known = data.computed_until if settled is None else settled
        last = t1 - 1 - lag
        if last > known:
            data.complete(last)
        self._count(last)
        present, breaching = self.present, self.breaching
        n, m, before_first, no_data = self.n, self.m, self.span - 1, self.no_data
        # Each minute's n newest slots lie before the datapoints in transit (with a lag of more
        # than 2 minutes they may not: minute by minute then).
        aligned = lag <= self.span - n
        state, used, used_low = self.state, self._used, self._used_range[0]
        append = trail.append
        start = t0
        while start < t1:
            t, chunk = start, min(start + CHUNK_MINUTES, t1)
            # Minutes decided alike: every datapoint of their ranges real, with fewer than m or
            # all of them breaching; or not one real (the state without data, unless it stays).
            low, end = t - lag - n + 1, chunk - lag
            alike: cw.State | None = None
            if chunk - t > 1 and aligned and low >= 0:
                real, hits = present[end] - present[low], breaching[end] - breaching[low]
                if real == end - low and (hits < m or hits == real):
                    alike, alike_used = ("ALARM" if hits == real and n >= m else "OK"), None
            if alike is None and chunk - t > 1 and no_data is not None and present[max(0, end)] == present[max(0, t - before_first)]:
                alike, alike_used = no_data, ()
            if alike is not None:
                if alike == "ALARM" and stop is not None:
                    for k in range(t, chunk):
                        append(alike)
                        self.state, self._used, self._used_range = alike, alike_used, (k - lag - n + 1, k - lag + 1)
                        if stop(k):
                            return k
                else:
                    trail.extend([alike] * (chunk - t))
                state, used, used_low = alike, alike_used, end - n
                start = chunk
                continue
            for t in range(start, chunk):
                state, used, used_low = self._decide(t, t - lag, state, known)
                append(state)
                if state == "ALARM" and stop is not None:
                    self.state, self._used, self._used_range = state, used, (used_low, t - lag + 1)
                    if stop(t):
                        return t
            start = chunk
        self.state, self._used, self._used_range = state, used, (used_low, t1 - lag)
        return t1

    def _count(self, last: int) -> None:
        """The running counts of real and breaching datapoints up to index ``last``."""
        counted = self.counted
        if counted > last:
            return
        present, breaching, values = self.present, self.breaching, self.datapoints.values
        if last - counted >= SWEEP_MINUTES:
            # In one sweep: NaN is neither equal to itself nor on either side of a threshold.
            segment = values[counted:last + 1]
            present[counted:last + 2] = accumulate(map(operator.eq, segment, segment), initial=present[counted])
            breaching[counted:last + 2] = accumulate(map(self.compare, segment, repeat(self.threshold)), initial=breaching[counted])
        else:
            compare, threshold = self.compare, self.threshold
            real, hits = present[counted], breaching[counted]
            for i in range(counted, last + 1):
                v = values[i]
                if v == v:
                    real += 1
                    if compare(v, threshold):
                        hits += 1
                present[i + 1] = real
                breaching[i + 1] = hits
        self.counted = last + 1

    def _decide(self, t: int, e: int, state: cw.State, known: int) -> tuple[cw.State, tuple[float, ...] | None, int]:
        """The state at the end of minute ``t`` from the counts up to its newest arrived datapoint
        ``e`` (``state``: the one before), and what it rests on: the datapoints, or None for the
        real ones from the index returned to ``e``. Datapoints computed after ``known`` are in transit."""
        first = t - self.span + 1
        if e < first or e < 0:
            # Not one datapoint of the evaluation range has arrived.
            return self.no_data or state, (), 0
        present, n = self.present, self.n
        low = e - n + 1
        lo = first if first > 0 else 0
        newest = present[e + 1]
        if low >= lo and newest - present[low] == n:
            # The n newest real datapoints are the n before the ones still in transit.
            return "ALARM" if self.breaching[e + 1] - self.breaching[low] >= self.m else "OK", None, low
        if newest == present[lo]:
            # Not one real datapoint in the evaluation range.
            return self.no_data or state, (), 0
        if e >= known:
            self.state = state
            decided = self._sparse(t, e, lo, newest - present[lo])
            return decided, self._used, self._used_range[0]
        # Datapoints computed before, after e (an alarm evaluated after the replay on a scaling
        # alarm's datapoints), are in the range this reads.
        evaluation = cw.evaluate(self._range(t, t - e, 1, self.span), self.rule, state)
        return evaluation.state, evaluation.used, 0

    def rewind(self, t: int, lag: int) -> None:
        """Back to the end of minute ``t - 1`` of the last :meth:`run`."""
        if t < self.trail_start + len(self.trail):
            self.state = self.trail[t - 1 - self.trail_start] if t > self.trail_start else self.trail_state
            self.counted = min(self.counted, max(0, t - lag))

    def _sparse(self, t: int, e: int, lo: int, real: int) -> cw.State:
        """:func:`~stable_fargate.review.alarms.evaluate`'s other cases, read from the counts: the
        range ``[lo, e]`` holds ``real`` > 0 real datapoints, not the n newest in a row, and
        nothing after ``e`` (in transit)."""
        present, breaching, n, m = self.present, self.breaching, self.n, self.m
        if real >= n:
            # The n newest real datapoints decide: find the oldest of them.
            start = e
            while present[e + 1] - present[start] < n:
                start -= 1
            self._used = None
            self._used_range = (start, e + 1)
            return "ALARM" if breaching[e + 1] - breaching[start] >= m else "OK"
        self._used = None
        self._used_range = (lo, e + 1)
        hits = breaching[e + 1] - breaching[lo]
        if hits == real and self.treat_missing in ("missing", "ignore"):
            # AWS's premature-alarm exception: the oldest real datapoint among the n newest
            # slots (t - n + 1 .. t) is at least m periods old.
            values = self.datapoints.values
            oldest = next((i for i in range(max(t - n + 1, lo), e + 1) if values[i] == values[i]), None)
            if oldest is not None and t + 1 - oldest >= m:
                return "ALARM" if self.treat_missing == "missing" else self.state
        fills = n - real if self.treat_missing == "breaching" else 0
        return "ALARM" if hits + fills >= m else "OK"

    def _range(self, t: int, lag: int, period: int, span: int) -> list[float]:
        data = self.datapoints
        if period == 1:
            start = t - span + 1
            values = data.values[max(0, start):t + 1]
            if start < 0:
                values = [NAN] * -start + values
            return values
        values = []
        for k in range(span - 1, -1, -1):
            end = t - k * period
            if end < 0:
                values.append(NAN)
            elif k * period >= lag:
                values.append(data.values[end])
            else:
                values.append(data.partial(end, t - lag))
        return values

    @property
    def used(self) -> tuple[float, ...]:
        """The real datapoints the current state rests on, oldest first."""
        if self._used is None:
            low, high = self._used_range
            self._used = tuple([v for v in self.datapoints.values[low:high] if v == v])
        return self._used

    @property
    def latest(self) -> float | None:
        """The newest of :attr:`used` (None if there is none), without building it."""
        if self._used is not None:
            return self._used[-1] if self._used else None
        low, high = self._used_range
        values = self.datapoints.values
        for i in range(high - 1, low - 1, -1):
            if values[i] == values[i]:
                return values[i]
        return None


@dataclass
class _Policy:
    label: str
    cooldowns: aas.Cooldowns
    step: StepPolicy | None = None
    tracking: TargetTrackingPolicy | None = None
    alarms: list[_SimAlarm] = field(default_factory=list)

    @property
    def direction(self) -> int:
        """+1 for a step policy that only adds (or sets from zero upward), -1 for one that only
        removes, 0 otherwise: an invocation at the matching limit cannot act."""
        if self.step is None or self.step.adjustment_type == "ExactCapacity":
            return 0
        signs = {(a.adjustment > 0) - (a.adjustment < 0) for a in self.step.steps}
        return signs.pop() if len(signs) == 1 else 0


class _FastForward:
    """Quiet stretches (no message arrives, none is taken, no task starts, no alarm can act)
    change nothing but the clock: once every alarm's window has held them long enough to be
    constant, the replay copies the last minute forward to the next arrival (or the next SQS
    idle boundary) instead of replaying each minute. The oldest message's age keeps growing
    while messages wait with no task to take them."""

    def __init__(self, alarms: list[tuple[_SimAlarm, _Policy | None, str]], samples: dict[str, list[float]], lag: int,
                 minutes: int, arrivals: Sequence[float], directions: dict[str, int]) -> None:
        self.alarms = alarms
        self.series = list({id(sim.datapoints): sim.datapoints for sim, _, _ in alarms}.values())
        self.samples = list(samples.values())
        self.age = samples["age"]
        self.reads_age = any(series is self.age for data in self.series for series, _ in data.sources)
        self.lag = lag
        self.settle = max((sim.span * sim.datapoints.period for sim, _, _ in alarms), default=1) + lag + 2
        self.directions = directions
        self.quiet_since: int | None = None
        self.next_arrival = [minutes] * (minutes + 1)
        for i in range(minutes - 1, -1, -1):
            self.next_arrival[i] = i if arrivals[i] > 0 else self.next_arrival[i + 1]

    def observe(self, t: int, quiet: bool) -> None:
        if not quiet:
            self.quiet_since = None
        elif self.quiet_since is None:
            self.quiet_since = t

    def ready(self, t: int, running: int, pending: int, backlog: float, desired: int, minimum: int, maximum: int) -> bool:
        if self.quiet_since is None or t - self.quiet_since < self.settle or pending or self.next_arrival[t] == t:
            return False
        if backlog > 0 and (running > 0 or self.reads_age):
            return False
        synced = t - self.lag - 1
        if synced < 0:
            return False
        for data in self.series:
            data.complete(synced)  # what waited to be read (see _SimAlarm.evaluate)
        if any(data.computed_until != synced for data in self.series):
            return False
        if any(sim.datapoints.period == 1 and sim.counted != synced + 1 for sim, _, _ in self.alarms):
            return False
        for sim, owner, role in self.alarms:
            if sim.state != "ALARM" or owner is None:
                continue
            if (role == "low" and desired <= minimum) or (role == "high" and desired >= maximum):
                continue
            direction = self.directions.get(owner.label, 0)
            if role == "step" and ((direction > 0 and desired >= maximum) or (direction < 0 and desired <= minimum)):
                continue
            return False
        return True

    def boundary(self, t: int, may_sleep: bool, sleeps_at: int, resume_at: int) -> int:
        end = self.next_arrival[t]
        # The minute the queue falls asleep, and the one it resumes publishing, are replayed.
        if may_sleep and sleeps_at >= t:
            end = min(end, sleeps_at)
        if resume_at >= t:
            end = min(end, resume_at)
        return end

    def fill(self, t: int, end: int, *, grown: list[float] | None) -> None:
        """Copy minute ``t - 1`` over ``[t, end)``; ``grown``: the oldest message's age there,
        while messages wait (published)."""
        length = end - t
        for series in self.samples:
            if series is self.age and grown is not None:
                series[t:end] = grown
            else:
                series[t:end] = [series[t - 1]] * length
        first, last = t - self.lag, end - self.lag
        for data in self.series:
            for window in data.windows if data.period > 1 else ():
                window[first:last] = [window[first - 1]] * length
            data.values[first:last] = [data.values[first - 1]] * length
            data.computed_until = last - 1
        for sim, _, _ in self.alarms:
            if sim.datapoints.period != 1:
                continue
            value = sim.datapoints.values[first - 1]
            real = value == value
            breach = 1 if real and sim.compare(value, sim.threshold) else 0
            present, breaching = sim.present, sim.breaching
            present[first + 1:last + 1] = range(present[first] + 1, present[first] + length + 1) if real else [present[first]] * length
            breaching[first + 1:last + 1] = (range(breaching[first] + 1, breaching[first] + length + 1) if breach
                                             else [breaching[first]] * length)
            sim.counted = last


# --- The replay ----------------------------------------------------------------------------------


def processing_time(service: Service, settings: ReplaySettings) -> tuple[float, str]:
    if settings.processing_seconds is not None:
        return settings.processing_seconds, "command line"
    if service.hints.average_processing_seconds:
        return service.hints.average_processing_seconds, "template metadata"
    return DEFAULT_PROCESSING_SECONDS, "default (not declared)"


def replay(service: Service, trace: Trace, settings: ReplaySettings | None = None) -> ReplayResult:
    """Replay ``service``'s scaling against ``trace`` (see the module docstring)."""
    settings = settings or ReplaySettings()
    minutes = trace.minutes
    lag, start_minutes = settings.lag_minutes, settings.start_minutes
    notes: list[str] = []
    processing, processing_source = processing_time(service, settings)
    per_task_minute = 60.0 / processing
    held = max(1, settings.messages_per_task)
    scaling = service.scaling
    if scaling is None:
        notes.append("no Application Auto Scaling: the desired count stays as declared")
        minimum = maximum = service.desired_count if service.desired_count is not None else 1
    else:
        minimum, maximum = scaling.min_capacity, scaling.max_capacity
    samples: dict[str, list[float]] = {name: [NAN] * minutes for name in SOURCES}

    policies: list[_Policy] = []
    sim_alarms: list[tuple[_SimAlarm, _Policy | None, str]] = []
    shared: dict[tuple[tuple[MetricQuery, ...], int], _Datapoints] = {}

    def make_alarm(label: str, queries: Sequence[MetricQuery], rule: cw.AlarmRule, period: int) -> _SimAlarm:
        key = (tuple(queries), period)
        if key not in shared:
            shared[key] = _Datapoints(label, queries, period, rule.evaluation_range, samples, service, minutes, settings, notes)
        data = shared[key]
        data.history.span = max(data.history.span, rule.evaluation_range)
        return _SimAlarm(label, data, rule, minutes)

    if scaling is not None:
        for step in scaling.step_policies:
            policy = _Policy(step.logical_id, aas.Cooldowns(step.cooldown, step.cooldown), step=step)
            for alarm in step.alarms:
                sim = make_alarm(alarm.logical_id, alarm.queries, _rule(alarm), alarm.period)
                policy.alarms.append(sim)
                sim_alarms.append((sim, policy, "step"))
            if not step.alarms:
                notes.append(f"{step.logical_id}: no alarm in the template invokes it (never replayed)")
            policies.append(policy)
        for tracking in scaling.target_tracking:
            policy = _Policy(tracking.logical_id, aas.Cooldowns(tracking.scale_out_cooldown, tracking.scale_in_cooldown),
                             tracking=tracking)
            high = cw.AlarmRule(tracking.target, "GreaterThanThreshold", settings.tracking.scale_out_datapoints,
                                settings.tracking.scale_out_datapoints)
            sim = make_alarm(f"{tracking.logical_id} (scale-out alarm)", tracking.queries, high, 60)
            policy.alarms.append(sim)
            sim_alarms.append((sim, policy, "high"))
            if not tracking.disable_scale_in:
                low = cw.AlarmRule(tracking.target * settings.tracking.scale_in_fraction, "LessThanThreshold",
                                   settings.tracking.scale_in_datapoints, settings.tracking.scale_in_datapoints)
                sim = make_alarm(f"{tracking.logical_id} (scale-in alarm)", tracking.queries, low, 60)
                policy.alarms.append(sim)
                sim_alarms.append((sim, policy, "low"))
            policies.append(policy)
    # Alarms that only notify do not act on the service: they are evaluated after the replay,
    # over the samples it leaves (the same rules, minute by minute).
    notifying = [make_alarm(alarm.logical_id, alarm.queries, _rule(alarm), alarm.period) for alarm in service.latency_alarms]
    used_sources = {id(series) for data in shared.values() for series, _ in data.sources}

    directions = {p.label: p.direction for p in policies}
    # State: the trace starts at the minimum (a fixed service at its declared count), queue empty.
    desired = running = minimum
    starting = [0] * (minutes + start_minutes + 2)
    pending = 0
    backlog = 0.0
    cumulative = [0.0] * (minutes + 1)
    for i, a in enumerate(trace.arrivals):
        cumulative[i + 1] = cumulative[i] + a
    taken_total = 0.0
    oldest = 0
    last_activity, sleeping, resume_at = 0, False, 0
    receive_wait = service.queue.receive_wait if service.queue else 0
    busy_span = settings.cpu_busy_percent - settings.cpu_idle_percent

    out_visible = [0.0] * minutes
    out_inflight = [0.0] * minutes
    out_age = [0.0] * minutes
    out_running = [0] * minutes
    out_desired = [0] * minutes
    out_billed = [0] * minutes
    actions: list[Action] = []
    pages = 0
    visible_s, inflight_s, age_s = samples["visible"], samples["inflight"], samples["age"]
    sent_s, received_s, deleted_s, empty_s = samples["sent"], samples["received"], samples["deleted"], samples["empty"]
    running_s, desired_s, cpu_s = samples["running"], samples["desired"], samples["cpu"]
    arrivals = trace.arrivals
    # Samples no alarm reads are not computed (they stay unpublished).
    counts_read = any(id(samples[name]) in used_sources for name in ("sent", "received", "deleted", "empty"))
    cpu_read = id(cpu_s) in used_sources
    insights_at_zero = settings.insights_at_zero
    forward = _FastForward(sim_alarms, samples, lag, minutes, arrivals, directions) if settings.fast_forward else None

    # Scheduled actions of the scalable target, by minute of the day (the trace's clock is read
    # as the schedule's time zone: a fintech day is written in local time).
    schedule: dict[int, list[ScheduledCapacity]] = {}
    if scaling is not None:
        for action in scaling.scheduled:
            schedule.setdefault(action.minute_of_day, []).append(action)
        if scaling.unmodelled_schedules:
            notes.append(f"scheduled actions not replayed (not a daily cron): {', '.join(scaling.unmodelled_schedules)}")
        if scaling.scheduled:
            zones = sorted({a.time_zone for a in scaling.scheduled})
            notes.append(f"scheduled capacity replayed on the trace's clock, read as {', '.join(zones)}")

    def next_scheduled(after: int) -> int:
        if not schedule:
            return minutes
        day, minute = divmod(after, MINUTES_PER_DAY)
        later = [m for m in schedule if m > minute]
        return day * MINUTES_PER_DAY + min(later) if later else (day + 1) * MINUTES_PER_DAY + min(schedule)

    empty_receives = 60.0 / receive_wait if receive_wait else settings.short_poll_receives_per_minute
    datapoints = list({id(sim.datapoints): sim.datapoints for sim, _, _ in sim_alarms}.values())

    def queue_minutes(t: int, end: int, states: list[tuple[float, float, int, int, bool, int, bool]] | None = None) -> float:
        """Steps 2 and 3 (the queue, the samples published) and the outputs but the desired count,
        minute by minute from ``t`` to ``end - 1``; returns the messages the last minute took. A
        pass of :func:`steady` (``states``) also writes the desired count, keeps each minute's
        state (the queue's, the SQS clock's, whether it was quiet), and stops before a long quiet
        stretch (fast-forwarded instead)."""
        nonlocal backlog, taken_total, oldest, last_activity, sleeping, resume_at
        queued, total, waiting, active, asleep, resume = backlog, taken_total, oldest, last_activity, sleeping, resume_at
        capacity = running * per_task_minute
        held_by_tasks = running * held
        billed = running + pending
        insights = running > 0 or insights_at_zero
        running_sample, desired_sample = float(running), float(desired)
        cpu = running > 0 and cpu_read
        quiet_since = forward.quiet_since if forward is not None and states is not None else None
        taken = 0.0
        for k in range(t, end):
            if quiet_since is not None and k - quiet_since >= settle:
                break
            arrived = arrivals[k]
            available = queued + arrived
            taken = available if available <= capacity else capacity
            queued = available - taken
            total += taken
            in_flight = min(held_by_tasks, taken * processing / 60 * held)
            if queued > 1e-9:
                waiting, age = _oldest_age(k, waiting, total, cumulative, arrivals)
            else:
                queued = 0.0
                waiting = k + 1
                age = processing if in_flight > 0 else 0.0
            publishing = True
            if sqs_idle_stop:
                if arrived > 0 or running > 0 or queued > 0:
                    if asleep:
                        asleep, resume = False, k + SQS_RESUME_MINUTES
                    active = k
                elif k - active >= SQS_IDLE_MINUTES:
                    asleep = True
                publishing = not asleep and k >= resume
            if publishing:
                visible_s[k] = queued
                inflight_s[k] = in_flight
                age_s[k] = age if (queued > 0 or in_flight > 0) else NAN
                if counts_read:
                    sent_s[k] = arrived
                    received_s[k] = taken
                    deleted_s[k] = taken
                    idle = running - taken / per_task_minute if running else 0.0
                    empty_s[k] = max(0.0, idle) * empty_receives
            if insights:
                running_s[k] = running_sample
                desired_s[k] = desired_sample
            if cpu:
                cpu_s[k] = cpu_idle + busy_span * (taken / capacity)
            out_visible[k] = queued
            out_inflight[k] = in_flight
            out_age[k] = age
            out_running[k] = running
            out_billed[k] = billed
            if states is not None:
                out_desired[k] = desired
                quiet = arrived == 0 and taken == 0 and (queued <= 0 or running == 0)
                states.append((queued, total, waiting, active, asleep, resume, quiet))
                quiet_since = (k if quiet_since is None else quiet_since) if quiet else None
        backlog, taken_total, oldest, last_activity, sleeping, resume_at = queued, total, waiting, active, asleep, resume
        return taken

    def acts(sim: _SimAlarm, owner: _Policy | None, role: str) -> Callable[[int], bool]:
        """Whether the policy invoked at minute k (its alarm in ALARM) would propose a capacity."""
        if owner is None:
            return lambda k: True
        if ((role == "low" and desired <= minimum) or (role == "high" and desired >= maximum)
                or (role == "step" and ((desired >= maximum and directions[owner.label] > 0)
                                        or (desired <= minimum and directions[owner.label] < 0)))):
            return lambda k: False
        return lambda k: _propose(owner, role, sim, desired, (k + 1) * 60.0, minimum, maximum) is not None

    def steady(t: int) -> int:
        """Replay a steady stretch from minute ``t`` in passes, and return the first minute not
        replayed. While no task starts and no scheduled action comes, the queue and the samples
        follow from the arrivals alone: a pass computes them minute by minute (the same
        :func:`queue_minute`), then runs each alarm through the pass, which ends at the first
        minute a policy would propose a capacity (replayed on its own: the capacity changes
        there); what was computed past it is forgotten. Passes double in length while nothing
        acts (tests compare with the minute-by-minute replay)."""
        limit = min(next_scheduled(t), minutes)
        start, size = t, STEADY_MINUTES
        while True:
            end = min(start + size, limit)
            stop = steady_pass(start, end)
            if stop < end or stop == limit:
                return stop
            start, size = stop, min(2 * size, STEADY_MAX_MINUTES)

    def steady_pass(t: int, end: int) -> int:
        """One pass of :func:`steady` over at most minutes ``[t, end)``."""
        nonlocal backlog, taken_total, oldest, last_activity, sleeping, resume_at
        before = (backlog, taken_total, oldest, last_activity, sleeping, resume_at)
        states: list[tuple[float, float, int, int, bool, int, bool]] = []
        queue_minutes(t, end, states)
        end = stop = t + len(states)
        # The alarm that ended the last pass goes first: the others then run only up to where it stops.
        stopper = None
        for entry in order:
            sim, owner, role = entry
            ended = sim.run(t, stop, lag, acts(sim, owner, role), settled=t - 1 - lag)
            if ended < stop:
                stop, stopper = ended, entry
        if stopper is not None:
            order.remove(stopper)
            order.insert(0, stopper)
        if stop < end:
            for data in datapoints:
                data.rewind(stop - 1 - lag)
            for sim, _, _ in sim_alarms:
                sim.rewind(stop, lag)
            for series in samples.values():
                series[stop:end] = [NAN] * (end - stop)
            backlog, taken_total, oldest, last_activity, sleeping, resume_at = states[stop - 1 - t][:6] if stop > t else before
        if forward is not None:
            for k in range(t, stop):
                forward.observe(k, states[k - t][6])
        return stop

    order = list(sim_alarms)
    sqs_idle_stop = settings.sqs_idle_stop
    cpu_idle = settings.cpu_idle_percent
    steady_from, backoff = 0, 1
    settle = forward.settle if forward is not None else 0
    t = -1
    while t + 1 < minutes:
        t += 1
        quiet = forward is not None and forward.ready(t, running, pending, backlog, desired, minimum, maximum)
        if forward is not None and quiet and (t % MINUTES_PER_DAY) not in schedule:
            end = forward.boundary(t, settings.sqs_idle_stop and running == 0 and backlog <= 0 and not sleeping,
                                   last_activity + SQS_IDLE_MINUTES, resume_at)
            end = min(end, next_scheduled(t))
            if end - t >= 2:
                # Waiting messages age by the same formula as minute by minute (bit for bit).
                grown = None
                if backlog > 0:
                    grown = []
                    for k in range(t, end):
                        oldest, age = _oldest_age(k, oldest, taken_total, cumulative, arrivals)
                        grown.append(age)
                forward.fill(t, end, grown=grown if age_s[t - 1] == age_s[t - 1] else None)
                for floats in (out_visible, out_inflight):
                    floats[t:end] = [floats[t - 1]] * (end - t)
                for counts in (out_running, out_desired, out_billed):
                    counts[t:end] = [counts[t - 1]] * (end - t)
                out_age[t:end] = grown if grown is not None else [out_age[t - 1]] * (end - t)
                if running > 0 or backlog > 0:
                    last_activity = end - 1
                t = end - 1
                continue
        if forward is not None and t >= steady_from and not pending and (t % MINUTES_PER_DAY) not in schedule:
            end = steady(t)
            # The minute it stopped at is replayed on its own (a policy may act there); after a
            # stretch that did not start, the next tries wait a little longer each time.
            backoff = 1 if end > t else min(2 * backoff, STEADY_MINUTES)
            steady_from = max(end, t) + backoff
            if end > t:
                t = end - 1
                continue
        # 1. Tasks.
        if starting[t]:
            running += starting[t]
            pending -= starting[t]
            starting[t] = 0
        # 2-3. Queue and metrics.
        arrived = arrivals[t]
        taken = queue_minutes(t, t + 1)
        # 4. Scheduled actions: a new minimum above the desired capacity scales out to it, a new
        # maximum below it scales in (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html).
        scheduled_change = False
        for action in schedule.get(t % MINUTES_PER_DAY, ()):
            minimum = action.min_capacity if action.min_capacity is not None else minimum
            maximum = action.max_capacity if action.max_capacity is not None else maximum
            bounded = max(minimum, min(maximum, desired))
            if bounded != desired:
                scheduled_change = True
                actions.append(Action(t, action.name, desired, bounded))
                if bounded > desired:
                    starting[t + 1 + start_minutes] += bounded - desired
                    pending += bounded - desired
                else:
                    running -= min(running, desired - bounded)
                desired = bounded
        # 5. Alarms.
        proposals: list[tuple[int, _Policy]] = []
        now = (t + 1) * 60.0
        for sim, owner, role in sim_alarms:
            before = sim.state
            if sim.evaluate(t, lag) != "ALARM":
                continue
            if owner is None:
                if before != "ALARM":
                    pages += 1
                continue
            # Invoked every minute in ALARM; skip what cannot act at the capacity limits.
            if (role == "low" and desired <= minimum) or (role == "high" and desired >= maximum):
                continue
            if role == "step" and ((desired >= maximum and directions[owner.label] > 0)
                                   or (desired <= minimum and directions[owner.label] < 0)):
                continue
            proposal = _propose(owner, role, sim, desired, now, minimum, maximum)
            if proposal is not None:
                proposals.append((proposal, owner))
        # 6. Scaling.
        if proposals:
            new, winner = max(proposals, key=lambda p: p[0])
            if new != desired:
                winner.cooldowns.record(desired, new, now)
                actions.append(Action(t, winner.label, desired, new))
                if new > desired:
                    starting[t + 1 + start_minutes] += new - desired
                    pending += new - desired
                else:
                    stop = desired - new
                    # Tasks still starting are stopped first, the latest asked for first.
                    for i in range(t + 1 + start_minutes, t, -1):
                        if stop == 0:
                            break
                        cancelled = min(stop, starting[i])
                        starting[i] -= cancelled
                        pending -= cancelled
                        stop -= cancelled
                    running -= stop
                desired = new
        out_desired[t] = desired
        if forward is not None:
            # A scheduled scale-in changes the running count after this minute's outputs were
            # written: the minute is not quiet (the next one writes the new count).
            forward.observe(t, arrived == 0 and taken == 0 and not proposals and not starting[t + 1] and not scheduled_change
                            and (backlog <= 0 or running == 0))
    for sim in notifying:
        sim.run(0, minutes, lag)
        pages += sum(1 for before, state in zip(["INSUFFICIENT_DATA", *sim.trail], sim.trail, strict=False)
                     if state == "ALARM" and before != "ALARM")
    return ReplayResult(
        service=service.name, environment=service.environment, trace=trace.name,
        processing_seconds=processing, processing_source=processing_source,
        minutes=minutes, warm_up_minutes=trace.warm_up_minutes,
        arrivals=tuple(arrivals), visible=tuple(out_visible), in_flight=tuple(out_inflight), oldest_age=tuple(out_age),
        running=tuple(out_running), desired=tuple(out_desired), billed_tasks=tuple(out_billed),
        actions=tuple(actions), pages=pages, notes=tuple(dict.fromkeys(notes)),
        events=tuple((e.name, e.minute) for e in trace.events),
    )


def _oldest_age(t: int, oldest: int, taken_total: float, cumulative: Sequence[float], arrivals: Sequence[float]) -> tuple[int, float]:
    """The arrival minute of the oldest message not yet taken at the end of minute ``t`` (from
    ``oldest`` on) and how many seconds it has waited, arrivals spread evenly over their minute."""
    while oldest < t and cumulative[oldest + 1] <= taken_total + 1e-9:
        oldest += 1
    cohort = arrivals[oldest]
    served_share = (taken_total - cumulative[oldest]) / cohort if cohort > 0 else 0.0
    return oldest, ((t + 1) - (oldest + min(1.0, max(0.0, served_share)))) * 60.0


def _rule(alarm: Alarm) -> cw.AlarmRule:
    return cw.AlarmRule(
        threshold=alarm.threshold, comparison=alarm.comparison, evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm, treat_missing=alarm.treat_missing,
    )


def _propose(policy: _Policy, role: str, sim: _SimAlarm, desired: int, now: float, minimum: int, maximum: int) -> int | None:
    """One invoked policy's capacity, or None when it would not act."""
    cooldowns = policy.cooldowns
    if role == "step" and policy.step is not None:
        step = policy.step
        value = cw.aggregate(sim.used, step.aggregation)
        chosen = aas.select_step(step.steps, value - sim.rule.threshold, above=sim.rule.upward)
        if chosen is None:
            return None
        direct = aas.adjusted_capacity(step.adjustment_type, chosen.adjustment, desired, step.min_adjustment_magnitude)
        if direct > desired:
            base = cooldowns.base(desired, now)
            proposed = aas.clamp(aas.adjusted_capacity(step.adjustment_type, chosen.adjustment, base, step.min_adjustment_magnitude),
                                 minimum, maximum)
            # A scale-out never lowers the capacity, even when its base is an older one.
            return proposed if proposed > desired else None
        else:
            proposed = aas.clamp(direct, minimum, maximum)
        return proposed if cooldowns.allows(proposed, desired, now) else None
    latest = sim.latest
    if policy.tracking is None or latest is None:
        return None
    if role == "high":
        capacity = aas.tracking_capacity(cooldowns.base(desired, now), latest, policy.tracking.target)
        if capacity is None:
            return None
        proposed = aas.clamp(capacity, minimum, maximum)
        return proposed if proposed > desired else None
    capacity = aas.tracking_capacity(desired, latest, policy.tracking.target)
    if capacity is None:
        return None
    proposed = aas.clamp(capacity, minimum, maximum)
    return proposed if proposed < desired and cooldowns.allows(proposed, desired, now) else None
