"""SF-IMG3: an ECR repository does not scan images when they are pushed.

Compliant when ImageScanningConfiguration.ScanOnPush is true, or when a registry scanning
configuration (AWS::ECR::RegistryScanningConfiguration) of a stack of the app that deploys to
the same account and region (the same stack, or both with an explicit, equal environment)
has a rule that scans on push or continuously whose wildcard filter matches the repository's
name (a repository without a literal name matches only ``*``). ScanOnPush an intrinsic: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import values, wildcards
from stable_fargate.checks.template import Resource

REPOSITORY = "AWS::ECR::Repository"
REGISTRY_SCANNING = "AWS::ECR::RegistryScanningConfiguration"
RESOURCE_TYPES = (REPOSITORY,)

SCANNING_FREQUENCIES = frozenset({"SCAN_ON_PUSH", "CONTINUOUS_SCAN"})


def _registry_scans(repository: Resource) -> bool:
    name = values.text(repository.get("RepositoryName"))
    for configuration in repository.stack.everywhere(REGISTRY_SCANNING):
        if not repository.stack.shares_account_region(configuration.stack):
            continue
        for rule in values.as_list(configuration.get("Rules")):
            if values.dig(rule, "ScanFrequency") not in SCANNING_FREQUENCIES:
                continue
            for found in values.as_list(values.dig(rule, "RepositoryFilters")):
                pattern = values.dig(found, "Filter")
                if isinstance(pattern, str) and (pattern == wildcards.WILDCARD or (name is not None and wildcards.matches(pattern, name))):
                    return True
    return False


def check(repository: Resource) -> NagRuleCompliance:
    scan = repository.get("ImageScanningConfiguration", "ScanOnPush")
    if scan is not None and values.boolean(scan) is None:
        return NagRuleCompliance.NOT_APPLICABLE
    if values.boolean(scan) is True or _registry_scans(repository):
        return NagRuleCompliance.COMPLIANT
    return NagRuleCompliance.NON_COMPLIANT
