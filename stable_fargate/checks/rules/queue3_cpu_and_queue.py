"""SF-QUEUE3: a worker is scaled both on CPU and on its queue.

For an ECS service's scalable target, classifies each scaling policy that targets it by what
it watches: a target tracking policy's predefined metric (``ECSServiceAverageCPUUtilization``)
or customized metric(s), a step policy's alarms (every alarm in the app whose AlarmActions
name the policy). Non-compliant when one policy watches CPU (``AWS/ECS`` CPUUtilization,
Container Insights CpuUtilized) and another, or the same, watches an ``AWS/SQS`` metric: the
two signals pull against each other (a backlog of slow I/O-bound messages keeps CPU low, so
the CPU policy scales in while the queue policy scales out). Metrics that are intrinsics are
simply not recognised (the rule can only miss, never invent, a second signal).
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, metrics
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SCALABLE_TARGET,)


def watched(policy: Resource) -> list[metrics.MetricRef]:
    found = metrics.target_tracking_metrics(policy)
    for alarm in ecs.alarms_invoking(policy):
        found.extend(metrics.alarm_metrics(alarm))
    return found


def check(target: Resource) -> NagRuleCompliance:
    if not ecs.is_ecs_scalable_target(target):
        return NagRuleCompliance.NOT_APPLICABLE
    cpu = queue = False
    for scaling_policy in ecs.policies_of(target):
        cpu = cpu or metrics.predefined_metric(scaling_policy) == metrics.CPU_PREDEFINED
        for metric in watched(scaling_policy):
            cpu = cpu or metric.is_cpu
            queue = queue or metric.is_queue
    return NagRuleCompliance.NON_COMPLIANT if cpu and queue else NagRuleCompliance.COMPLIANT
