"""Rollout timeline of a load-balanced service, from its template alone.

One rollout batch: new tasks start (an assumption, :data:`DEFAULT_TASK_START_SECONDS`), the
app warms up (the container health check's start period: the template's only record of it),
the target group counts it healthy (worst case: up to an interval for the first check after
registration, then the healthy threshold's consecutive passes, the last of which may take the
timeout: (healthy threshold + 1) x interval + timeout), then the old tasks drain
(deregistration delay) and stop (up to the stop timeout after SIGTERM). The arithmetic is in
:func:`batch_seconds`, the same formula as the library's ``rollout_batch_seconds``; the
grace period is read from the template, never recomputed.

How many batches: ECS may start ``floor(N x maximumPercent / 100) - N`` new tasks before
stopping any and may stop ``N - ceil(N x minimumHealthyPercent / 100)`` first, so each batch
replaces their sum (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).

**What a release costs.** From the deployment configuration (``Strategy``, ``BakeTimeInMinutes``,
``CanaryConfiguration``, ``LinearConfiguration``, ``LifecycleHooks``): when the new release
takes all production traffic, when the old tasks stop, and how much traffic a bad release
serves before a rollback has moved every request back (percent of traffic x minutes). A bad
release is one failing :data:`FAILING_PERCENT` of its requests at :data:`REQUESTS_PER_MINUTE`;
every deployment alarm the template names is evaluated on that traffic minute by minute (its
own metric math, datapoints and threshold), the new release in the alternate target group
(the primary one for rolling), from the first whole minute after it takes traffic (the worst
alignment), then CloudWatch's lag and ECS's reaction. A rollback before the old tasks stop is
a traffic shift back (instant); after, the old release needs new tasks (one batch's start,
warm-up and checks). No alarm that sees it: never rolled back (``exposure`` is None).
The same arithmetic as the library's ``release_cost``, computed here from the template alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stable_fargate.review import alarms as cw
from stable_fargate.review.mathexpr import MathError, compile_expression
from stable_fargate.review.services import Alarm, Metric, Service

DEFAULT_TASK_START_SECONDS = 60
"""Assumed time from ECS placing a task to its container running (ENI, image pull): the
library's ``ROLLOUT_TASK_START_SECONDS``, so figures compare like for like."""

FAILING_PERCENT = 10.0
"""The bad release of the exposure figures fails one request in ten (and passes its health checks)."""

REQUESTS_PER_MINUTE = 1000.0
"""Production traffic of the exposure figures (a 10 % canary then sees 100 requests a minute)."""

RESPONSE_SECONDS = 0.1
"""Response time of both releases in the exposure figures: the bad release is wrong, not slow."""

HOOK_SECONDS = 30
"""A lifecycle hook's share of the time before production traffic moves (the library's
``RELEASE_HOOK_SECONDS``)."""

ALARM_LAG_SECONDS = 60
ECS_REACTION_SECONDS = 60
"""A one-minute datapoint reaches its alarm about a minute late; ECS documents no reaction
time to a deployment alarm and a minute is assumed (the library's ``ALARM_DATA_LAG_SECONDS``
and ``ECS_ALARM_REACTION_SECONDS``)."""

SHIFTING_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")
"""ECS's strategies that move traffic between two target groups."""


def time_to_healthy(*, healthy_threshold: int, interval: float, timeout: float) -> float:
    """Worst case from "the app answers" to "healthy": (healthy threshold + 1) x interval + timeout."""
    return (healthy_threshold + 1) * interval + timeout


def batch_seconds(*, task_start: float, warm_up: float, healthy_threshold: int, interval: float, timeout: float, drain: float) -> int:
    """One batch: start + warm-up + worst-case time to healthy + drain (stop not included: an app
    that exits on SIGTERM takes none of it; the stop timeout is the worst case on top)."""
    healthy = time_to_healthy(healthy_threshold=healthy_threshold, interval=interval, timeout=timeout)
    return math.ceil(task_start + warm_up + healthy + drain)


def tasks_per_batch(tasks: int, minimum_healthy_percent: int, maximum_percent: int) -> int:
    """Tasks one batch replaces (0: the deployment cannot make progress)."""
    if tasks <= 0:
        return 0
    extra = math.floor(tasks * maximum_percent / 100) - tasks
    stoppable = tasks - math.ceil(tasks * minimum_healthy_percent / 100)
    return max(0, extra) + max(0, stoppable)


