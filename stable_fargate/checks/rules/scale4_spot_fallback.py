"""SF-SCALE4: a service on Fargate Spot has no on-demand capacity to fall back on.

Reads the service's CapacityProviderStrategy, or, when it has neither a strategy nor a
LaunchType, its cluster's default strategy (the cluster's DefaultCapacityProviderStrategy or
an AWS::ECS::ClusterCapacityProviderAssociations for it in the app). Non-compliant when
FARGATE_SPOT takes tasks (weight or base above 0) and no FARGATE entry has a base or weight
of at least 1: when Spot has no capacity in the region, or reclaims every task at once, the
service runs nothing. Values that are intrinsics: not applicable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.SERVICE,)

SPOT = "FARGATE_SPOT"
ON_DEMAND = "FARGATE"
ASSOCIATIONS = "AWS::ECS::ClusterCapacityProviderAssociations"


def _cluster_default(service: Resource) -> list[Any]:
    cluster = service.target(service.get("Cluster"))
    if cluster is None:
        return []
    strategy = values.as_list(cluster.get("DefaultCapacityProviderStrategy"))
    for association in cluster.stack.everywhere(ASSOCIATIONS):
        if association.refers_to(association.get("Cluster"), cluster):
            strategy = strategy or values.as_list(association.get("DefaultCapacityProviderStrategy"))
    return strategy


def strategy_of(service: Resource) -> list[Any]:
    own = service.get("CapacityProviderStrategy")
    if own is not None:
        return values.as_list(own)
    if service.get("LaunchType") is not None:
        return []
    return _cluster_default(service)


def check(service: Resource) -> NagRuleCompliance:
    entries = [e for e in strategy_of(service) if isinstance(e, Mapping)]

    def amounts(provider: str) -> list[tuple[float | None, float | None]]:
        return [
            (values.number(e.get("Base", 0)), values.number(e.get("Weight", 0)))
            for e in entries if e.get("CapacityProvider") == provider
        ]

    spot = amounts(SPOT)
    if not spot:
        return NagRuleCompliance.NOT_APPLICABLE
    on_demand = amounts(ON_DEMAND)
    if any((base or 0) >= 1 or (weight or 0) >= 1 for base, weight in on_demand):
        return NagRuleCompliance.COMPLIANT
    if any(None in pair for pair in on_demand + spot):
        return NagRuleCompliance.NOT_APPLICABLE
    if all((base or 0) == 0 and (weight or 0) == 0 for base, weight in spot):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT
