"""What a scaling policy or an alarm watches: the CloudWatch metrics named in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stable_fargate.checks import values
from stable_fargate.checks.template import Resource

SQS_NAMESPACE = "AWS/SQS"

CPU_METRICS = frozenset({("AWS/ECS", "CPUUtilization"), ("ECS/ContainerInsights", "CpuUtilized")})
"""A service's CPU, as ECS and Container Insights publish it."""

CPU_PREDEFINED = "ECSServiceAverageCPUUtilization"


@dataclass(frozen=True)
class MetricRef:
    namespace: Any
    name: Any
    period: Any
    dimensions: tuple[Mapping[str, Any], ...] = ()

    @property
    def is_queue(self) -> bool:
        return values.text(self.namespace) == SQS_NAMESPACE

    @property
    def is_cpu(self) -> bool:
        return (self.namespace, self.name) in CPU_METRICS


def _from_stat(stat: Any) -> MetricRef | None:
    metric = values.dig(stat, "Metric")
    if not isinstance(metric, Mapping):
        return None
    return MetricRef(
        metric.get("Namespace"), metric.get("MetricName"), values.dig(stat, "Period"),
        tuple(d for d in values.as_list(metric.get("Dimensions")) if isinstance(d, Mapping)),
    )


def alarm_metrics(alarm: Resource) -> list[MetricRef]:
    """The metrics an alarm reads: its single metric, or every MetricStat of its Metrics."""
    if alarm.get("MetricName") is not None:
        dimensions = tuple(d for d in values.as_list(alarm.get("Dimensions")) if isinstance(d, Mapping))
        return [MetricRef(alarm.get("Namespace"), alarm.get("MetricName"), alarm.get("Period"), dimensions)]
    found = [_from_stat(q.get("MetricStat")) for q in values.as_list(alarm.get("Metrics")) if isinstance(q, Mapping)]
    return [m for m in found if m is not None]


def target_tracking_metrics(policy: Resource) -> list[MetricRef]:
    """The metrics of a target tracking policy's customized metric (single or metric math)."""
    spec = policy.get("TargetTrackingScalingPolicyConfiguration", "CustomizedMetricSpecification")
    if not isinstance(spec, Mapping):
        return []
    if spec.get("MetricName") is not None:
        return [MetricRef(spec.get("Namespace"), spec.get("MetricName"), None)]
    found = [_from_stat(q.get("MetricStat")) for q in values.as_list(spec.get("Metrics")) if isinstance(q, Mapping)]
    return [m for m in found if m is not None]


def predefined_metric(policy: Resource) -> Any:
    return policy.get("TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification", "PredefinedMetricType")
