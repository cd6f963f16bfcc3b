"""SF-IMG2: an ECR repository lets a pushed tag be overwritten.

ImageTagMutability absent (ECR's default, MUTABLE), MUTABLE or MUTABLE_WITH_EXCLUSION is
non-compliant; IMMUTABLE and IMMUTABLE_WITH_EXCLUSION (a few named tags stay mutable) are
compliant. An intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks.template import Resource

REPOSITORY = "AWS::ECR::Repository"
RESOURCE_TYPES = (REPOSITORY,)

ECR_DEFAULT_MUTABILITY = "MUTABLE"


def check(repository: Resource) -> NagRuleCompliance:
    mutability = repository.get("ImageTagMutability")
    mutability = ECR_DEFAULT_MUTABILITY if mutability is None else mutability
    if not isinstance(mutability, str):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT if mutability.startswith("IMMUTABLE") else NagRuleCompliance.NON_COMPLIANT
