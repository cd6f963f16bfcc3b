"""Images that cannot change under a running service: HardenedRepository and ImageRef."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate._retention import removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.environments import AccountRegion, AppConfig
from stable_fargate.errors import ConfigError

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_ACCOUNT = re.compile(r"[0-9]{12}")

PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
"""What an environment account may do to a release repository: pull, nothing else."""


def referenced_tags(config: AppConfig) -> dict[str, list[str]]:
    """repository -> every release tag some environment runs, in declaration order: what a
    registry's lifecycle must protect (``HardenedRepository(protected_tags=...)``). A release
    pinned as ``v1.2.3@sha256:...`` is protected by its tag."""
    tags: dict[str, list[str]] = {}
    for env in config.environments:
        for service in env.images:
            tag = env.image_tag(service)
            if tag not in tags.setdefault(service, []):
                tags[service].append(tag)
    return tags


def check_image_version(service: str, version: object) -> str:
    """Refuse a missing, malformed or moving tag; return the tag or digest unchanged."""
    if not isinstance(version, str) or not version.strip():
        raise ConfigError(
            service, "image tag", version,
            "Give an immutable release tag such as v1.4.2 or a digest sha256:<64 hex>.",
        )
    if version.startswith("sha256:"):
        if not _DIGEST.fullmatch(version):
            raise ConfigError(service, "image digest", version, "A digest is sha256: followed by 64 lower-case hex digits.")
        return version
    if not _TAG.fullmatch(version):
        raise ConfigError(service, "image tag", version, "Use letters, digits, '.', '_' and '-' (at most 128), e.g. v1.4.2.")
    lowered = version.lower()
    if lowered in defaults.MOVING_TAGS or any(lowered.startswith(f"{t}-") for t in ("latest", "main", "master")):
        raise ConfigError(
            service, "image tag", version,
            "This tag names a branch or channel and moves between builds; pin the release tag "
            "(v1.4.2) or the digest (sha256:...) that CI pushed.",
        )
    return version


@dataclass(frozen=True)
class ImageRef:
    """How a service names its image: an immutable tag or a digest, never a moving tag.

    Build one with :meth:`release` (a HardenedRepository in the registry account) or
    :meth:`external` (a full reference to another registry). The same ImageRef is promoted
    from staging to prod unchanged, so prod runs the bytes staging tested.
    """

    repository: str
    version: str
    registry: AccountRegion | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.repository, str) or not self.repository:
            raise ConfigError("image", "repository", self.repository, "Give the repository's name as a string.")
        if self.registry is not None and not isinstance(self.registry, AccountRegion):
            raise ConfigError(f"image {self.repository}", "registry", self.registry, "Give an AccountRegion(account, region).")
        check_image_version(f"image {self.repository}", self.version)

    @classmethod
    def release(cls, repository_name: str, version: str, *, registry: AccountRegion) -> ImageRef:
        """An image in a HardenedRepository of the registry account, by tag or digest."""
        if not isinstance(repository_name, str) or not _REPOSITORY.fullmatch(repository_name) or len(repository_name) > 256:
            raise ConfigError(
                f"image {repository_name}", "repository", repository_name, "Use an ECR repository name such as portfolio-api."
            )
        return cls(repository=repository_name, version=version, registry=registry)

    @classmethod
    def external(cls, reference: str) -> ImageRef:
        """A full reference to another registry: ``host/name:tag`` or ``host/name@sha256:...``."""
        if not isinstance(reference, str) or not reference.isascii() or any(c.isspace() or c == "\x00" for c in reference):
            raise ConfigError("image", "reference", reference, "Give host/name:tag or host/name@sha256:<digest> in ASCII, without spaces.")
        if "@" in reference:
            name, _, version = reference.partition("@")
        else:
            slash = reference.rfind("/")
            colon = reference.rfind(":")
            if colon <= slash:
                raise ConfigError(
                    f"image {reference}", "image tag", "", "A reference without a tag means latest; add a release tag or @sha256 digest.",
                )
            name, version = reference[:colon], reference[colon + 1:]
        if not name or name.endswith("/"):
            raise ConfigError(f"image {reference}", "repository", name, "Give the full reference: host/name:tag or host/name@sha256:...")
        return cls(repository=name, version=version)

    @property
    def is_digest(self) -> bool:
        return self.version.startswith("sha256:")

    @property
    def reference(self) -> str:
        """The human-readable reference (registry host left out for registry images)."""
        return f"{self.repository}{'@' if self.is_digest else ':'}{self.version}"

    def checked_for(self, service: str) -> ImageRef:
        """Re-check the version naming the service that uses it (for the error message)."""
        check_image_version(service, self.version)
        return self

    def container_image(self, scope: Construct, construct_id: str) -> ecs.ContainerImage:
        """The ECS image; for a registry image, pull permission goes to the execution role."""
        if self.registry is None:
            return ecs.ContainerImage.from_registry(self.reference)
        arn = (
            f"arn:aws:ecr:{self.registry.region}:{self.registry.account}:repository/{self.repository}"
        )
        repository = ecr.Repository.from_repository_attributes(
            scope, construct_id, repository_arn=arn, repository_name=self.repository
        )
        return ecs.ContainerImage.from_ecr_repository(repository, tag=self.version)


class HardenedRepository(Construct):
    """An ECR repository that cannot serve the wrong image.

    IMMUTABLE tags (a tag, once pushed, always means the same bytes), scan on push, KMS
    encryption, a lifecycle policy, and pull rights for the listed environment accounts only.

    The lifecycle policy, in priority order (ECR evaluates all rules together; an image that a
    higher-priority rule's selection matches can never be expired by a lower one):

    1. one rule per ``protected_tags`` entry, selecting exactly that tag and keeping
       ``defaults.PROTECTED_TAG_COUNT`` image: the releases the environments run can never
       expire, however many releases and candidates come after them;
    2. untagged images expire after ``untagged_expiry_days``;
    3. pre-releases (``v*-*``) keep the newest ``defaults.KEEP_PRERELEASE_IMAGES``;
    4. releases (``v*``) expire ``release_retention_days`` after their push: an age rule counts
       nothing, so candidates can never push a release out.

    :param repository_name: the ECR repository name.
    :param pull_accounts: the environment accounts that may pull (12-digit ids; no ``*``).
    :param encryption_key: the registry's KMS key.
    :param protected_tags: the tags the environments run (every environment's ``images`` entry
        for this repository). Default: none. The guarantee holds once the registry stack is
        deployed with the current cdk.json, so deploy it before the environments.
    :param release_retention_days: Default: ``defaults.RELEASE_IMAGE_RETENTION_DAYS`` (365).
    :param untagged_expiry_days: days after which untagged images expire.
        Default: ``defaults.UNTAGGED_IMAGE_EXPIRY_DAYS``.
    :param retain: keep the repository and its images when the stack deletes or replaces it.
        Default: True (a registry outlives every environment that pulls from it).
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository_name: str,
        pull_accounts: Sequence[str],
        encryption_key: kms.IKey,
        protected_tags: Sequence[str] = (),
        release_retention_days: int = defaults.RELEASE_IMAGE_RETENTION_DAYS,
        untagged_expiry_days: int = defaults.UNTAGGED_IMAGE_EXPIRY_DAYS,
        retain: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        subject = f"repository {repository_name}"
        if not _REPOSITORY.fullmatch(repository_name) or not 2 <= len(repository_name) <= 256:
            raise ConfigError(subject, "repository_name", repository_name, "Use lower-case letters, digits, '-', '_', '.' and '/'.")
        if not pull_accounts:
            raise ConfigError(subject, "pull_accounts", list(pull_accounts), "List the environment accounts that pull this image.")
        for account in pull_accounts:
            if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
                raise ConfigError(
                    subject, "pull_accounts", account,
                    "Give 12-digit account ids; a wildcard would let any AWS account pull your images.",
                )
        for tag in protected_tags:
            if not isinstance(tag, str) or not _TAG.fullmatch(tag) or "*" in tag:
                raise ConfigError(
                    subject, "protected_tags", tag, "Give the exact release tags the environments run (v1.4.2), no digests or wildcards."
                )
        if release_retention_days < 1:
            raise ConfigError(subject, "release_retention_days", release_retention_days, "Keep releases at least one day.")
        if untagged_expiry_days < 1:
            raise ConfigError(subject, "untagged_expiry_days", untagged_expiry_days, "Use at least 1 day.")

        self.protected_tags = tuple(sorted(dict.fromkeys(protected_tags)))
        protections = [
            ecr.LifecycleRule(
                rule_priority=priority,
                description=f"Protect {tag}: an environment runs it",
                tag_status=ecr.TagStatus.TAGGED,
                tag_pattern_list=[tag],
                max_image_count=defaults.PROTECTED_TAG_COUNT,
            )
            for priority, tag in enumerate(self.protected_tags, start=1)
        ]
        first = len(protections) + 1
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=encryption_key,
            removal_policy=removal_policy(retain),
            empty_on_delete=not retain,
            lifecycle_rules=[
                *protections,
                ecr.LifecycleRule(
                    rule_priority=first,
                    description=f"Expire untagged images after {untagged_expiry_days} days",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.days(untagged_expiry_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=first + 1,
                    description=f"Keep the last {defaults.KEEP_PRERELEASE_IMAGES} pre-release images",
                    tag_status=ecr.TagStatus.TAGGED,
                    tag_pattern_list=[defaults.PRERELEASE_TAG_PATTERN],
                    max_image_count=defaults.KEEP_PRERELEASE_IMAGES,
                ),
                ecr.LifecycleRule(
                    rule_priority=first + 2,
                    description=f"Expire release images {release_retention_days} days after their push",
                    tag_status=ecr.TagStatus.TAGGED,
                    tag_prefix_list=[defaults.RELEASE_TAG_PREFIX],
                    max_image_age=cdk.days(release_retention_days),
                ),
            ],
        )
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PullFromEnvironmentAccounts",
                principals=[cdk.account_principal(a) for a in dict.fromkeys(pull_accounts)],
                actions=list(PULL_ACTIONS),
            )
        )
        self.name = repository_name
        self.pull_accounts = tuple(dict.fromkeys(pull_accounts))

    def image(self, version: str) -> ImageRef:
        """An ImageRef to ``version`` of this repository, in this stack's account and region."""
        stack = Stack.of(self)
        return ImageRef.release(self.name, version, registry=AccountRegion(stack.account, stack.region))
