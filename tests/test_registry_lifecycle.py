"""The registry's lifecycle policies, as synthesized, replayed over push histories by the ECR
lifecycle model (tests/aws_models/ecr_lifecycle.py, which follows ECR's documented evaluation
rules): no rule ever expires a release an environment in cdk.json runs, however many releases
and candidates come after it, and candidates never push a release out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.aws_models.ecr_lifecycle import Image, run_history, validate_policy
from tests.conftest import SampleApp, template_json

START = datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def policies(sample_app: SampleApp) -> dict[str, str]:
    """repository name -> its lifecycle policy text, from the Registry template."""
    registry = next(stack for env, stack in sample_app.stacks() if env == "tooling")
    out = {}
    for resource in template_json(registry)["Resources"].values():
        if resource["Type"] == "AWS::ECR::Repository":
            out[resource["Properties"]["RepositoryName"]] = resource["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    return out


@pytest.fixture(scope="module")
def referenced(sample_app: SampleApp) -> dict[str, set[str]]:
    tags: dict[str, set[str]] = {}
    for env in sample_app.config.environments:
        for service, tag in env.images.items():
            tags.setdefault(service, set()).add(tag)
    return tags


def test_every_policy_is_one_ecr_accepts(policies: dict[str, str]) -> None:
    assert set(policies) == {"portfolio-api", "portfolio-import", "reconciliation"}
    for text in policies.values():
        validate_policy(text)


# A day of a busy repository: some releases, some candidates, some untagged pushes.
_DAY = st.tuples(st.integers(0, 2), st.integers(0, 8), st.integers(0, 2))


def _history(referenced_tags: set[str], days: list[tuple[int, int, int]]) -> list[Image]:
    """The referenced tags first (they are what environments run today), then the days' pushes,
    each release a new patch version, each candidate a new rc."""
    pushes = [Image.pushed(f"ref-{tag}", START, tag) for tag in sorted(referenced_tags)]
    patch = rc = untagged = 0
    for day, (releases, candidates, blobs) in enumerate(days, start=1):
        at = START + timedelta(days=day)
        for _ in range(releases):
            patch += 1
            pushes.append(Image.pushed(f"rel-{patch}", at, f"v9.0.{patch}"))
        for _ in range(candidates):
            rc += 1
            pushes.append(Image.pushed(f"rc-{rc}", at, f"v9.1.0-rc.{rc}"))
        for _ in range(blobs):
            untagged += 1
            pushes.append(Image.pushed(f"blob-{untagged}", at))
    return pushes


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(_DAY, min_size=1, max_size=60), service=st.sampled_from(["portfolio-api", "portfolio-import", "reconciliation"]))
def test_no_rule_ever_expires_a_release_an_environment_runs(
    policies: dict[str, str], referenced: dict[str, set[str]], days: list[tuple[int, int, int]], service: str
) -> None:
    history = run_history(policies[service], _history(referenced[service], days), until=START + timedelta(days=400))
    survivors = {tag for image in history.survivors for tag in image.tags}
    assert referenced[service] <= survivors


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(_DAY, min_size=1, max_size=60))
def test_candidates_never_push_a_release_out(policies: dict[str, str], days: list[tuple[int, int, int]]) -> None:
    """The same releases expire, on the same day, with or without any number of candidates."""
    policy = policies["portfolio-api"]
    with_candidates = run_history(policy, _history(set(), days), until=START + timedelta(days=400))
    without = run_history(policy, _history(set(), [(r, 0, b) for r, _, b in days]), until=START + timedelta(days=400))

    def releases(expired: Any) -> dict[str, datetime]:
        return {digest: at for digest, at in expired.items() if digest.startswith("rel-")}

    assert releases(with_candidates.expired_at) == releases(without.expired_at)


def test_a_year_of_releases_stays_available_for_rollback(policies: dict[str, str]) -> None:
    pushes = [Image.pushed(f"rel-{d}", START + timedelta(days=d), f"v9.0.{d}") for d in range(0, 400, 10)]
    history = run_history(policies["reconciliation"], pushes, until=START + timedelta(days=400))
    kept = sorted(int(i.digest.removeprefix("rel-")) for i in history.survivors)
    assert kept[0] == 40  # 400 days on, releases pushed within the last 365 days remain


def test_the_old_count_rule_let_thirty_candidates_expire_a_release() -> None:
    """Issue 8's defect, on the model: a `v` count rule counts candidates too (a day of 30 candidates)."""
    old = json.dumps({"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPatternList": ["v*-*"], "countType": "imageCountMoreThan",
                                          "countNumber": 20}, "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                                          "countNumber": 30}, "action": {"type": "expire"}},
    ]})
    pushes = [Image.pushed("prod", START, "v1.8.0")] + [
        Image.pushed(f"rc-{n}", START + timedelta(minutes=n + 1), f"v1.9.0-rc.{n}") for n in range(30)
    ]
    history = run_history(old, pushes)
    assert "prod" in history.expired_at
