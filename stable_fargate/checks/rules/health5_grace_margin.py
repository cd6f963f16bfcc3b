"""SF-HEALTH5: the grace period leaves no margin for the target group's checks.

A task is counted healthy at the earliest after its warm-up (the container's StartPeriod, 0
when it declares none), then HealthyThresholdCount passing checks; the check in flight when
the warm-up ends and its timeout come on top. The floor is

    StartPeriod + (HealthyThresholdCount + 1) x HealthCheckIntervalSeconds + HealthCheckTimeoutSeconds

with ELB's defaults for absent values (30 s interval, 5 checks, 5 s timeout: the smallest
default timeout, so the floor errs low). A grace period (ECS default 0) below the floor of
any target group the service registers with is non-compliant: a good release can be stopped
seconds before it would pass. The library adds a further task-start allowance on top; the
rule's floor does not, so it flags only grace periods that cannot be enough. A start period
that is an intrinsic counts as 0 (the floor errs low). Not applicable when no target group of
the service is in the app's templates, or its timing or the grace period is an intrinsic.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)


def grace_floor(start_period: float, timing: ecs.TargetGroupTiming) -> float:
    """The shortest grace period that cannot stop a task that answers right after its warm-up."""
    return start_period + (timing.healthy_threshold + 1) * timing.interval + timing.timeout


def check(service: Resource) -> NagRuleCompliance:
    grace = ecs.grace_period(service)
    floors = []
    for registration in ecs.registrations(service):
        if registration.target_group is None:
            continue
        timing = ecs.target_group_timing(registration.target_group)
        start = ecs.start_period(registration.container) if registration.container is not None else None
        if timing is None:
            continue
        floors.append(grace_floor(start or 0.0, timing))
    if not floors or grace is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if grace < max(floors) else NagRuleCompliance.COMPLIANT
