"""Every hardened default, as a named constant with the reason it has this value.

Tests import these names and assert them on the synthesized templates, so a default that
is lost or changed by accident fails a test, not a release.
"""

from __future__ import annotations

from typing import Final

# --- Environments -----------------------------------------------------------------------

MIN_AZS: Final = 2
"""Every environment spans at least two AZs: one AZ outage must not stop the service."""

MIN_AZS_PRODUCTION: Final = 3
"""Prod spans three AZs so that losing one still leaves two to absorb its tasks."""

RETAIN_DATA_ENVIRONMENTS: Final = frozenset({"staging", "prod"})
"""Environments whose stateful resources (repositories, queues, databases) are retained on
stack deletion or replacement. Dev is disposable; staging holds test data worth keeping."""

# --- Images (HardenedRepository, ImageRef) ------------------------------------------------

KEEP_RELEASE_IMAGES: Final = 30
"""Release images kept per repository: enough to roll back weeks of daily releases."""

UNTAGGED_IMAGE_EXPIRY_DAYS: Final = 7
"""Untagged images (failed pushes, superseded layers) expire after a week."""

RELEASE_TAG_PREFIX: Final = "v"
"""Release images are tagged ``v<semver>``; the lifecycle rule keeps the newest of these."""

MOVING_TAGS: Final = frozenset(
    {
        "latest", "main", "master", "stable", "prod", "production", "staging", "dev",
        "develop", "development", "edge", "nightly", "current", "release", "head", "trunk",
        "test", "qa", "canary", "beta", "alpha", "snapshot", "next",
    }
)
"""Tags that name a branch or a channel, not a build: they move, so two tasks of one
service can run different code. Refused even where the repository is immutable, because
other registries may not be."""

ECR_PUBLIC_CACHE_PREFIX: Final = "ecr-public"
"""Repository prefix of the pull-through cache for ECR Public in the registry account."""

# --- Network (PrivateNetwork) -------------------------------------------------------------

PUBLIC_SUBNET_MASK: Final = 24
"""Public subnets hold only load balancers: a /24 per AZ is plenty."""

PRIVATE_SUBNET_MASK: Final = 20
"""Private subnets hold tasks, endpoints and data: a /20 per AZ (4091 addresses) leaves
room for a scale-out plus a 200 % rollout of every service."""

INTERFACE_ENDPOINT_SERVICES: Final = (
    "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sqs", "monitoring",
)
"""What a task needs at start and while running, reached without a NAT path: image
manifests and layers (with the S3 gateway), logs, secrets, parameters, queues, metrics."""

FLOW_LOG_RETENTION_DAYS: Final = 365
"""A year of VPC flow logs: PCI DSS 10.7 asks for at least one year of audit trail."""

# --- Cluster ------------------------------------------------------------------------------

CONTAINER_INSIGHTS: Final = "enhanced"
"""Enhanced Container Insights: per-task metrics, and RunningTaskCount that the workers'
backlog-per-task signal divides by."""

# --- Logs ---------------------------------------------------------------------------------

LOG_RETENTION_DAYS: Final = 365
"""Application logs kept a year (PCI DSS 10.7), encrypted with the environment's key."""

# --- Tasks (shared by every service) ------------------------------------------------------

DEFAULT_CPU: Final = 512
"""Half a vCPU: enough for a Node.js or JVM service to warm up without throttling."""

DEFAULT_MEMORY_MIB: Final = 1024
"""1 GiB, the smallest valid memory for 512 CPU units."""

CPU_ARCHITECTURE: Final = "ARM64"
"""Graviton: about 20 % cheaper than x86 per vCPU-hour on Fargate for the same work."""

CONTAINER_USER: Final = "1000:1000"
"""Containers run as a non-root user; the image must own its files for this uid."""

TMP_VOLUME_PATH: Final = "/tmp"
"""The one writable path beside a read-only root filesystem."""

MAX_STOP_TIMEOUT_SECONDS: Final = 120
"""Fargate's ceiling for the SIGTERM-to-SIGKILL window."""

SECRET_LOOKING_KEY_PARTS: Final = ("PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE")
"""An environment key containing one of these is a secret: it must come from Secrets
Manager or SSM, never as a plain value in the task definition."""

# --- Scaling (shared) ---------------------------------------------------------------------

SCALE_OUT_COOLDOWN_SECONDS: Final = 60
"""Scale out within a minute of the last scale-out: load does not wait."""

SCALE_IN_COOLDOWN_SECONDS: Final = 300
"""Scale in at most every five minutes, so a dip does not start a saw-tooth of launches."""
