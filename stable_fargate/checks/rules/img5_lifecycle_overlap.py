"""SF-IMG5: an ECR lifecycle rule that keeps the last N images also counts another rule's images.

ECR evaluates every rule of a policy together: a rule counts every image its selection
matches, including images that a higher-priority rule's selection also matches (and that it
therefore cannot expire), while an image goes to the highest-priority rule that matches it.
So a count rule (``imageCountMoreThan``) over ``tagPrefixList: ["v"]`` counts release
candidates ``v1.9.0-rc.1`` that a ``v*-*`` rule keeps: thirty candidates leave no room for
releases, and the release prod runs expires.

Reads the repository's LifecyclePolicy.LifecyclePolicyText (and a repository creation
template's LifecyclePolicy). A prefix ``p`` reads as the pattern ``p*`` (ECR ignores the prefixes
of a rule that also has patterns). A tagged count rule C
is non-compliant when another tagged rule O can match a tag that C matches and either

* O has the higher priority and the shared tags come from one of O's wildcard patterns: C
  counts images that it cannot expire, as many as O keeps (a pattern without a wildcard names
  one image, since a tag is on one image at a time: such a rule pins that image and costs a
  count rule one slot, which is how referenced releases are protected, and is not flagged), or
* C has the higher priority and its selection is not inside O's: C takes, and expires by its
  own count, images that O was written for (a pin placed after a broader count rule pins nothing).

A narrower rule placed first (``v*-*`` before ``v``) is what a sound policy looks like: it is
not flagged for itself. Rules with tagStatus ``untagged`` or ``any`` (ECR's catch-all, last by
ECR's own requirement) are not compared. A policy text that is an intrinsic, or not JSON: not
applicable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import values, wildcards
from stable_fargate.checks.template import Resource

REPOSITORY = "AWS::ECR::Repository"
CREATION_TEMPLATE = "AWS::ECR::RepositoryCreationTemplate"
RESOURCE_TYPES = (REPOSITORY, CREATION_TEMPLATE)

COUNT_TYPE = "imageCountMoreThan"


@dataclass(frozen=True)
class Selection:
    priority: float
    counts: bool
    patterns: tuple[str, ...]


def selections(policy: Mapping[str, Any]) -> list[Selection]:
    """The tagged rules of a lifecycle policy, each as wildcard patterns."""
    found = []
    for rule in values.as_list(policy.get("rules")):
        selection = values.dig(rule, "selection")
        priority = values.number(values.dig(rule, "rulePriority"))
        if not isinstance(selection, Mapping) or priority is None or selection.get("tagStatus") != "tagged":
            continue
        # ECR uses tagPrefixList only when there is no tagPatternList.
        patterns = [p for p in values.as_list(selection.get("tagPatternList")) if isinstance(p, str)]
        if not patterns:
            patterns = [f"{p}{wildcards.WILDCARD}" for p in values.as_list(selection.get("tagPrefixList")) if isinstance(p, str)]
        if patterns:
            found.append(Selection(priority, selection.get("countType") == COUNT_TYPE, tuple(patterns)))
    return found


def _overlap(first: Selection, second: Selection, *, through_wildcards_of_second: bool = False) -> bool:
    return any(
        wildcards.intersects(a, b)
        for a in first.patterns
        for b in second.patterns
        if not through_wildcards_of_second or wildcards.WILDCARD in b
    )


def _inside(inner: Selection, outer: Selection) -> bool:
    return all(any(wildcards.includes(o, i) for o in outer.patterns) for i in inner.patterns)


def counts_foreign_images(policy: Mapping[str, Any]) -> bool:
    rules = selections(policy)
    for counting in (r for r in rules if r.counts):
        for other in rules:
            if other is counting:
                continue
            if other.priority < counting.priority:
                if _overlap(counting, other, through_wildcards_of_second=True):
                    return True
            elif _overlap(counting, other) and not _inside(counting, other):
                return True
    return False


def _policy_text(resource: Resource) -> Any:
    if resource.type == CREATION_TEMPLATE:
        return resource.get("LifecyclePolicy")
    return resource.get("LifecyclePolicy", "LifecyclePolicyText")


def check(resource: Resource) -> NagRuleCompliance:
    text = _policy_text(resource)
    if not isinstance(text, str):
        return NagRuleCompliance.NOT_APPLICABLE
    try:
        policy = json.loads(text)
    except ValueError:
        return NagRuleCompliance.NOT_APPLICABLE
    if not isinstance(policy, Mapping):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT if counts_foreign_images(policy) else NagRuleCompliance.COMPLIANT
