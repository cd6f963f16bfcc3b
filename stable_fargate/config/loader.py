"""Loading cdk.json's ``stable_fargate`` block: parse it into the models once, then apply the
rules that span environments (pinned AZs, promotion, hotfixes) and resolve every service's
parameters in every environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from stable_fargate.config import rules
from stable_fargate.config.messages import config_error, printable
from stable_fargate.config.models import (
    INJECTED_FIELDS,
    AccountRegion,
    EnvironmentSpec,
    ParameterSetData,
    ParameterSetsData,
    PlainKey,
    ResolvedParameters,
    SecretKey,
    SecretRef,
    StableFargateBlock,
    resolve_value,
)
from stable_fargate.config.rules import FROM_CDK_JSON, RuleError
from stable_fargate.errors import ConfigError

DATA: Final = {FROM_CDK_JSON: True}
"""The validation context of data read from cdk.json."""

MAX_HOTFIX_DAYS: Final = 90
"""A hotfix may be declared at most this far ahead: it is an exception until the fix has been
promoted through the environment it skipped, not a second release line."""

SHARED = "shared_parameters"
"""Where the app-wide keys live in the block (beside ``parameters``, not a pseudo-service inside
it: a service named like the shared set could not then be confused with it)."""


@cache
def block_schema() -> Mapping[str, Any]:
    """The JSON schema of the block (used to list known fields in refusals)."""
    from stable_fargate.config.schema import stable_fargate_schema

    return stable_fargate_schema()


# --- Parameter sets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterSet:
    """One service's declared keys (its own and the shared ones) and their resolution in every
    environment."""

    service: str
    keys: Mapping[str, PlainKey | SecretKey]
    resolved: Mapping[str, ResolvedParameters]
    overridden: Mapping[str, frozenset[str]]
    shared: frozenset[str] = frozenset()
    """The keys that come from ``shared_parameters``."""

    def resolve(self, environment: str) -> ResolvedParameters:
        if environment not in self.resolved:
            raise ConfigError(
                self.service, "environment", rules.shown(environment),
                f"Use one of the declared environments: {', '.join(self.resolved)} (or declare it under "
                "stable_fargate.environments in cdk.json).",
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
                str(rules.shown(service)), "parameters", None,
                f"Declare the configuration of {service} under stable_fargate.parameters.{service} in cdk.json "
                f"(declared: {', '.join(self.sets) or 'none'}).",
            )
        return self.sets[service]

    def resolve(self, service: str, env_name: str) -> ResolvedParameters:
        """``service``'s plain values and secret references in ``env_name``."""
        return self.get(service).resolve(env_name)

    def declared_differences(self) -> Mapping[str, Mapping[str, frozenset[str]]]:
        """service -> environment -> the drift-guard properties that environment's data
        declares as its own: ``env:KEY`` / ``secret:KEY`` for every key it overrides (shared
        keys included), and for every key without a shared value (each environment gives its
        own, so they may differ)."""
        result: dict[str, Mapping[str, frozenset[str]]] = {}
        for service, pset in self.sets.items():
            own = {_property(name, key) for name, key in pset.keys.items() if not key.has_value}
            result[service] = MappingProxyType({
                env: frozenset(own | {_property(k, pset.keys[k]) for k in pset.overridden[env]}) for env in self.environments
            })
        return MappingProxyType(result)


def _property(name: str, key: PlainKey | SecretKey) -> str:
    """The drift-guard property name of a key (see stable_fargate.review.drift)."""
    return f"{'secret' if isinstance(key, SecretKey) else 'env'}:{name}"


_SETS: TypeAdapter[Mapping[str, ParameterSetData]] = TypeAdapter(ParameterSetsData)


