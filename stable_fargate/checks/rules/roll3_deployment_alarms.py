"""SF-ROLL3: a load-balanced service has no deployment alarms that roll a release back.

Reads DeploymentConfiguration.Alarms: compliant when Enable and Rollback are true and at
least one alarm is named. Only services with LoadBalancers (a service without traffic has no
error rate to judge); not applicable to CODE_DEPLOY/EXTERNAL controllers, which have their
own alarms. Flags that are intrinsics: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)


def check(service: Resource) -> NagRuleCompliance:
    if not ecs.is_load_balanced(service) or not ecs.uses_ecs_deployments(service):
        return NagRuleCompliance.NOT_APPLICABLE
    alarms = service.get("DeploymentConfiguration", "Alarms")
    if alarms is None:
        return NagRuleCompliance.NON_COMPLIANT
    enable = values.boolean(values.dig(alarms, "Enable"))
    rollback = values.boolean(values.dig(alarms, "Rollback"))
    names = values.dig(alarms, "AlarmNames")
    if enable is False or rollback is False or names == []:
        return NagRuleCompliance.NON_COMPLIANT
    if enable is None or rollback is None or not isinstance(names, list):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT
