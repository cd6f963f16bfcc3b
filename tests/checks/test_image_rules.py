"""SF-IMG1..5 on small stacks: container images, ECR repositories and their lifecycle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Stack
from aws_cdk import aws_ecr as ecr

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app

DIGEST = "sha256:" + "ab" * 32


def _image(image: str) -> Any:
    return lambda stack: builders.task_definition(stack, containers=[builders.container(image=image)])


def img1_ecr_latest(stack: Stack) -> None:
    # What ContainerImage.from_ecr_repository(repository) writes when no tag is given.
    repository = ecr.Repository(stack, "Repository")
    builders.task_definition(stack, containers=[builders.container(image=repository.repository_uri_for_tag("latest"))])


def img1_tag_from_parameter(stack: Stack) -> None:
    tag = CfnParameter(stack, "ImageTag")
    builders.task_definition(stack, containers=[builders.container(image=f"example/app:{tag.value_as_string}")])


def img1_second_container_moves(stack: Stack) -> None:
    builders.task_definition(
        stack,
        containers=[builders.container("app"), builders.container("sidecar", image="public.ecr.aws/aws-observability/collector:latest")],
    )


def _repository(stack: Stack, **props: Any) -> ecr.CfnRepository:
    settings: dict[str, Any] = {
        "image_tag_mutability": "IMMUTABLE",
        "image_scanning_configuration": ecr.CfnRepository.ImageScanningConfigurationProperty(scan_on_push=True),
        "lifecycle_policy": _lifecycle_policy(_UNTAGGED, _count(2, "v", prefix=True)),
        **props,
    }
    return ecr.CfnRepository(stack, "Repository", **settings)


def _registry_scan(stack: Stack, pattern: str) -> None:
    ecr.CfnRegistryScanningConfiguration(
        stack, "RegistryScanning", scan_type="ENHANCED",
        rules=[ecr.CfnRegistryScanningConfiguration.ScanningRuleProperty(
            scan_frequency="CONTINUOUS_SCAN",
            repository_filters=[ecr.CfnRegistryScanningConfiguration.RepositoryFilterProperty(filter=pattern, filter_type="WILDCARD")],
        )],
    )


_UNTAGGED = {
    "rulePriority": 1, "action": {"type": "expire"},
    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7},
}


def _count(priority: int, tag: str, *, prefix: bool, count: int = 20) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": count}
    selection["tagPrefixList" if prefix else "tagPatternList"] = [tag]
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


_ANY_KEEP_50 = {
    "rulePriority": 2, "action": {"type": "expire"},
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
}


def _policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def _lifecycle_policy(*rules: dict[str, Any]) -> ecr.CfnRepository.LifecyclePolicyProperty:
    return ecr.CfnRepository.LifecyclePolicyProperty(lifecycle_policy_text=_policy(*rules))


def _lifecycle(*rules: dict[str, Any]) -> Any:
    return lambda stack: _repository(stack, lifecycle_policy=_lifecycle_policy(*rules))


def img5_l2_candidates_then_releases(stack: Stack) -> None:
    """The library's registry before issue 8, written with the L2: candidates v*-* (20), then releases v (30)."""
    ecr.Repository(
        stack, "Repository",
        image_tag_mutability=ecr.TagMutability.IMMUTABLE, image_scan_on_push=True,
        lifecycle_rules=[
            ecr.LifecycleRule(rule_priority=1, tag_status=ecr.TagStatus.UNTAGGED, max_image_age=Duration.days(7)),
            ecr.LifecycleRule(rule_priority=2, tag_status=ecr.TagStatus.TAGGED, tag_pattern_list=["v*-*"], max_image_count=20),
            ecr.LifecycleRule(rule_priority=3, tag_status=ecr.TagStatus.TAGGED, tag_prefix_list=["v"], max_image_count=30),
        ],
    )


