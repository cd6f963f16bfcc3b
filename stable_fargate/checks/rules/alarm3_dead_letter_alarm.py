"""SF-ALARM3: an alarm on a dead-letter queue's visible messages pages once, then never again.

An alarm that reads ``ApproximateNumberOfMessagesVisible`` of a dead-letter queue (its
QueueName dimension names a queue of the app that is a DLQ, see SF-QUEUE1) against a static
threshold (no ThresholdMetricId) goes to ALARM on the first poison message and stays there
until someone empties the queue: the second, tenth and hundredth failure send nothing
(CloudWatch notifies on state changes). Non-compliant; alarm on arrivals instead (a rate or
difference of the queue's messages, with OK actions). Alarms whose returned series is a
metric-math expression are not applicable (an expression may well compute arrivals), as are
dimensions that are intrinsics the app cannot resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, metrics, sqs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.ALARM,)

VISIBLE = "ApproximateNumberOfMessagesVisible"


def _returned_metric(alarm: Resource) -> metrics.MetricRef | None:
    """The series the alarm compares with its threshold, when it is a plain metric."""
    if alarm.get("MetricName") is not None:
        found = metrics.alarm_metrics(alarm)
        return found[0] if found else None
    band = alarm.get("ThresholdMetricId")
    queries = [q for q in values.as_list(alarm.get("Metrics")) if isinstance(q, Mapping) and q.get("Id") != band]
    returned = [q for q in queries if values.boolean(q.get("ReturnData")) is not False]
    chosen: Any = returned[0] if len(returned) == 1 else (queries[0] if len(queries) == 1 else None)
    if not isinstance(chosen, Mapping) or "MetricStat" not in chosen:
        return None
    metric = values.dig(chosen, "MetricStat", "Metric")
    if not isinstance(metric, Mapping):
        return None
    dimensions = tuple(d for d in values.as_list(metric.get("Dimensions")) if isinstance(d, Mapping))
    return metrics.MetricRef(metric.get("Namespace"), metric.get("MetricName"), values.dig(chosen, "MetricStat", "Period"), dimensions)


def _queue_of(alarm: Resource, metric: metrics.MetricRef) -> Resource | None:
    for dimension in metric.dimensions:
        if dimension.get("Name") != "QueueName":
            continue
        value = dimension.get("Value")
        found = alarm.target(value)
        if found is not None:
            return found if found.type == sqs.QUEUE else None
        if isinstance(value, str):
            return next((q for q in alarm.stack.everywhere(sqs.QUEUE) if q.get("QueueName") == value), None)
    return None


def check(alarm: Resource) -> NagRuleCompliance:
    metric = _returned_metric(alarm)
    if metric is None or not metric.is_queue or metric.name != VISIBLE:
        return NagRuleCompliance.NOT_APPLICABLE
    queue = _queue_of(alarm, metric)
    if queue is None or not sqs.is_dead_letter_queue(queue):
        return NagRuleCompliance.NOT_APPLICABLE
    if alarm.get("ThresholdMetricId") is not None:
        return NagRuleCompliance.COMPLIANT
    return NagRuleCompliance.NON_COMPLIANT
