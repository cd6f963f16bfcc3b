"""A service's runtime configuration, declared once as data and resolved per environment.

Each service's configuration lives in cdk.json's context under
``stable_fargate.parameters.<service>``::

    "portfolio-api": {
      "keys": {
        "LOG_LEVEL":   {"type": "string", "value": "info", "allowed": ["debug", "info", "warn", "error"]},
        "PORT":        {"type": "integer", "value": 3000, "min": 1, "max": 65535},
        "REFERENCE_DATA_URL": {"type": "url"},
        "REQUEST_TIMEOUT": {"type": "duration", "value": "5s", "unit": "ms"},
        "FEATURE_NEW_DASHBOARD": {"type": "boolean", "value": false},
        "DATABASE_PASSWORD": {"kind": "secret", "source": "secretsmanager",
                              "name": "portfolio-api/database", "json_field": "password"}
      },
      "overrides": {
        "dev":     {"LOG_LEVEL": "debug", "REFERENCE_DATA_URL": "https://reference.dev.example.com",
                    "DATABASE_PASSWORD": {"name": "portfolio-api/database-dev"}},
        "staging": {"REFERENCE_DATA_URL": "https://reference.staging.example.com"},
        "prod":    {"REFERENCE_DATA_URL": "https://reference.example.com"}
      }
    }

A key is ``plain`` (the default ``kind``: a container environment value) or ``secret`` (an
ECS secret from Secrets Manager or an SSM SecureString, by name, never by value). Plain keys
have a ``type`` (string, integer, boolean, url, duration) and an optional shared ``value``;
an environment's ``overrides`` replace it. A url is absolute, with a scheme from
:data:`URL_SCHEMES`, a host, a valid port if any and no password. Secret overrides are always
objects, ``{"name": ...}`` or ``{"name": ..., "json_field": ...}``: a plain string there is
refused, because it may be the secret's value rather than its name. The source never changes
between environments.

Every key resolves in every declared environment: a ``required`` key (the default) without
a value in one environment is refused; an optional key (``"required": false``) without a
value resolves to the empty string, so the key itself still exists everywhere. An optional
string key with ``allowed`` values and no shared value must list ``""`` among them (the value
it resolves to where no environment gives one), else it is refused. Everything is
checked at load and a refusal is a :class:`ConfigError` naming the service, the key and the
environment. The overrides are also the record of which values an environment *declares* as
different, which the drift guard uses (:meth:`ParameterSets.declared_differences`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from stable_fargate.errors import ConfigError

if TYPE_CHECKING:
    from stable_fargate.environments import EnvironmentSpec

SecretSource = Literal["secretsmanager", "ssm"]
ParameterType = Literal["string", "integer", "boolean", "url", "duration"]

PARAMETER_TYPES: tuple[ParameterType, ...] = ("string", "integer", "boolean", "url", "duration")
"""The value types a plain key may declare; each is checked at load, so a typo in a number or
a URL fails ``cdk synth`` instead of the container's start in one environment."""

SECRET_SOURCES: tuple[SecretSource, ...] = ("secretsmanager", "ssm")
"""Where a secret may come from: both are resolved by ECS at task start, by name."""

URL_SCHEMES: frozenset[str] = frozenset({"http", "https"})
"""The schemes a ``url`` key may use: the services call HTTP APIs (the sample data uses only
https). A narrow list refuses ``javascript:``, ``file:`` and typos at synth; a service that
needs another scheme (a ``postgresql://`` DSN, say) adds it here with its reason."""

