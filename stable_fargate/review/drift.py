"""Drift between environments: one comparison engine for the synth-time guard and the CLI.

For each service (identified by its task definition's first container), every environment's
task definition and what surrounds it in its stack are reduced to a list of *properties*:
cpu, memory, image repository and tag, each environment key and secret key, ports, the
health check, the log configuration and every other container and task setting; then the
ECS service's deployment settings, its target groups, listeners and load balancer, its
scaling (bounds, scheduled actions, policies with their alarms), the queue it drains, and
the schedules and orchestrator that run it (:mod:`stable_fargate.review.surroundings`).
Each is rendered as a string with the environment's own account, region and name replaced by
placeholders, so ``arn:...:111111111111:...`` in dev and ``...:333333333333:...`` in prod
compare equal. A property that differs is either *declared* (expected) or *undeclared*
(drift).

Which differences are declared? A template carries no record of intent, so each property
names the declaration that may make it differ (:class:`~stable_fargate.review.properties.Property`):

* With declarations (the synth-time guard, or the CLI finding a cdk.json with a
  ``stable_fargate`` block): a property differs legitimately only where an environment's
  data declares it: ``cpu``/``memory``/``min_tasks``/``max_tasks``/``on_demand_base`` where
  the environment sizes the service, ``image`` where it pins the service's release (a
  promotion), ``env:KEY`` / ``secret:KEY`` where its parameter overrides set the key (or the
  key has no shared value, or a database pool sets ``DB_POOL_MAX``), ``release`` where the
  environment carries release data (``environments.<env>.release``), ``production`` where it
  is production. Scheduled capacities and step adjustments must also be one value clamped
  into each environment's own scaling bounds (:func:`~stable_fargate.review.properties.follow_bounds`).
* Without declarations (any other CDK app): every *value* property (those declarations:
  size, release, values, production's protections) is presumed declared: environments exist
  to differ in size, release and values.
* *Structural* properties are never declared: container names, ports, which environment
  and secret keys exist, the health-check command and timing, the log configuration, the
  user, mounts, the runtime platform; cooldowns, scaling targets, metrics and alarms,
  target-group health checks, the TLS policy, queue settings, schedules and timeouts. An
  environment where they differ runs a different service than the one tested in the others.
  A service missing from an environment is structural drift too, unless the declarations
  say the environment does not run it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from stable_fargate.review.model import AssemblyModel, TaskDefinition
from stable_fargate.review.properties import ENVIRONMENT_DECLARATIONS, Category, Property, follow_bounds, presumed, render
from stable_fargate.review.surroundings import StackIndex, surrounding_properties

__all__ = [
    "ABSENT", "DATABASE_POOL_KEY", "RELEASE_DECLARATIONS", "SIZING_DECLARATIONS", "Declarations", "DriftReport", "Row",
    "ServiceDrift", "compare", "declarations_from_context", "drift_table", "environment_declarations", "properties_of", "render",
    "render_text",
]

Status = Literal["same", "declared", "undeclared"]

SIZING_DECLARATIONS = frozenset({"cpu", "memory", "min_tasks", "max_tasks", "on_demand_base"})
"""What an environment's sizing of a service (``environments.<env>.services.<svc>``) declares
may differ: task and container cpu/memory, the scalable target's minimum and maximum (and the
scheduled actions and step adjustments that follow them), a desired count, the capacity
provider base."""

RELEASE_DECLARATIONS = frozenset({"image"})
"""What an environment's release of a service (``environments.<env>.images.<svc>``) declares."""

DATABASE_POOL_KEY = "DB_POOL_MAX"
"""The environment key that carries a service's connection pool; an environment's
``databases.<db>.pools.<svc>`` declares its value (``env:DB_POOL_MAX``) for that service."""

VALUE_PROPERTIES: Mapping[str, str] = MappingProxyType({
    "Cpu": "cpu",
    "Memory": "memory",
    "MemoryReservation": "memory",
})
"""Numeric sizing properties (task or container level) and the declaration that covers them."""

SKIPPED_TASK_PROPERTIES = frozenset({"ContainerDefinitions", "Family", "Tags"})
"""Task-definition properties not compared: the containers are compared one by one; the
family and tags name the stack or environment by design."""

