"""SF-SCALE2: an ECS service's scalable target has no real maximum.

CloudFormation requires MaxCapacity, so "no maximum" is written as a number nothing will
reach. The rule calls a maximum absent when it is at least ECS's quota of tasks per service
(5,000): at that size only the quota, not the owner, bounds the bill and the load on every
dependency (databases, APIs). Only ECS service targets; an intrinsic MaxCapacity: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SCALABLE_TARGET,)

ECS_TASKS_PER_SERVICE_QUOTA = 5000
"""ECS's service quota "tasks per service": a MaxCapacity at or above it limits nothing."""


def check(target: Resource) -> NagRuleCompliance:
    if not ecs.is_ecs_scalable_target(target):
        return NagRuleCompliance.NOT_APPLICABLE
    maximum = values.number(target.get("MaxCapacity"))
    if maximum is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if maximum >= ECS_TASKS_PER_SERVICE_QUOTA else NagRuleCompliance.COMPLIANT