DURATION_UNITS: Mapping[str, int] = MappingProxyType({"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000})
"""Duration suffixes and their length in milliseconds. A duration is written with its unit
("30s") so that nobody has to guess whether 30 means seconds or milliseconds."""

DEFAULT_DURATION_UNIT = "s"
"""The unit a duration is handed to the container in unless the key says ``"unit"``."""

RESERVED_KEY_PREFIXES: tuple[str, ...] = ("AWS_", "ECS_")
"""Prefixes the AWS SDKs and the ECS agent read: setting them from data would silently change
credentials, region or agent behaviour in one environment."""

_KEY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")
_DURATION = re.compile(r"^(?P<amount>\d{1,9})(?P<unit>ms|s|m|h)$")
_SECRETSMANAGER_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-/]{1,1011}$")
_KEY_FIELDS = frozenset({"kind", "type", "value", "required", "allowed", "min", "max", "unit", "source", "name", "json_field"})
_PLAIN_FIELDS = frozenset({"kind", "type", "value", "required", "allowed", "min", "max", "unit"})
_SECRET_FIELDS = frozenset({"kind", "source", "name", "json_field"})


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


@dataclass(frozen=True)
class ParameterKey:
    """One declared key of a service: its kind, type, constraints and shared value (if any).

    ``value`` holds the shared value already rendered as the container will see it (a plain
    key) or the shared :class:`SecretRef` (a secret); ``None`` means every environment gives
    its own value.
    """

    name: str
    kind: Literal["plain", "secret"]
    type: ParameterType | None
    required: bool
    value: str | SecretRef | None
    allowed: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    unit: str = DEFAULT_DURATION_UNIT
    source: SecretSource | None = None


@dataclass(frozen=True)
class ParameterSet:
    """One service's declared keys and their resolution in every environment."""

    service: str
    keys: Mapping[str, ParameterKey]
    resolved: Mapping[str, ResolvedParameters]
    overridden: Mapping[str, frozenset[str]]

    def resolve(self, environment: str) -> ResolvedParameters:
        if environment not in self.resolved:
            raise ConfigError(
                self.service, "environment", environment,
                f"Use one of the declared environments: {', '.join(self.resolved)}.",
            )
        return self.resolved[environment]


@dataclass(frozen=True)
class ParameterSets:
    """Every service's parameter set, resolved for every declared environment."""

    environments: tuple[str, ...]
    sets: Mapping[str, ParameterSet]

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.sets)

    def get(self, service: str) -> ParameterSet:
        if service not in self.sets:
            raise ConfigError(
                service, "parameters", None,
                f"Declare the configuration of {service} under stable_fargate.parameters.{service} in cdk.json "
                f"(declared: {', '.join(self.sets) or 'none'}).",
            )
        return self.sets[service]

    def resolve(self, service: str, env_name: str) -> ResolvedParameters:
        """``service``'s plain values and secret references in ``env_name``."""
        return self.get(service).resolve(env_name)

    def declared_differences(self) -> Mapping[str, Mapping[str, frozenset[str]]]:
        """service -> environment -> the drift-guard properties that environment's data
        declares as its own: ``env:KEY`` / ``secret:KEY`` for every key it overrides, and for
        every key without a shared value (each environment gives its own, so they may differ).
        """
        result: dict[str, Mapping[str, frozenset[str]]] = {}
        for service, pset in self.sets.items():
            own = {
                _property(key) for key in pset.keys.values() if key.value is None
            }
            result[service] = MappingProxyType({
                env: frozenset(own | {_property(pset.keys[k]) for k in pset.overridden[env]})
                for env in self.environments
            })
        return MappingProxyType(result)


def _property(key: ParameterKey) -> str:
    """The drift-guard property name of a key (see stable_fargate.review.drift)."""
    return f"{'secret' if key.kind == 'secret' else 'env'}:{key.name}"


def load_parameter_sets(raw: Any, environments: Iterable[str | EnvironmentSpec]) -> ParameterSets:
    """Load, check and resolve ``stable_fargate.parameters`` for every environment.

    ``raw`` is the ``parameters`` object from cdk.json (``None`` when the app declares none);
    ``environments`` are the declared environments (names or :class:`EnvironmentSpec`).
    """
    env_names = tuple(e if isinstance(e, str) else e.name for e in environments)
    if not env_names:
        raise ConfigError("app", "environments", [], "Declare at least one environment before its parameters.")
    if raw is None:
        return ParameterSets(environments=env_names, sets=MappingProxyType({}))
    if not isinstance(raw, Mapping):
        raise ConfigError("app", "parameters", raw, "Give stable_fargate.parameters as an object: service -> parameter set.")
    sets: dict[str, ParameterSet] = {}
    for service, data in raw.items():
        if not isinstance(service, str) or not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", service):
            raise ConfigError(str(service), "parameters", service, "Name the service in lower case with letters, digits and '-'.")
        sets[service] = load_parameter_set(service, data, env_names)
    return ParameterSets(environments=env_names, sets=MappingProxyType(sets))