def load_parameter_sets(
    raw: Any,
    environments: Iterable[str | EnvironmentSpec],
    *,
    shared: Any = None,
    services: Iterable[str] = (),
) -> ParameterSets:
    """Load, check and resolve ``stable_fargate.parameters`` (and ``shared_parameters``) for every
    environment.

    ``raw`` is the ``parameters`` object from cdk.json (``None`` when the app declares none);
    ``environments`` are the declared environments (names or :class:`EnvironmentSpec`, whose
    services then also carry the shared keys); ``shared`` the ``shared_parameters`` object;
    ``services`` further services that carry the shared keys.
    """
    envs = tuple(environments)
    if not envs:
        raise ConfigError("app", "environments", [], "Declare at least one environment before its parameters.")
    names = tuple(e if isinstance(e, str) else e.name for e in envs)
    try:
        parsed = _SETS.validate_python({} if raw is None else raw, context=DATA)
    except ValidationError as error:
        raise config_error(error, prefix=("parameters",), schema=block_schema()) from None
    shared_set: ParameterSetData | None = None
    if shared is not None:
        try:
            shared_set = ParameterSetData.model_validate(shared, context=DATA)
        except ValidationError as error:
            raise config_error(error, prefix=(SHARED,), schema=block_schema()) from None
    universe = dict.fromkeys(parsed)
    if shared_set is not None:
        for env in envs:
            if isinstance(env, EnvironmentSpec):
                universe.update(dict.fromkeys((*env.services, *env.images)))
        universe.update(dict.fromkeys(services))
    return _resolve_sets(parsed, shared_set, names, tuple(universe))


def _resolve_sets(
    parsed: Mapping[str, ParameterSetData], shared: ParameterSetData | None, environments: tuple[str, ...], services: tuple[str, ...]
) -> ParameterSets:
    for where, data in ((f"parameters.{s}", d) for s, d in parsed.items()):
        _check_override_environments(where, where.split(".", 1)[1], data, environments)
    if shared is not None:
        _check_override_environments(SHARED, "shared parameters", shared, environments)
    sets: dict[str, ParameterSet] = {}
    for service in services:
        own = parsed.get(service)
        sets[service] = _resolve_set(service, own, shared, environments)
    return ParameterSets(environments=environments, sets=MappingProxyType(sets))


def _check_override_environments(where: str, subject: str, data: ParameterSetData, environments: tuple[str, ...]) -> None:
    for env in data.overrides:
        if env not in environments:
            raise ConfigError(
                subject, f"{where}.overrides.{env}", rules.shown(dict(data.overrides[env])) if not _any_secret(data, env) else "<hidden>",
                f"Environment {env!r} is not declared; use one of {', '.join(environments)} or declare it under "
                "stable_fargate.environments.",
            )


def _any_secret(data: ParameterSetData, env: str) -> bool:
    return any(isinstance(data.keys.get(k), SecretKey) or rules.is_secret_looking(k) for k in data.overrides[env])


def _resolve_set(
    service: str, own: ParameterSetData | None, shared: ParameterSetData | None, environments: tuple[str, ...]
) -> ParameterSet:
    keys: dict[str, PlainKey | SecretKey] = {}
    origin: dict[str, tuple[str, ParameterSetData]] = {}
    if shared is not None:
        for name, key in shared.keys.items():
            keys[name] = key
            origin[name] = (SHARED, shared)
    if own is not None:
        for name, key in own.keys.items():
            if name in keys:
                # Refused rather than overriding: a service that quietly replaces an app-wide key
                # is the drift the shared set exists to prevent.
                raise ConfigError(
                    service, f"parameters.{service}.keys.{name}", "<declared>",
                    f"{name} is declared in shared_parameters, which every service carries: remove it here (an "
                    f"environment's own value goes under shared_parameters.overrides.<env>.{name}, for every service), or "
                    f"move {name} out of shared_parameters into each service that uses it.",
                )
            keys[name] = key
            origin[name] = (f"parameters.{service}", own)
    resolved: dict[str, ResolvedParameters] = {}
    overridden: dict[str, frozenset[str]] = {}
    for env in environments:
        plain: dict[str, str] = {}
        secrets: dict[str, SecretRef] = {}
        changed: set[str] = set()
        for name, key in keys.items():
            where, data = origin[name]
            env_overrides = data.overrides.get(env, {})
            value: str | SecretRef | None
            if name in env_overrides:
                changed.add(name)
                try:
                    value = resolve_value(key, env_overrides[name])
                except RuleError as refusal:  # checked at parse; kept for safety
                    raise ConfigError(service, f"{where}.overrides.{env}.{name}", "<hidden>", refusal.fix) from None
            elif isinstance(key, SecretKey):
                value = key.shared
            else:
                value = _plain_shared(key)
            if value is None:
                if isinstance(key, SecretKey) or key.required:
                    raise ConfigError(
                        service, f"{where}.overrides.{env}.{name}", None,
                        f"Key {name} has no value in environment {env}: give a shared value under {where}.keys.{name} "
                        f"or an override under {where}.overrides.{env}.{name}"
                        + ("" if isinstance(key, SecretKey) else ' (or mark it "required": false to resolve to an empty string).'),
                    )
                value = ""
            if isinstance(value, SecretRef):
                secrets[name] = value
            else:
                plain[name] = value
        resolved[env] = ResolvedParameters(service, env, plain=plain, secrets=secrets)
        overridden[env] = frozenset(changed)
    return ParameterSet(
        service=service,
        keys=MappingProxyType(keys),
        resolved=MappingProxyType(resolved),
        overridden=MappingProxyType(overridden),
        shared=frozenset(shared.keys) if shared is not None else frozenset(),
    )


