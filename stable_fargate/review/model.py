"""The read side's model: ECS task definitions per service per environment, from cdk.out.

Each task definition keeps its stack's resources, so that the drift engine can follow the
template's references from it to its service, scaling, queue and schedules
(:mod:`stable_fargate.review.surroundings`).

It reads only synthesized CloudFormation (``manifest.json``, ``*.template.json`` and nested
stage assemblies such as ``assembly-Prod/``), never the constructs, so it works on any CDK
app. Which environment a stack belongs to (:attr:`AssemblyModel.grouping`):

* ``stage``: the stage it is in (``Prod``); a stack outside every stage is its own environment;
* ``account/region``: an app without stages groups its stacks by their deployment target
  (the manifest's ``aws://account/region``), named by what the group's stack names share and
  the others' do not (``Api-dev`` and ``Workers-dev`` -> ``dev``), else by the target itself;
* ``stack``: an app without stages whose stacks have no concrete target: each stack is its own
  column, which is no grouping at all, so a service missing from a stack is not drift;
* ``template``: a directory of ``*.template.json`` (one per environment) or one template;
* ``snapshot``: a directory of JSON templates named ``<env>-<Stack>.json`` (the committed
  snapshots, also as ``test_every_stack_matches_its_snapshot[<env>-<Stack>].json``).

:func:`read_assembly` is the reader every read-side model shares (drift here, the stability
review in :mod:`stable_fargate.review.services`): it yields each stack's template with the
environment it belongs to.

Which service a task definition is: the name of its first container, else its logical id.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

Grouping = Literal["stage", "account/region", "stack", "template", "snapshot", "given"]
"""How the environments were found; ``stack`` is the only one that is not a real grouping."""

TASK_DEFINITION_TYPE = "AWS::ECS::TaskDefinition"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"


class ReadError(ValueError):
    """The input is not a readable cloud assembly or template; the message is one line."""


@dataclass(frozen=True)
class TaskDefinition:
    """One ECS task definition as synthesized, with where it came from."""

    service: str
    environment: str
    stack: str
    logical_id: str
    properties: Mapping[str, Any]
    account: str | None = None
    region: str | None = None
    resources: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False, repr=False)
    """Every resource of the task definition's stack (as read, shared by the stack's task
    definitions), for what surrounds the task: its service, scaling, queue and schedules."""

    @property
    def containers(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.properties.get("ContainerDefinitions", ()))


@dataclass(frozen=True)
class AssemblyModel:
    """Every task definition of an app: ``services[service][environment]``, environments in
    the order the assembly lists them."""

    environments: tuple[str, ...]
    services: Mapping[str, Mapping[str, TaskDefinition]] = field(default_factory=lambda: MappingProxyType({}))
    grouping: Grouping = "given"

    @property
    def environments_are_groupings(self) -> bool:
        """Whether each environment is a real grouping of stacks (a stage, a deployment target,
        a template per environment), so that a service missing from one of them is drift."""
        return self.grouping != "stack"


@dataclass(frozen=True)
class StackSource:
    """One stack's template and where it belongs: its environment, deployment target and
    whether a stage holds it."""

    environment: str
    stack: str
    template: Any
    account: str | None
    region: str | None
    in_stage: bool = False


_StackSource = StackSource


@dataclass(frozen=True)
class AssemblySources:
    """Every stack of an input, each with its final environment name, and how the
    environments were found."""

    sources: tuple[StackSource, ...]
    grouping: Grouping


_ENVIRONMENT_URI = re.compile(r"^aws://(?P<account>[^/]+)/(?P<region>.+)$")


def load_assembly(path: str | Path) -> AssemblyModel:
    """Read a cdk.out directory (or a directory of ``*.template.json`` files, one per
    environment, a snapshot directory, or a single template file) into an :class:`AssemblyModel`."""
    read = read_assembly(path)
    return model_from_sources(list(read.sources), grouping=read.grouping)


SNAPSHOT_NAME = re.compile(r"^(?:[A-Za-z_]\w*\[)?(?P<env>[A-Za-z0-9_.]+)-(?P<stack>[^\]\[]+?)\]?\.json$")
"""``prod-Workers.json`` or syrupy's ``test_every_stack_matches_its_snapshot[prod-Workers].json``."""


def read_assembly(path: str | Path) -> AssemblySources:
    """Every stack template of ``path`` with its environment (see the module docstring)."""
    root = Path(path)
    if root.is_file():
        source = StackSource(root.name.removesuffix(".template.json"), root.name, _read_json(root), None, None)
        return AssemblySources((source,), "template")
    if not root.is_dir():
        raise ReadError(f"{_shown(root)}: no such directory; give the cdk.out directory that `cdk synth` wrote")
    if (root / "manifest.json").is_file():
        try:
            sources = list(_manifest_sources(root, stage=None, visited=set()))
        except RecursionError:
            raise ReadError(f"{root}: nested assemblies go too deep to read; is a directoryName pointing back up?") from None
        if any(s.in_stage for s in sources):
            return AssemblySources(tuple(sources), "stage")
        return _group_without_stages(sources)
    templates = sorted(root.glob("*.template.json"))
    if templates:
        return AssemblySources(
            tuple(StackSource(t.name.removesuffix(".template.json"), t.name, _read_json(t), None, None) for t in templates),
            "template",
        )
    snapshots = [(t, SNAPSHOT_NAME.match(t.name)) for t in sorted(root.glob("*.json"))]
    named = [(t, m) for t, m in snapshots if m is not None]
    if named:
        return AssemblySources(
            tuple(StackSource(m["env"], m["stack"], _read_json(t), None, None) for t, m in named), "snapshot"
        )
    raise ReadError(f"{root}: neither manifest.json nor *.template.json found; is this a cdk.out directory?")


def model_from_templates(templates: Mapping[str, Mapping[str, Any]]) -> AssemblyModel:
    """A model from in-memory templates: ``{environment: {stack_name: template}}``."""
    return model_from_sources(
        [StackSource(env, stack, template, None, None) for env, stacks in templates.items() for stack, template in stacks.items()]
    )


def _group_without_stages(sources: list[StackSource]) -> AssemblySources:
    """Top-level stacks only: group them by deployment target when that is a real grouping:
    every stack that holds a task definition has a concrete target, and no service is in two
    stacks of one target (then the target holds several environments, e.g. dev and staging in
    one account). Otherwise each stack stays its own column (``stack``)."""
    with_tasks = [i for i, s in enumerate(sources) if _has_task_definition(s)]
    groups: dict[tuple[str, str], list[StackSource]] = {}
    for i in with_tasks:
        source = sources[i]
        if source.account is None or source.region is None:
            return AssemblySources(tuple(sources), "stack")
        groups.setdefault((source.account, source.region), []).append(source)
    if not groups or any(_service_in_two_stacks(members) for members in groups.values()):
        return AssemblySources(tuple(sources), "stack")
    names = _group_names({target: [s.stack for s in members] for target, members in groups.items()})
    grouped = [
        dataclasses.replace(s, environment=names[(str(s.account), str(s.region))]) if i in with_tasks else s
        for i, s in enumerate(sources)
    ]
    return AssemblySources(tuple(grouped), "account/region")


def _service_in_two_stacks(members: list[StackSource]) -> bool:
    seen: set[str] = set()
    for source in members:
        services = {t.service for t in _task_definitions(source)}
        if seen & services:
            return True
        seen |= services
    return False


_NAME_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _tokens(stack_name: str) -> list[str]:
    """``Api-dev`` -> [Api, dev]; ``WorkersProd`` -> [Workers, Prod]."""
    return _NAME_TOKEN.findall(stack_name)


def _group_names(groups: Mapping[tuple[str, str], list[str]]) -> dict[tuple[str, str], str]:
    """Name each deployment target by the name parts all its stacks share and no other
    target's stack has (``Api-dev``, ``Workers-dev`` -> ``dev``); if that leaves any target
    without a name of its own, every target is named ``account/region``."""
    all_tokens = {target: [{t.lower() for t in _tokens(name)} for name in names] for target, names in groups.items()}
    named: dict[tuple[str, str], str] = {}
    for target, names in groups.items():
        others: set[str] = set()
        for other, token_sets in all_tokens.items():
            if other != target:
                others.update(*token_sets)
        common = [t for t in _tokens(names[0]) if all(t.lower() in s for s in all_tokens[target]) and t.lower() not in others]
        named[target] = "-".join(dict.fromkeys(common))
    labels = [n.lower() for n in named.values()]
    if all(labels) and len(set(labels)) == len(labels):
        return named
    return {target: f"{target[0]}/{target[1]}" for target in groups}


def _has_task_definition(source: StackSource) -> bool:
    resources = source.template.get("Resources") if isinstance(source.template, Mapping) else None
    return isinstance(resources, Mapping) and any(
        isinstance(r, Mapping) and r.get("Type") == TASK_DEFINITION_TYPE for r in resources.values()
    )


