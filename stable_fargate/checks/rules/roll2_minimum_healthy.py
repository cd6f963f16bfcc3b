"""SF-ROLL2: a service of two or more tasks may run below its desired count during a rollout.

Reads DeploymentConfiguration.MinimumHealthyPercent (ECS's default for a replica service is
100 when absent) and the steady-state task count: DesiredCount (CloudFormation creates one
task when absent) or the MinCapacity of a scalable target whose ResourceId names the
service, whichever is larger. Below 100 % with at least two tasks: non-compliant. A single
task, or a count that is an intrinsic everywhere: not applicable; a MinimumHealthyPercent
that is an intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource
from stable_fargate.review.services import ECS_MINIMUM_HEALTHY_PERCENT as ECS_DEFAULT_MINIMUM_HEALTHY_PERCENT

RESOURCE_TYPES = (ecs.SERVICE,)

FULL_CAPACITY_PERCENT = 100
MIN_TASKS = 2
"""With one task there is no capacity to keep: the rule is about services sized for load."""


def check(service: Resource) -> NagRuleCompliance:
    if not ecs.uses_ecs_deployments(service) or service.get("SchedulingStrategy") == "DAEMON":
        return NagRuleCompliance.NOT_APPLICABLE
    given = service.get("DeploymentConfiguration", "MinimumHealthyPercent")
    minimum = float(ECS_DEFAULT_MINIMUM_HEALTHY_PERCENT) if given is None else values.number(given)
    if minimum is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if minimum >= FULL_CAPACITY_PERCENT:
        return NagRuleCompliance.COMPLIANT
    tasks = ecs.tasks_at_least(service)
    if tasks is None or tasks < MIN_TASKS:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT
