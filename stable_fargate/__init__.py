"""stable_fargate: hardened ECS Fargate building blocks for fintech platform teams.

The public names are loaded on first use, so that the read side (``python -m
stable_fargate drift``, :mod:`stable_fargate.review`) runs without loading the CDK at all:
it reads templates, never the constructs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
"""The library's version (semantic versioning; CHANGELOG.md says what each one changes in the
synthesized templates). The one place it is written: pyproject reads it from here."""

if TYPE_CHECKING:
    from stable_fargate.alarms import AlarmTopic
    from stable_fargate.checks import StableFargateChecks
    from stable_fargate.connection_budget import ConnectionBudget
    from stable_fargate.database import HardenedPostgres, PostgresAccess
    from stable_fargate.drift_guard import DriftGuard
    from stable_fargate.environments import (
        AccountRegion,
        AppConfig,
        DatabaseSizing,
        EnvironmentSpec,
        Release,
        ServiceSizing,
        load_app_config,
        pin_availability_zones,
    )
    from stable_fargate.errors import ConfigError
    from stable_fargate.images import HardenedRepository, ImageRef
    from stable_fargate.network import HardenedCluster, PlatformKey, PrivateNetwork
    from stable_fargate.parameters import ParameterSet, ParameterSets, ResolvedParameters, SecretRef, load_parameter_sets
    from stable_fargate.services.job import ScheduledJob
    from stable_fargate.services.web import SmokeCheck, StableWebService
    from stable_fargate.services.worker import QueueWorker

_EXPORTS = {
    "AccountRegion": "environments",
    "AlarmTopic": "alarms",
    "AppConfig": "environments",
    "ConfigError": "errors",
    "ConnectionBudget": "connection_budget",
    "DatabaseSizing": "environments",
    "DriftGuard": "drift_guard",
    "EnvironmentSpec": "environments",
    "HardenedCluster": "network",
    "HardenedPostgres": "database",
    "HardenedRepository": "images",
    "ImageRef": "images",
    "ParameterSet": "parameters",
    "ParameterSets": "parameters",
    "PlatformKey": "network",
    "PostgresAccess": "database",
    "PrivateNetwork": "network",
    "QueueWorker": "services.worker",
    "Release": "environments",
    "ResolvedParameters": "parameters",
    "ScheduledJob": "services.job",
    "SecretRef": "parameters",
    "ServiceSizing": "environments",
    "SmokeCheck": "services.web",
    "StableFargateChecks": "checks",
    "StableWebService": "services.web",
    "load_app_config": "environments",
    "load_parameter_sets": "parameters",
    "pin_availability_zones": "environments",
}

__all__ = [
    "AccountRegion",
    "AlarmTopic",
    "AppConfig",
    "ConfigError",
    "ConnectionBudget",
    "DatabaseSizing",
    "DriftGuard",
    "EnvironmentSpec",
    "HardenedCluster",
    "HardenedPostgres",
    "HardenedRepository",
    "ImageRef",
    "ParameterSet",
    "ParameterSets",
    "PlatformKey",
    "PostgresAccess",
    "PrivateNetwork",
    "QueueWorker",
    "Release",
    "ResolvedParameters",
    "ScheduledJob",
    "SecretRef",
    "ServiceSizing",
    "SmokeCheck",
    "StableFargateChecks",
    "StableWebService",
    "load_app_config",
    "load_parameter_sets",
    "pin_availability_zones",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stable_fargate' has no attribute {name!r}")
    value = getattr(import_module(f"stable_fargate.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
