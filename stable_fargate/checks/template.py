"""The pack's view of an app: every stack's synthesized template, and references between them.

Rules read CloudFormation as CloudFormation receives it, not the L1 constructs' Python
attributes. Two reasons, both found the hard way:

* an L1's typed struct attribute does not always cross jsii: reading
  ``CfnService.deployment_configuration`` of an ``aws_ecs.FargateService`` raises a
  ``SerializationError`` (its ``alarms`` struct holds ``alarmNames: undefined``), and
* ``cfnProperties`` crosses as a plain map, which turns ``Lazy`` values into lifeless objects.

cdk-nag runs a pack after the CDK has written the cloud assembly (``synthesize()`` invokes
the validation plugins last), so the template of every stack is on disk, complete with
property overrides and every token resolved to an intrinsic. The pack finds the node being
checked in it by ``Stack.of(node).resolve(node.logical_id)``.

This module is plain Python over parsed JSON (no CDK), so it can be tested without a synth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stable_fargate.checks import values


@dataclass(frozen=True, eq=False)
class Resource:
    """One resource of one stack's template."""

    stack: StackTemplate
    logical_id: str
    type: str
    properties: Mapping[str, Any]

    def get(self, *path: str | int) -> Any:
        """The value at ``path`` under Properties, or None where any step is missing."""
        return values.dig(self.properties, *path)

    def target(self, value: Any) -> Resource | None:
        """The resource ``value`` names (Ref, GetAtt or a cross-stack reference), if known."""
        return self.stack.target(value)

    def refers_to(self, value: Any, other: Resource) -> bool:
        """Whether ``value`` (in this resource's stack) names ``other`` anywhere inside it."""
        return self.stack.refers_to(value, other)

    def __repr__(self) -> str:
        return f"Resource({self.stack.name}/{self.logical_id} {self.type})"


@dataclass(eq=False)
class StackTemplate:
    """One stack's template: its resources by logical id and its outputs."""

    name: str
    template: Mapping[str, Any]
    environment: str | None = None
    """``account/region`` where both are known at synth; None for an environment-agnostic stack."""
    app: AppTemplates | None = None
    resources: dict[str, Resource] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    """Derived facts that helpers compute once per stack (e.g. which queues are DLQs)."""

    def __post_init__(self) -> None:
        raw = self.template.get("Resources", {})
        if isinstance(raw, Mapping):
            for logical_id, resource in raw.items():
                if isinstance(resource, Mapping) and isinstance(resource.get("Type"), str):
                    properties = resource.get("Properties", {})
                    self.resources[str(logical_id)] = Resource(
                        self, str(logical_id), resource["Type"], properties if isinstance(properties, Mapping) else {}
                    )

    @property
    def outputs(self) -> Mapping[str, Any]:
        outputs = self.template.get("Outputs", {})
        return outputs if isinstance(outputs, Mapping) else {}

    def of_type(self, *types: str) -> list[Resource]:
        # Rules ask for the same types once per node checked: the answer is kept (a copy is returned).
        key = "of_type " + ",".join(types)
        if key not in self.memo:
            self.memo[key] = [r for r in self.resources.values() if r.type in types]
        found: list[Resource] = self.memo[key]
        return list(found)

    @property
    def scope(self) -> dict[str, Any]:
        """Where facts about the whole app are remembered: the app's memo, else this stack's."""
        return self.app.memo if self.app is not None else self.memo

    def everywhere(self, *types: str) -> list[Resource]:
        """Resources of ``types`` in every stack of the app (this one's first)."""
        if self.app is None:
            return self.of_type(*types)
        found = self.of_type(*types)
        for stack in self.app.stacks:
            if stack is not self:
                found.extend(stack.of_type(*types))
        return found

    def naming(self, other: Resource, types: Sequence[str], *properties: str) -> list[Resource]:
        """Resources of ``types`` in every stack of the app (this one's first) whose value under
        any of ``properties`` names ``other``: what ``everywhere`` and ``refers_to`` would find,
        from an index of the app's references built once (a scan per node checked made a pack
        run quadratic in the app's resources)."""
        key = f"naming {','.join(types)} {','.join(properties)}"
        index: dict[Resource, list[Resource]] | None = self.scope.get(key)
        if index is None:
            index = {}
            for stack in self.app.stacks if self.app is not None else [self]:
                for resource in stack.of_type(*types):
                    named = {id(t): t for p in properties for t in stack.targets_in(resource.get(p))}
                    for target in named.values():
                        index.setdefault(target, []).append(resource)
            self.scope[key] = index
        found = index.get(other, [])
        return [r for r in found if r.stack is self] + [r for r in found if r.stack is not self]

    def shares_account_region(self, other: StackTemplate) -> bool:
        """Whether ``other`` certainly deploys to this stack's account and region (itself, or the
        same known environment): account-wide settings of one stack apply to the other."""
        return other is self or (self.environment is not None and self.environment == other.environment)

    def every_resource(self) -> Iterator[Resource]:
        """Every resource of every stack of the app (this stack alone without an app)."""
        for stack in self.app.stacks if self.app is not None else [self]:
            yield from stack.resources.values()

    def target(self, value: Any) -> Resource | None:
        """The resource ``value`` names: ``Ref``/``Fn::GetAtt`` in this stack, or an
        ``Fn::ImportValue``/``Fn::GetStackOutput`` of another stack of the app."""
        logical_id = values.ref_id(value)
        if logical_id is not None:
            return self.resources.get(logical_id)
        if self.app is not None:
            produced = self.app.cross_stack_value(value)
            if produced is not None:
                stack, inner = produced
                return stack.target(inner)
        return None

    def refers_to(self, value: Any, other: Resource) -> bool:
        """Whether ``value`` names ``other`` anywhere inside it (in a Join, a Sub, a list...)."""
        return any(found is other for found in self.targets_in(value))

    def targets_in(self, value: Any) -> Iterator[Resource]:
        """Every resource that ``value`` names, however deeply."""
        for reference in values.references(value):
            found = self.target(reference)
            if found is not None:
                yield found


