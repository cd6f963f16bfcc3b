"""Queue scaling that keeps pace: backlog per task, waking from zero, and a burst fast path.

Three policies on one scalable target, all driven by the queue (one signal per direction; no
CPU policy pulling the other way):

* **Target tracking on backlog per task**, AWS's recommended worker signal:
  ``(visible + in-flight messages) / RunningTaskCount`` (Container Insights), with the target
  ``ceil(acceptable latency / average processing time)`` messages per task. CDK's L2 refuses
  metric math in target tracking, so the CloudFormation policy is emitted directly. It scales
  out in proportion and, alone, scales in. With no task running the division has no
  datapoint and target tracking does nothing, which is why waking is a policy of its own.
* **Wake from zero, on SQS's own metrics only.** Container Insights and ``AWS/ECS`` may publish
  nothing for a service that runs no task, and it is not established that metric math ``FILL``
  invents a series that has no datapoints, so waking must not read them. SQS publishes every
  metric of an *active* queue each minute (a queue that holds messages is active), so "nobody
  consumes" is read from the queue itself: messages are visible, none is in flight and no
  ``ReceiveMessage`` call (received or empty) was made in the minute. The step policy then sets
  the **exact** capacity that drains the visible backlog within the latency,
  ``ceil(visible / target)``: re-invoked every minute while the alarm stays in ALARM (tasks
  still starting), an exact capacity sets the same number again instead of adding it again.
* **Burst fast path while consuming.** Target tracking waits for three one-minute datapoints;
  a step policy on one-minute data adds the *shortfall* ``ceil(visible / target) - desired``
  (``desired`` is Container Insights' DesiredTaskCount, which exists while tasks run; without a
  datapoint the expression has none and nothing happens). It acts only while some task
  consumes, so it never competes with the wake policy. ``ChangeInCapacity`` with positive steps
  only, and a cooldown of ``defaults.BURST_COOLDOWN_SECONDS`` that covers the metric lag:
  CloudWatch re-invokes a scaling action every minute while the alarm is in ALARM, and the
  DesiredTaskCount datapoints read in the next two minutes still predate the step. Application
  Auto Scaling counts the capacity a step added during its cooldown as part of the desired
  capacity for the next step, so a re-trigger from stale data adds nothing (same step) or only
  the difference (a larger step), never the shortfall twice
  (https://docs.aws.amazon.com/autoscaling/application/userguide/step-scaling-policy-overview.html#step-scaling-cooldown).

The pure functions (targets, bands) are separated from the CDK helpers so they can be tested
and reasoned about without a template.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate.errors import ConfigError
from stable_fargate.schedules import check_time_zone, parse_cron

SQS_NAMESPACE = "AWS/SQS"
CONTAINER_INSIGHTS_NAMESPACE = "ECS/ContainerInsights"


# --- Pure functions -----------------------------------------------------------------------


def check_processing_times(
    service: str, *, average_seconds: float, longest_seconds: float, acceptable_latency_seconds: float
) -> None:
    """Refuse processing times no number of tasks can serve within the acceptable latency."""
    if average_seconds <= 0:
        raise ConfigError(service, "average_processing_time", f"{average_seconds}s", "Give a positive duration.")
    if longest_seconds < average_seconds:
        raise ConfigError(
            service, "longest_processing_time", f"{longest_seconds}s",
            f"The longest processing time cannot be shorter than the average ({average_seconds}s).",
        )
    if average_seconds > acceptable_latency_seconds:
        raise ConfigError(
            service, "average_processing_time", f"{average_seconds}s",
            f"One message takes longer than the acceptable latency ({acceptable_latency_seconds}s): no number of "
            "tasks can keep the queue within it. Raise acceptable_latency or split the work into smaller messages.",
        )


def backlog_per_task_target(
    *,
    average_processing_seconds: float,
    acceptable_latency_seconds: float,
    latency_share: float = defaults.BACKLOG_LATENCY_SHARE,
) -> int:
    """Messages one task may hold so that the newest of them waits at most ``latency_share`` of
    the acceptable latency: ``ceil(share x latency / average)`` (0.5 x 60 s at 2 s per message
    -> 15). The other half of the budget is the time scaling needs to react (metrics a minute
    late, a task start); targeting the whole latency would make every steady state wait exactly
    the acceptable latency, on the edge of its alarm.
    """
    if average_processing_seconds <= 0 or acceptable_latency_seconds < average_processing_seconds:
        raise ValueError("the average processing time must be positive and at most the acceptable latency")
    # round() first: 0.3 / 0.1 is 2.9999999999999996 in floating point.
    return max(1, math.ceil(round(latency_share * acceptable_latency_seconds / average_processing_seconds, 9)))


def tasks_needed(*, visible: float, in_flight: float, sent_per_minute: float, backlog_target: int, average_processing_seconds: float,
                 utilization: float = defaults.WORKER_TARGET_UTILIZATION) -> float:
    """The target-tracking signal's numerator, in Python: the tasks the queue needs now, the
    larger of what drains the backlog (``(visible + in flight) / backlog target``) and what keeps
    up with arrivals at the target utilization (``sent per minute x average / 60 / utilization``,
    Little's law)."""
    backlog = (visible + in_flight) / backlog_target
    throughput = sent_per_minute * average_processing_seconds / (defaults.SCALING_PERIOD_SECONDS * utilization)
    return max(backlog, throughput)


def tasks_to_drain(messages: int, target: int) -> int:
    """Tasks that finish ``messages`` within the acceptable latency, given the per-task target."""
    return math.ceil(messages / target)


@dataclass(frozen=True)
class Step:
    """One step of the burst policy: a shortfall of ``[lower, upper)`` tasks adds ``add``
    tasks (``upper`` None: no upper bound)."""

    lower: int
    upper: int | None
    add: int


def burst_additions(*, max_tasks: int, max_steps: int = defaults.MAX_STEP_ADJUSTMENTS) -> tuple[int, ...]:
    """The task counts the burst policy can add: every count from 1 to ``max_tasks`` when they
    fit in ``max_steps``, otherwise a geometric spread that always ends at ``max_tasks``."""
    if max_tasks < 1:
        return ()
    if max_tasks <= max_steps:
        return tuple(range(1, max_tasks + 1))
    ratio = max_tasks ** (1 / (max_steps - 1))
    adds: list[int] = []
    for i in range(max_steps):
        add = min(max_tasks, math.ceil(ratio**i))
        if not adds or add > adds[-1]:
            adds.append(add)
    if adds[-1] != max_tasks:
        adds[-1] = max_tasks
    return tuple(adds)


def burst_steps(*, max_tasks: int, max_steps: int = defaults.MAX_STEP_ADJUSTMENTS) -> tuple[Step, ...]:
    """Steps over the shortfall (tasks needed minus tasks wanted, always >= 1 when the alarm
    fires): a shortfall in ``[a, next a)`` adds ``a``, never more than is missing; the last step
    is open and adds ``max_tasks`` (the scalable target caps the result at the maximum)."""
    adds = burst_additions(max_tasks=max_tasks, max_steps=max_steps)
    steps: list[Step] = []
    for i, add in enumerate(adds):
        lower = 0 if i == 0 else add  # the first step starts at the alarm threshold (0)
        upper = adds[i + 1] if i + 1 < len(adds) else None
        steps.append(Step(lower=lower, upper=upper, add=add))
    return tuple(steps)


def burst_shortfall(*, visible: int, desired: int, target: int, consuming: bool = True) -> int:
    """The burst alarm's metric, in Python: tasks missing to drain ``visible`` messages within
    the acceptable latency, given ``desired`` tasks wanted (0 when they suffice, or when no
    task consumes: waking is the wake policy's job)."""
    if consuming and visible > desired * target:
        return tasks_to_drain(visible, target) - desired
    return 0


def burst_addition(steps: tuple[Step, ...], shortfall: int) -> int:
    """Tasks the burst policy adds for ``shortfall`` (0: the alarm does not fire)."""
    if shortfall <= 0:
        return 0
    for step in steps:
        if shortfall >= step.lower and (step.upper is None or shortfall < step.upper):
            return step.add
    return 0


@dataclass(frozen=True)
class WarmWindow:
    """A known burst the worker is warmed for: from ``schedule`` (a daily cron, e.g.
    ``55 1 * * ? *``, in ``time_zone``) for ``duration``, at least ``tasks`` run.

    Reactive scaling cannot hold a latency of a minute through a step from a trickle to a
    batch: queue metrics reach CloudWatch about a minute late and a task takes about a minute
    to start, so the first minutes of a burst wait two to three minutes. A platform that knows
    when its batches come (the nightly reconciliation, the morning import) raises the minimum
    shortly before and lowers it after; dynamic scaling still adds what the burst needs beyond it.
    """

    schedule: str
    time_zone: str
    tasks: int
    duration_minutes: int

    def __post_init__(self) -> None:
        subject = "warm window"
        fields = parse_cron(subject, self.schedule)
        check_time_zone(subject, self.time_zone)
        minute, hour = fields[0], fields[1]
        if not (minute.isdigit() and hour.isdigit() and minute.isascii() and hour.isascii()):
            raise ConfigError(subject, "schedule", self.schedule, "Give a single minute and hour, e.g. '55 1 * * ? *' (01:55).")
        if isinstance(self.tasks, bool) or not isinstance(self.tasks, int) or self.tasks < 1:
            raise ConfigError(subject, "tasks", self.tasks, "Give the number of tasks to run during the window, at least 1.")
        if isinstance(self.duration_minutes, bool) or not isinstance(self.duration_minutes, int) or not self.duration_minutes >= 1:
            raise ConfigError(subject, "duration_minutes", self.duration_minutes, "Give the window's length in whole minutes.")
        if int(hour) * 60 + int(minute) + self.duration_minutes >= 24 * 60:
            raise ConfigError(
                subject, "duration_minutes", self.duration_minutes,
                "Keep the window within the day it starts (split a window that crosses midnight in two).",
            )

    @property
    def start_minute(self) -> int:
        minute, hour = parse_cron("warm window", self.schedule)[:2]
        return int(hour) * 60 + int(minute)

    def end_schedule(self) -> str:
        """The cron at which the window ends: the same days, ``duration`` later."""
        fields = list(parse_cron("warm window", self.schedule))
        end = self.start_minute + self.duration_minutes
        fields[0], fields[1] = str(end % 60), str(end // 60)
        return " ".join(fields)


# --- CDK helpers --------------------------------------------------------------------------


_Query = appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty


def _queue_metric_query(query_id: str, metric_name: str, queue_name: str) -> _Query:
    return _Query(
        id=query_id,
        return_data=False,
        metric_stat=appscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
            metric=appscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                namespace=SQS_NAMESPACE,
                metric_name=metric_name,
                dimensions=[appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name="QueueName", value=queue_name)],
            ),
            stat="Sum",
        ),
    )


