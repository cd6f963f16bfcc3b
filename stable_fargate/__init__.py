"""stable_fargate: hardened ECS Fargate building blocks for fintech platform teams."""

from stable_fargate.environments import AccountRegion, AppConfig, EnvironmentSpec, ServiceSizing, load_app_config
from stable_fargate.errors import ConfigError
from stable_fargate.images import HardenedRepository, ImageRef
from stable_fargate.parameters import ResolvedParameters, SecretRef

__all__ = [
    "AccountRegion",
    "AppConfig",
    "ConfigError",
    "EnvironmentSpec",
    "HardenedRepository",
    "ImageRef",
    "ResolvedParameters",
    "SecretRef",
    "ServiceSizing",
    "load_app_config",
]
