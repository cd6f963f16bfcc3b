"""stable_fargate: hardened ECS Fargate building blocks for fintech platform teams."""

from stable_fargate.drift_guard import DriftGuard
from stable_fargate.environments import AccountRegion, AppConfig, EnvironmentSpec, ServiceSizing, load_app_config
from stable_fargate.errors import ConfigError
from stable_fargate.images import HardenedRepository, ImageRef
from stable_fargate.parameters import ParameterSet, ParameterSets, ResolvedParameters, SecretRef, load_parameter_sets
from stable_fargate.services.job import ScheduledJob
from stable_fargate.services.web import StableWebService
from stable_fargate.services.worker import QueueWorker

__all__ = [
    "AccountRegion",
    "AppConfig",
    "ConfigError",
    "DriftGuard",
    "EnvironmentSpec",
    "HardenedRepository",
    "ImageRef",
    "ParameterSet",
    "ParameterSets",
    "QueueWorker",
    "ResolvedParameters",
    "ScheduledJob",
    "SecretRef",
    "ServiceSizing",
    "StableWebService",
    "load_app_config",
    "load_parameter_sets",
]