def tasks_needed_tracking(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.IScalableTarget,
    queue_name: str,
    cluster_name: str,
    service_name: str,
    backlog_target: int,
    average_processing_seconds: float,
) -> appscaling.CfnScalingPolicy:
    """Target tracking on *tasks needed per running task*, with metric math, at a target of 1.

    Tasks needed is the larger of the backlog's and the arrival rate's need (see
    :func:`tasks_needed`). Backlog per task alone (AWS's recommended signal) drops toward zero
    whenever the tasks keep up, and target tracking then scales a fleet that is busy with a
    steady stream down to its minimum mid-batch; the arrival term keeps the capacity that the
    stream needs until the stream stops.
    """
    running = appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
        id="running",
        return_data=False,
        metric_stat=appscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
            metric=appscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                namespace=CONTAINER_INSIGHTS_NAMESPACE,
                metric_name="RunningTaskCount",
                dimensions=[
                    appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name="ClusterName", value=cluster_name),
                    appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name="ServiceName", value=service_name),
                ],
            ),
            stat="Average",
        ),
    )
    capacity_per_task = defaults.SCALING_PERIOD_SECONDS * defaults.WORKER_TARGET_UTILIZATION

    def expression(query_id: str, text: str, label: str, *, returned: bool = False) -> _Query:
        return _Query(id=query_id, expression=text, label=label, return_data=returned)

    return appscaling.CfnScalingPolicy(
        scope,
        construct_id,
        policy_name=f"{service_name}-tasks-needed",
        policy_type="TargetTrackingScaling",
        scaling_target_id=scalable_target.scalable_target_id,
        target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
            target_value=defaults.TASKS_NEEDED_TARGET,
            scale_out_cooldown=defaults.SCALE_OUT_COOLDOWN_SECONDS,
            scale_in_cooldown=defaults.SCALE_IN_COOLDOWN_SECONDS,
            disable_scale_in=False,
            customized_metric_specification=appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                metrics=[
                    _queue_metric_query("visible", "ApproximateNumberOfMessagesVisible", queue_name),
                    _queue_metric_query("inflight", "ApproximateNumberOfMessagesNotVisible", queue_name),
                    _queue_metric_query("sent", "NumberOfMessagesSent", queue_name),
                    running,
                    expression("backlog", f"(visible + inflight) / {backlog_target}", "Tasks that drain the backlog in time"),
                    expression(
                        "arrivals", f"sent * {average_processing_seconds:g} / {capacity_per_task:g}",
                        "Tasks that keep up with arrivals at the target utilization",
                    ),
                    expression("needed", "IF(backlog > arrivals, backlog, arrivals)", "Tasks needed"),
                    expression("neededpertask", "needed / running", "Tasks needed per running task", returned=True),
                ]
            ),
        ),
    )