def load_parameter_set(service: str, data: Any, environments: tuple[str, ...]) -> ParameterSet:
    """Load one service's parameter set; see the module docstring for the format."""
    if not isinstance(data, Mapping):
        raise ConfigError(service, "parameters", data, 'Give the parameter set as an object with "keys" and "overrides".')
    unknown = sorted(set(data) - {"keys", "overrides"})
    if unknown:
        raise ConfigError(service, unknown[0], data[unknown[0]], 'Remove it; a parameter set has only "keys" and "overrides".')
    keys_raw = data.get("keys")
    if not isinstance(keys_raw, Mapping) or not keys_raw:
        raise ConfigError(service, "keys", keys_raw, "Declare the service's keys as an object: KEY -> declaration.")
    keys = {name: _load_key(service, name, decl) for name, decl in keys_raw.items()}

    overrides_raw = data.get("overrides", {})
    if not isinstance(overrides_raw, Mapping):
        raise ConfigError(service, "overrides", overrides_raw, "Give overrides as an object: environment -> {KEY: value}.")
    for env in overrides_raw:
        if env not in environments:
            raise ConfigError(
                service, f"overrides.{env}", overrides_raw[env],
                f"Environment {env!r} is not declared; use one of {', '.join(environments)} "
                "or declare it under stable_fargate.environments.",
            )

    resolved: dict[str, ResolvedParameters] = {}
    overridden: dict[str, frozenset[str]] = {}
    for env in environments:
        env_overrides = overrides_raw.get(env, {})
        if not isinstance(env_overrides, Mapping):
            raise ConfigError(service, f"overrides.{env}", env_overrides, "Give an environment's overrides as an object: KEY -> value.")
        for name in env_overrides:
            if name not in keys:
                raise ConfigError(
                    service, f"overrides.{env}.{name}", env_overrides[name],
                    f"Key {name} is not declared for {service}, so environment {env} would differ from the others. "
                    f"Declare it under stable_fargate.parameters.{service}.keys (with a value for every environment) "
                    "or remove the override.",
                )
        plain: dict[str, str] = {}
        secrets: dict[str, SecretRef] = {}
        for name, key in keys.items():
            where = f"overrides.{env}.{name}"
            if name in env_overrides:
                value: str | SecretRef | None = _typed_value(service, where, key, env_overrides[name])
            else:
                value = key.value
            if value is None:
                if key.required:
                    raise ConfigError(
                        service, f"{name} in {env}", None,
                        f"Key {name} has no value in environment {env}: give a shared \"value\" under "
                        f"keys.{name} or an override under overrides.{env}.{name} "
                        '(or mark it "required": false to resolve to an empty string).',
                    )
                value = ""
            if isinstance(value, SecretRef):
                secrets[name] = value
            else:
                plain[name] = value
        resolved[env] = ResolvedParameters(
            service=service, environment=env, plain=MappingProxyType(plain), secrets=MappingProxyType(secrets)
        )
        overridden[env] = frozenset(env_overrides)
    return ParameterSet(
        service=service,
        keys=MappingProxyType(keys),
        resolved=MappingProxyType(resolved),
        overridden=MappingProxyType(overridden),
    )


def _load_key(service: str, name: Any, decl: Any) -> ParameterKey:
    if not isinstance(name, str) or not _KEY_NAME.match(name):
        raise ConfigError(service, f"keys.{name}", name, "Name keys in upper case with letters, digits and '_' (LOG_LEVEL).")
    if name.startswith(RESERVED_KEY_PREFIXES):
        raise ConfigError(
            service, f"keys.{name}", name,
            f"Keys starting with {' or '.join(RESERVED_KEY_PREFIXES)} are read by the AWS SDK and the ECS agent; rename it.",
        )
    where = f"keys.{name}"
    if not isinstance(decl, Mapping):
        raise ConfigError(service, where, decl, 'Declare the key as an object, e.g. {"type": "string", "value": "info"}.')
    unknown = sorted(set(decl) - _KEY_FIELDS)
    if unknown:
        raise ConfigError(service, f"{where}.{unknown[0]}", decl[unknown[0]], f"Remove it; known fields are {sorted(_KEY_FIELDS)}.")
    kind = decl.get("kind", "plain")
    if kind == "secret":
        return _load_secret_key(service, name, decl)
    if kind != "plain":
        raise ConfigError(service, f"{where}.kind", kind, 'Use "plain" (an environment value) or "secret".')
    if _is_secret_looking(name):
        raise ConfigError(
            service, f"{where}.kind", "plain",
            f"{name} looks like a secret; declare it \"kind\": \"secret\" with a \"source\" (secretsmanager or ssm) "
            "and a \"name\", so that only the secret's name is in the task definition.",
        )
    extra = sorted(set(decl) - _PLAIN_FIELDS)
    if extra:
        raise ConfigError(service, f"{where}.{extra[0]}", decl[extra[0]], f"Remove it; a plain key takes {sorted(_PLAIN_FIELDS)}.")
    type_ = decl.get("type")
    if type_ not in PARAMETER_TYPES:
        raise ConfigError(service, f"{where}.type", type_, f"Give one of the types {', '.join(PARAMETER_TYPES)}.")
    required = decl.get("required", True)
    if not isinstance(required, bool):
        raise ConfigError(service, f"{where}.required", required, "Give true or false.")
    allowed = decl.get("allowed")
    if allowed is not None and (
        type_ != "string" or not isinstance(allowed, list) or not allowed or not all(isinstance(a, str) for a in allowed)
    ):
        raise ConfigError(service, f"{where}.allowed", allowed, 'Give "allowed" only on a string key, as a list of strings.')
    if allowed is not None and not required and "value" not in decl and "" not in allowed:
        raise ConfigError(
            service, f"{where}.allowed", allowed,
            'An optional key resolves to "" in an environment that gives no value, and "" is not allowed: '
            'add "" to "allowed" to accept no value, give a shared "value", or remove "required": false.',
        )
    bounds: dict[str, int | None] = {}
    for bound in ("min", "max"):
        b = decl.get(bound)
        if b is not None and (type_ != "integer" or not isinstance(b, int) or isinstance(b, bool)):
            raise ConfigError(service, f"{where}.{bound}", b, f'Give "{bound}" only on an integer key, as a whole number.')
        bounds[bound] = b
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise ConfigError(service, f"{where}.min", bounds["min"], f"Give a minimum no larger than the maximum {bounds['max']}.")
    unit = decl.get("unit", DEFAULT_DURATION_UNIT)
    if "unit" in decl and (type_ != "duration" or not isinstance(unit, str) or unit not in DURATION_UNITS):
        raise ConfigError(service, f"{where}.unit", unit, f'Give "unit" only on a duration key, one of {", ".join(DURATION_UNITS)}.')
    key = ParameterKey(
        name=name, kind="plain", type=cast("ParameterType", type_), required=required, value=None,
        allowed=tuple(allowed) if allowed is not None else None,
        minimum=bounds["min"], maximum=bounds["max"], unit=str(unit),
    )
    if "value" in decl:
        shared = _typed_value(service, f"{where}.value", key, decl["value"])
        key = dataclasses.replace(key, value=shared)
    return key


def _load_secret_key(service: str, name: str, decl: Mapping[str, Any]) -> ParameterKey:
    where = f"keys.{name}"
    extra = sorted(set(decl) - _SECRET_FIELDS)
    if extra:
        raise ConfigError(
            service, f"{where}.{extra[0]}", "<hidden>" if extra[0] == "value" else decl[extra[0]],
            "A secret has no type or value in cdk.json; give only its \"source\", \"name\" and optionally \"json_field\".",
        )
    source = decl.get("source")
    if source not in SECRET_SOURCES:
        raise ConfigError(service, f"{where}.source", source, f"Give the secret's source: {' or '.join(SECRET_SOURCES)}.")
    source = cast("SecretSource", source)
    if "name" not in decl:
        if "json_field" in decl:
            raise ConfigError(service, f"{where}.json_field", decl["json_field"], "Give a shared \"name\" with a shared json_field.")
        # No shared name: every environment names its own secret in its overrides.
        return ParameterKey(name=name, kind="secret", type=None, required=True, value=None, source=source)
    ref = _secret_ref(service, where, source, {k: decl[k] for k in ("name", "json_field") if k in decl})
    return ParameterKey(name=name, kind="secret", type=None, required=True, value=ref, source=source)


def _secret_ref(service: str, where: str, source: SecretSource, value: Any, *, base: SecretRef | None = None) -> SecretRef:
    """A secret reference from ``{"name", "json_field"}``."""
    if isinstance(value, str):
        # A bare string may be the secret itself ("hunter2"): never echo it, never take it as a name.
        raise ConfigError(
            service, where, "<hidden>",
            f"A secret is given by its name, never by value, and a plain string here may be the value: write it as "
            f'{{"name": "<the {source} name>"}} (optionally with "json_field"), e.g. '
            f'"{where.rsplit(".", 1)[-1]}": {{"name": "{_example_name(source)}"}}.',
        )
    if not isinstance(value, Mapping):
        raise ConfigError(service, where, value, 'Give the secret as an object: {"name": ...} or {"name": ..., "json_field": ...}.')
    unknown = sorted(set(value) - {"name", "json_field"})
    if unknown:
        raise ConfigError(service, f"{where}.{unknown[0]}", value[unknown[0]], 'Give only "name" and "json_field" for a secret.')
    name = value.get("name", base.name if base else None)
    pattern = _SSM_NAME if source == "ssm" else _SECRETSMANAGER_NAME
    if not isinstance(name, str) or not pattern.match(name) or name.startswith("arn:") or (
        source == "ssm" and "/" in name and not name.startswith("/")
    ):
        raise ConfigError(
            service, f"{where}.name", name, f"Give the {source} secret's name (not its value or ARN), e.g. {_example_name(source)}."
        )
    # An override that renames the secret keeps the shared JSON field unless it gives its own.
    json_field = value.get("json_field", base.json_field if base else None)
    if json_field is not None:
        if source != "secretsmanager":
            raise ConfigError(service, f"{where}.json_field", json_field, "Only a Secrets Manager secret has JSON fields; remove it.")
        if not isinstance(json_field, str) or not json_field:
            raise ConfigError(service, f"{where}.json_field", json_field, "Give the JSON field's name as a non-empty string.")
    return SecretRef(source=source, name=name, json_field=json_field)