@dataclass(frozen=True)
class Rollout:
    service: str
    environment: str
    task_start: int
    warm_up: int
    warm_up_declared: bool
    to_healthy: int
    healthy_threshold: int
    interval: int
    drain: int
    stop: int
    grace: int
    grace_declared: bool
    batch: int
    minimum_healthy_percent: int
    maximum_percent: int
    circuit_breaker: bool
    rollback: bool
    alarms: int
    tasks_low: int
    tasks_high: int
    batches_low: int | None
    batches_high: int | None
    warnings: tuple[str, ...]
    strategy: str = "ROLLING"
    smoke_check: bool = False
    """A lifecycle hook runs after test traffic, before production traffic (POST_TEST_TRAFFIC_SHIFT)."""
    full_traffic: int | None = None
    """Seconds from the deployment's start until the new release takes all production traffic."""
    old_tasks_stop: int | None = None
    """Seconds until the old tasks have stopped (drained)."""
    detected: int | None = None
    """Seconds until ECS acts on the first alarm that sees a bad release (None: none does)."""
    rolled_back: int | None = None
    exposure: float | None = None
    """A bad release's share of traffic x minutes before every request is back on the old
    release (None: never rolled back)."""
    largest_share: float | None = None
    detecting_alarm: str | None = None

    @property
    def total_low(self) -> int | None:
        return None if self.batches_low is None else self.batches_low * self.batch

    @property
    def total_high(self) -> int | None:
        return None if self.batches_high is None else self.batches_high * self.batch


def rollout(service: Service, *, task_start_seconds: int = DEFAULT_TASK_START_SECONDS) -> Rollout | None:
    """The timeline of ``service``'s rollout, or None if it has no target group."""
    if not service.target_groups or service.task is None:
        return None
    group = service.target_groups[0]
    task = service.task
    warm_up = task.warm_up
    declared = any(c.health_check is not None and c.health_check.start_period > 0 for c in task.containers)
    deployment = service.deployment
    low = service.scaling.min_capacity if service.scaling else (service.desired_count or 1)
    high = service.scaling.max_capacity if service.scaling else (service.desired_count or 1)
    per_low = tasks_per_batch(low, deployment.minimum_healthy_percent, deployment.maximum_percent)
    per_high = tasks_per_batch(high, deployment.minimum_healthy_percent, deployment.maximum_percent)
    warnings = []
    if not declared:
        warnings.append("no container health check start period: the app's warm-up is not in the template (counted as 0 s)")
    unhealthy_after = group.unhealthy_threshold * group.interval
    if declared and service.grace_period < warm_up and warm_up > unhealthy_after:
        warnings.append(
            f"grace period {service.grace_period} s is shorter than the warm-up {warm_up} s: a task still warming up is "
            f"marked unhealthy after {unhealthy_after} s and replaced"
        )
    if per_low == 0 or per_high == 0:
        warnings.append("minimum healthy 100 % and maximum 100 %: a rolling deployment cannot replace any task")
    if not deployment.circuit_breaker:
        warnings.append("no deployment circuit breaker: a release that never becomes healthy keeps retrying")
    return Rollout(
        service=service.name, environment=service.environment,
        task_start=task_start_seconds, warm_up=warm_up, warm_up_declared=declared,
        to_healthy=math.ceil(time_to_healthy(healthy_threshold=group.healthy_threshold, interval=group.interval, timeout=group.timeout)),
        healthy_threshold=group.healthy_threshold, interval=group.interval,
        drain=group.deregistration_delay, stop=task.stop_timeout,
        grace=service.grace_period, grace_declared=service.grace_period_declared,
        batch=batch_seconds(task_start=task_start_seconds, warm_up=warm_up, healthy_threshold=group.healthy_threshold,
                            interval=group.interval, timeout=group.timeout, drain=group.deregistration_delay),
        minimum_healthy_percent=deployment.minimum_healthy_percent, maximum_percent=deployment.maximum_percent,
        circuit_breaker=deployment.circuit_breaker, rollback=deployment.rollback, alarms=len(deployment.alarms),
        tasks_low=low, tasks_high=high,
        batches_low=math.ceil(low / per_low) if per_low else None,
        batches_high=math.ceil(high / per_high) if per_high else None,
        warnings=tuple(warnings),
        **_release_fields(
            service, drain=group.deregistration_delay,
            ready=task_start_seconds + warm_up + time_to_healthy(
                healthy_threshold=group.healthy_threshold, interval=group.interval, timeout=group.timeout),
        ).__dict__,
    )