def _queue_metric(queue: sqs.IQueue, metric_name: str, statistic: str) -> cloudwatch.Metric:
    return queue.metric(metric_name, period=cdk.seconds(defaults.SCALING_PERIOD_SECONDS), statistic=statistic)


_SIGNALS: weakref.WeakKeyDictionary[sqs.IQueue, dict[str, cloudwatch.IMetric]] = weakref.WeakKeyDictionary()


def _queue_signals(queue: sqs.IQueue) -> dict[str, cloudwatch.IMetric]:
    """The SQS metrics the wake and burst alarms read: all published for an active queue.
    Made once per queue (a metric is an immutable value; both alarms read the same four)."""
    if queue not in _SIGNALS:
        _SIGNALS[queue] = {
            "visible": _queue_metric(queue, "ApproximateNumberOfMessagesVisible", "Maximum"),
            "inflight": _queue_metric(queue, "ApproximateNumberOfMessagesNotVisible", "Maximum"),
            "received": _queue_metric(queue, "NumberOfMessagesReceived", "Sum"),
            "empty": _queue_metric(queue, "NumberOfEmptyReceives", "Sum"),
        }
    return dict(_SIGNALS[queue])


NOBODY_CONSUMES = "visible > 0 AND inflight == 0 AND (FILL(received, 0) + FILL(empty, 0)) == 0"
"""Metric math: messages wait and no task holds one or even asked for one in the minute. The
FILLs only guard against a single missing datapoint; the decision rests on ``visible``."""

