"""The shared Registry stack in the tooling account: release repositories and the
pull-through cache for ECR Public."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from stable_fargate import HardenedRepository, defaults
from stable_fargate.network import PlatformKey

SAMPLE_REPOSITORIES = ("portfolio-api", "portfolio-import", "reconciliation")
"""The sample app's three services, one release repository each."""


class RegistryStack(Stack):
    """Release repositories that every environment pulls from, and a pull-through cache so
    that builds' base images do not depend on a public registry's availability or limits."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pull_accounts: Sequence[str],
        protected_tags: Mapping[str, Sequence[str]],
        repository_names: Sequence[str] = SAMPLE_REPOSITORIES,
        **kwargs: Any,
    ) -> None:
        """:param protected_tags: repository -> the tags the environments run (from cdk.json);
        the lifecycle policy never expires them."""
        super().__init__(scope, construct_id, **kwargs)
        self.key = PlatformKey(self, "RegistryKey", description="Encrypts the release image repositories")
        self.repositories = {
            name: HardenedRepository(
                self,
                "".join(part.capitalize() for part in name.split("-")),
                repository_name=name,
                pull_accounts=pull_accounts,
                protected_tags=protected_tags.get(name, ()),
                encryption_key=self.key.key,
            )
            for name in repository_names
        }
        # ECR Public needs no upstream credentials; the cache lives under one prefix.
        self.cache_rule = ecr.CfnPullThroughCacheRule(
            self,
            "EcrPublicCache",
            ecr_repository_prefix=defaults.ECR_PUBLIC_CACHE_PREFIX,
            upstream_registry="ecr-public",
            upstream_registry_url="public.ecr.aws",
        )
        # Repositories the cache creates get this template, not ECR's bare defaults.
        # Tags stay MUTABLE: the cache must follow an upstream tag that moves (builds pin the
        # digest they resolved). AES-256, because a KMS template needs a custom role.
        self.cache_template = ecr.CfnRepositoryCreationTemplate(
            self,
            "EcrPublicCacheTemplate",
            prefix=defaults.ECR_PUBLIC_CACHE_PREFIX,
            applied_for=["PULL_THROUGH_CACHE"],
            description="Repositories of the ECR Public pull-through cache",
            image_tag_mutability="MUTABLE",
            encryption_configuration=ecr.CfnRepositoryCreationTemplate.EncryptionConfigurationProperty(encryption_type="AES256"),
            lifecycle_policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"Keep the last {defaults.KEEP_CACHED_IMAGES} cached images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": defaults.KEEP_CACHED_IMAGES,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                },
                separators=(",", ":"),
            ),
        )
