"""SF-HEALTH2: the ECS health-check grace period ends before the container's warm-up does.

Compares HealthCheckGracePeriodSeconds (ECS's default 0 when absent) with the StartPeriod of
each load-balanced container. Non-compliant when the grace period is shorter than a start
period. Not applicable without a known start period (SF-HEALTH1 covers that) or when the
grace period is an intrinsic.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)


def check(service: Resource) -> NagRuleCompliance:
    starts = [ecs.start_period(r.container) for r in ecs.registrations(service) if r.container is not None]
    known = [s for s in starts if s is not None]
    grace = ecs.grace_period(service)
    if not known or grace is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if grace < max(known) else NagRuleCompliance.COMPLIANT
