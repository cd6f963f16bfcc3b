"""Queue scaling that keeps pace: backlog per task, scale from zero, and a burst fast path.

Three policies on one scalable target, all driven by the queue (one signal per direction;
no CPU policy pulling the other way):

* **Target tracking on backlog per task**, AWS's recommended worker signal:
  ``(visible + in-flight messages) / RunningTaskCount`` (Container Insights), with the
  target ``ceil(acceptable latency / average processing time)`` messages per task. CDK's L2
  refuses metric math in target tracking, so the CloudFormation policy is emitted directly.
  It scales out and, alone, scales in.
* **Scale from zero**: target tracking adjusts in proportion to the running tasks, so from
  zero it never moves. A step policy adds a task when messages are visible and the service
  wants no task.
* **Burst fast path**: target tracking waits for three one-minute datapoints and grows in
  proportion to what runs. A step policy on one-minute visible messages sets the capacity
  that drains the visible backlog within the acceptable latency (``ExactCapacity`` bands,
  capped at the maximum). Its alarm only reports the backlog while the desired count is
  below what the backlog needs, so an ``ExactCapacity`` band can only ever raise capacity.

The pure functions (targets, bands) are separated from the CDK helpers so they can be tested
and reasoned about without a template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stable_fargate import defaults
from stable_fargate.errors import ConfigError

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


def backlog_per_task_target(*, average_processing_seconds: float, acceptable_latency_seconds: float) -> int:
    """Messages one task may hold and still finish them within the acceptable latency.

    ``ceil(latency / average)`` (Copilot's worker formula): 60 s at 2 s per message -> 30.
    """
    if average_processing_seconds <= 0 or acceptable_latency_seconds < average_processing_seconds:
        raise ValueError("the average processing time must be positive and at most the acceptable latency")
    # round() first: 0.3 / 0.1 is 2.9999999999999996 in floating point.
    return max(1, math.ceil(round(acceptable_latency_seconds / average_processing_seconds, 9)))


def tasks_to_drain(messages: int, target: int) -> int:
    """Tasks that finish ``messages`` within the acceptable latency, given the per-task target."""
    return math.ceil(messages / target)


@dataclass(frozen=True)
class Band:
    """One step of the burst policy: visible messages in ``[lower, upper)`` -> ``capacity``
    tasks (``upper`` None: no upper bound)."""

    lower: int
    upper: int | None
    capacity: int


def burst_capacities(*, min_tasks: int, max_tasks: int, max_steps: int = defaults.MAX_STEP_ADJUSTMENTS) -> tuple[int, ...]:
    """The capacities the burst policy can set: every count from 1 (or min) to max when they
    fit in ``max_steps``, otherwise a geometric spread that always ends at ``max_tasks``."""
    low = max(1, min_tasks)
    if max_tasks < low:
        return ()
    if max_tasks - low + 1 <= max_steps:
        return tuple(range(low, max_tasks + 1))
    if max_steps < 2:
        return (max_tasks,)
    ratio = (max_tasks / low) ** (1 / (max_steps - 1))
    caps: list[int] = []
    for i in range(max_steps):
        cap = min(max_tasks, max(low, math.ceil(low * ratio**i)))
        if not caps or cap > caps[-1]:
            caps.append(cap)
    if caps[-1] != max_tasks:
        caps.append(max_tasks)
    return tuple(caps)


def burst_bands(
    *, target: int, min_tasks: int, max_tasks: int, max_steps: int = defaults.MAX_STEP_ADJUSTMENTS
) -> tuple[Band, ...]:
    """Bands of visible messages and the capacity that drains each within the acceptable latency.

    Capacity ``c`` drains fewer than ``c * target`` messages within the latency, so the band
    of ``c`` ends at ``c * target`` and starts where the previous capacity's band ends. The
    last band is open: more messages than ``max * target`` still get ``max`` (the cap).
    """
    if target < 1:
        raise ValueError("target must be at least 1")
    caps = burst_capacities(min_tasks=min_tasks, max_tasks=max_tasks, max_steps=max_steps)
    bands: list[Band] = []
    lower = 0
    for i, cap in enumerate(caps):
        upper = None if i == len(caps) - 1 else cap * target
        bands.append(Band(lower=lower, upper=upper, capacity=cap))
        if upper is not None:
            lower = upper
    return tuple(bands)


def capacity_for(bands: tuple[Band, ...], visible: int) -> int | None:
    """The capacity the burst policy sets for ``visible`` messages (None below the first band)."""
    for band in bands:
        if visible >= band.lower and (band.upper is None or visible < band.upper):
            return band.capacity
    return None


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


def backlog_target_tracking(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.ScalableTarget,
    queue_name: str,
    cluster_name: str,
    service_name: str,
    target: int,
) -> appscaling.CfnScalingPolicy:
    """Target tracking on ``(visible + in-flight) / running tasks`` with metric math."""
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
    return appscaling.CfnScalingPolicy(
        scope,
        construct_id,
        policy_name=f"{service_name}-backlog-per-task",
        policy_type="TargetTrackingScaling",
        scaling_target_id=scalable_target.scalable_target_id,
        target_tracking_scaling_policy_configuration=appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
            target_value=target,
            scale_out_cooldown=defaults.SCALE_OUT_COOLDOWN_SECONDS,
            scale_in_cooldown=defaults.SCALE_IN_COOLDOWN_SECONDS,
            disable_scale_in=False,
            customized_metric_specification=appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                metrics=[
                    _queue_metric_query("visible", "ApproximateNumberOfMessagesVisible", queue_name),
                    _queue_metric_query("inflight", "ApproximateNumberOfMessagesNotVisible", queue_name),
                    running,
                    appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
                        id="backlogpertask",
                        expression="(visible + inflight) / running",
                        label="Messages per running task",
                        return_data=True,
                    ),
                ]
            ),
        ),
    )


def _visible(queue: sqs.IQueue) -> cloudwatch.Metric:
    return queue.metric_approximate_number_of_messages_visible(
        period=Duration.seconds(defaults.SCALING_PERIOD_SECONDS), statistic="Maximum"
    )


def _desired(cluster_name: str, service_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=CONTAINER_INSIGHTS_NAMESPACE,
        metric_name="DesiredTaskCount",
        dimensions_map={"ClusterName": cluster_name, "ServiceName": service_name},
        period=Duration.seconds(defaults.SCALING_PERIOD_SECONDS),
        statistic="Maximum",
    )


def scale_from_zero(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.ScalableTarget,
    queue: sqs.IQueue,
    cluster_name: str,
    service_name: str,
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """Add ``SCALE_FROM_ZERO_TASKS`` when messages are visible and the service wants no task.

    ChangeInCapacity, not ExactCapacity: if the burst policy has just set a larger count from
    the same minute's data, adding one overshoots by a task instead of cutting the burst.
    """
    action = appscaling.StepScalingAction(
        scope,
        construct_id,
        scaling_target=scalable_target,
        adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown=Duration.seconds(defaults.SCALE_OUT_COOLDOWN_SECONDS),
        metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
    )
    action.add_adjustment(adjustment=defaults.SCALE_FROM_ZERO_TASKS, lower_bound=0)
    # Container Insights may publish nothing for a service at zero: FILL reads that as zero.
    signal = cloudwatch.MathExpression(
        expression="IF(visible > 0 AND FILL(desired, 0) == 0, 1, 0)",
        using_metrics={"visible": _visible(queue), "desired": _desired(cluster_name, service_name)},
        label="Messages waiting and no task wanted",
        period=Duration.seconds(defaults.SCALING_PERIOD_SECONDS),
    )
    alarm = cloudwatch.Alarm(
        scope,
        f"{construct_id}Alarm",
        alarm_description=f"{service_name}: messages are waiting and no task runs; start one.",
        metric=signal,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.ApplicationScalingAction(action))
    return action, alarm


def burst_step_scaling(
    scope: Construct,
    construct_id: str,
    *,
    scalable_target: appscaling.ScalableTarget,
    queue: sqs.IQueue,
    cluster_name: str,
    service_name: str,
    target: int,
    bands: tuple[Band, ...],
) -> tuple[appscaling.StepScalingAction, cloudwatch.Alarm]:
    """The burst fast path: ExactCapacity bands on one-minute visible messages.

    The alarm's metric is the visible count only while ``visible > desired * target`` (the
    tasks wanted cannot drain it within the latency), else 0. A band's capacity ``c`` is at
    least ``visible / target`` > desired, so this policy never scales in.
    """
    action = appscaling.StepScalingAction(
        scope,
        construct_id,
        scaling_target=scalable_target,
        adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
        cooldown=Duration.seconds(defaults.SCALE_OUT_COOLDOWN_SECONDS),
        metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
    )
    for band in bands:
        action.add_adjustment(adjustment=band.capacity, lower_bound=band.lower, upper_bound=band.upper)
    signal = cloudwatch.MathExpression(
        expression=f"IF(visible > FILL(desired, 0) * {target}, visible, 0)",
        using_metrics={"visible": _visible(queue), "desired": _desired(cluster_name, service_name)},
        label="Visible messages beyond what the wanted tasks drain in time",
        period=Duration.seconds(defaults.SCALING_PERIOD_SECONDS),
    )
    alarm = cloudwatch.Alarm(
        scope,
        f"{construct_id}Alarm",
        alarm_description=(
            f"{service_name}: the visible backlog needs more than the wanted tasks to drain within the acceptable "
            "latency; set the capacity that does."
        ),
        metric=signal,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cw_actions.ApplicationScalingAction(action))
    return action, alarm
