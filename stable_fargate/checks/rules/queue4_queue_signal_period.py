"""SF-QUEUE4: a scaling alarm reads its queue metric over more than a minute.

An alarm whose actions include an Application Auto Scaling policy (a ScalingPolicy of the
app, or a scaling policy ARN) and which reads an ``AWS/SQS`` metric with a Period over 60 s
is non-compliant: SQS publishes every minute, so a five-minute maximum adds up to five
minutes before a burst starts a task (aws_ecs_patterns' QueueProcessingFargateService does
this). A Period that is an intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate import defaults
from stable_fargate.checks import ecs, metrics, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.ALARM,)

MAX_PERIOD_SECONDS = defaults.SCALING_PERIOD_SECONDS
"""One minute: the resolution SQS publishes at and the library's scaling period."""

SCALING_POLICY_ARN_PARTS = (":autoscaling:", ":scalingPolicy:")


def invokes_scaling(alarm: Resource) -> bool:
    for action in values.as_list(alarm.get("AlarmActions")):
        found = alarm.target(action)
        if found is not None and found.type == ecs.SCALING_POLICY:
            return True
        if isinstance(action, str) and all(part in action for part in SCALING_POLICY_ARN_PARTS):
            return True
    return False


def check(alarm: Resource) -> NagRuleCompliance:
    queue_metrics = [m for m in metrics.alarm_metrics(alarm) if m.is_queue]
    if not queue_metrics or not invokes_scaling(alarm):
        return NagRuleCompliance.NOT_APPLICABLE
    periods = [values.number(m.period) for m in queue_metrics]
    if any(p is not None and p > MAX_PERIOD_SECONDS for p in periods):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.NOT_APPLICABLE if None in periods else NagRuleCompliance.COMPLIANT
