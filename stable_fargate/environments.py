"""Environments as data: cdk.json context loaded into typed, frozen, validated specs.

Everything an environment may differ in is declared here, once; whatever is not declared
here is the same in every environment (the drift guard holds the rest).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from stable_fargate import defaults
from stable_fargate.errors import ConfigError

if TYPE_CHECKING:
    from constructs import IConstruct  # the read side imports this module: no CDK at run time

KNOWN_REGIONS = frozenset(
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

_ACCOUNT = re.compile(r"^\d{12}$")
_PRERELEASE = re.compile(r"^v?\d+(?:\.\d+)*-")
"""A semver pre-release tag (``v1.9.0-rc.1``, ``2.0.0-beta``)."""
_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_ACM_ARN = re.compile(r"^arn:aws:acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):certificate/[0-9a-f-]+$")


@dataclass(frozen=True)
class ServiceSizing:
    """How big one service is in one environment: the values environments may differ in.

    ``on_demand_base`` is the number of tasks kept on regular Fargate when the service runs
    on Fargate Spot (workers); ``None`` means the service's own default.
    """

    cpu: int = defaults.DEFAULT_CPU
    memory_mib: int = defaults.DEFAULT_MEMORY_MIB
    min_tasks: int = 1
    max_tasks: int = 2
    on_demand_base: int | None = None


@dataclass(frozen=True)
class AccountRegion:
    """Where a stack is deployed."""

    account: str
    region: str


@dataclass(frozen=True)
class EnvironmentSpec:
    """One deployment environment (dev, staging, prod), loaded from cdk.json context.

    Default: ``retain_data`` is true for the environments in
    ``defaults.RETAIN_DATA_ENVIRONMENTS`` unless the data says otherwise.
    """

    name: str
    account: str
    region: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    nat_gateways: int
    production: bool
    retain_data: bool
    certificate_arn: str | None = None
    services: Mapping[str, ServiceSizing] = field(default_factory=lambda: MappingProxyType({}))
    images: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

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
                f"environment {self.name}", f"services.{service}", None,
                f"Declare the sizing of {service} under environments.{self.name}.services in cdk.json.",
            )
        return self.services[service]

    def image_tag(self, service: str) -> str:
        """The image tag or digest this environment runs for ``service``."""
        if service not in self.images:
            raise ConfigError(
                f"environment {self.name}", f"images.{service}", None,
                f"Declare the release of {service} under environments.{self.name}.images in cdk.json.",
            )
        return self.images[service]


@dataclass(frozen=True)
class AppConfig:
    """The whole app's data: the tooling (registry) account and the environments in order."""

    tooling: AccountRegion
    environments: tuple[EnvironmentSpec, ...]
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def environment(self, name: str) -> EnvironmentSpec:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise ConfigError("app", "environment", name, f"Use one of the declared environments: {known}.")

    @property
    def accounts(self) -> tuple[str, ...]:
        """The environment accounts, each once, in declaration order."""
        return tuple(dict.fromkeys(env.account for env in self.environments))


def load_app_config(context: Mapping[str, Any]) -> AppConfig:
    """Load and validate the ``stable_fargate`` context block of cdk.json."""
    block = context.get("stable_fargate")
    if not isinstance(block, Mapping):
        raise ConfigError(
            "app", "context.stable_fargate", block,
            "Add a 'stable_fargate' object to cdk.json's context. The CDK reads cdk.json only under the CDK CLI "
            "(`cdk synth`); a plain `python app.py` gets no context: pass it with App(context=...).",
        )
    tooling_raw = _mapping(block.get("tooling"), "app", "tooling")
    tooling = AccountRegion(
        _account(tooling_raw.get("account"), "tooling"),
        _region(tooling_raw.get("region"), "tooling"),
    )
    envs_raw = _mapping(block.get("environments"), "app", "environments")
    if not envs_raw:
        raise ConfigError("app", "environments", {}, "Declare at least one environment.")
    environments = tuple(load_environment(name, data) for name, data in envs_raw.items())
    return AppConfig(tooling=tooling, environments=environments, raw=MappingProxyType(dict(block)))


