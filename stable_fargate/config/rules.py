"""The rules of cdk.json's ``stable_fargate`` block, once: constants, checks and the
annotated types the models are made of.

Every rule here is used by the loader *and* by a hand-built model (``AccountRegion(...)``,
``SecretRef(...)``, ``ResolvedParameters(...)``), because both go through the same pydantic
validators. A check raises :class:`RuleError` (a ``ValueError`` pydantic carries through), and
:mod:`stable_fargate.config.errors` turns it into a :class:`~stable_fargate.errors.ConfigError`
with the cdk.json path.

Text patterns use explicit ASCII classes and ``fullmatch``: ``\\d`` matches Arabic-Indic
digits and ``$`` matches before a trailing newline, and AWS accepts neither.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo

from stable_fargate import defaults

# --- Refusals ---------------------------------------------------------------------------------

UNSET: Final = object()
"""No value given to a RuleError: the validated value itself is shown."""


class RuleError(ValueError):
    """A rule refused a value. ``fix`` says what to do; ``field`` (relative to where the rule
    ran) and ``value`` point at the part refused when it is not the validated value itself;
    ``hidden`` keeps the value out of every message (it may be a secret)."""

    def __init__(self, fix: str, *, field: str | None = None, value: object = UNSET, hidden: bool = False) -> None:
        super().__init__(fix)
        self.fix = fix
        self.field = field
        self.value = value
        self.hidden = hidden


# --- AWS names and limits ---------------------------------------------------------------------

KNOWN_REGIONS: Final = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    }
)
"""Commercial AWS regions; a typo in a region is refused at load, not at deploy."""

ACCOUNT_PATTERN: Final = re.compile(r"[0-9]{12}", re.ASCII)
"""An AWS account id: twelve ASCII digits, written as a string (a number loses leading zeros)."""

ENVIRONMENT_NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9-]{0,29}[a-z0-9]", re.ASCII)
"""An environment name (2-31 characters): it becomes the stage id (``Prod``) and a prefix of
stack names and exports, which CloudFormation limits to ASCII letters, digits and ``-``."""

SERVICE_NAME_PATTERN: Final = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
"""A service name (1-63 characters): it names the ECR repository, the container, the log
stream prefix and the ECS service; lower case fits all of them."""

KEY_NAME_PATTERN: Final = re.compile(r"[A-Z][A-Z0-9_]{0,127}", re.ASCII)
"""An environment variable name: upper-case ASCII, as POSIX shells and every runtime read it."""

RESERVED_KEY_PREFIXES: Final = ("AWS_", "ECS_")
"""Prefixes the AWS SDKs and the ECS agent read: setting them from data would silently change
credentials, region or agent behaviour in one environment."""

ACM_ARN_PATTERN: Final = re.compile(
    r"arn:aws:acm:(?P<region>[a-z0-9-]{1,32}):(?P<account>[0-9]{12}):certificate/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    re.ASCII,
)
"""An ACM certificate ARN (ACM names certificates by a UUID)."""

SECRETSMANAGER_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}", re.ASCII)
"""Secrets Manager's documented name characters and length."""

SSM_NAME_PATTERN: Final = re.compile(r"/?[A-Za-z0-9_.\-/]{1,1011}", re.ASCII)
"""SSM parameter names: ASCII letters, digits, ``_.-/``; a path starts with ``/``."""

SSM_RESERVED_PREFIXES: Final = ("aws", "ssm")
"""SSM refuses parameter names that begin with these (case-insensitive), with or without ``/``."""

JSON_FIELD_PATTERN: Final = re.compile(r"[A-Za-z0-9_.@/+=-]{1,256}", re.ASCII)
"""A JSON key of a Secrets Manager secret as ECS reads it: ECS splits ``valueFrom`` at ``:``,
so a key with a colon (or whitespace) would be read as another part of the reference."""

# --- Sizing -----------------------------------------------------------------------------------

FARGATE_MIN_CPU: Final = 256
FARGATE_MAX_CPU: Final = 16384
"""Fargate's smallest and largest task CPU (units); the valid CPU/memory pairs are checked by
the services, which know the whole table."""

FARGATE_MIN_MEMORY_MIB: Final = 512
FARGATE_MAX_MEMORY_MIB: Final = 122880
"""Fargate's smallest and largest task memory (MiB)."""

MAX_TASKS_PER_SERVICE: Final = 5000
"""ECS's quota of tasks per service: a larger maximum is a typo that scaling could never reach."""

# --- Databases --------------------------------------------------------------------------------

DATABASE_NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{0,62}", re.ASCII)
"""A database's name (``environments.<env>.databases.<name>``): the Postgres database the
services open (PGDATABASE), an unquoted lower-case identifier of 1 to 63 characters as RDS
takes ``DBName``; it also names the instance (``<env>-<name>``, ``_`` as ``-``)."""

RESERVED_DATABASE_NAMES: Final = frozenset({"postgres", "rdsadmin", "template0", "template1"})
"""Databases Postgres or RDS create themselves: a service's data does not belong in them."""

INSTANCE_CLASS_PATTERN: Final = re.compile(r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+", re.ASCII)
"""An RDS instance class, e.g. db.m7g.large."""

MIN_STORAGE_GIB: Final = 20
MAX_STORAGE_GIB: Final = 65_536
"""gp3 storage of an RDS for PostgreSQL instance: 20 GiB to 64 TiB."""

MAX_POOL_SIZE: Final = 1000
"""A larger connection pool per task is a typo: no process usefully holds a thousand connections."""

MAX_DECLARED_CONNECTIONS: Final = 262_143
"""The largest ``max_connections`` Postgres accepts."""


def check_database_name(value: str) -> str:
    if DATABASE_NAME_PATTERN.fullmatch(value) is None:
        raise RuleError(
            "Name the database in lower-case ASCII letters, digits and '_' (1 to 63 characters, starting with a letter), "
            "such as portfolio: Postgres reads it unquoted and RDS names the instance after it."
        )
    if value in RESERVED_DATABASE_NAMES:
        raise RuleError(f"{value} is created by Postgres or RDS itself; name the application's database, e.g. portfolio.")
    return value


def check_instance_class(value: str) -> str:
    if INSTANCE_CLASS_PATTERN.fullmatch(value) is None:
        raise RuleError("Give an RDS instance class such as db.m7g.large (db.<family>.<size>, lower case).")
    return value


# --- Budgets ----------------------------------------------------------------------------------

MAX_MONTHLY_BUDGET_USD: Final = 10_000_000.0
"""The largest monthly budget accepted per environment: above ten million dollars a month the
figure is a typo (an extra digit, cents read as dollars) rather than a budget."""

# --- Network ----------------------------------------------------------------------------------

RFC1918_NETWORKS: Final = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
"""The private ranges a VPC uses. Python's ``is_private`` also admits loopback, link-local,
100.64/10 (carrier-grade NAT) and documentation ranges, which a VPC must not use."""

LARGEST_VPC_PREFIX: Final = 16
"""AWS's largest VPC: a /16."""


def subnet_layout_addresses(az_count: int) -> int:
    """Addresses the network's layout needs: one public /24 per AZ, then one private /20 per AZ,
    each aligned to its own size (the CDK allocates the groups in that order)."""
    public: int = 2 ** (32 - defaults.PUBLIC_SUBNET_MASK)
    private: int = 2 ** (32 - defaults.PRIVATE_SUBNET_MASK)
    return math.ceil(az_count * public / private) * private + az_count * private


def smallest_vpc_prefix(az_count: int) -> int:
    """The longest VPC prefix (smallest VPC) that holds the layout for ``az_count`` AZs."""
    return 32 - math.ceil(math.log2(subnet_layout_addresses(az_count)))


# --- Releases ---------------------------------------------------------------------------------

ECS_MAX_BAKE_MINUTES: Final = 1440
"""ECS accepts bake times (``BakeTimeInMinutes``, the canary's and each linear step's) of 0 to
1440 whole minutes (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html)."""

CANARY_PERCENT_RANGE: Final = (0.1, 100.0)
"""A canary's share of production traffic: multiples of 0.1 from 0.1 to 100 (API_CanaryConfiguration)."""

LINEAR_STEP_PERCENT_RANGE: Final = (3.0, 100.0)
"""A linear step's share of production traffic: multiples of 0.1 from 3 to 100 (API_LinearConfiguration)."""

CLOUDFORMATION_MAX_RELEASE_MINUTES: Final = 33 * 60
"""CloudFormation refuses a canary whose BakeTimeInMinutes + CanaryBakeTimeInMinutes, or a linear
release whose BakeTimeInMinutes + StepBakeTimeInMinutes x steps, exceeds 33 hours (its
operations time out after 36):
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-canaryconfiguration.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html"""


def linear_steps(step_percent: float) -> int:
    """The linear steps that are followed by a step bake, as CloudFormation counts them: 100 /
    step - 1 when the step divides 100, else floor(100 / step) (no bake after the last shift)."""
    tenths = round(step_percent * 10)
    return 1000 // tenths - 1 if 1000 % tenths == 0 else 1000 // tenths


def _tenths(value: float, low: float, high: float, what: str, source: str) -> float:
    if not math.isfinite(value) or not low <= value <= high or abs(value * 10 - round(value * 10)) > 1e-9:
        raise RuleError(f"ECS accepts a {what} of {low:g} to {high:g} % in steps of 0.1 ({source}).")
    return value


def check_canary_percent(value: float) -> float:
    return _tenths(value, *CANARY_PERCENT_RANGE, "canary share", "API_CanaryConfiguration")


def check_linear_step_percent(value: float) -> float:
    return _tenths(value, *LINEAR_STEP_PERCENT_RANGE, "linear step", "API_LinearConfiguration")


def check_bake_minutes(value: int) -> int:
    if not 0 <= value <= ECS_MAX_BAKE_MINUTES:
        raise RuleError(f"ECS accepts a bake time of 0 to {ECS_MAX_BAKE_MINUTES} whole minutes (24 h).")
    return value


# --- Images -----------------------------------------------------------------------------------

_SEMVER_CORE = r"(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
_PRERELEASE_IDS = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
RELEASE_TAG_PATTERN: Final = re.compile(
    defaults.RELEASE_TAG_PREFIX + _SEMVER_CORE + rf"(?:-(?P<prerelease>{_PRERELEASE_IDS}(?:\.{_PRERELEASE_IDS})*))?",
    re.ASCII,
)
"""``v<semver>`` (``v1.8.0``, ``v1.9.0-rc.1``): the registry's lifecycle keeps ``v`` tags, and
promotion compares semantic versions. Build metadata (``+...``) cannot be an image tag."""

DIGEST_PATTERN: Final = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
"""An image digest as ECR reports it."""

MAX_TAG_LENGTH: Final = 128
"""The longest image tag a registry accepts."""


def split_image(value: str) -> tuple[str, str | None]:
    """``v1.2.3`` -> (``v1.2.3``, None); ``v1.2.3@sha256:...`` -> (``v1.2.3``, ``sha256:...``)."""
    tag, at, digest = value.partition("@")
    return tag, (digest if at else None)


def semver_key(tag: str) -> tuple[Any, ...]:
    """A sort key by semantic-version precedence (semver.org, 11): a pre-release sorts before
    its release; numeric identifiers compare as numbers and before alphanumeric ones."""
    match = RELEASE_TAG_PATTERN.fullmatch(tag)
    if match is None:
        raise ValueError(f"not a release tag: {tag!r}")
    core = (int(match["major"]), int(match["minor"]), int(match["patch"]))
    pre = match["prerelease"]
    if pre is None:
        return (*core, 1, ())
    ids = tuple((0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part) for part in pre.split("."))
    return (*core, 0, ids)


def is_prerelease(tag: str) -> bool:
    match = RELEASE_TAG_PATTERN.fullmatch(tag)
    return match is not None and match["prerelease"] is not None


# --- Secrets and values -----------------------------------------------------------------------


def is_secret_looking(key: str) -> bool:
    """Whether an environment key names a secret (``DATABASE_PASSWORD``, ``API_KEY``): such a
    key must come from Secrets Manager or SSM, never as a plain value in the task definition."""
    upper = key.upper()
    if any(word in upper for word in defaults.SECRET_LOOKING_WORDS):
        return True
    return any(part in defaults.SECRET_LOOKING_SEGMENTS for part in upper.split("_"))


SECRET_VALUE_PATTERNS: Final = (
    re.compile(r"AKIA[0-9A-Z]{16}", re.ASCII),  # an AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),  # a PEM private key
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}", re.ASCII),  # a JWT
    re.compile(r"(?:sk|rk)_live_[A-Za-z0-9]{8,}", re.ASCII),  # a payment provider's live key
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}", re.ASCII),  # a GitHub token
    re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}", re.ASCII),  # a Slack token
)
"""Shapes of well-known credentials: a value of this shape is never echoed in a message."""


