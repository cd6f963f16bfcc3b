"""SF-IMG4: an ECR repository has no lifecycle policy.

Non-compliant without LifecyclePolicy.LifecyclePolicyText. Whether the policy's rules are
sound is SF-IMG5's question.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks.template import Resource

REPOSITORY = "AWS::ECR::Repository"
RESOURCE_TYPES = (REPOSITORY,)


def check(repository: Resource) -> NagRuleCompliance:
    if repository.get("LifecyclePolicy", "LifecyclePolicyText") is None:
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT
