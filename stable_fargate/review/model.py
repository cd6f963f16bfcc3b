"""The read side's model: ECS task definitions per service per environment, from cdk.out.

It reads only synthesized CloudFormation (``manifest.json``, ``*.template.json`` and nested
stage assemblies such as ``assembly-Prod/``), never the constructs, so it works on any CDK
app. Which environment a stack belongs to: the stage it is in (``Prod``), else the stack's
own name. Which service a task definition is: the name of its first container, else its
logical id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

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

    @property
    def containers(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(self.properties.get("ContainerDefinitions", ()))


@dataclass(frozen=True)
class AssemblyModel:
    """Every task definition of an app: ``services[service][environment]``, environments in
    the order the assembly lists them."""

    environments: tuple[str, ...]
    services: Mapping[str, Mapping[str, TaskDefinition]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class _StackSource:
    environment: str
    stack: str
    template: Any
    account: str | None
    region: str | None


_ENVIRONMENT_URI = re.compile(r"^aws://(?P<account>[^/]+)/(?P<region>.+)$")


def load_assembly(path: str | Path) -> AssemblyModel:
    """Read a cdk.out directory (or a directory of ``*.template.json`` files, one per
    environment, or a single template file) into an :class:`AssemblyModel`."""
    root = Path(path)
    if root.is_file():
        return model_from_sources([_StackSource(root.name.removesuffix(".template.json"), root.name, _read_json(root), None, None)])
    if not root.is_dir():
        raise ReadError(f"{root}: no such directory; give the cdk.out directory that `cdk synth` wrote")
    if (root / "manifest.json").is_file():
        return model_from_sources(list(_manifest_sources(root, stage=None)))
    templates = sorted(root.glob("*.template.json"))
    if not templates:
        raise ReadError(f"{root}: neither manifest.json nor *.template.json found; is this a cdk.out directory?")
    return model_from_sources([_StackSource(t.name.removesuffix(".template.json"), t.name, _read_json(t), None, None) for t in templates])


def model_from_templates(templates: Mapping[str, Mapping[str, Any]]) -> AssemblyModel:
    """A model from in-memory templates: ``{environment: {stack_name: template}}``."""
    return model_from_sources(
        [_StackSource(env, stack, template, None, None) for env, stacks in templates.items() for stack, template in stacks.items()]
    )


def model_from_sources(sources: list[_StackSource]) -> AssemblyModel:
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
    )


def _manifest_sources(directory: Path, *, stage: str | None) -> Iterator[_StackSource]:
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
            yield from _manifest_sources(directory / nested, stage=display)
        elif artifact.get("type") == STACK_ARTIFACT:
            template_file = properties.get("templateFile")
            if not isinstance(template_file, str):
                raise ReadError(f"{directory / 'manifest.json'}: stack {artifact_id!r} has no templateFile")
            match = _ENVIRONMENT_URI.match(str(artifact.get("environment", "")))
            account, region = (match["account"], match["region"]) if match else (None, None)
            yield _StackSource(
                environment=stage if stage is not None else display,
                stack=display,
                template=_read_json(directory / template_file),
                account=account if account and not account.startswith("unknown") else None,
                region=region if region and not region.startswith("unknown") else None,
            )


def _task_definitions(source: _StackSource) -> Iterator[TaskDefinition]:
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
        )


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise ReadError(f"{path}: file not found (the manifest names it)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReadError(f"{path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise ReadError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