def _example_name(source: SecretSource) -> str:
    return "/portfolio/import/api-token" if source == "ssm" else "portfolio-api/database"


def _typed_value(service: str, where: str, key: ParameterKey, value: Any) -> str | SecretRef:
    """Check ``value`` against the key's type and render it as the container will see it."""
    if key.kind == "secret":
        base = key.value if isinstance(key.value, SecretRef) else None
        return _secret_ref(service, where, cast("SecretSource", key.source), value, base=base)
    if isinstance(value, str) and not _is_environment_safe(value):
        raise ConfigError(
            service, where, value,
            "Remove the NUL character or unpaired surrogate: a container environment value cannot hold it.",
        )
    if key.type == "string":
        if not isinstance(value, str):
            raise ConfigError(service, where, value, "Give a string (in double quotes).")
        if key.allowed is not None and value not in key.allowed:
            raise ConfigError(service, where, value, f"Give one of {', '.join(key.allowed)}.")
        return value
    if key.type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(service, where, value, "Give a whole number (without quotes).")
        if (key.minimum is not None and value < key.minimum) or (key.maximum is not None and value > key.maximum):
            raise ConfigError(service, where, value, f"Give a number from {key.minimum} to {key.maximum}.")
        return str(value)
    if key.type == "boolean":
        if not isinstance(value, bool):
            raise ConfigError(service, where, value, "Give true or false (without quotes).")
        return "true" if value else "false"
    if key.type == "url":
        problem = _url_problem(value)
        if problem is not None:
            shown = _without_password(value) if isinstance(value, str) else value
            raise ConfigError(service, where, shown, f"{problem}; give an absolute URL such as https://api.example.com.")
        return cast("str", value)
    # duration
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        units = ", ".join(DURATION_UNITS)
        raise ConfigError(service, where, value, f'Give a duration with its unit, e.g. "30s" or "250ms" (units: {units}).')
    millis = int(match["amount"]) * DURATION_UNITS[match["unit"]]
    per_unit = DURATION_UNITS[key.unit]
    if millis % per_unit:
        raise ConfigError(service, where, value, f"The container takes {key.name} in whole {key.unit}; give a whole number of {key.unit}.")
    return str(millis // per_unit)


def _is_environment_safe(value: str) -> bool:
    # Linux environment values end at NUL, and jsii cannot pass unpaired surrogates on.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _url_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a url parameter, or ``None``."""
    if not isinstance(value, str):
        return "Give the URL as a string"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return "Remove the whitespace or control characters"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError outside 0..65535 or when not a number
    except ValueError:
        return "Give a valid URL (the host or the port cannot be read)"
    if parts.scheme not in URL_SCHEMES:
        return f"Use one of the schemes {', '.join(sorted(URL_SCHEMES))} (got {parts.scheme or 'none'!r})"
    if not parts.hostname:
        return "Give a host"
    if port == 0:
        return "Give a port from 1 to 65535"
    if parts.password is not None:
        return "Remove the password: a credential belongs in a secret key, not in a plain value"
    return None


def _without_password(url: str) -> str:
    """``url`` with any password in it replaced, so that a refusal does not print it."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return url
    return url.replace(f":{password}@", ":<hidden>@", 1) if password else url


def _is_secret_looking(key: str) -> bool:
    # Imported here, not at the top: services._base imports this module (for SecretRef), and
    # the one definition of "secret-looking" must stay the services' own.
    from stable_fargate.services._base import is_secret_looking

    return is_secret_looking(key)