SOMEBODY_CONSUMES = "(inflight > 0 OR (FILL(received, 0) + FILL(empty, 0)) > 0)"
"""Metric math: some task holds a message or called ReceiveMessage in the minute."""


def _desired(cluster_name: str, service_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=CONTAINER_INSIGHTS_NAMESPACE,
        metric_name="DesiredTaskCount",
        dimensions_map={"ClusterName": cluster_name, "ServiceName": service_name},
        period=cdk.seconds(defaults.SCALING_PERIOD_SECONDS),
        statistic="Maximum",
    )


def wake_bands(*, max_tasks: int, max_steps: int = defaults.MAX_STEP_ADJUSTMENTS) -> tuple[Step, ...]:
    """Steps of the wake policy over ``ceil(visible / target)`` (always >= 1 when it fires):
    a value in ``[lower, upper)`` sets the exact capacity ``add`` (here: the capacity, not an
    addition), the smallest band value that is at least the value, so waking never starts
    fewer tasks than the backlog needs (the scalable target caps it at the maximum)."""
    capacities = burst_additions(max_tasks=max_tasks, max_steps=max_steps)
    steps: list[Step] = []
    for i, capacity in enumerate(capacities):
        lower = 0 if i == 0 else capacities[i - 1] + 1
        upper = capacity + 1 if i + 1 < len(capacities) else None
        steps.append(Step(lower=lower, upper=upper, add=capacity))
    return tuple(steps)


def wake_capacity(bands: tuple[Step, ...], *, visible: int, in_flight: int, polls: int, target: int) -> int:
    """The wake policy in Python: the exact capacity it sets (0: the alarm does not fire)."""
    if visible <= 0 or in_flight > 0 or polls > 0:
        return 0
    return burst_addition(bands, tasks_to_drain(visible, target))


