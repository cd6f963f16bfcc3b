"""SF-IMG5's verdicts against the ECR lifecycle model (tests/aws_models/ecr_lifecycle.py,
which follows ECR's documented evaluation rules): over six weeks of daily pushes, releases and
release candidates, does a count rule expire one of its own images early because it counted
images that another rule keeps, or does a pinned image expire? The rule flags exactly the
policies where the model shows that harm, plus one it flags by intent (a broad count rule
first swallows the images a narrower rule after it was written for: the model has no notion
of what a rule was written for)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from stable_fargate.checks.rules.img5_lifecycle_overlap import counts_foreign_images
from tests.aws_models.ecr_lifecycle import Image, Rule, evaluate, validate_policy

START = datetime(2025, 1, 1)
DAYS = 42
RELEASE_EVERY = 3
"""A release every third day, a release candidate on the others: 14 releases, 28 candidates."""

PINNED = ("v1.0.0", "v1.1.0-rc.1")
"""The oldest release and the oldest candidate: what two environments still run."""


def _push(day: int) -> Image:
    tag = f"v1.{day}.0" if day % RELEASE_EVERY == 0 else f"v1.{day}.0-rc.1"
    return Image.pushed(f"sha256:{day:064d}", START + timedelta(days=day), tag)


def _is_pin(rule: Rule) -> bool:
    return rule.tag_status == "tagged" and bool(rule.patterns) and all("*" not in p for p in rule.patterns)


def model_harm(policy: dict[str, Any]) -> bool:
    """Whether, on some day, a count rule expires an image it owns although fewer than its
    count of its own (or pinned) images are newer, or an image that a pin rule selects expires."""
    rules = validate_policy(policy)
    pins = [r for r in rules if _is_pin(r)]
    repository: dict[str, Image] = {}
    for day in range(DAYS):
        image = _push(day)
        repository[image.digest] = image
        now = START + timedelta(days=day, hours=12)
        result = evaluate(policy, repository.values(), now)
        for digest, priority in result.expired.items():
            expired = repository[digest]
            if any(pin.selects(expired) for pin in pins):
                return True
            rule = next(r for r in rules if r.priority == priority)
            if rule.count_type != "imageCountMoreThan":
                continue
            newer = [i for i in repository.values() if i.pushed_at > expired.pushed_at and rule.selects(i)]
            kept_for_rule = [
                i for i in newer
                if result.owner.get(i.digest) == priority or _is_pin(next(r for r in rules if r.priority == result.owner.get(i.digest)))
            ]
            if len(kept_for_rule) < rule.count_number:
                return True
        for digest in result.expired:
            del repository[digest]
    return False


def _rule(priority: int, selection: dict[str, Any]) -> dict[str, Any]:
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def _count(priority: int, count: int, **tags: list[str]) -> dict[str, Any]:
    return _rule(priority, {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": count, **tags})


def _by_age(priority: int, days: int, **tags: list[str]) -> dict[str, Any]:
    return _rule(priority, {"tagStatus": "tagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days, **tags})


UNTAGGED = _rule(1, {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7})

POLICIES: dict[str, tuple[list[dict[str, Any]], bool, bool]] = {
    # name: (rules, the rule flags it, the model shows harm)
    "before issue 8: candidates, then releases counted by prefix": (
        [UNTAGGED, _count(2, 20, tagPatternList=["v*-*"]), _count(3, 10, tagPrefixList=["v"])], True, True,
    ),
    "after issue 8: pins, candidates counted, releases by age": (
        [_count(1, 1, tagPatternList=[PINNED[0]]), _count(2, 1, tagPatternList=[PINNED[1]]),
         {**UNTAGGED, "rulePriority": 3}, _count(4, 20, tagPatternList=["v*-*"]), _by_age(5, 365, tagPrefixList=["v"])],
        False, False,
    ),
    "narrow first, broad by age": ([_count(1, 20, tagPatternList=["v*-*"]), _by_age(2, 365, tagPrefixList=["v"])], False, False),
    "pin after a broad count rule": ([_count(1, 10, tagPrefixList=["v"]), _count(2, 1, tagPatternList=[PINNED[0]])], True, True),
    "broad count first (flagged by intent)": ([_count(1, 10, tagPrefixList=["v"]), _by_age(2, 365, tagPatternList=["v*-*"])], True, False),
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_verdict_matches_the_model(name: str) -> None:
    rules, flagged, harmed = POLICIES[name]
    policy = {"rules": rules}
    validate_policy(json.dumps(policy))  # a policy ECR would accept
    assert counts_foreign_images(policy) is flagged
    assert model_harm(policy) is harmed