# --- What a release costs ----------------------------------------------------------------------


def schedule(service: Service, *, ready: float, hook_seconds: float = HOOK_SECONDS) -> tuple[tuple[float, float], ...]:
    """(seconds from the deployment's start, percent of production traffic on the new release)."""
    deployment = service.deployment
    if deployment.strategy not in SHIFTING_STRATEGIES:
        return ((ready, 100.0),)
    start = ready + (hook_seconds if deployment.lifecycle_stages else 0)
    if deployment.strategy == "CANARY":
        percent = deployment.canary_percent or 5.0  # ECS's defaults: 5 %, 10 minutes (API_CanaryConfiguration)
        bake = 10 if deployment.canary_bake_minutes is None else deployment.canary_bake_minutes
        return ((start, percent), (start + bake * 60, 100.0))
    if deployment.strategy == "LINEAR":
        step = deployment.linear_step_percent or 10.0  # ECS's defaults: 10 %, 6 minutes (API_LinearConfiguration)
        bake = 6 if deployment.linear_step_bake_minutes is None else deployment.linear_step_bake_minutes
        shifts = math.ceil(round(1000 / round(step * 10), 9))
        return tuple((start + i * bake * 60, min(100.0, round((i + 1) * step, 1))) for i in range(shifts))
    return ((start, 100.0),)


def metric_value(metric: Metric, share: float, *, new: Sequence[str], old: Sequence[str], failing_percent: float = FAILING_PERCENT,
                 requests_per_minute: float = REQUESTS_PER_MINUTE) -> float:
    """One minute of a load balancer metric while the new release serves ``share`` percent of
    traffic from the target groups ``new`` (the old release from ``old``); nan: no datapoint."""
    if metric.namespace != "AWS/ApplicationELB":
        return math.nan
    group = dict(metric.dimensions).get("TargetGroup")
    if group is None:
        traffic, bad = 1.0, share / 100
    elif group in new:
        traffic, bad = share / 100, 1.0 if share else 0.0
    elif group in old:
        traffic, bad = 1 - share / 100, 0.0
    else:
        return math.nan
    requests = requests_per_minute * traffic
    if metric.name == "RequestCount":
        return requests if requests else math.nan
    if metric.name == "HTTPCode_Target_5XX_Count":
        errors = requests * bad * failing_percent / 100 if group is not None else requests_per_minute * bad * failing_percent / 100
        return errors if errors else math.nan
    if metric.name == "TargetResponseTime":
        return RESPONSE_SECONDS if requests else math.nan
    if metric.name in ("UnHealthyHostCount", "HTTPCode_ELB_5XX_Count"):
        return 0.0
    return math.nan


def alarm_values(alarm: Alarm, shares: Sequence[float], *, new: Sequence[str], old: Sequence[str], failing_percent: float = FAILING_PERCENT,
                 requests_per_minute: float = REQUESTS_PER_MINUTE) -> list[float] | None:
    """The alarm's datapoints for minutes at ``shares``, from its own metric math (None: it is
    not metric math this evaluator reads)."""
    queries = {q.id: q for q in alarm.queries}
    returned = alarm.expression

    def value(metric: Metric, share: float) -> float:
        return metric_value(metric, share, new=new, old=old, failing_percent=failing_percent, requests_per_minute=requests_per_minute)

    if returned.metric is not None:
        metric = returned.metric
        return [value(metric, share) for share in shares]
    expressions = {q.id: q.expression for q in alarm.queries if q.expression is not None and q.id != returned.id}
    try:
        compiled = compile_expression(returned.expression or "", expressions)
    except MathError:
        return None
    metrics = [queries[name].metric if name in queries else None for name in compiled.metrics]
    columns = [[value(m, share) if m is not None else math.nan for share in shares] for m in metrics]
    history = _Window(columns, alarm.evaluation_periods + cw.EXTRA_EVALUATION_RANGE)
    out = []
    for minute in range(len(shares)):
        history.now = minute
        out.append(compiled([column[minute] for column in columns], history))
    return out


