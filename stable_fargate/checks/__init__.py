"""StableFargateChecks: the library's cdk-nag 3 pack, for any CDK app (build side).

    from aws_cdk import Validations
    from stable_fargate import StableFargateChecks

    Validations.of(app).add_plugins(StableFargateChecks(app))

The pack and every rule's id, level and texts are in :mod:`stable_fargate.checks.pack`; the
rules, one per module, in :mod:`stable_fargate.checks.rules`; RULES.md lists them.
"""

from stable_fargate.checks.pack import PACK_NAME, RULES, RULES_BY_ID, Instability, RuleSpec, StableFargateChecks, rules_markdown

__all__ = ["PACK_NAME", "RULES", "RULES_BY_ID", "Instability", "RuleSpec", "StableFargateChecks", "rules_markdown"]