def _plain_shared(key: PlainKey) -> str | None:
    if not key.has_value:
        return None
    return resolve_value(key, key.value)  # type: ignore[return-value]


# --- The app ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppConfig:
    """The whole app's data: the tooling (registry) account, the environments in order (each
    with its parameters resolved) and the parameter sets."""

    tooling: AccountRegion
    environments: tuple[EnvironmentSpec, ...]
    parameters: ParameterSets
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def environment(self, name: str) -> EnvironmentSpec:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise ConfigError("app", "environment", rules.shown(name), f"Use one of the declared environments: {known}.")

    @property
    def accounts(self) -> tuple[str, ...]:
        """The environment accounts, each once, in declaration order."""
        return tuple(dict.fromkeys(env.account for env in self.environments))


MISSING_CONTEXT_FIX: Final = (
    "Add a 'stable_fargate' object to cdk.json's context. The CDK reads cdk.json only under the CDK CLI "
    "(`cdk synth`); a plain `python app.py` gets no context: pass it with App(context=...)."
)


def load_app_config(context: Mapping[str, Any], *, today: date | None = None) -> AppConfig:
    """Load the ``stable_fargate`` context block of cdk.json: every environment, the parameter
    sets resolved into each environment, and the rules that span environments.

    ``today`` (default: the date now) decides whether a hotfix declaration has expired.
    """
    block = context.get("stable_fargate") if isinstance(context, Mapping) else None
    if not isinstance(block, Mapping):
        raise ConfigError("app", "context.stable_fargate", rules.shown(block), MISSING_CONTEXT_FIX)
    try:
        parsed = StableFargateBlock.model_validate(block, context=DATA)
    except ValidationError as error:
        raise config_error(error, schema=block_schema()) from None
    environments = tuple(_environment(name, data, parsed.tooling) for name, data in parsed.environments.items())
    _check_pinned_azs(environments)
    _check_promotion(environments, today or date.today())
    universe = dict.fromkeys(parsed.parameters)
    if parsed.shared_parameters is not None:
        for env in environments:
            universe.update(dict.fromkeys((*env.services, *env.images)))
    sets = _resolve_sets(parsed.parameters, parsed.shared_parameters, tuple(e.name for e in environments), tuple(universe))
    environments = tuple(
        env._replace(parameters={service: sets.resolve(service, env.name) for service in sets.services}) for env in environments
    )
    return AppConfig(tooling=parsed.tooling, environments=environments, parameters=sets, raw=MappingProxyType(dict(block)))


def load_environment(name: str, data: Any, *, registry: AccountRegion | None = None) -> EnvironmentSpec:
    """Load one environment's entry on its own (the rules that span environments need
    :func:`load_app_config`)."""
    return _environment(name, data, registry)


def _environment(name: Any, data: Any, registry: AccountRegion | None) -> EnvironmentSpec:
    subject = f"environment {printable(name) if isinstance(name, str) else rules.shown(name)}"
    if not isinstance(name, str):
        raise ConfigError(subject, "environments", rules.shown(name), "Name the environment with a string key.")
    if isinstance(data, Mapping):
        injected = sorted(INJECTED_FIELDS & set(data))
        if injected:
            raise ConfigError(
                subject, f"environments.{printable(name)}.{injected[0]}", rules.shown(data[injected[0]]),
                "Remove it: an environment's name is its key, its registry the tooling account, and its parameters "
                "come from stable_fargate.parameters.",
            )
        data = {**data, "name": name, "registry": registry}
    try:
        return EnvironmentSpec.model_validate(data, context=DATA)
    except ValidationError as error:
        raise config_error(error, prefix=("environments", name), schema=block_schema()) from None