def model_from_sources(sources: list[StackSource], *, grouping: Grouping = "given") -> AssemblyModel:
    environments: dict[str, None] = {}
    services: dict[str, dict[str, TaskDefinition]] = {}
    for source in sources:
        found = list(_task_definitions(source))
        if found:
            environments.setdefault(source.environment)
        for task in found:
            per_env = services.setdefault(task.service, {})
            if task.environment in per_env:
                # Two task definitions claim one service in one environment: keep them apart
                # by logical id rather than silently comparing only one of them.
                other = per_env.pop(task.environment)
                for t in (other, task):
                    services.setdefault(f"{t.service} ({t.logical_id})", {})[t.environment] = t
                continue
            per_env[task.environment] = task
    services = {name: envs for name, envs in services.items() if envs}
    return AssemblyModel(
        environments=tuple(environments),
        services=MappingProxyType({name: MappingProxyType(envs) for name, envs in sorted(services.items())}),
        grouping=grouping,
    )


def _manifest_sources(directory: Path, *, stage: str | None, visited: set[Path]) -> Iterator[StackSource]:
    here = directory.resolve()
    if here in visited:
        raise ReadError(f"{directory}: nested assemblies lead back here (a directoryName such as \".\" forms a cycle)")
    visited.add(here)
    manifest = _read_json(directory / "manifest.json")
    artifacts = manifest.get("artifacts", {}) if isinstance(manifest, Mapping) else None
    if not isinstance(artifacts, Mapping):
        raise ReadError(f"{directory / 'manifest.json'}: 'artifacts' is not an object; is this a cdk.out manifest?")
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, Mapping):
            raise ReadError(f"{directory / 'manifest.json'}: artifact {artifact_id!r} is not an object")
        properties = artifact.get("properties", {})
        if not isinstance(properties, Mapping):
            raise ReadError(f"{directory / 'manifest.json'}: artifact {artifact_id!r} has no properties object")
        # Stacks carry displayName on the artifact, nested assemblies in their properties.
        display = str(artifact.get("displayName") or properties.get("displayName") or artifact_id)
        if artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            nested = properties.get("directoryName")
            if not isinstance(nested, str):
                raise ReadError(f"{directory / 'manifest.json'}: nested assembly {artifact_id!r} has no directoryName")
            yield from _manifest_sources(directory / nested, stage=display, visited=visited)
        elif artifact.get("type") == STACK_ARTIFACT:
            template_file = properties.get("templateFile")
            if not isinstance(template_file, str):
                raise ReadError(f"{directory / 'manifest.json'}: stack {artifact_id!r} has no templateFile")
            match = _ENVIRONMENT_URI.match(str(artifact.get("environment", "")))
            account, region = (match["account"], match["region"]) if match else (None, None)
            yield StackSource(
                environment=stage if stage is not None else display,
                stack=display,
                template=_read_json(directory / template_file),
                account=account if account and not account.startswith("unknown") else None,
                region=region if region and not region.startswith("unknown") else None,
                in_stage=stage is not None,
            )


def _task_definitions(source: StackSource) -> Iterator[TaskDefinition]:
    template = source.template
    if not isinstance(template, Mapping):
        raise ReadError(f"{source.stack}: the template is not a JSON object")
    resources = template.get("Resources", {})
    if not isinstance(resources, Mapping):
        raise ReadError(f"{source.stack}: 'Resources' is not an object")
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != TASK_DEFINITION_TYPE:
            continue
        properties = resource.get("Properties", {})
        if not isinstance(properties, Mapping):
            raise ReadError(f"{source.stack}: task definition {logical_id} has no Properties object")
        containers = properties.get("ContainerDefinitions", [])
        if not isinstance(containers, list) or not all(isinstance(c, Mapping) for c in containers):
            raise ReadError(f"{source.stack}: task definition {logical_id} has ContainerDefinitions that are not a list of objects")
        first_name = containers[0].get("Name") if containers else None
        yield TaskDefinition(
            service=first_name if isinstance(first_name, str) and first_name else str(logical_id),
            environment=source.environment,
            stack=source.stack,
            logical_id=str(logical_id),
            properties=properties,
            account=source.account,
            region=source.region,
            resources=resources,
        )


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise ReadError(f"{_shown(path)}: file not found (the manifest names it)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReadError(f"{_shown(path)}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise ReadError(f"{_shown(path)}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:
        raise ReadError(f"{_shown(path)}: nested too deeply to read as a template") from None
    except ValueError as error:  # a NUL byte in the path ("embedded null byte")
        raise ReadError(f"{_shown(path)}: not a usable file name ({error})") from None


def _shown(path: Path) -> str:
    """The path for a one-line message: control characters (a NUL byte, a newline) escaped."""
    return str(path).encode("unicode_escape").decode("ascii")
