"""SF-ROLL1: an ECS service deploys without the circuit breaker rolling back.

Reads the service's DeploymentConfiguration.DeploymentCircuitBreaker: compliant only when
Enable and Rollback are both true. Not applicable to services whose deployments another
controller runs (CODE_DEPLOY, EXTERNAL). Either flag an intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)


def check(service: Resource) -> NagRuleCompliance:
    if not ecs.uses_ecs_deployments(service):
        return NagRuleCompliance.NOT_APPLICABLE
    breaker = service.get("DeploymentConfiguration", "DeploymentCircuitBreaker")
    if breaker is None:
        return NagRuleCompliance.NON_COMPLIANT
    enable = values.boolean(values.dig(breaker, "Enable"))
    rollback = values.boolean(values.dig(breaker, "Rollback"))
    if enable is False or rollback is False:
        return NagRuleCompliance.NON_COMPLIANT
    if enable is None or rollback is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT
