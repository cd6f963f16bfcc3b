"""SF-HEALTH1: a load-balanced container has no health check start period.

For each container the service registers with a target group (LoadBalancers[].ContainerName
in its task definition): non-compliant if it has no HealthCheck, or one without StartPeriod.
An explicit StartPeriod, 0 included, is a declared warm-up and compliant. Not applicable when
the task definition or the container is not in the app's templates (passed by ARN).
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)


def check(service: Resource) -> NagRuleCompliance:
    registered = ecs.registrations(service)
    if not registered:
        return NagRuleCompliance.NOT_APPLICABLE
    known = [r.container for r in registered if r.container is not None]
    if any(values.dig(c, "HealthCheck", "StartPeriod") is None for c in known):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT if len(known) == len(registered) else NagRuleCompliance.NOT_APPLICABLE
