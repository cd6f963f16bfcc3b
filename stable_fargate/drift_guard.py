"""The synth-time drift guard: environments may differ only where their data says so.

After the app is synthesized, the guard reads every stage's templates (the same reader and
comparison engine as ``python -m stable_fargate drift``) and compares each service across the
environments: its task definition and what surrounds it (ECS service deployment settings,
target groups and listeners, scaling, queue, schedules and orchestrator timeouts: see
:mod:`stable_fargate.review.surroundings`). What an environment's data declares may differ:
its sizing of the service (``environments.<env>.services``: cpu, memory, min/max tasks,
on-demand base), its release (``images``), the parameter values it overrides
(``parameters.<service>.overrides.<env>``), its release strategy (``release``, where given),
its databases' pools (``databases``, where given) and what ``production`` protects. Anything
else (a key, port, health check, cooldown, queue or schedule setting present or different in
one environment only) is a :class:`ConfigError` with a table of service, property and each
environment's value, and ``cdk synth`` fails.

Usage in app.py::

    assembly = app.synth()
    DriftGuard(config=config, parameters=parameter_sets).check(assembly)

Nothing here imports aws_cdk: the guard takes the cloud assembly's directory (or any object
with a ``directory`` attribute, such as the ``CloudAssembly`` that ``app.synth()`` returns).
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from stable_fargate.environments import AppConfig
from stable_fargate.errors import ConfigError
from stable_fargate.parameters import ParameterSets
from stable_fargate.review.drift import (
    DATABASE_POOL_KEY,
    RELEASE_DECLARATIONS,
    SIZING_DECLARATIONS,
    Declarations,
    DriftReport,
    compare,
    drift_table,
    environment_declarations,
)
from stable_fargate.review.model import AssemblyModel, ReadError, load_assembly, model_from_templates

__all__ = ["DATABASE_POOL_DECLARATION", "RELEASE_DECLARATIONS", "SIZING_DECLARATIONS", "DriftGuard", "declarations_for"]


class _HasDirectory(Protocol):
    @property
    def directory(self) -> str: ...


DATABASE_POOL_DECLARATION = f"env:{DATABASE_POOL_KEY}"
"""What an environment's database data (``environments.<env>.databases.<db>.pools.<svc>``)
declares may differ: the pool size PostgresAccess hands the service as DB_POOL_MAX."""


class DriftGuard:
    """Refuses undeclared differences between the environments' task definitions."""

    def __init__(self, *, config: AppConfig, parameters: ParameterSets) -> None:
        self.config = config
        self.parameters = parameters
        self.declarations = declarations_for(config=config, parameters=parameters)

    def check(self, assembly: str | PathLike[str] | _HasDirectory) -> DriftReport:
        """Compare the synthesized app in ``assembly``; raise :class:`ConfigError` on undeclared
        drift, return the report (declared differences included) otherwise."""
        directory = assembly if isinstance(assembly, (str, PathLike)) else assembly.directory
        try:
            model = load_assembly(Path(directory))
        except ReadError as error:
            raise ConfigError("drift guard", "cloud assembly", str(directory), f"Synthesize the app first ({error}).") from None
        return self.check_model(model)

    def check_templates(self, templates: Mapping[str, Mapping[str, Any]]) -> DriftReport:
        """Compare in-memory templates: ``{environment: {stack_name: template}}``."""
        try:
            model = model_from_templates(templates)
        except ReadError as error:
            raise ConfigError("drift guard", "templates", "<templates>", f"Give synthesized templates ({error}).") from None
        return self.check_model(model)

    def check_model(self, model: AssemblyModel) -> DriftReport:
        report = compare(model, self.declarations)
        drifting = [s for s in report.services if s.undeclared]
        if drifting:
            properties = sorted({r.property for s in drifting for r in s.undeclared})
            raise ConfigError(
                ", ".join(s.service for s in drifting),
                "drift",
                properties,
                "These differ between environments, but no environment's data declares them:\n\n"
                f"{drift_table(report)}\n\n"
                "Make the services the same in every environment (task definition, deployment, target group, "
                "scaling, queue, schedule), or declare the difference as data in cdk.json: a parameter key under "
                "stable_fargate.parameters.<service>.keys (with overrides per environment), the service's sizing "
                "(cpu, memory_mib, min_tasks, max_tasks, on_demand_base) under environments.<env>.services, its "
                "release under environments.<env>.images, the release strategy under environments.<env>.release. "
                "Cooldowns, health checks, queue and schedule settings follow no environment's data: they must match.",
            )
        return report


def declarations_for(*, config: AppConfig, parameters: ParameterSets) -> Declarations:
    """The differences each environment's typed data declares, per service."""
    props: dict[str, dict[str, set[str]]] = {}
    expected: dict[str, set[str]] = {}
    for env in config.environments:
        for service in env.services:
            props.setdefault(service, {}).setdefault(env.name, set()).update(SIZING_DECLARATIONS)
            expected.setdefault(service, set()).add(env.name)
        for service in env.images:
            props.setdefault(service, {}).setdefault(env.name, set()).update(RELEASE_DECLARATIONS)
            expected.setdefault(service, set()).add(env.name)
        for database in env.databases.values():
            for service in database.pools:
                props.setdefault(service, {}).setdefault(env.name, set()).add(DATABASE_POOL_DECLARATION)
    for service, per_env in parameters.declared_differences().items():
        for env_name, names in per_env.items():
            props.setdefault(service, {}).setdefault(env_name, set()).update(names)
    notes = {
        service: {env.name: MappingProxyType({"image": f"hotfix: {hotfix.reason}"}) for env in config.environments
                  if (hotfix := env.hotfix(service)) is not None}
        for service in {s for env in config.environments for s in env.hotfixes}
    }
    return Declarations(
        properties=MappingProxyType({s: MappingProxyType({e: frozenset(n) for e, n in envs.items()}) for s, envs in props.items()}),
        environments=MappingProxyType({s: frozenset(e) for s, e in expected.items()}),
        notes=MappingProxyType({s: MappingProxyType(envs) for s, envs in notes.items()}),
        environment_wide=MappingProxyType({
            # Release data declares only where cdk.json carries it, not where its default applies.
            env.name: frozenset(environment_declarations(production=env.production, release="release" in env.model_fields_set))
            for env in config.environments
        }),
    )