def _check_pinned_azs(environments: tuple[EnvironmentSpec, ...]) -> None:
    seen: dict[tuple[str, str], EnvironmentSpec] = {}
    for env in environments:
        first = seen.setdefault((env.account, env.region), env)
        if first.availability_zones != env.availability_zones:
            raise ConfigError(
                f"environment {env.name}", f"environments.{env.name}.availability_zones", list(env.availability_zones),
                f"Give the same list as environment {first.name} ({list(first.availability_zones)}), which shares account "
                f"{env.account} and region {env.region}: the CDK pins AZs per account and region, so one list would replace "
                "the other and one VPC would not get the AZs its data declares.",
            )


def _check_promotion(environments: tuple[EnvironmentSpec, ...], today: date) -> None:
    by_name = {env.name: env for env in environments}
    for env in environments:
        if env.promotes_from is None:
            continue
        subject, where = f"environment {env.name}", f"environments.{env.name}"
        source = by_name.get(env.promotes_from)
        if source is None:
            raise ConfigError(
                subject, f"{where}.promotes_from", env.promotes_from, f"Name a declared environment: {', '.join(by_name)}."
            )
        chain = [env.name]
        step: EnvironmentSpec | None = source
        while step is not None and step.name not in chain:
            chain.append(step.name)
            step = by_name.get(step.promotes_from) if step.promotes_from else None
        if step is not None:
            raise ConfigError(
                subject, f"{where}.promotes_from", env.promotes_from,
                f"Promotion runs one way; these environments promote from each other: {' -> '.join([*chain, step.name])}.",
            )
        for service, image in env.images.items():
            _check_promoted_image(env, source, service, image, today)


def _check_promoted_image(env: EnvironmentSpec, source: EnvironmentSpec, service: str, image: str, today: date) -> None:
    subject, where = f"environment {env.name}", f"environments.{env.name}"
    tag, digest = rules.split_image(image)
    if rules.is_prerelease(tag):
        raise ConfigError(
            subject, f"{where}.images.{service}", image,
            f"{env.name} promotes from {source.name} and runs releases only: run the release {source.name} tested.",
        )
    hotfix = env.hotfix(service)
    source_image = source.images.get(service)
    problem: str | None = None
    if source_image is None:
        problem = f"{source.name} runs no {service}, so it has tested no release of it"
    else:
        source_tag, source_digest = rules.split_image(source_image)
        order = (rules.semver_key(tag) > rules.semver_key(source_tag)) - (rules.semver_key(tag) < rules.semver_key(source_tag))
        if order == 0 and digest is not None and source_digest is not None and digest != source_digest:
            raise ConfigError(
                subject, f"{where}.images.{service}", image,
                f"{source.name} runs {tag} pinned to another digest ({source_digest}); a release tag names one image, so "
                "one of the two digests is wrong: copy the digest that the registry reports for the tag.",
            )
        if order > 0:
            problem = f"it is newer than {source_tag}, the release {source.name} runs and tested"
    if problem is not None and hotfix is None:
        raise ConfigError(
            subject, f"{where}.images.{service}", image,
            f"{env.name} promotes from {source.name}, and {problem}: run {source.name}'s release (or an older one, for a "
            f"rollback), or declare the exception under {where}.hotfixes.{service} as "
            f'{{"tag": "{image}", "reason": "<why>", "expires": "YYYY-MM-DD"}}.',
        )
    if hotfix is None:
        return
    if problem is None:
        raise ConfigError(
            subject, f"{where}.hotfixes.{service}", hotfix.tag,
            f"Remove the hotfix declaration: {source.name} runs {source_image}, so {image} is a promotion (or a rollback), "
            "not an exception.",
        )
    if hotfix.expiry < today:
        raise ConfigError(
            subject, f"{where}.hotfixes.{service}.expires", hotfix.expires,
            f"The hotfix expired on {hotfix.expires}: promote the fix through {source.name} (run {tag} or a later release there) "
            "and remove the declaration, or renew it with a new date and the reason it is still needed.",
        )
    if hotfix.expiry > today + timedelta(days=MAX_HOTFIX_DAYS):
        raise ConfigError(
            subject, f"{where}.hotfixes.{service}.expires", hotfix.expires,
            f"A hotfix is temporary: give a date at most {MAX_HOTFIX_DAYS} days ahead "
            f"(by {(today + timedelta(days=MAX_HOTFIX_DAYS)).isoformat()}), and promote the fix through {source.name} before then.",
        )
