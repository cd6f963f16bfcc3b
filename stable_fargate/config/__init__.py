"""cdk.json's ``stable_fargate`` block as typed models: parsed once, at the boundary, by pydantic.

Nothing here imports the CDK: the read side (drift) loads it too.
"""

from stable_fargate.config.loader import AppConfig, ParameterSet, ParameterSets, load_app_config, load_environment, load_parameter_sets
from stable_fargate.config.models import (
    AccountRegion,
    DatabaseSizing,
    EnvironmentSpec,
    Hotfix,
    PlainKey,
    Release,
    ResolvedParameters,
    SecretKey,
    SecretRef,
    ServiceSizing,
)

__all__ = [
    "AccountRegion",
    "AppConfig",
    "DatabaseSizing",
    "EnvironmentSpec",
    "Hotfix",
    "ParameterSet",
    "ParameterSets",
    "PlainKey",
    "Release",
    "ResolvedParameters",
    "SecretKey",
    "SecretRef",
    "ServiceSizing",
    "load_app_config",
    "load_environment",
    "load_parameter_sets",
]
