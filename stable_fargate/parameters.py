"""A service's runtime configuration, declared once as data and resolved per environment.

Each service's configuration lives in cdk.json's context under
``stable_fargate.parameters.<service>``; keys every service carries live beside them under
``stable_fargate.shared_parameters``, in the same shape::

    "shared_parameters": {
      "keys": {"LOG_LEVEL": {"type": "string", "value": "info", "allowed": ["debug", "info", "warn", "error"]}},
      "overrides": {"dev": {"LOG_LEVEL": "debug"}}
    },
    "parameters": {
      "portfolio-api": {
        "keys": {
          "PORT":        {"type": "integer", "value": 3000, "min": 1, "max": 65535},
          "REFERENCE_DATA_URL": {"type": "url"},
          "REQUEST_TIMEOUT": {"type": "duration", "value": "5s", "unit": "ms"},
          "FEATURE_NEW_DASHBOARD": {"type": "boolean", "value": false},
          "DATABASE_PASSWORD": {"kind": "secret", "source": "secretsmanager",
                                "name": "portfolio-api/database", "json_field": "password"}
        },
        "overrides": {
          "dev":     {"REFERENCE_DATA_URL": "https://reference.dev.example.com",
                      "DATABASE_PASSWORD": {"name": "portfolio-api/database-dev"}},
          "staging": {"REFERENCE_DATA_URL": "https://reference.staging.example.com"},
          "prod":    {"REFERENCE_DATA_URL": "https://reference.example.com"}
        }
      }
    }

A key is ``plain`` (the default ``kind``: a container environment value) or ``secret`` (an
ECS secret from Secrets Manager or an SSM SecureString, by name, never by value). Plain keys
have a ``type`` (string, integer, boolean, url, duration) and an optional shared ``value``;
an environment's ``overrides`` replace it. Secret overrides are always objects,
``{"name": ...}`` or ``{"name": ..., "json_field": ...}``: a plain string there is refused,
because it may be the secret's value rather than its name. A service key with the name of a
shared key is refused. Every key resolves in every declared environment, or the load is
refused with a :class:`ConfigError` naming the service, the cdk.json path and what to do.

The models and rules live in :mod:`stable_fargate.config`; this module keeps the public names.
"""

from __future__ import annotations

from stable_fargate.config.loader import ParameterSet, ParameterSets, load_parameter_sets
from stable_fargate.config.models import (
    DEFAULT_DURATION_UNIT,
    DURATION_UNITS,
    PARAMETER_TYPES,
    SECRET_SOURCES,
    URL_SCHEMES,
    ParameterType,
    PlainKey,
    ResolvedParameters,
    SecretKey,
    SecretRef,
    SecretSource,
)
from stable_fargate.config.rules import RESERVED_KEY_PREFIXES

__all__ = [
    "DEFAULT_DURATION_UNIT",
    "DURATION_UNITS",
    "PARAMETER_TYPES",
    "RESERVED_KEY_PREFIXES",
    "SECRET_SOURCES",
    "URL_SCHEMES",
    "ParameterSet",
    "ParameterSets",
    "ParameterType",
    "PlainKey",
    "ResolvedParameters",
    "SecretKey",
    "SecretRef",
    "SecretSource",
    "load_parameter_sets",
]