@dataclass(eq=False)
class AppTemplates:
    """Every stack of an app, for references that cross stacks."""

    stacks: list[StackTemplate] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)

    def add(self, stack: StackTemplate) -> StackTemplate:
        stack.app = self
        self.stacks.append(stack)
        self.memo.clear()  # facts about the app (indexes) change with its stacks
        return stack

    def cross_stack_value(self, value: Any) -> tuple[StackTemplate, Any] | None:
        """(producing stack, the output's value) of an import, or None."""
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        if "Fn::ImportValue" in value:
            name = value["Fn::ImportValue"]
            for stack in self.stacks:
                for output in stack.outputs.values():
                    if isinstance(output, Mapping) and values.dig(output, "Export", "Name") == name:
                        return stack, output.get("Value")
        if "Fn::GetStackOutput" in value:
            spec = value["Fn::GetStackOutput"]
            if isinstance(spec, Mapping):
                for stack in self.stacks:
                    if stack.name == spec.get("StackName") and spec.get("OutputName") in stack.outputs:
                        output = stack.outputs[spec["OutputName"]]
                        return stack, output.get("Value") if isinstance(output, Mapping) else None
        return None

    def stack(self, name: str) -> StackTemplate | None:
        return next((s for s in self.stacks if s.name == name), None)


def read_template(path: Path) -> Mapping[str, Any] | None:
    """A template file as JSON, or None when it is missing or unreadable."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, Mapping) else None


def app_from_templates(templates: Mapping[str, Mapping[str, Any]] | Sequence[tuple[str, Mapping[str, Any]]]) -> AppTemplates:
    """An app from in-memory templates, ``{stack name: template}`` (for tests and tools)."""
    items = templates.items() if isinstance(templates, Mapping) else templates
    app = AppTemplates()
    for name, template in items:
        app.add(StackTemplate(name=name, template=template))
    return app