def looks_like_secret_value(value: object) -> bool:
    return isinstance(value, str) and any(p.search(value) for p in SECRET_VALUE_PATTERNS)


def is_environment_safe(value: str) -> bool:
    """Whether a container environment value can hold ``value``: Linux environment values end
    at NUL, and jsii cannot pass unpaired surrogates on."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


# CDK tokens as they appear in strings ("${Token[AWS.Region.4]}", "#{Token[...]}") and numbers
# (a double near -1.8881545897087626e+289). Matched by shape: this module never imports the CDK.
_STRING_TOKEN = re.compile(r"[$#]\{Token\[[^\]]*\]\}")
_NUMBER_TOKEN_MAGNITUDE = 1e288


def is_token(value: object) -> bool:
    """Whether ``value`` is (or holds) an unresolved CDK token."""
    if isinstance(value, str):
        return _STRING_TOKEN.search(value) is not None
    if isinstance(value, float) and not isinstance(value, bool):
        return math.isfinite(value) and value <= -_NUMBER_TOKEN_MAGNITUDE
    return False


MAX_SHOWN_CHARACTERS: Final = 80
"""A value in a message is cut to this length: enough to recognise it, short enough for a line."""

MAX_SHOWN_DIGITS: Final = 20
"""A whole number with more digits is described, not printed (Python refuses to print one of
more than 4300 digits, and nobody reads one of 30)."""


def shown(value: object) -> object:
    """``value`` as a message may show it: tokens as ``<token>``, huge numbers described,
    long text and structures cut, credential-shaped text hidden. Never raises."""
    if is_token(value):
        return "<token>"
    if looks_like_secret_value(value):
        return "<hidden>"
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        digits = _digits(value)
        return value if digits <= MAX_SHOWN_DIGITS else f"<a whole number of about {digits} digits>"
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_SHOWN_CHARACTERS else value[: MAX_SHOWN_CHARACTERS - 1] + "…"
    text = _safe_repr(value)
    if len(text) <= MAX_SHOWN_CHARACTERS and not _has_hidden(value):
        return value
    return f"<{type(value).__name__}: {text[: MAX_SHOWN_CHARACTERS - 1]}…>" if not _has_hidden(value) else f"<{type(value).__name__}>"


def _digits(value: int) -> int:
    magnitude = abs(value)
    if magnitude.bit_length() < 10_000:  # str() refuses numbers of more than 4300 digits
        return len(str(magnitude))
    return math.floor((magnitude.bit_length() - 1) * math.log10(2)) + 1


def _has_hidden(value: object, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if isinstance(value, Mapping):
        return any(_has_hidden(k, depth + 1) or _has_hidden(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_hidden(v, depth + 1) for v in value)
    return looks_like_secret_value(value) or is_token(value)


def _safe_repr(value: object, depth: int = 0) -> str:
    if depth > 5:
        return "…"
    if isinstance(value, Mapping):
        more = ", …" if len(value) > 10 else ""
        return "{" + ", ".join(f"{_safe_repr(k, depth + 1)}: {_safe_repr(v, depth + 1)}" for k, v in list(value.items())[:10]) + more + "}"
    if isinstance(value, (list, tuple)):
        more = ", …" if len(value) > 10 else ""
        return "[" + ", ".join(_safe_repr(v, depth + 1) for v in list(value)[:10]) + more + "]"
    item = shown(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else value
    try:
        return repr(item)[:MAX_SHOWN_CHARACTERS]
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"


# --- Checks (each raises RuleError) -------------------------------------------------------------


FROM_CDK_JSON: Final = "from_cdk_json"
"""Validation context flag the loader sets: data from cdk.json holds no CDK tokens, so a string
shaped like one is refused there; a hand-built model may hold one (``AccountRegion(stack.account,
stack.region)`` of an environment-agnostic stack), resolved at deploy and checked by the CDK."""


def tokens_allowed(info: ValidationInfo) -> bool:
    """Whether a CDK token may stand for a value here: in a hand-built model, not in cdk.json data."""
    return not (isinstance(info.context, Mapping) and bool(info.context.get(FROM_CDK_JSON)))


def _token_allowed(value: str, info: ValidationInfo) -> bool:
    return tokens_allowed(info) and is_token(value)


def _fullmatch(pattern: re.Pattern[str], fix: str) -> Callable[[str, ValidationInfo], str]:
    def check(value: str, info: ValidationInfo) -> str:
        if _token_allowed(value, info):
            return value
        if pattern.fullmatch(value) is None:
            raise RuleError(fix)
        return value

    return check


def check_region(value: str, info: ValidationInfo) -> str:
    if _token_allowed(value, info):
        return value
    if value not in KNOWN_REGIONS:
        raise RuleError("Give a known AWS region such as eu-west-2 (lower case, no spaces).")
    return value


def check_environment_name(value: str) -> str:
    if ENVIRONMENT_NAME_PATTERN.fullmatch(value) is None:
        raise RuleError(
            "Name the environment in lower-case ASCII letters, digits and '-' (2 to 31 characters, starting with a letter), "
            "such as dev, staging or prod."
        )
    return value


def check_service_name(value: str) -> str:
    if SERVICE_NAME_PATTERN.fullmatch(value) is None:
        raise RuleError(
            "Name the service in lower-case ASCII letters, digits and '-' (1 to 63 characters, starting with a letter, "
            "not ending with '-'), such as portfolio-api."
        )
    return value


def check_key_name(value: str) -> str:
    if KEY_NAME_PATTERN.fullmatch(value) is None:
        raise RuleError("Name keys in upper-case ASCII letters, digits and '_' (at most 128, starting with a letter), e.g. LOG_LEVEL.")
    if value.startswith(RESERVED_KEY_PREFIXES):
        raise RuleError(
            f"Keys starting with {' or '.join(RESERVED_KEY_PREFIXES)} are read by the AWS SDK and the ECS agent; rename it."
        )
    return value


def check_image(value: str) -> str:
    """``v<semver>`` or ``v<semver>@sha256:<64 hex>``; a bare digest is refused with its reason."""
    if DIGEST_PATTERN.fullmatch(value):
        raise RuleError(
            "Give the release tag with the digest, v1.2.3@sha256:<64 hex>: the registry's lifecycle protects images by "
            "their tag, so an image named by its digest alone may expire while an environment still runs it."
        )
    tag, digest = split_image(value)
    if len(tag) > MAX_TAG_LENGTH or RELEASE_TAG_PATTERN.fullmatch(tag) is None:
        raise RuleError(
            "Give a release tag v<major>.<minor>.<patch> (a pre-release like v1.9.0-rc.1 outside production), optionally "
            "pinned by digest as v1.2.3@sha256:<64 hex>: the registry keeps v tags, and promotion compares versions."
        )
    if digest is not None and DIGEST_PATTERN.fullmatch(digest) is None:
        raise RuleError("A digest is sha256: followed by 64 lower-case hex digits, e.g. v1.2.3@sha256:<64 hex>.")
    return value


def check_vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise RuleError("Give an IPv4 network in CIDR notation with its network address, such as 10.20.0.0/16.") from None
    if not any(network.subnet_of(private) for private in RFC1918_NETWORKS):
        raise RuleError("Use a private network of RFC 1918 (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16).")
    if network.prefixlen < LARGEST_VPC_PREFIX:
        raise RuleError(f"A VPC is at most a /{LARGEST_VPC_PREFIX}; use a longer prefix such as /16.")
    return str(network)


def check_json_field(value: str) -> str:
    if JSON_FIELD_PATTERN.fullmatch(value) is None:
        raise RuleError("Give the JSON field's name: 1 to 256 ASCII letters, digits or _.@/+=- (no ':' or spaces).")
    return value


def check_reason(value: str) -> str:
    if not value.strip() or not value.isprintable():
        raise RuleError("Say why in one line of text (no control characters).")
    return value


def check_iso_date(value: str) -> str:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value, re.ASCII) is None:
        raise RuleError("Give the date as YYYY-MM-DD, e.g. 2026-12-31.")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise RuleError("Give a calendar date as YYYY-MM-DD, e.g. 2026-12-31.") from None
    return value


def list_as_tuple(value: Any) -> Any:
    """A JSON array is a tuple in the models (frozen); anything else is left for the type check."""
    return tuple(value) if isinstance(value, list) else value


# --- Annotated types the models are made of -------------------------------------------------

AccountId = Annotated[
    str,
    AfterValidator(_fullmatch(ACCOUNT_PATTERN, 'Give the 12-digit AWS account id as a string, e.g. "123456789012".')),
    Field(json_schema_extra={"pattern": "^[0-9]{12}$"}),
]
Region = Annotated[str, AfterValidator(check_region), Field(json_schema_extra={"enum": sorted(KNOWN_REGIONS)})]
EnvironmentName = Annotated[
    str, AfterValidator(check_environment_name), Field(json_schema_extra={"pattern": f"^{ENVIRONMENT_NAME_PATTERN.pattern}$"})
]
ServiceName = Annotated[
    str, AfterValidator(check_service_name), Field(json_schema_extra={"pattern": f"^{SERVICE_NAME_PATTERN.pattern}$"})
]
KeyName = Annotated[str, AfterValidator(check_key_name), Field(json_schema_extra={"pattern": f"^{KEY_NAME_PATTERN.pattern}$"})]
ImageName = Annotated[
    str,
    AfterValidator(check_image),
    Field(json_schema_extra={"pattern": "^" + re.sub(r"\(\?P<[a-z]+>", "(", RELEASE_TAG_PATTERN.pattern) + "(@sha256:[0-9a-f]{64})?$"}),
]
VpcCidr = Annotated[str, AfterValidator(check_vpc_cidr)]
JsonField = Annotated[str, AfterValidator(check_json_field)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(check_reason)]
IsoDate = Annotated[str, AfterValidator(check_iso_date), Field(json_schema_extra={"format": "date"})]
Cpu = Annotated[int, Field(ge=FARGATE_MIN_CPU, le=FARGATE_MAX_CPU)]
MemoryMib = Annotated[int, Field(ge=FARGATE_MIN_MEMORY_MIB, le=FARGATE_MAX_MEMORY_MIB)]
TaskCount = Annotated[int, Field(ge=0, le=MAX_TASKS_PER_SERVICE)]
Budget = Annotated[float, Field(gt=0, le=MAX_MONTHLY_BUDGET_USD, allow_inf_nan=False)]
BakeMinutes = Annotated[int, AfterValidator(check_bake_minutes), Field(json_schema_extra={"minimum": 0, "maximum": ECS_MAX_BAKE_MINUTES})]
CanaryPercent = Annotated[
    float,
    AfterValidator(check_canary_percent),
    Field(json_schema_extra={"minimum": CANARY_PERCENT_RANGE[0], "maximum": CANARY_PERCENT_RANGE[1]}),
]
LinearStepPercent = Annotated[
    float,
    AfterValidator(check_linear_step_percent),
    Field(json_schema_extra={"minimum": LINEAR_STEP_PERCENT_RANGE[0], "maximum": LINEAR_STEP_PERCENT_RANGE[1]}),
]
ArrayAsTuple = BeforeValidator(list_as_tuple)
DatabaseName = Annotated[
    str, AfterValidator(check_database_name), Field(json_schema_extra={"pattern": f"^{DATABASE_NAME_PATTERN.pattern}$"})
]
InstanceClass = Annotated[
    str, AfterValidator(check_instance_class), Field(json_schema_extra={"pattern": f"^{INSTANCE_CLASS_PATTERN.pattern}$"})
]
StorageGib = Annotated[int, Field(ge=MIN_STORAGE_GIB, le=MAX_STORAGE_GIB)]
PoolSize = Annotated[int, Field(ge=1, le=MAX_POOL_SIZE)]
DeclaredConnections = Annotated[int, Field(ge=1, le=MAX_DECLARED_CONNECTIONS)]


def check_secret(source: str, name: str | None, json_field: str | None, *, tokens: bool = False) -> None:
    """The rules of a secret reference, for ``SecretRef`` and the cdk.json declaration alike;
    ``tokens``: a CDK token passes as the name (a hand-built reference, never cdk.json data)."""
    example = "/portfolio/import/api-token" if source == "ssm" else "portfolio-api/database"
    if name is not None and not (tokens and is_token(name)):
        if name.startswith("arn:"):
            raise RuleError(
                f"Give the {source} secret's name, not its ARN (ECS builds the ARN from the name), e.g. {example}.",
                field="name", value=name,
            )
        pattern = SSM_NAME_PATTERN if source == "ssm" else SECRETSMANAGER_NAME_PATTERN
        if pattern.fullmatch(name) is None or (source == "ssm" and "/" in name and not name.startswith("/")):
            raise RuleError(f"Give the {source} secret's name (not its value or ARN), e.g. {example}.", field="name", value=name)
        if source == "ssm" and name.lstrip("/").lower().startswith(SSM_RESERVED_PREFIXES):
            raise RuleError("SSM reserves names beginning with aws or ssm; rename the parameter.", field="name", value=name)
    if json_field is not None and source != "secretsmanager":
        raise RuleError("Only a Secrets Manager secret has JSON fields; remove json_field.", field="json_field", value=json_field)
