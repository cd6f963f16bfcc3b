"""A service's runtime configuration for one environment, as the services consume it.

The ParameterSet loader (shared set + per-environment overrides, typed, drift-guarded)
produces these; the services take their configuration only from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

SecretSource = Literal["secretsmanager", "ssm"]


@dataclass(frozen=True)
class SecretRef:
    """A secret by name, never by value: a Secrets Manager secret (optionally one JSON field
    of it) or an SSM SecureString parameter."""

    source: SecretSource
    name: str
    json_field: str | None = None


@dataclass(frozen=True)
class ResolvedParameters:
    """One service's configuration in one environment: plain values and secret references."""

    service: str
    environment: str
    plain: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    secrets: Mapping[str, SecretRef] = field(default_factory=lambda: MappingProxyType({}))