def img5_creation_template(stack: Stack) -> None:
    ecr.CfnRepositoryCreationTemplate(
        stack, "Template", prefix="cache", applied_for=["PULL_THROUGH_CACHE"],
        lifecycle_policy=_policy(_count(1, "v", prefix=True), _count(2, "v*-*", prefix=False)),
    )


CASES: list[Case] = [
    # SF-IMG1: pinned tags and digests pass; latest, no tag and moving tags do not.
    ("Img1Release", "SF-IMG1", False, _image("public.ecr.aws/example/app:v1.2.3")),
    ("Img1Digest", "SF-IMG1", False, _image(f"public.ecr.aws/example/app@{DIGEST}")),
    ("Img1Candidate", "SF-IMG1", False, _image("example/app:v1.9.0-rc.1")),
    ("Img1Untagged", "SF-IMG1", True, _image("amazon/amazon-ecs-sample")),
    ("Img1RegistryPortUntagged", "SF-IMG1", True, _image("registry.example.com:5000/team/app")),
    ("Img1Latest", "SF-IMG1", True, _image("example/app:latest")),
    ("Img1Main", "SF-IMG1", True, _image("example/app:main")),
    ("Img1LatestSuffix", "SF-IMG1", True, _image("example/app:latest-arm64")),
    ("Img1EcrLatest", "SF-IMG1", True, img1_ecr_latest),
    ("Img1SidecarLatest", "SF-IMG1", True, img1_second_container_moves),
    ("Img1TagFromParameter", "SF-IMG1", False, img1_tag_from_parameter),
    # SF-IMG2: ECR's default is MUTABLE.
    ("Img2Immutable", "SF-IMG2", False, lambda s: _repository(s)),
    ("Img2ImmutableWithExclusion", "SF-IMG2", False, lambda s: _repository(s, image_tag_mutability="IMMUTABLE_WITH_EXCLUSION")),
    ("Img2Default", "SF-IMG2", True, lambda s: _repository(s, image_tag_mutability=None)),
    ("Img2Mutable", "SF-IMG2", True, lambda s: _repository(s, image_tag_mutability="MUTABLE")),
    # SF-IMG3: scan on push, or a registry rule that covers the repository.
    ("Img3ScanOnPush", "SF-IMG3", False, lambda s: _repository(s)),
    ("Img3NoScan", "SF-IMG3", True, lambda s: _repository(s, image_scanning_configuration=None)),
    (
        "Img3RegistryRuleCovers", "SF-IMG3", False,
        lambda s: (_repository(s, image_scanning_configuration=None, repository_name="portfolio-api"), _registry_scan(s, "portfolio-*")),
    ),
    (
        "Img3RegistryRuleElsewhere", "SF-IMG3", True,
        lambda s: (_repository(s, image_scanning_configuration=None, repository_name="portfolio-api"), _registry_scan(s, "ledger-*")),
    ),
    # SF-IMG4: a lifecycle policy exists.
    ("Img4Lifecycle", "SF-IMG4", False, lambda s: _repository(s)),
    ("Img4NoLifecycle", "SF-IMG4", True, lambda s: _repository(s, lifecycle_policy=None)),
    # SF-IMG5: a count rule counts only images that are its own.
    ("Img5Disjoint", "SF-IMG5", False, _lifecycle(_UNTAGGED, _count(2, "rc-", prefix=True), _count(3, "release-", prefix=True))),
    ("Img5NarrowFirstNotCountingAfter", "SF-IMG5", False, _lifecycle(_UNTAGGED, _count(2, "v*-*", prefix=False))),
    ("Img5ReleasesCountCandidates", "SF-IMG5", True, img5_l2_candidates_then_releases),
    ("Img5BroadFirst", "SF-IMG5", True, _lifecycle(_count(1, "v", prefix=True), _count(2, "v*-*", prefix=False))),
    ("Img5CatchAllAny", "SF-IMG5", False, _lifecycle(_count(1, "v", prefix=True), _ANY_KEEP_50)),
    ("Img5CreationTemplate", "SF-IMG5", True, img5_creation_template),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("images"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected
