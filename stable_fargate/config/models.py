"""The typed models of cdk.json's ``stable_fargate`` block (pydantic v2, strict, frozen).

The public types (``AccountRegion``, ``ServiceSizing``, ``SecretRef``, ``ResolvedParameters``,
``EnvironmentSpec``) are these models themselves: a hand-built one goes through the same
validators as one loaded from cdk.json, and a refusal is a :class:`ConfigError` either way.

Strict: a string is never read as a number or a boolean, and no field is unknown. Frozen:
attributes cannot be reassigned and mappings are read-only views.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from stable_fargate import connection_budget, defaults
from stable_fargate.config import rules
from stable_fargate.config.messages import config_error
from stable_fargate.config.rules import (
    AccountId,
    ArrayAsTuple,
    BakeMinutes,
    Budget,
    CanaryPercent,
    Cpu,
    DatabaseName,
    DeclaredConnections,
    EnvironmentName,
    ImageName,
    InstanceClass,
    IsoDate,
    JsonField,
    KeyName,
    LinearStepPercent,
    MemoryMib,
    PoolSize,
    Reason,
    Region,
    RuleError,
    ServiceName,
    StorageGib,
    TaskCount,
    VpcCidr,
)
from stable_fargate.errors import ConfigError

V = TypeVar("V")

SecretSource = Literal["secretsmanager", "ssm"]
ReleaseStrategy = Literal["rolling", "blue_green", "canary", "linear"]
ParameterType = Literal["string", "integer", "boolean", "url", "duration"]
DurationUnit = Literal["ms", "s", "m", "h"]

PARAMETER_TYPES: tuple[ParameterType, ...] = ("string", "integer", "boolean", "url", "duration")
"""The value types a plain key may declare; each is checked at load, so a typo in a number or
a URL fails ``cdk synth`` instead of the container's start in one environment."""

SECRET_SOURCES: tuple[SecretSource, ...] = ("secretsmanager", "ssm")
"""Where a secret may come from: both are resolved by ECS at task start, by name."""

URL_SCHEMES: frozenset[str] = frozenset({"http", "https"})
"""The schemes a ``url`` key may use: the services call HTTP APIs. A narrow list refuses
``javascript:``, ``file:`` and typos at synth; a service that needs another scheme (a
``postgresql://`` DSN, say) adds it here with its reason."""

DURATION_UNITS: Mapping[str, int] = MappingProxyType({"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000})
"""Duration suffixes and their length in milliseconds. A duration is written with its unit
("30s") so that nobody has to guess whether 30 means seconds or milliseconds."""

DEFAULT_DURATION_UNIT: DurationUnit = "s"
"""The unit a duration is handed to the container in unless the key says ``"unit"``."""

MAX_DURATION_DIGITS = 9
"""A duration's amount has at most nine digits (over 31 years in seconds): more is a typo."""


def _read_only(value: Mapping[str, V]) -> Mapping[str, V]:
    return MappingProxyType(dict(value))


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


ReadOnly = AfterValidator(_read_only)

F = TypeVar("F")


def _hand_built(init: F) -> F:
    """Mark a model's own ``__init__`` as pydantic's: ``model_validate`` (the loader, nested
    models) then validates directly, so refusals keep their cdk.json path, while a call by hand
    goes through the ``__init__`` and its ConfigError."""
    setattr(init, "__pydantic_base_init__", True)  # noqa: B010 - pydantic reads this marker
    return init


class Model(BaseModel):
    """Strict, frozen, closed: the base of every model. Building one by hand runs the same
    validators as loading cdk.json, and a refusal is a ConfigError naming the class."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True, regex_engine="python-re")

    @_hand_built
    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise config_error(error, subject=self._subject(data)) from None

    @classmethod
    def _subject(cls, data: Mapping[str, Any]) -> str:
        return cls.__name__

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in type(self).model_fields}

    def _replace(self, **changes: Any) -> Self:
        """A modified copy, validated again (``model_copy`` would skip the rules)."""
        return type(self)(**{**self._fields(), **changes})


# --- Where stacks live ------------------------------------------------------------------------


class AccountRegion(Model):
    """An AWS account and region: where a stack is deployed, or where images live."""

    account: AccountId
    """The 12-digit account id, as a string."""
    region: Region
    """A commercial AWS region, e.g. eu-west-2."""

    @_hand_built
    def __init__(self, account: str, region: str) -> None:
        super().__init__(account=account, region=region)


# --- Sizing -----------------------------------------------------------------------------------


class ServiceSizing(Model):
    """How big one service is in one environment: the values environments may differ in.

    ``on_demand_base`` is the number of tasks kept on regular Fargate when the service runs
    on Fargate Spot (workers); ``None`` means the service's own default.
    """

    cpu: Cpu = defaults.DEFAULT_CPU
    """Task CPU units (256 = a quarter vCPU); the services check the CPU/memory pair."""
    memory_mib: MemoryMib = defaults.DEFAULT_MEMORY_MIB
    """Task memory in MiB."""
    min_tasks: TaskCount = defaults.DEFAULT_MIN_TASKS
    """The fewest tasks scaling keeps."""
    max_tasks: TaskCount = defaults.DEFAULT_MAX_TASKS
    """The most tasks scaling may start; at least min_tasks and at least 1."""
    on_demand_base: TaskCount | None = None
    """Tasks kept on regular Fargate under a Spot strategy; null: the service's default."""

    @model_validator(mode="after")
    def _counts(self) -> Self:
        if self.max_tasks < self.min_tasks:
            raise RuleError(f"Give at least min_tasks ({self.min_tasks}).", field="max_tasks", value=self.max_tasks)
        if self.max_tasks < 1:
            raise RuleError("Give at least 1: a service that may run no task never runs.", field="max_tasks", value=self.max_tasks)
        if self.on_demand_base is not None and self.on_demand_base > self.max_tasks:
            raise RuleError(
                f"Keep at most max_tasks ({self.max_tasks}) tasks on demand.", field="on_demand_base", value=self.on_demand_base
            )
        return self


# --- Databases --------------------------------------------------------------------------------


class DatabaseSizing(Model):
    """One database in one environment (``environments.<env>.databases.<name>``): the instance
    and the connection pool of each service that connects to it. Pool sizes may differ between
    environments (the drift guard reads them as declared differences of DB_POOL_MAX)."""

    instance_class: InstanceClass
    """The RDS instance class, e.g. db.m7g.large; its memory sets max_connections unless declared."""
    allocated_storage_gib: StorageGib = defaults.DATABASE_ALLOCATED_STORAGE_GIB
    """gp3 storage in GiB (20 to 65536)."""
    max_allocated_storage_gib: StorageGib | None = None
    """The most storage autoscaling may grow to; null: twice the allocation."""
    multi_az: bool | None = None
    """A standby in another AZ; null: the environment's production flag. Production refuses false."""
    max_connections: DeclaredConnections | None = None
    """The instance's max_connections, declared (written into the parameter group); null: RDS's
    default for the class, LEAST(DBInstanceClassMemory / 9531392, 5000)."""
    pools: Annotated[Mapping[ServiceName, PoolSize], ReadOnly] = Field(default_factory=_empty)
    """service -> the connection pool of each of its tasks (DB_POOL_MAX), 1 to 1000."""

    @property
    def storage_ceiling_gib(self) -> int:
        """Where storage autoscaling stops."""
        if self.max_allocated_storage_gib is not None:
            return self.max_allocated_storage_gib
        return min(self.allocated_storage_gib * defaults.DATABASE_MAX_STORAGE_FACTOR, rules.MAX_STORAGE_GIB)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.max_allocated_storage_gib is not None and self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise RuleError(
                f"Give at least allocated_storage_gib ({self.allocated_storage_gib}): autoscaling only grows storage.",
                field="max_allocated_storage_gib", value=self.max_allocated_storage_gib,
            )
        known = connection_budget.nominal_max_connections(self.instance_class)
        if self.max_connections is None and known is None:
            raise RuleError(
                "This class is not in the table the connection budget derives max_connections from (Graviton classes of 4 GiB "
                f"and more: {', '.join(sorted(connection_budget.INSTANCE_CLASS_MEMORY_GIB)[:4])}, ...): declare \"max_connections\" "
                "(read it on the instance with SHOW max_connections) or use a class of the table.",
                field="instance_class", value=self.instance_class,
            )
        if self.max_connections is not None and known is not None and self.max_connections > known:
            raise RuleError(
                f"{self.instance_class} has memory for at most {known} connections by RDS's own formula on its whole memory; "
                "more would risk the instance running out of memory. Declare fewer, or choose a larger class.",
                field="max_connections", value=self.max_connections,
            )
        return self


# --- Secrets and resolved parameters ---------------------------------------------------------


class SecretRef(Model):
    """A secret by name, never by value: a Secrets Manager secret (optionally one JSON field
    of it) or an SSM SecureString parameter."""

    source: SecretSource
    name: str
    json_field: JsonField | None = None

    @_hand_built
    def __init__(self, source: SecretSource, name: str, json_field: str | None = None) -> None:
        super().__init__(source=source, name=name, json_field=json_field)

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> Self:
        rules.check_secret(self.source, self.name, self.json_field, tokens=rules.tokens_allowed(info))
        return self


class ResolvedParameters(Model):
    """One service's configuration in one environment: plain values and secret references.

    Built by the loader from cdk.json, or by hand; the same rules hold: key names (upper case,
    not ``AWS_*``/``ECS_*``), no secret-looking key among the plain values, values a container
    environment can hold, secrets by name.
    """

    service: Annotated[str, AfterValidator(rules.check_service_name)]
    environment: Annotated[str, AfterValidator(rules.check_environment_name)]
    plain: Annotated[Mapping[KeyName, str], ReadOnly] = Field(default_factory=_empty)
    secrets: Annotated[Mapping[KeyName, SecretRef], ReadOnly] = Field(default_factory=_empty)

    @_hand_built
    def __init__(
        self,
        service: str,
        environment: str,
        plain: Mapping[str, str] | None = None,
        secrets: Mapping[str, SecretRef] | None = None,
    ) -> None:
        super().__init__(
            service=service,
            environment=environment,
            plain=dict(plain) if isinstance(plain, Mapping) else {} if plain is None else plain,
            secrets=dict(secrets) if isinstance(secrets, Mapping) else {} if secrets is None else secrets,
        )

    @classmethod
    def _subject(cls, data: Mapping[str, Any]) -> str:
        service = data.get("service")
        return service if isinstance(service, str) and rules.SERVICE_NAME_PATTERN.fullmatch(service) else cls.__name__

    @model_validator(mode="after")
    def _rules(self) -> Self:
        for key, value in self.plain.items():
            if rules.is_secret_looking(key):
                raise RuleError(
                    f"{key} looks like a secret; pass it in secrets as a SecretRef (Secrets Manager or SSM SecureString), "
                    "so that only its name is in the task definition.",
                    field=f"plain.{key}", hidden=True,
                )
            if not rules.is_environment_safe(value):
                raise RuleError(
                    "Remove the NUL character or unpaired surrogate: a container environment value cannot hold it.",
                    field=f"plain.{key}", value=value,
                )
        both = sorted(set(self.plain) & set(self.secrets))
        if both:
            raise RuleError("A key is either a plain value or a secret; remove one of the two.", field=f"secrets.{both[0]}", value=both[0])
        return self


# --- Parameter declarations (cdk.json: parameters.<service>, shared_parameters) ---------------


class PlainKey(Model):
    """A plain key: a container environment value of a declared type."""

    kind: Literal["plain"] = "plain"
    """plain (the default): an environment value in the task definition."""
    type: ParameterType
    """string, integer, boolean, url (http/https) or duration ("30s")."""
    value: JsonValue = None
    """The shared value; without one every environment gives its own under overrides."""
    required: bool = True
    """false: an environment without a value resolves to "" (the key still exists everywhere)."""
    allowed: Annotated[tuple[str, ...], rules.ArrayAsTuple, Field(min_length=1)] | None = None
    """string keys: the values allowed."""
    min: int | None = None
    """integer keys: the smallest value allowed."""
    max: int | None = None
    """integer keys: the largest value allowed."""
    unit: DurationUnit | None = None
    """duration keys: the unit the container reads (ms, s, m, h). Default: s."""

    @property
    def has_value(self) -> bool:
        return "value" in self.model_fields_set

    @property
    def container_unit(self) -> DurationUnit:
        return self.unit or DEFAULT_DURATION_UNIT

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.allowed is not None and self.type != "string":
            raise RuleError('Give "allowed" only on a string key.', field="allowed", value=list(self.allowed))
        for bound in ("min", "max"):
            if getattr(self, bound) is not None and self.type != "integer":
                raise RuleError(f'Give "{bound}" only on an integer key.', field=bound, value=getattr(self, bound))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise RuleError(f"Give a minimum no larger than the maximum {self.max}.", field="min", value=self.min)
        if self.unit is not None and self.type != "duration":
            raise RuleError('Give "unit" only on a duration key.', field="unit", value=self.unit)
        if self.allowed is not None:
            for item in self.allowed:
                if not rules.is_environment_safe(item):
                    raise RuleError("Remove the NUL character or unpaired surrogate from the allowed values.", field="allowed", value=item)
            if not self.required and not self.has_value and "" not in self.allowed:
                raise RuleError(
                    'An optional key resolves to "" in an environment that gives no value, and "" is not allowed: '
                    'add "" to "allowed" to accept no value, give a shared "value", or remove "required": false.',
                    field="allowed", value=list(self.allowed),
                )
        if self.has_value:
            try:
                render_plain(self, self.value)
            except RuleError as refusal:
                raise RuleError(refusal.fix, field="value", value=refusal.value, hidden=refusal.hidden) from None
        return self


class SecretKey(Model):
    """A secret key: an ECS secret from Secrets Manager or an SSM SecureString, by name."""

    kind: Literal["secret"]
    """secret: the task definition holds only the secret's name."""
    source: SecretSource
    """secretsmanager or ssm; the same in every environment."""
    name: str | None = None
    """The shared name; without one every environment names its own under overrides."""
    json_field: JsonField | None = None
    """secretsmanager only: one field of a JSON secret."""

    @property
    def has_value(self) -> bool:
        return self.name is not None

    @property
    def shared(self) -> SecretRef | None:
        return SecretRef(self.source, self.name, self.json_field) if self.name is not None else None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.name is None and self.json_field is not None:
            raise RuleError('Give a shared "name" with a shared json_field.', field="json_field", value=self.json_field)
        rules.check_secret(self.source, self.name, self.json_field)
        return self


def _kind(value: Any) -> str | None:
    kind = value.get("kind", "plain") if isinstance(value, Mapping) else getattr(value, "kind", None)
    return {"plain": "plain key", "secret": "secret key"}.get(kind) if isinstance(kind, str) else None


KeyDeclaration = Annotated[
    Annotated[PlainKey, Tag("plain key")] | Annotated[SecretKey, Tag("secret key")],
    Discriminator(
        _kind,
        custom_error_type="key_kind",
        custom_error_message='Declare the key as an object whose "kind" is "plain" (the default) or "secret"',
    ),
]


class SecretOverride(Model):
    """An environment's own name for a secret (the source never changes)."""

    name: str | None = None
    json_field: JsonField | None = None


class ParameterSetData(Model):
    """One parameter set as cdk.json declares it: keys and per-environment overrides."""

    keys: Annotated[Mapping[KeyName, KeyDeclaration], ReadOnly, Field(min_length=1)]
    """KEY -> declaration; every key exists in every environment."""
    overrides: Annotated[Mapping[EnvironmentName, Annotated[Mapping[KeyName, JsonValue], ReadOnly]], ReadOnly] = Field(
        default_factory=_empty
    )
    """environment -> KEY -> value: the only place values differ, and the drift guard's record."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        for name, key in self.keys.items():
            if isinstance(key, PlainKey) and rules.is_secret_looking(name):
                raise RuleError(
                    f'{name} looks like a secret; declare it "kind": "secret" with a "source" (secretsmanager or ssm) '
                    'and a "name", so that only the secret\'s name is in the task definition.',
                    field=f"keys.{name}.kind", value="plain",
                )
        for env, values in self.overrides.items():
            for name, value in values.items():
                where = f"overrides.{env}.{name}"
                declared = self.keys.get(name)
                if declared is None:
                    raise RuleError(
                        f"Key {name} is not declared, so environment {env} would differ from the others. Declare it under "
                        "keys (with a value for every environment) or remove the override.",
                        field=where, value=value, hidden=rules.is_secret_looking(name),
                    )
                try:
                    resolve_value(declared, value, name)
                except RuleError as refusal:
                    suffix = f".{refusal.field}" if refusal.field else ""
                    raise RuleError(refusal.fix, field=where + suffix, value=refusal.value, hidden=refusal.hidden) from None
        return self


def render_plain(key: PlainKey, value: Any) -> str:
    """Check ``value`` against the key's type and render it as the container will see it."""
    if isinstance(value, str) and not rules.is_environment_safe(value):
        raise RuleError("Remove the NUL character or unpaired surrogate: a container environment value cannot hold it.", value=value)
    if key.type == "string":
        if not isinstance(value, str):
            raise RuleError("Give a string (in double quotes).", value=value)
        if key.allowed is not None and value not in key.allowed:
            raise RuleError(f"Give one of {', '.join(key.allowed)}.", value=value)
        return value
    if key.type == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise RuleError("Give a whole number (without quotes).", value=value)
        if (key.min is not None and value < key.min) or (key.max is not None and value > key.max):
            raise RuleError(f"Give a number from {key.min} to {key.max}.", value=value)
        return str(value)
    if key.type == "boolean":
        if not isinstance(value, bool):
            raise RuleError("Give true or false (without quotes).", value=value)
        return "true" if value else "false"
    if key.type == "url":
        problem = url_problem(value)
        if problem is not None:
            raise RuleError(f"{problem}; give an absolute URL such as https://api.example.com.", value=without_password(value))
        return str(value)
    match = re.fullmatch(rf"(?P<amount>[0-9]{{1,{MAX_DURATION_DIGITS}}})(?P<unit>ms|s|m|h)", value) if isinstance(value, str) else None
    if match is None:
        raise RuleError(f'Give a duration with its unit, e.g. "30s" or "250ms" (units: {", ".join(DURATION_UNITS)}).', value=value)
    millis = int(match["amount"]) * DURATION_UNITS[match["unit"]]
    per_unit = DURATION_UNITS[key.container_unit]
    if millis % per_unit:
        unit = key.container_unit
        raise RuleError(f"The container reads this key in whole {unit}; give a whole number of {unit}.", value=value)
    return str(millis // per_unit)


def resolve_value(key: PlainKey | SecretKey, value: Any, name: str = "KEY") -> str | SecretRef:
    """An override's value for ``key`` (named ``name``): a rendered plain value or a secret reference."""
    if isinstance(key, PlainKey):
        return render_plain(key, value)
    if isinstance(value, str):
        # A bare string may be the secret itself ("hunter2"): never echo it, never take it as a name.
        example = "/portfolio/import/api-token" if key.source == "ssm" else "portfolio-api/database"
        raise RuleError(
            f"A secret is given by its name, never by value, and a plain string here may be the value: write it as "
            f'{{"name": "<the {key.source} name>"}} (optionally with "json_field"), e.g. "{name}": {{"name": "{example}"}}.',
            hidden=True,
        )
    if not isinstance(value, Mapping):
        raise RuleError('Give the secret as an object: {"name": ...} or {"name": ..., "json_field": ...}.', hidden=True)
    unknown = sorted(set(value) - {"name", "json_field"})
    if unknown:
        raise RuleError('Give only "name" and "json_field" for a secret.', field=str(unknown[0]), hidden=True)
    name = value.get("name", key.name)
    json_field = value.get("json_field", key.json_field)
    if not isinstance(name, str):
        raise RuleError(f"Give the {key.source} secret's name as a string.", field="name", value=name)
    if json_field is not None and (not isinstance(json_field, str) or rules.JSON_FIELD_PATTERN.fullmatch(json_field) is None):
        raise RuleError(
            "Give the JSON field's name: 1 to 256 ASCII letters, digits or _.@/+=- (no ':').", field="json_field", value=json_field
        )
    rules.check_secret(key.source, name, json_field)
    return SecretRef(key.source, name, json_field)


def url_problem(value: Any) -> str | None:
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
    if parts.scheme.lower() not in URL_SCHEMES:
        return f"Use one of the schemes {', '.join(sorted(URL_SCHEMES))} (got {parts.scheme or 'none'!r})"
    if not parts.hostname:
        return "Give a host"
    if port == 0:
        return "Give a port from 1 to 65535"
    if parts.password is not None:
        return "Remove the password: a credential belongs in a secret key, not in a plain value"
    return None


def without_password(value: Any) -> Any:
    """``value`` with any URL password in it replaced, so that a refusal does not print it."""
    if not isinstance(value, str):
        return value
    try:
        password = urlsplit(value).password
    except ValueError:
        return value
    return value.replace(f":{password}@", ":<hidden>@", 1) if password else value


ParameterSetsData = Annotated[Mapping[ServiceName, ParameterSetData], ReadOnly]
"""cdk.json → stable_fargate.parameters: service -> its parameter set."""


# --- Releases -------------------------------------------------------------------------------

RELEASE_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType({
    "rolling": frozenset(),
    "blue_green": frozenset({"bake_minutes"}),
    "canary": frozenset({"bake_minutes", "canary_percent", "canary_bake_minutes"}),
    "linear": frozenset({"bake_minutes", "linear_step_percent", "linear_step_bake_minutes"}),
})
"""The fields each strategy reads; a field another strategy reads is refused, not ignored."""


class Release(Model):
    """How an environment releases its web services (cdk.json: ``environments.<env>.release``).

    * ``rolling``: new tasks replace the old in one batch (100/200 %), the deployment circuit
      breaker and the alarms roll back; every user meets the new release as soon as its tasks
      pass their health checks.
    * ``blue_green``: a full set of new (green) tasks starts beside the old, takes test traffic
      from inside the VPC and a smoke check, then all production traffic; the old tasks keep
      running for ``bake_minutes`` so a rollback is a traffic shift.
    * ``canary``: as blue/green, but production traffic moves ``canary_percent`` first, bakes
      ``canary_bake_minutes``, then the rest.
    * ``linear``: production traffic moves ``linear_step_percent`` at a time, each step baking
      ``linear_step_bake_minutes``.

    Ranges are Amazon ECS's (see :mod:`stable_fargate.config.rules`, "Releases"); the fields are
    CloudFormation's ``DeploymentConfiguration`` ``Strategy``, ``BakeTimeInMinutes``,
    ``CanaryConfiguration`` and ``LinearConfiguration``
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-deploymentconfiguration.html).
    """

    strategy: ReleaseStrategy = defaults.RELEASE_STRATEGY
    """rolling, blue_green, canary or linear. Default: rolling."""
    bake_minutes: BakeMinutes = defaults.RELEASE_BAKE_MINUTES
    """blue_green, canary, linear: minutes the old tasks keep running after all traffic moved (0-1440)."""
    canary_percent: CanaryPercent = defaults.CANARY_PERCENT
    """canary: the share of production traffic the canary takes (0.1-100, steps of 0.1)."""
    canary_bake_minutes: BakeMinutes = defaults.CANARY_BAKE_MINUTES
    """canary: minutes the canary bakes before the rest of the traffic moves (0-1440)."""
    linear_step_percent: LinearStepPercent = defaults.LINEAR_STEP_PERCENT
    """linear: the share of production traffic each step moves (3-100, steps of 0.1)."""
    linear_step_bake_minutes: BakeMinutes = defaults.LINEAR_STEP_BAKE_MINUTES
    """linear: minutes each step bakes before the next (0-1440)."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        allowed = RELEASE_FIELDS[self.strategy]
        for name in sorted(self.model_fields_set - allowed - {"strategy"}):
            readers = [s for s, fields in RELEASE_FIELDS.items() if name in fields]
            raise RuleError(
                f"{self.strategy} reads no {name} (it is read by {', '.join(readers)}): remove it, or change the strategy.",
                field=name, value=getattr(self, name),
            )
        minutes = self.release_minutes
        if minutes > rules.CLOUDFORMATION_MAX_RELEASE_MINUTES:
            field = "canary_bake_minutes" if self.strategy == "canary" else "linear_step_bake_minutes"
            raise RuleError(
                f"CloudFormation refuses a {self.strategy} release whose bake times add up to more than 33 hours "
                f"({minutes} minutes here): shorten the bakes.",
                field=field, value=getattr(self, field),
            )
        return self

    @property
    def shifts_traffic(self) -> bool:
        """Whether the strategy moves traffic between two target groups (all but rolling)."""
        return self.strategy != "rolling"

    @property
    def release_minutes(self) -> int:
        """The bake minutes CloudFormation adds up against its 33-hour limit (0 for rolling)."""
        if self.strategy == "canary":
            return self.bake_minutes + self.canary_bake_minutes
        if self.strategy == "linear":
            return self.bake_minutes + self.linear_step_bake_minutes * rules.linear_steps(self.linear_step_percent)
        return self.bake_minutes if self.strategy == "blue_green" else 0


# --- Environments -----------------------------------------------------------------------------


class Hotfix(Model):
    """A release an environment runs ahead of the one it promotes from, declared and dated."""

    tag: ImageName
    """The image the environment runs (exactly as under images)."""
    reason: Reason
    """Why (e.g. "CVE-2026-1234 patch"); shown by drift beside the image."""
    expires: IsoDate
    """YYYY-MM-DD: after this day the declaration is refused, so an exception cannot become the rule."""

    @property
    def expiry(self) -> date:
        return date.fromisoformat(self.expires)


INJECTED_FIELDS = frozenset({"name", "registry", "parameters"})
"""EnvironmentSpec fields the loader fills (from the environment's key, the tooling account
and the parameter sets); cdk.json does not carry them."""


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class EnvironmentSpec(Model):
    """One deployment environment (dev, staging, prod), loaded from cdk.json context.

    Default: ``production`` is true for an environment named ``prod``; ``retain_data`` is true
    for the environments in ``defaults.RETAIN_DATA_ENVIRONMENTS``, unless the data says otherwise.
    """

    name: SkipJsonSchema[EnvironmentName]
    account: AccountId
    """The environment's 12-digit account id."""
    region: Region
    """The environment's region."""
    availability_zones: Annotated[tuple[str, ...], ArrayAsTuple]
    """The AZs, explicit so that synth never asks AWS: at least 2 (3 in production), of the region."""
    vpc_cidr: VpcCidr
    """The VPC's private (RFC 1918) network, large enough for a /24 public and a /20 private subnet per AZ."""
    certificate_arn: str
    """The ACM certificate of the environment's load balancers, in its account and region."""
    nat_gateways: Annotated[int, Field(ge=0)] = 0
    """NAT gateways, at most one per AZ (0: the VPC endpoints cover what tasks need)."""
    production: bool = Field(default=False, json_schema_extra=_no_default)
    """Production rules (three AZs, releases only). Default: true for an environment named prod."""
    retain_data: bool = Field(default=False, json_schema_extra=_no_default)
    """Keep stateful resources on stack deletion. Default: true for staging and prod."""
    services: Annotated[Mapping[ServiceName, ServiceSizing], ReadOnly] = Field(default_factory=_empty)
    """service -> its sizing here."""
    images: Annotated[Mapping[ServiceName, ImageName], ReadOnly] = Field(default_factory=_empty)
    """service -> the release it runs: v1.2.3 or v1.2.3@sha256:<64 hex>."""
    databases: Annotated[Mapping[DatabaseName, DatabaseSizing], ReadOnly] = Field(default_factory=_empty)
    """database -> its instance and the pool of each service that connects to it."""
    monthly_budget_usd: Budget | None = None
    """The environment's declared monthly budget in US dollars."""
    promotes_from: EnvironmentName | None = None
    """Another environment whose releases this one runs (or older ones, for a rollback)."""
    hotfixes: Annotated[Mapping[ServiceName, Hotfix], ReadOnly] = Field(default_factory=_empty)
    """service -> a release run ahead of promotes_from, with its reason and expiry."""
    release: Release = Field(default_factory=Release)
    """How web services release here: rolling (the default), blue_green, canary or linear."""
    registry: SkipJsonSchema[AccountRegion | None] = None
    parameters: SkipJsonSchema[Annotated[Mapping[ServiceName, ResolvedParameters], ReadOnly]] = Field(default_factory=_empty)

    @classmethod
    def _subject(cls, data: Mapping[str, Any]) -> str:
        name = data.get("name")
        return f"environment {name}" if isinstance(name, str) else "environment"

    @model_validator(mode="before")
    @classmethod
    def _named_defaults(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("name"), str):
            name = data["name"]
            data = {"production": name == "prod", "retain_data": name in defaults.RETAIN_DATA_ENVIRONMENTS, **data}
        return data

    @model_validator(mode="after")
    def _rules(self) -> Self:
        self._check_network()
        self._check_certificate()
        for service, image in self.images.items():
            tag, _ = rules.split_image(image)
            if self.production and rules.is_prerelease(tag):
                raise RuleError(
                    "Production runs releases: promote the release tag that staging tested, not a pre-release.",
                    field=f"images.{service}", value=image,
                )
        self._check_hotfixes()
        self._check_databases()
        for service, resolved in self.parameters.items():
            if (resolved.service, resolved.environment) != (service, self.name):
                raise RuleError(
                    f"Give the parameters of {service} in {self.name} here.",
                    field=f"parameters.{service}", value=f"{resolved.service} in {resolved.environment}",
                )
        return self

    def _check_network(self) -> None:
        azs = self.availability_zones
        needed = defaults.MIN_AZS_PRODUCTION if self.production else defaults.MIN_AZS
        if len(set(azs)) != len(azs):
            raise RuleError("List each AZ once.", field="availability_zones", value=list(azs))
        if len(azs) < needed:
            kind = "A production environment" if self.production else "An environment"
            raise RuleError(f"{kind} needs at least {needed} AZs; add more.", field="availability_zones", value=list(azs))
        for index, az in enumerate(azs):
            if re.fullmatch(re.escape(self.region) + r"[a-z]", az, re.ASCII) is None:
                raise RuleError(
                    f"Use AZs of the environment's region {self.region}, e.g. {self.region}a.",
                    field=f"availability_zones.{index}", value=az,
                )
        if self.nat_gateways > len(azs):
            raise RuleError(f"Use 0 to {len(azs)} NAT gateways (one per AZ at most).", field="nat_gateways", value=self.nat_gateways)
        prefix = int(self.vpc_cidr.rsplit("/", 1)[1])
        largest = rules.smallest_vpc_prefix(len(azs))
        if prefix > largest:
            raise RuleError(
                f"{len(azs)} AZs need a /{defaults.PUBLIC_SUBNET_MASK} public and a /{defaults.PRIVATE_SUBNET_MASK} private "
                f"subnet each ({rules.subnet_layout_addresses(len(azs))} addresses): use a /{largest} or larger (a shorter prefix).",
                field="vpc_cidr", value=self.vpc_cidr,
            )

    def _check_databases(self) -> None:
        connected: dict[str, str] = {}
        for name, database in self.databases.items():
            where = f"databases.{name}"
            if self.production and database.multi_az is False:
                raise RuleError(
                    "A production database keeps a standby in another AZ: an AZ outage or an instance failure then fails "
                    "over in a minute or two instead of stopping every service. Remove multi_az (or set it true).",
                    field=f"{where}.multi_az", value=False,
                )
            for service in database.pools:
                if service not in self.services:
                    raise RuleError(
                        f"{service} has no sizing in this environment, so its connections cannot be budgeted: declare it under "
                        f"services.{service} (its max_tasks counts), or remove the pool.",
                        field=f"{where}.pools.{service}", value=database.pools[service],
                    )
                if service in connected:
                    raise RuleError(
                        f"{service} already has a pool in database {connected[service]}: a service connects to one database "
                        "(PGHOST, PGDATABASE and DB_POOL_MAX name one). Keep one of the two pools.",
                        field=f"{where}.pools.{service}", value=database.pools[service],
                    )
                connected[service] = name

    def _check_certificate(self) -> None:
        match = rules.ACM_ARN_PATTERN.fullmatch(self.certificate_arn)
        if match is None or match["region"] != self.region or match["account"] != self.account:
            raise RuleError(
                f"Use an ACM certificate ARN in this environment's account {self.account} and region {self.region} "
                f"(arn:aws:acm:{self.region}:{self.account}:certificate/<id>): the load balancer can use no other.",
                field="certificate_arn", value=self.certificate_arn,
            )

    def _check_hotfixes(self) -> None:
        if self.promotes_from == self.name:
            raise RuleError("Name another environment: an environment cannot promote from itself.", field="promotes_from", value=self.name)
        for service, hotfix in self.hotfixes.items():
            where = f"hotfixes.{service}"
            if self.promotes_from is None:
                raise RuleError(
                    "A hotfix is an exception to promotion, and this environment promotes from none: remove it "
                    '(or declare "promotes_from").',
                    field=where, value=hotfix.tag,
                )
            if self.images.get(service) != hotfix.tag:
                raise RuleError(
                    f"The hotfix declares {hotfix.tag} but the environment runs {self.images.get(service, 'no image')} "
                    f"of {service}: remove the stale declaration (or run the hotfix under images.{service}).",
                    field=f"{where}.tag", value=hotfix.tag,
                )

    # --- reading -------------------------------------------------------------------------

    @property
    def stage_name(self) -> str:
        """The cdk.Stage id: ``prod`` -> ``Prod`` so that ``cdk deploy 'Prod/*'`` works."""
        return self.name[:1].upper() + self.name[1:]

    @property
    def target(self) -> AccountRegion:
        return AccountRegion(self.account, self.region)

    def sizing(self, service: str) -> ServiceSizing:
        """The sizing declared for ``service``; a missing entry is a ConfigError."""
        if service not in self.services:
            raise ConfigError(
                f"environment {self.name}", f"environments.{self.name}.services.{service}", None,
                f"Declare the sizing of {service} under environments.{self.name}.services in cdk.json.",
            )
        return self.services[service]

    def database(self, name: str) -> DatabaseSizing:
        """The database declared as ``name``; a missing entry is a ConfigError."""
        if name not in self.databases:
            raise ConfigError(
                f"environment {self.name}", f"environments.{self.name}.databases.{name}", None,
                f"Declare the database under environments.{self.name}.databases.{name} in cdk.json: its instance_class and "
                "the pool of each service that connects (declared: " + (", ".join(self.databases) or "none") + ").",
            )
        return self.databases[name]

    def database_multi_az(self, name: str) -> bool:
        """Whether ``name`` keeps a standby: as declared, else the environment's production flag."""
        declared = self.database(name).multi_az
        return self.production if declared is None else declared

    def image_tag(self, service: str) -> str:
        """The release tag this environment runs for ``service`` (``v1.8.0``), without any digest."""
        return rules.split_image(self._image(service))[0]

    def image_digest(self, service: str) -> str | None:
        """The digest the release is pinned to (``sha256:...``), or None when pinned by tag alone."""
        return rules.split_image(self._image(service))[1]

    def hotfix(self, service: str) -> Hotfix | None:
        """The hotfix declared for ``service``, if any."""
        return self.hotfixes.get(service)

    def _image(self, service: str) -> str:
        if service not in self.images:
            raise ConfigError(
                f"environment {self.name}", f"environments.{self.name}.images.{service}", None,
                f"Declare the release of {service} under environments.{self.name}.images in cdk.json.",
            )
        return self.images[service]

    def parameters_for(self, service: str) -> ResolvedParameters:
        """``service``'s parameters here; an empty set when the app declares none for it."""
        found = self.parameters.get(service)
        return found if found is not None else ResolvedParameters(service, self.name)

    # --- modified copies (validated again) -----------------------------------------------

    def with_sizing(self, service: str, sizing: ServiceSizing) -> EnvironmentSpec:
        """A copy of this environment with ``service`` sized ``sizing``."""
        return self._replace(services={**self.services, service: sizing})

    def with_database(self, name: str, database: DatabaseSizing) -> EnvironmentSpec:
        """A copy of this environment with the database ``name`` declared as ``database``."""
        return self._replace(databases={**self.databases, name: database})

    def with_image(self, service: str, tag: str) -> EnvironmentSpec:
        """A copy of this environment running ``tag`` (``v1.2.3`` or ``v1.2.3@sha256:...``) of ``service``."""
        return self._replace(images={**self.images, service: tag})


# --- The whole block --------------------------------------------------------------------------


class StableFargateBlock(Model):
    """cdk.json → context.stable_fargate: the tooling account, the environments and the
    parameter sets (the environments are parsed one by one into :class:`EnvironmentSpec`)."""

    tooling: AccountRegion
    """The tooling account and region: where the release images live (the registry)."""
    environments: Annotated[Mapping[EnvironmentName, Mapping[str, JsonValue]], ReadOnly, Field(min_length=1)]
    """name -> environment, in deployment order (dev, staging, prod)."""
    parameters: ParameterSetsData = Field(default_factory=_empty)
    """service -> its parameter set."""
    shared_parameters: ParameterSetData | None = None
    """Keys every service carries (LOG_LEVEL, ...), with per-environment overrides."""