def load_environment(name: str, data: Any) -> EnvironmentSpec:
    """Load one environment; every field is checked and a bad one names ``name`` and the field."""
    subject = f"environment {name}"
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ConfigError(subject, "name", name, "Use a lower-case name such as dev, staging or prod.")
    raw = _mapping(data, subject, "(environment)")
    known = {
        "account", "region", "availability_zones", "vpc_cidr", "nat_gateways", "production",
        "retain_data", "certificate_arn", "services", "images",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(subject, unknown[0], raw[unknown[0]], f"Remove it; known fields are {sorted(known)}.")
    account = _account(raw.get("account"), subject)
    region = _region(raw.get("region"), subject)
    production = _bool(raw.get("production", name == "prod"), subject, "production")
    azs = _availability_zones(raw.get("availability_zones"), subject, region, production)
    vpc_cidr = _cidr(raw.get("vpc_cidr"), subject)
    nat = raw.get("nat_gateways", 0)
    if not isinstance(nat, int) or isinstance(nat, bool) or not 0 <= nat <= len(azs):
        raise ConfigError(subject, "nat_gateways", nat, f"Use a whole number from 0 to {len(azs)} (one per AZ at most).")
    retain = _bool(raw.get("retain_data", name in defaults.RETAIN_DATA_ENVIRONMENTS), subject, "retain_data")
    cert = raw.get("certificate_arn")
    if cert is not None:
        match = _ACM_ARN.match(cert) if isinstance(cert, str) else None
        if match is None or match["region"] != region or match["account"] != account:
            raise ConfigError(
                subject, "certificate_arn", cert,
                f"Use an ACM certificate ARN in this environment's account {account} and region {region}.",
            )
    services = {
        svc: _sizing(svc, value, subject)
        for svc, value in _mapping(raw.get("services", {}), subject, "services").items()
    }
    images: dict[str, str] = {}
    for svc, tag in _mapping(raw.get("images", {}), subject, "images").items():
        if not isinstance(tag, str) or not tag:
            raise ConfigError(subject, f"images.{svc}", tag, "Give an immutable release tag (v1.2.3) or a digest (sha256:...).")
        if production and _PRERELEASE.match(tag):
            raise ConfigError(
                subject, f"images.{svc}", tag,
                "Production runs releases: promote the release tag (or digest) that staging tested, not a pre-release.",
            )
        images[svc] = tag
    return EnvironmentSpec(
        name=name, account=account, region=region, availability_zones=azs, vpc_cidr=vpc_cidr,
        nat_gateways=nat, production=production, retain_data=retain, certificate_arn=cert,
        services=MappingProxyType(services), images=MappingProxyType(images),
    )


def _mapping(value: Any, subject: str, field_name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(subject, field_name, value, f"Give {field_name} as a JSON object.")
    return value


def _account(value: Any, subject: str) -> str:
    if not isinstance(value, str) or not _ACCOUNT.match(value):
        raise ConfigError(subject, "account", value, "Give the 12-digit AWS account id as a string, e.g. \"123456789012\".")
    return value


def _region(value: Any, subject: str) -> str:
    if not isinstance(value, str) or value not in KNOWN_REGIONS:
        raise ConfigError(subject, "region", value, "Give a known AWS region such as eu-west-2.")
    return str(value)


def _bool(value: Any, subject: str, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(subject, field_name, value, "Give true or false.")
    return value


def _availability_zones(value: Any, subject: str, region: str, production: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(az, str) for az in value):
        raise ConfigError(
            subject, "availability_zones", value, f"Give a list of AZ names in {region}, e.g. [\"{region}a\", \"{region}b\"]."
        )
    needed = defaults.MIN_AZS_PRODUCTION if production else defaults.MIN_AZS
    if len(set(value)) != len(value):
        raise ConfigError(subject, "availability_zones", value, "List each AZ once.")
    if len(value) < needed:
        kind = "A production environment" if production else "An environment"
        raise ConfigError(subject, "availability_zones", value, f"{kind} needs at least {needed} AZs; add more.")
    for az in value:
        if not re.fullmatch(re.escape(region) + r"[a-z]", az):
            raise ConfigError(subject, "availability_zones", az, f"Use AZs of the environment's region {region}, e.g. {region}a.")
    return tuple(value)


def _cidr(value: Any, subject: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(subject, "vpc_cidr", value, "Give an IPv4 network such as 10.20.0.0/16.")
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        raise ConfigError(subject, "vpc_cidr", value, "Give an IPv4 network such as 10.20.0.0/16.") from None
    if not 16 <= net.prefixlen <= 20 or not net.is_private:
        raise ConfigError(subject, "vpc_cidr", value, "Use a private network from /16 to /20 (RFC 1918).")
    return str(net)


def _sizing(service: str, value: Any, subject: str) -> ServiceSizing:
    raw = _mapping(value, subject, f"services.{service}")
    known = {"cpu", "memory_mib", "min_tasks", "max_tasks", "on_demand_base"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(subject, f"services.{service}.{unknown[0]}", raw[unknown[0]], f"Remove it; known fields are {sorted(known)}.")
    for key, val in raw.items():
        if val is None and key == "on_demand_base":
            continue  # null: the service's own default
        lowest = 1 if key in ("cpu", "memory_mib") else 0
        if not isinstance(val, int) or isinstance(val, bool) or val < lowest:
            raise ConfigError(subject, f"services.{service}.{key}", val, f"Give a whole number of at least {lowest}.")
    sizing = ServiceSizing(**raw)
    if sizing.max_tasks < sizing.min_tasks:
        raise ConfigError(
            subject, f"services.{service}.max_tasks", sizing.max_tasks, f"Give at least min_tasks ({sizing.min_tasks})."
        )
    if sizing.on_demand_base is not None and sizing.on_demand_base > sizing.max_tasks:
        raise ConfigError(
            subject, f"services.{service}.on_demand_base", sizing.on_demand_base,
            f"Keep at most max_tasks ({sizing.max_tasks}) tasks on demand.",
        )
    return sizing


def pin_availability_zones(scope: IConstruct, environments: Iterable[EnvironmentSpec]) -> None:
    """Answer the CDK's AZ lookup from the environments' own data.

    With an explicit ``env=``, a VPC makes the CDK ask AWS for the account's AZs even when it
    is given them, so synth would need credentials. Call this on the App before adding stacks:
    synth stays offline and the templates use exactly the declared AZs.
    """
    for env in environments:
        key = f"availability-zones:account={env.account}:region={env.region}"
        scope.node.set_context(key, list(env.availability_zones))