def wake_step_scaling(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.IScalableTarget,
    queue: sqs.IQueue,
    service_name: str,
    target: int,
    bands: tuple[Step, ...],
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """Wake from zero on SQS metrics alone: nobody consumes -> exact ``ceil(visible / target)``."""
    signal = cloudwatch.MathExpression(
        expression=f"IF({NOBODY_CONSUMES}, CEIL(visible / {target}), 0)",
        using_metrics=dict(_queue_signals(queue)),
        label="Tasks to start: messages wait and no task consumes",
        period=cdk.seconds(defaults.SCALING_PERIOD_SECONDS),
    )
    return _step_policy_on_signal(
        scope, construct_id, scalable_target=scalable_target, signal=signal, steps=bands,
        adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY, cooldown_seconds=defaults.SCALE_OUT_COOLDOWN_SECONDS,
        alarm_description=(
            f"{service_name}: messages wait and no task consumes them (none in flight, no receive call in the "
            "minute); start the tasks that drain them within the acceptable latency."
        ),
    )


def burst_step_scaling(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.IScalableTarget,
    queue: sqs.IQueue,
    cluster_name: str,
    service_name: str,
    target: int,
    steps: tuple[Step, ...],
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """The burst fast path while tasks consume: add the shortfall on one-minute data.

    The alarm's metric is ``ceil(visible / target) - desired`` while some task consumes and the
    tasks wanted cannot drain the visible backlog within the latency, else 0. ``desired`` has
    no FILL: without a Container Insights datapoint the expression has none and the policy
    does nothing (waking from zero is the wake policy's job, on SQS metrics alone).
    """
    signal = cloudwatch.MathExpression(
        expression=(
            f"IF({SOMEBODY_CONSUMES} AND visible > desired * {target}, CEIL(visible / {target}) - desired, 0)"
        ),
        using_metrics={**_queue_signals(queue), "desired": _desired(cluster_name, service_name)},
        label="Tasks missing to drain the visible backlog within the acceptable latency",
        period=cdk.seconds(defaults.SCALING_PERIOD_SECONDS),
    )
    return _step_policy_on_signal(
        scope, construct_id, scalable_target=scalable_target, signal=signal, steps=steps,
        adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY, cooldown_seconds=defaults.BURST_COOLDOWN_SECONDS,
        alarm_description=(
            f"{service_name}: the visible backlog needs more tasks than are wanted to drain within the acceptable "
            "latency; add the missing tasks."
        ),
    )


def _step_policy_on_signal(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.IScalableTarget,
    signal: cloudwatch.IMetric,
    steps: tuple[Step, ...],
    adjustment_type: appscaling.AdjustmentType,
    cooldown_seconds: int,
    alarm_description: str,
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """A step policy invoked by an alarm on ``signal`` > 0 in one one-minute datapoint (a
    missing datapoint does not breach): the signal's value picks the step (its maximum, when
    the policy aggregates)."""
    action = appscaling.StepScalingAction(
        scope,
        construct_id,
        scaling_target=scalable_target,
        adjustment_type=adjustment_type,
        cooldown=cdk.seconds(cooldown_seconds),
        metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
    )
    for step in steps:
        action.add_adjustment(adjustment=step.add, lower_bound=step.lower, upper_bound=step.upper)
    alarm = cloudwatch.Alarm(
        scope,
        f"{construct_id}Alarm",
        alarm_description=alarm_description,
        metric=signal,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.ApplicationScalingAction(action))
    return action, alarm


def warm_schedules(
    capacity: ecs.ScalableTaskCount, windows: Sequence[WarmWindow], *, min_tasks: int, max_tasks: int
) -> None:
    """Two scheduled actions per window on the service's scalable target: raise the minimum to
    the window's tasks (capped at the maximum) at its start, restore ``min_tasks`` at its end."""
    for index, window in enumerate(windows):
        zone = TimeZone.of(window.time_zone)
        start = parse_cron("warm window", window.schedule)
        end = window.end_schedule().split()
        for name, fields, minimum in (
            (f"Warm{index}Start", start, min(window.tasks, max_tasks)),
            (f"Warm{index}End", end, min_tasks),
        ):
            minute, hour, day, month, week_day, year = fields
            capacity.scale_on_schedule(
                name,
                schedule=appscaling.Schedule.cron(
                    minute=minute, hour=hour, day=None if day == "?" else day, month=month,
                    week_day=None if week_day == "?" else week_day, year=year,
                ),
                time_zone=zone,
                min_capacity=minimum,
            )