ABSENT = None
"""How an absent property reads in a row: the key, port or service is not there."""

MAX_CELL = 48
"""Text tables truncate longer values (the JSON output keeps them whole)."""


@dataclass(frozen=True)
class Declarations:
    """What each environment's data declares as its own, per service.

    ``properties[service][environment]``: the declaration names (``cpu``, ``memory``,
    ``min_tasks``, ``max_tasks``, ``on_demand_base``, ``image``, ``env:KEY``, ``secret:KEY``)
    that environment declares. A service with no entry falls back to the category rule (value
    properties declared). ``environments``:
    per service, the environments expected to run it; a service without an entry is expected
    everywhere. Environment names compare case-insensitively (``prod`` declares ``Prod``).
    """

    properties: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=lambda: MappingProxyType({}))
    environments: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    notes: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=lambda: MappingProxyType({}))
    """``notes[service][environment][declaration]``: why the data declares it, shown beside the
    value (a hotfix's reason beside the image: ``v1.8.1 (hotfix: CVE-... patch)``)."""
    environment_wide: Mapping[str, frozenset[str]] | None = None
    """``environment_wide[environment]``: what an environment declares for every service it runs
    (``release`` where it has release data, ``production`` where it is production). ``None``:
    no data at all, so these are presumed declared (see :data:`~stable_fargate.review.properties.PRESUMED_DECLARATIONS`)."""


@dataclass(frozen=True)
class Row:
    """One property of one service across the environments."""

    property: str
    category: Category
    status: Status
    values: Mapping[str, str | None]
    declaration: str | None = None
    notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """environment -> the data's note on this row's value there (see :attr:`Declarations.notes`)."""

    def shown_values(self) -> dict[str, str | None]:
        """The values as tables show them: each with its note, if any."""
        return {env: (f"{v} ({self.notes[env]})" if v is not None and env in self.notes else v) for env, v in self.values.items()}


@dataclass(frozen=True)
class ServiceDrift:
    service: str
    environments: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def undeclared(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.status == "undeclared")

    @property
    def declared(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.status == "declared")


@dataclass(frozen=True)
class DriftReport:
    environments: tuple[str, ...]
    services: tuple[ServiceDrift, ...]
    grouping: str = "given"
    """How the environments were found (see :attr:`AssemblyModel.grouping`)."""

    @property
    def has_undeclared(self) -> bool:
        return any(s.undeclared for s in self.services)

    @property
    def compared(self) -> bool:
        """Whether anything was compared: at least two environments. With one, "no drift"
        would only mean "nothing to compare with"."""
        return len(self.environments) >= 2

    def to_json(self) -> dict[str, Any]:
        return {
            "environments": list(self.environments),
            "grouping": self.grouping,
            "compared": self.compared,
            "undeclared": sum(len(s.undeclared) for s in self.services),
            "services": [
                {
                    "service": s.service,
                    "environments": list(s.environments),
                    "rows": [
                        {
                            "property": r.property,
                            "category": r.category,
                            "status": r.status,
                            "declaration": r.declaration,
                            "values": dict(r.values),
                            "notes": dict(r.notes),
                        }
                        for r in s.rows
                    ],
                }
                for s in self.services
            ],
        }


# --- Normalising ----------------------------------------------------------------------------


_ARN_ACCOUNT = re.compile(r"(?<=:)\d{12}(?=:)")


def _normalizer(task: TaskDefinition) -> Callable[[str], str]:
    """Replace the environment's own account, region and name by placeholders."""
    # The account field of any ARN: without a manifest the environment's account is unknown,
    # and an ARN's account is where the resource lives, not what the service is.
    replacements: list[tuple[re.Pattern[str], str]] = [(_ARN_ACCOUNT, "{account}")]
    if task.account:
        replacements.append((re.compile(re.escape(task.account)), "{account}"))
    if task.region:
        replacements.append((re.compile(re.escape(task.region)), "{region}"))
    names = {task.environment, task.environment.lower(), task.environment[:1].upper() + task.environment[1:]}
    for name in sorted(n for n in names if n):
        # Whole words only: "prod" in "prod-data" but not in "production".
        replacements.append((re.compile(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![a-z0-9])"), "{env}"))

    def normalize(text: str) -> str:
        for pattern, placeholder in replacements:
            text = pattern.sub(placeholder, text)
        return text

    return normalize


def properties_of(task: TaskDefinition, index: StackIndex | None = None) -> dict[str, Property]:
    """Reduce one task definition, and what surrounds it in its stack, to named properties (see
    the module docstring). ``index``: the stack's resources, indexed once per stack."""
    props: dict[str, Property] = {}
    task_props = task.properties
    for name, value in sorted(task_props.items()):
        if name in SKIPPED_TASK_PROPERTIES:
            continue
        if name in VALUE_PROPERTIES:
            props[VALUE_PROPERTIES[name]] = Property(render(value), VALUE_PROPERTIES[name])
        else:
            props[f"task {name}"] = Property(render(value))
    names = [render(c.get("Name", f"#{i}")) for i, c in enumerate(task.containers)]
    props["containers"] = Property(", ".join(sorted(names)))
    for name, container in zip(names, task.containers, strict=True):
        prefix = "" if name == task.service else f"{name}: "
        props.update({prefix + k: v for k, v in _container_properties(container).items()})
    if task.resources:
        index = index if index is not None else StackIndex(task.resources)
        props.update(surrounding_properties(task.logical_id, task_props.get("Family"), task_props, index))
    return props


def _container_properties(container: Mapping[str, Any]) -> dict[str, Property]:
    props: dict[str, Property] = {}
    for name, value in sorted(container.items()):
        if name == "Name":
            continue
        if name == "Image":
            repository, tag = _split_image(render(value))
            props["image repository"] = Property(repository)
            props["image tag"] = Property(tag, "image")
        elif name in VALUE_PROPERTIES:
            props[f"container {VALUE_PROPERTIES[name]}"] = Property(render(value), VALUE_PROPERTIES[name])
        elif name == "Environment" and isinstance(value, list):
            for entry in value:
                key = render(entry.get("Name")) if isinstance(entry, Mapping) else render(entry)
                raw = render(entry.get("Value")) if isinstance(entry, Mapping) else ""
                props[f"env {key}"] = Property(raw, f"env:{key}")
        elif name == "Secrets" and isinstance(value, list):
            for entry in value:
                key = render(entry.get("Name")) if isinstance(entry, Mapping) else render(entry)
                raw = render(entry.get("ValueFrom")) if isinstance(entry, Mapping) else ""
                props[f"secret {key}"] = Property(raw, f"secret:{key}")
        elif name == "PortMappings" and isinstance(value, list):
            props["ports"] = Property(", ".join(sorted(_port(p) for p in value)))
        elif name == "HealthCheck" and isinstance(value, Mapping):
            props["health check command"] = Property(render(value.get("Command")))
            timing = {k: v for k, v in value.items() if k != "Command"}
            props["health check timing"] = Property(render(timing))
        elif name == "LogConfiguration":
            props["log configuration"] = Property(render(value))
        else:
            props[name] = Property(render(value))
    return props


def _port(mapping: Any) -> str:
    if not isinstance(mapping, Mapping):
        return render(mapping)
    text = f"{render(mapping.get('ContainerPort'))}/{render(mapping.get('Protocol', 'tcp'))}"
    extra = {k: v for k, v in mapping.items() if k not in ("ContainerPort", "Protocol")}
    return text + (" " + render(extra) if extra else "")


def _split_image(image: str) -> tuple[str, str]:
    """``repo:tag`` or ``repo@sha256:...`` -> (repository, tag or digest)."""
    if "@" in image:
        repository, _, digest = image.rpartition("@")
        return repository, digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:]
    return image, "(none)"


# --- Comparing ------------------------------------------------------------------------------


def compare(model: AssemblyModel, declarations: Declarations | None = None) -> DriftReport:
    """Compare every service across the environments of ``model``."""
    declarations = declarations or Declarations()
    # An environment the data expects a service in, but whose stacks hold no task definition
    # at all, is still a column: its services are missing, not out of scope.
    known = {env.lower() for env in model.environments}
    declared = {env.lower() for envs in declarations.environments.values() for env in envs}
    extra: dict[str, None] = {}
    # Only when the data's environments are this assembly's (one of them at least is a
    # column): a single-stack app "Payments" with data for "prod" has no phantom prod column.
    if declared & known:
        for service in model.services:
            for env in sorted(declarations.environments.get(service, ())):
                if env.lower() not in known:
                    extra.setdefault(env)
    environments = model.environments + tuple(extra)
    indexes = _Indexes()
    services = tuple(
        _compare_service(
            service,
            # Columns that are single stacks rather than environments: a service is compared
            # across the stacks that hold it, and its absence from the others is no drift.
            environments if model.environments_are_groupings else tuple(e for e in environments if e in per_env),
            per_env,
            declarations,
            indexes,
        )
        for service, per_env in model.services.items()
    )
    return DriftReport(environments=environments, services=services, grouping=model.grouping)


class _Indexes:
    """Each stack's resources indexed once, however many task definitions the stack holds."""

    def __init__(self) -> None:
        self._by_stack: dict[int, tuple[Mapping[str, Any], StackIndex]] = {}

    def of(self, task: TaskDefinition) -> StackIndex:
        key = id(task.resources)
        if key not in self._by_stack:
            # The resources are kept beside their index, so the id cannot be reused meanwhile.
            self._by_stack[key] = (task.resources, StackIndex(task.resources))
        return self._by_stack[key][1]


def _lookup(mapping: Mapping[str, Any], environment: str) -> Any:
    for key, value in mapping.items():
        if key.lower() == environment.lower():
            return value
    return None


def _compare_service(
    service: str,
    environments: tuple[str, ...],
    per_env: Mapping[str, TaskDefinition],
    declarations: Declarations,
    indexes: _Indexes | None = None,
) -> ServiceDrift:
    rows: list[Row] = []
    present = tuple(env for env in environments if env in per_env)
    expected = declarations.environments.get(service)
    missing = [env for env in environments if env not in per_env]
    if missing:
        declared_absence = expected is not None and not any(env.lower() in {e.lower() for e in expected} for env in missing)
        rows.append(Row(
            property="task definition",
            category="structural",
            status="declared" if declared_absence else "undeclared",
            values={env: ("present" if env in per_env else ABSENT) for env in environments},
        ))
    indexes = indexes or _Indexes()
    extracted = {env: properties_of(per_env[env], indexes.of(per_env[env]) if per_env[env].resources else None) for env in present}
    normalizers = {env: _normalizer(per_env[env]) for env in present}
    names: dict[str, None] = {}
    for env in present:
        names.update(dict.fromkeys(extracted[env]))
    for name in names:
        cells = {env: extracted[env].get(name) for env in present}
        some = next(p for p in cells.values() if p is not None)
        values: dict[str, str | None] = dict.fromkeys(environments, ABSENT)
        values.update({env: p.raw for env, p in cells.items() if p is not None})
        status = _status(service, cells, normalizers, declarations)
        notes = _notes(declarations.notes.get(service), some.declaration, present)
        rows.append(Row(
            property=name, category=some.category, status=status, values=values, declaration=some.declaration, notes=notes,
        ))
    return ServiceDrift(service=service, environments=environments, rows=tuple(rows))


def _status(
    service: str, cells: Mapping[str, Property | None], normalizers: Mapping[str, Callable[[str], str]], declarations: Declarations
) -> Status:
    """Same, declared or undeclared: a property absent from some environments needs its
    ``absence`` declared; values that differ need their ``declaration`` declared, and values
    that follow the scaling bounds must be one value clamped into each environment's bounds."""
    environments = tuple(cells)
    found = [p for p in cells.values() if p is not None]
    some = found[0]
    differs = False
    if len(found) < len(cells):
        differs = True
        if not _is_declared(some.absence, environments, service, declarations):
            return "undeclared"
    raws = {p.raw for p in found}
    if len(raws) > 1 and len({normalizers[env](p.raw) for env, p in cells.items() if p is not None}) > 1:
        differs = True
        if not _is_declared(some.declaration, environments, service, declarations):
            return "undeclared"
        if some.bounds is not None and not follow_bounds(found):
            return "undeclared"
    return "declared" if differs else "same"


def _notes(
    by_env: Mapping[str, Mapping[str, str]] | None, declaration: str | None, environments: Iterable[str]
) -> Mapping[str, str]:
    if by_env is None or declaration is None:
        return MappingProxyType({})
    found = {env: (_lookup(by_env, env) or {}).get(declaration) for env in environments}
    return MappingProxyType({env: note for env, note in found.items() if note})


def _is_declared(declaration: str | None, environments: Iterable[str], service: str, declarations: Declarations) -> bool:
    """Whether some environment's data declares ``declaration`` for ``service``; without data
    (for the service, or for every environment), whether it is presumed (the category rule)."""
    if declaration is None:
        return False
    if declaration in ENVIRONMENT_DECLARATIONS:
        if declarations.environment_wide is None:
            return presumed(declaration)
        wide = declarations.environment_wide
        return any(declaration in (_lookup(wide, env) or frozenset()) for env in environments)
    declared = declarations.properties.get(service)
    if declared is None:
        return presumed(declaration)  # no data for this service: the category rule (values may differ)
    return any(declaration in (_lookup(declared, env) or frozenset()) for env in environments)


# --- Declarations read from cdk.json (for the CLI) --------------------------------------------


def declarations_from_context(block: Mapping[str, Any]) -> Declarations:
    """What cdk.json's ``stable_fargate`` block declares, read leniently (synth validates it;
    the read side only needs to know which differences are intended)."""
    environments = _mapping(block.get("environments"))
    parameters = _mapping(block.get("parameters"))
    shared = block.get("shared_parameters")
    props: dict[str, dict[str, set[str]]] = {}
    expected: dict[str, set[str]] = {}
    notes: dict[str, dict[str, dict[str, str]]] = {}
    wide: dict[str, set[str]] = {}
    services = dict.fromkeys(parameters)
    for env, data in environments.items():
        if not isinstance(data, Mapping):
            continue
        for section, names in (("services", SIZING_DECLARATIONS), ("images", RELEASE_DECLARATIONS)):
            entries = data.get(section)
            for service in entries if isinstance(entries, Mapping) else ():
                props.setdefault(service, {}).setdefault(env, set()).update(names)
                expected.setdefault(service, set()).add(env)
                if isinstance(shared, Mapping):
                    services.setdefault(service)
        for database in _mapping(data.get("databases")).values():
            for service in _mapping(_mapping(database).get("pools")):
                props.setdefault(service, {}).setdefault(env, set()).add(f"env:{DATABASE_POOL_KEY}")
        wide[env] = environment_declarations(
            production=data.get("production", env == "prod") is True, release="release" in data,
        )
        for service, hotfix in _mapping(data.get("hotfixes")).items():
            reason = hotfix.get("reason") if isinstance(hotfix, Mapping) else None
            if isinstance(reason, str):
                notes.setdefault(service, {}).setdefault(env, {})["image"] = f"hotfix: {reason}"
    for service in services:
        # A service carries the app-wide shared keys beside its own (stable_fargate.shared_parameters).
        sets = [p for p in (parameters.get(service), shared) if isinstance(p, Mapping)]
        if not sets and service in parameters:
            continue
        per_env = props.setdefault(service, {})
        for pset in sets:
            keys = _mapping(pset.get("keys"))
            own = {_declaration_name(k, d) for k, d in keys.items() if isinstance(d, Mapping) and not _has_shared_value(d)}
            overrides = _mapping(pset.get("overrides"))
            for env in set(environments) | set(overrides):
                overridden = _mapping(overrides.get(env))
                per_env.setdefault(env, set()).update(own)
                per_env[env].update(_declaration_name(k, keys.get(k)) for k in overridden)
    return Declarations(
        properties=MappingProxyType({s: MappingProxyType({e: frozenset(n) for e, n in envs.items()}) for s, envs in props.items()}),
        environments=MappingProxyType({s: frozenset(e) for s, e in expected.items()}),
        notes=_frozen_notes(notes),
        environment_wide=MappingProxyType({e: frozenset(n) for e, n in wide.items()}),
    )


def environment_declarations(*, production: bool, release: bool) -> set[str]:
    """What an environment declares for every service it runs: ``production`` where it is
    production (its load balancers' deletion protection), ``release`` where its data carries
    ``environments.<env>.release`` (the deployment strategy and its settings, the alternate
    target group and listener rules of a traffic-shifting release, the load balancer's listeners)."""
    return {name for name, on in (("production", production), ("release", release)) if on}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _frozen_notes(notes: Mapping[str, Mapping[str, Mapping[str, str]]]) -> Mapping[str, Mapping[str, Mapping[str, str]]]:
    return MappingProxyType({
        s: MappingProxyType({e: MappingProxyType(dict(d)) for e, d in envs.items()}) for s, envs in notes.items()
    })


def _has_shared_value(decl: Mapping[str, Any]) -> bool:
    return "name" in decl if decl.get("kind") == "secret" else "value" in decl


def _declaration_name(key: str, decl: Any) -> str:
    kind = decl.get("kind") if isinstance(decl, Mapping) else None
    return f"{'secret' if kind == 'secret' else 'env'}:{key}"


# --- Text tables ----------------------------------------------------------------------------

MARKS: Mapping[Status, str] = MappingProxyType({"undeclared": "!", "declared": "~", "same": " "})
"""Row marks in the text table: ``!`` undeclared drift, ``~`` a declared difference."""


def _cells(values: Mapping[str, str | None], environments: Sequence[str]) -> list[str]:
    """The row's cells, each at most MAX_CELL long; when long values differ, the common
    beginning is elided so that the cell shows where they differ."""
    texts = [values.get(env) for env in environments]
    present = [t.replace("\n", " ") for t in texts if t is not None]
    skip = 0
    if len(set(present)) > 1 and max(len(t) for t in present) > MAX_CELL:
        common = len(_common_prefix(present))
        skip = max(0, common - 8)
    cells = []
    for text in texts:
        if text is None:
            cells.append("(absent)")
            continue
        text = text.replace("\n", " ")
        if skip:
            text = "…" + text[skip:]
        cells.append(text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…")
    return cells


def _common_prefix(texts: Sequence[str]) -> str:
    first, last = min(texts), max(texts)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def table(rows: Sequence[tuple[str, str, Mapping[str, str | None]]], environments: Sequence[str], *, headers: Sequence[str]) -> str:
    """A plain-text table: leading columns, then one column per environment."""
    lines = [[*headers, *environments]]
    lines += [[mark, prop, *_cells(values, environments)] for mark, prop, values in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def render_text(report: DriftReport, *, show_all: bool = False) -> str:
    """Per service a side-by-side table of the environments; undeclared rows marked ``!``,
    declared ones ``~``; identical rows are counted (or listed with ``show_all``)."""
    if not report.services:
        return "No ECS task definitions found: nothing to compare."
    if not report.compared:
        only = report.environments[0] if report.environments else "(none)"
        return (
            f"Only one environment found ({only}): nothing was compared, so this is no evidence "
            "of the absence of drift. Give the cdk.out of an app with a stage (or a template) per environment."
        )
    out: list[str] = []
    for service in report.services:
        shown = [r for r in service.rows if show_all or r.status != "same"]
        same = sum(1 for r in service.rows if r.status == "same")
        out.append(f"== {service.service}")
        if shown:
            rows = [(MARKS[r.status], r.property, r.shown_values()) for r in shown]
            out.append(table(rows, service.environments, headers=(" ", "property")))
        if not show_all:
            out.append(f"   {same} properties identical in every environment")
        out.append("")
    undeclared = sum(len(s.undeclared) for s in report.services)
    drifting = [s.service for s in report.services if s.undeclared]
    if undeclared:
        out.append(f"UNDECLARED DRIFT: {undeclared} properties in {', '.join(drifting)} (marked !).")
    else:
        out.append("No undeclared drift (~ marks declared differences).")
    if report.grouping == "stack":
        out.append(
            "Note: the app has no stages and its stacks no concrete account/region, so each column is a stack, "
            "not an environment; a service missing from a stack is not counted as drift."
        )
    return "\n".join(out)


def drift_table(report: DriftReport) -> str:
    """The undeclared rows only, as the synth-time guard reports them: service, property,
    each environment's value."""
    rows = [(s.service, r.property, r.shown_values()) for s in report.services for r in s.undeclared]
    return table(rows, report.environments, headers=("service", "property"))