class _Window:
    """One-minute datapoints of an alarm's metrics up to ``now``, within its evaluation range
    (what FILL and DIFF read)."""

    def __init__(self, columns: list[list[float]], span: int) -> None:
        self.columns = columns
        self.span = span
        self.now = 0

    def previous(self, index: int) -> tuple[float, float]:
        for back in range(1, self.span):
            if self.now - back < 0:
                break
            found = self.columns[index][self.now - back]
            if found == found:
                return found, back * 60.0
        return math.nan, 0.0

    def window(self, index: int) -> list[float]:
        return self.columns[index][max(0, self.now - self.span + 1): self.now + 1]


def detection(service: Service, steps: Sequence[tuple[float, float]], *, failing_percent: float = FAILING_PERCENT,
              requests_per_minute: float = REQUESTS_PER_MINUTE) -> tuple[float, str] | None:
    """(seconds from the deployment's start until ECS acts, the alarm's logical id) for the
    first deployment alarm that sees a bad release on ``steps``; None when none does."""
    first = steps[0][0]
    minutes = int((steps[-1][0] - first) // 60) + 60  # every step, then an hour at full traffic
    origin = first + 60  # the first whole minute after the bad traffic starts, at worst
    shares = [max((percent for start, percent in steps if start <= origin + 60 * k), default=0.0) for k in range(minutes)]
    alternate = service.alternate_target_groups
    primary = tuple(g.logical_id for g in service.target_groups)
    new, old = (alternate, primary) if alternate else (primary, ())
    found: tuple[float, str] | None = None
    for alarm in service.deployment_alarms:
        values = alarm_values(alarm, shares, new=new, old=old, failing_percent=failing_percent, requests_per_minute=requests_per_minute)
        if values is None or alarm.comparison not in cw.COMPARISONS or alarm.treat_missing not in cw.TREAT_MISSING:
            continue
        rule = cw.AlarmRule(threshold=alarm.threshold, comparison=alarm.comparison, evaluation_periods=alarm.evaluation_periods,
                            datapoints_to_alarm=alarm.datapoints_to_alarm, treat_missing=alarm.treat_missing)
        state: cw.State = "INSUFFICIENT_DATA"
        for k in range(minutes):
            state = cw.evaluate(values[: k + 1], rule, state).state
            if state == "ALARM":
                at = origin + (k + 1) * 60 + ALARM_LAG_SECONDS + ECS_REACTION_SECONDS
                if found is None or at < found[0]:
                    found = (at, alarm.logical_id)
                break
    return found


@dataclass(frozen=True)
class ReleaseFigures:
    """The release fields of a :class:`Rollout` (see there)."""

    strategy: str
    smoke_check: bool
    full_traffic: int
    old_tasks_stop: int
    detected: int | None = None
    rolled_back: int | None = None
    exposure: float | None = None
    largest_share: float | None = 100.0
    detecting_alarm: str | None = None


def _release_fields(service: Service, *, ready: float, drain: float) -> ReleaseFigures:
    deployment = service.deployment
    steps = schedule(service, ready=ready)
    full = steps[-1][0]
    shifting = deployment.strategy in SHIFTING_STRATEGIES
    warm_until = full + deployment.bake_minutes * 60 if shifting else full
    old_stop = warm_until + drain
    found = detection(service, steps) if deployment.alarm_rollback else None
    smoke = "POST_TEST_TRAFFIC_SHIFT" in deployment.lifecycle_stages
    if found is None:
        return ReleaseFigures(deployment.strategy, smoke, math.ceil(full), math.ceil(old_stop))
    detected, alarm = found
    ended = detected if shifting and detected <= warm_until else detected + ready
    exposure, largest = 0.0, 0.0
    for index, (start, percent) in enumerate(steps):
        until = steps[index + 1][0] if index + 1 < len(steps) else math.inf
        served = max(0.0, min(until, ended) - start)
        if served > 0:
            exposure += percent * served / 60
            largest = max(largest, percent)
    return ReleaseFigures(deployment.strategy, smoke, math.ceil(full), math.ceil(old_stop), math.ceil(detected), math.ceil(ended),
                          round(exposure, 1), largest, alarm)
