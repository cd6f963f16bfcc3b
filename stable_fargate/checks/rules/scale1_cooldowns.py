"""SF-SCALE1: target tracking on an ECS service scales in faster than every 5 minutes or
out slower than every 2.

Reads a TargetTrackingScaling policy's ScaleInCooldown and ScaleOutCooldown, with
Application Auto Scaling's defaults for ECS services (300 s each) when absent. Non-compliant
when scale-in may repeat within 300 s (a dip starts a saw-tooth of launches, each billed by
the second with a one-minute minimum) unless scale-in is disabled, or when scale-out waits
more than 120 s (load does not wait). Only policies whose scalable target is an ECS service
(ScalingTargetId naming one in the app, or the policy's own ServiceNamespace ``ecs``). A
cooldown that is an intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate import defaults
from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource
from stable_fargate.review.services import TARGET_TRACKING_COOLDOWN_SECONDS as AAS_DEFAULT_ECS_COOLDOWN_SECONDS

RESOURCE_TYPES = (ecs.SCALING_POLICY,)

MIN_SCALE_IN_COOLDOWN_SECONDS = defaults.SCALE_IN_COOLDOWN_SECONDS
"""300 s, the library's damped scale-in."""

MAX_SCALE_OUT_COOLDOWN_SECONDS = 120
"""Twice the library's 60 s: slower than that, a spike outlasts the first step."""


def _is_ecs_policy(policy: Resource) -> bool:
    target = ecs.target_of_policy(policy)
    if target is not None:
        return ecs.is_ecs_scalable_target(target)
    return values.text(policy.get("ServiceNamespace")) == "ecs"


def check(policy: Resource) -> NagRuleCompliance:
    configuration = policy.get("TargetTrackingScalingPolicyConfiguration")
    if configuration is None or not _is_ecs_policy(policy):
        return NagRuleCompliance.NOT_APPLICABLE

    def cooldown(name: str) -> float | None:
        given = values.dig(configuration, name)
        return float(AAS_DEFAULT_ECS_COOLDOWN_SECONDS) if given is None else values.number(given)

    scale_in, scale_out = cooldown("ScaleInCooldown"), cooldown("ScaleOutCooldown")
    scales_in = values.boolean(values.dig(configuration, "DisableScaleIn")) is not True
    if (scales_in and scale_in is not None and scale_in < MIN_SCALE_IN_COOLDOWN_SECONDS) or (
        scale_out is not None and scale_out > MAX_SCALE_OUT_COOLDOWN_SECONDS
    ):
        return NagRuleCompliance.NON_COMPLIANT
    if (scales_in and scale_in is None) or scale_out is None:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT
