"""SF-HEALTH3: a Fargate target group needs more than a minute to count a new task healthy.

HealthyThresholdCount x HealthCheckIntervalSeconds, with ELB's defaults (5 x 30 s = 150 s)
for absent values, above 60 s is non-compliant. Only ip target groups (Fargate tasks
register by IP). An intrinsic threshold or interval: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.TARGET_GROUP,)

MAX_SECONDS_TO_HEALTHY = 60
"""A new task takes traffic within a minute of answering (the library's default is 20 s:
2 x 10 s); aws_ecs_patterns' 150 s makes every rollout batch and scale-out wait."""


def check(group: Resource) -> NagRuleCompliance:
    if not ecs.is_ip_target_group(group):
        return NagRuleCompliance.NOT_APPLICABLE
    timing = ecs.target_group_timing(group)
    if timing is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if timing.seconds_to_healthy > MAX_SECONDS_TO_HEALTHY else NagRuleCompliance.COMPLIANT

