"""ImageRef refuses moving tags; HardenedRepository keeps a tag meaning one image."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from stable_fargate import AccountRegion, ConfigError, HardenedRepository, ImageRef
from stable_fargate.images import PULL_ACTIONS, check_image_version
from stable_fargate.network import PlatformKey

REGISTRY = AccountRegion("100000000000", "eu-west-2")
DIGEST = "sha256:" + "a1" * 32


@pytest.mark.parametrize("tag", ["latest", "LATEST", "main", "master", "stable", "prod", "dev", "edge", "latest-arm64"])
def test_moving_tags_are_refused_naming_service_and_value(tag: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_image_version("portfolio-api", tag)
    assert str(err.value).startswith(f"portfolio-api: image tag={tag!r}")
    assert "pin the release tag" in str(err.value)


@pytest.mark.parametrize("tag", ["", "  ", None])
def test_empty_tag_is_refused(tag: Any) -> None:
    with pytest.raises(ConfigError, match="portfolio-api: image tag"):
        check_image_version("portfolio-api", tag)


def test_malformed_tag_and_digest_are_refused() -> None:
    with pytest.raises(ConfigError, match="image tag"):
        check_image_version("svc", "v1/2")
    with pytest.raises(ConfigError, match="image digest"):
        check_image_version("svc", "sha256:abc")


@pytest.mark.parametrize(
    "tag",
    # Branch and channel names: they move between builds, so two tasks could run different code.
    ["latest", "main", "master", "stable", "prod", "production", "staging", "dev", "develop", "development", "edge",
     "nightly", "current", "release", "head", "trunk", "test", "qa", "canary", "beta", "alpha", "snapshot", "next",
     "Main", "NIGHTLY", "main-arm64", "master-2"],
)
def test_every_moving_tag_is_refused(tag: str) -> None:
    with pytest.raises(ConfigError, match="moves between builds"):
        ImageRef.release("portfolio-api", tag, registry=REGISTRY)


@pytest.mark.parametrize("tag", ["v1.8.0", "stable-1.2", "release-2026-11", "prod2", "nextgen", "1.27.3", "v2.0.0-beta.1"])
def test_tags_that_only_contain_a_moving_word_are_accepted(tag: str) -> None:
    assert ImageRef.release("portfolio-api", tag, registry=REGISTRY).version == tag


def test_release_and_digest_refs() -> None:
    ref = ImageRef.release("portfolio-api", "v1.8.0", registry=REGISTRY)
    assert ref.reference == "portfolio-api:v1.8.0" and not ref.is_digest
    pinned = ImageRef.release("portfolio-api", DIGEST, registry=REGISTRY)
    assert pinned.is_digest and pinned.reference == f"portfolio-api@{DIGEST}"
    with pytest.raises(ConfigError, match="repository"):
        ImageRef.release("Portfolio API", "v1.0.0", registry=REGISTRY)


def test_external_refs() -> None:
    ref = ImageRef.external("public.ecr.aws/docker/library/nginx:1.27.3")
    assert (ref.repository, ref.version) == ("public.ecr.aws/docker/library/nginx", "1.27.3")
    assert ImageRef.external(f"ghcr.io/acme/tool@{DIGEST}").is_digest
    with pytest.raises(ConfigError, match="without a tag means latest"):
        ImageRef.external("localhost:5000/acme/tool")
    with pytest.raises(ConfigError, match="image tag"):
        ImageRef.external("ghcr.io/acme/tool:latest")
    with pytest.raises(ConfigError, match="repository"):
        ImageRef.external(f"@{DIGEST}")


def test_checked_for_names_the_service() -> None:
    ref = ImageRef.release("portfolio-api", "v1.8.0", registry=REGISTRY)
    assert ref.checked_for("portfolio-api") is ref


def test_container_image_pulls_from_the_registry_account(env_stack: Any) -> None:
    from aws_cdk import aws_ecs as ecs

    env = env_stack("prod")
    task = ecs.FargateTaskDefinition(env.stack, "Task")
    ref = ImageRef.release("portfolio-api", "v1.8.0", registry=REGISTRY)
    task.add_container("App", image=ref.container_image(env.stack, "Repo"), memory_limit_mib=512)
    image = env.template().find_resources("AWS::ECS::TaskDefinition")
    (definition,) = image.values()
    uri = definition["Properties"]["ContainerDefinitions"][0]["Image"]
    rendered = str(uri)
    assert "100000000000.dkr.ecr.eu-west-2." in rendered and "/portfolio-api:v1.8.0" in rendered


def repository_template(env: Any, **props: Any) -> Any:
    key = PlatformKey(env.stack, "Key", description="test")
    HardenedRepository(env.stack, "Repo", repository_name="portfolio-api", encryption_key=key.key, **props)
    return env.template()


def test_repository_defaults(env_stack: Any) -> None:
    template = repository_template(env_stack("prod"), pull_accounts=["111111111111", "333333333333"])
    template.has_resource(
        "AWS::ECR::Repository",
        {
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "ImageTagMutability": "IMMUTABLE",
                    "ImageScanningConfiguration": {"ScanOnPush": True},
                    "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": Match.any_value()},
                }
            ),
        },
    )
    (repo,) = template.find_resources("AWS::ECR::Repository").values()
    rules = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [(r["rulePriority"], r["selection"]) for r in rules] == [
        # untagged images: a week
        (1, {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}),
        # candidates: the newest 20, by a rule of their own before the release rule
        (2, {"tagStatus": "tagged", "tagPatternList": ["v*-*"], "countType": "imageCountMoreThan", "countNumber": 20}),
        # releases: by age, so nothing a release rule counts can push a release out
        (3, {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 365}),
    ]
    statements = repo["Properties"]["RepositoryPolicyText"]["Statement"]
    assert len(statements) == 1
    assert sorted(statements[0]["Action"]) == sorted(PULL_ACTIONS)
    principals = statements[0]["Principal"]["AWS"]
    rendered = str(principals)
    assert "111111111111" in rendered and "333333333333" in rendered and "'*'" not in rendered


def test_referenced_tags_are_protected_before_every_other_rule(env_stack: Any) -> None:
    template = repository_template(
        env_stack("prod"), pull_accounts=["111111111111"], protected_tags=["v1.9.0-rc.1", "v1.8.0", "v1.8.0"]
    )
    (repo,) = template.find_resources("AWS::ECR::Repository").values()
    rules = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert [(r["rulePriority"], r["selection"]) for r in rules[:2]] == [
        (1, {"tagStatus": "tagged", "tagPatternList": ["v1.8.0"], "countType": "imageCountMoreThan", "countNumber": 1}),
        (2, {"tagStatus": "tagged", "tagPatternList": ["v1.9.0-rc.1"], "countType": "imageCountMoreThan", "countNumber": 1}),
    ]
    assert [r["rulePriority"] for r in rules] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("tag", ["v1.*", "sha256:" + "a" * 64, "v1.8.0\n", ""])
def test_protected_tags_must_be_exact_tags(env_stack: Any, tag: str) -> None:
    env = env_stack("prod")
    key = PlatformKey(env.stack, "Key", description="test")
    with pytest.raises(ConfigError, match="protected_tags"):
        HardenedRepository(
            env.stack, "Repo", repository_name="portfolio-api", encryption_key=key.key,
            pull_accounts=["111111111111"], protected_tags=[tag.replace("\\n", "\n")],
        )


def test_repository_not_retained_when_asked(env_stack: Any) -> None:
    template = repository_template(env_stack("dev"), pull_accounts=["111111111111"], retain=False)
    template.has_resource("AWS::ECR::Repository", {"DeletionPolicy": "Delete"})


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"pull_accounts": []}, "pull_accounts"),
        ({"pull_accounts": ["*"]}, "pull_accounts"),
        ({"pull_accounts": ["1234"]}, "pull_accounts"),
        ({"pull_accounts": ["111111111111"], "release_retention_days": 0}, "release_retention_days"),
        ({"pull_accounts": ["111111111111"], "untagged_expiry_days": 0}, "untagged_expiry_days"),
    ],
)
def test_repository_refusals(env_stack: Any, props: dict[str, Any], field: str) -> None:
    env = env_stack("prod")
    key = PlatformKey(env.stack, "Key", description="test")
    with pytest.raises(ConfigError, match=f"repository portfolio-api: {field}"):
        HardenedRepository(env.stack, "Repo", repository_name="portfolio-api", encryption_key=key.key, **props)


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("ab", True), ("a" * 256, True), ("a", False), ("a" * 257, False), ("team/portfolio-api", True), ("Portfolio", False)],
)
def test_repository_names_ecr_accepts(env_stack: Any, name: str, accepted: bool) -> None:
    # ECR: 2 to 256 lower-case characters, '/' for namespaces
    env = env_stack("prod")
    key = PlatformKey(env.stack, "Key", description="test")
    if accepted:
        repository = HardenedRepository(env.stack, "Repo", repository_name=name, encryption_key=key.key, pull_accounts=["111111111111"])
        assert repository.name == name
    else:
        with pytest.raises(ConfigError, match=r"repository_name="):
            HardenedRepository(env.stack, "Repo", repository_name=name, encryption_key=key.key, pull_accounts=["111111111111"])


@pytest.mark.parametrize(("days", "accepted"), [(1, True), (0, False)])
def test_the_shortest_retention_is_a_day(env_stack: Any, days: int, accepted: bool) -> None:
    env = env_stack("prod")
    key = PlatformKey(env.stack, "Key", description="test")
    props = {"release_retention_days": days, "untagged_expiry_days": days}
    if accepted:
        HardenedRepository(env.stack, "Repo", repository_name="api", encryption_key=key.key, pull_accounts=["111111111111"], **props)
        (repo,) = env.template().find_resources("AWS::ECR::Repository").values()
        rules = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert [r["selection"].get("countNumber") for r in rules] == [1, 20, 1]  # untagged 1 day, 20 candidates, releases 1 day
        assert [r["description"] for r in rules] == [
            "Expire untagged images after 1 days", "Keep the last 20 pre-release images", "Expire release images 1 days after their push",
        ]
    else:
        with pytest.raises(ConfigError, match="release_retention_days=0"):
            HardenedRepository(env.stack, "Repo", repository_name="api", encryption_key=key.key, pull_accounts=["111111111111"], **props)


def test_pull_accounts_are_listed_once_each(env_stack: Any) -> None:
    env = env_stack("prod")
    key = PlatformKey(env.stack, "Key", description="test")
    repository = HardenedRepository(
        env.stack, "Repo", repository_name="api", encryption_key=key.key, pull_accounts=["111111111111", "222222222222", "111111111111"],
    )
    assert repository.pull_accounts == ("111111111111", "222222222222")
    image = repository.image("v1.2.3")
    assert (image.repository, image.version, image.registry) == ("api", "v1.2.3", AccountRegion("333333333333", "eu-west-2"))


@pytest.mark.parametrize(
    ("reference", "repository", "version"),
    [
        ("public.ecr.aws/docker/library/nginx:1.27.3", "public.ecr.aws/docker/library/nginx", "1.27.3"),
        ("localhost:5000/acme/tool:v1", "localhost:5000/acme/tool", "v1"),  # a port is not a tag
        (f"ghcr.io/acme/tool@{DIGEST}", "ghcr.io/acme/tool", DIGEST),
    ],
)
def test_external_references_split_into_repository_and_version(reference: str, repository: str, version: str) -> None:
    ref = ImageRef.external(reference)
    assert (ref.repository, ref.version, ref.registry) == (repository, version, None)
    assert ref.reference == reference


@pytest.mark.parametrize("tag", ["v" + "1" * 127, "_build"])
def test_tags_up_to_128_characters_are_accepted(tag: str) -> None:
    assert check_image_version("svc", tag) == tag


@pytest.mark.parametrize("tag", ["v" + "1" * 128, ".hidden", "-dash"])
def test_longer_or_oddly_starting_tags_are_refused(tag: str) -> None:
    with pytest.raises(ConfigError, match="at most 128"):
        check_image_version("svc", tag)


def test_referenced_tags_are_every_environments_release_once_in_declaration_order(config: Any) -> None:
    from stable_fargate.images import referenced_tags

    # cdk.json: dev runs the candidates, staging and prod the releases; reconciliation v1.2.0 everywhere, listed once
    assert referenced_tags(config) == {
        "portfolio-api": ["v1.9.0-rc.1", "v1.8.0"],
        "portfolio-import": ["v2.4.0-rc.2", "v2.3.1"],
        "reconciliation": ["v1.2.0"],
    }


def test_a_release_pinned_to_its_digest_is_protected_by_its_tag(config: Any) -> None:
    from stable_fargate import AppConfig
    from stable_fargate.images import referenced_tags

    pinned = config.environments[0].with_image("portfolio-api", f"v1.9.0-rc.1@{DIGEST}")
    changed = AppConfig(tooling=config.tooling, environments=(pinned, *config.environments[1:]), parameters=config.parameters)
    assert referenced_tags(changed)["portfolio-api"] == ["v1.9.0-rc.1", "v1.8.0"]


def test_an_encryption_key_that_is_not_a_key_is_refused_naming_the_field(env_stack: Any) -> None:
    env = env_stack("prod")
    with pytest.raises(ConfigError) as err:
        HardenedRepository(env.stack, "Repo", repository_name="api", encryption_key="alias/ecr", pull_accounts=["111111111111"])  # type: ignore[arg-type]
    assert (err.value.subject, err.value.field) == ("Repo", "encryption_key")


@pytest.mark.parametrize(
    "reference",
    ["nginx", "ghcr.io/acme/tool", "ghcr.io/a b:v1", "ghcr.io/acme/tool:v1\x00", "ghcr.io/ácme/tool:v1", "ghcr.io/acme/tool:\tv1"],
)
def test_external_references_without_a_tag_or_with_spaces_nul_or_non_ascii_are_refused(reference: str) -> None:
    with pytest.raises(ConfigError):
        ImageRef.external(reference)


def test_an_image_ref_cannot_be_changed_after_it_is_checked() -> None:
    import dataclasses

    ref = ImageRef.release("portfolio-api", "v1.8.0", registry=REGISTRY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.version = "latest"  # type: ignore[misc]
