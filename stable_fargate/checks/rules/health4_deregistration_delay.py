"""SF-HEALTH4: a Fargate target group drains stopping tasks for more than two minutes.

Reads the deregistration_delay.timeout_seconds attribute (ELB's default 300 s when absent);
above 120 s is non-compliant. Only ip target groups. An intrinsic value: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate import defaults
from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.TARGET_GROUP,)

MAX_DEREGISTRATION_DELAY_SECONDS = defaults.MAX_STOP_TIMEOUT_SECONDS
"""Fargate's longest stop timeout (120 s): a request that needs longer cannot finish after
SIGTERM anyway, and every rollout batch and scale-in waits for the delay."""


def check(group: Resource) -> NagRuleCompliance:
    if not ecs.is_ip_target_group(group):
        return NagRuleCompliance.NOT_APPLICABLE
    given = ecs.target_group_attribute(group, ecs.DEREGISTRATION_DELAY_ATTRIBUTE)
    delay = float(ecs.ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS) if given is None else values.number(given)
    if delay is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if delay > MAX_DEREGISTRATION_DELAY_SECONDS else NagRuleCompliance.COMPLIANT
