"""A small model of the Amazon States Language interpreter, for the orchestrator's promises.

It runs a synthesized state machine definition against handlers that stand in for the AWS
APIs its Task states call, and records which states ran and which calls were made, so a test
can ask "a run that passes its max runtime: is its task stopped, is it recorded, does the
execution fail?" of the definition the template holds. It models the parts of the language
the library's definitions use, as the specification states them
(https://states-language.net/spec.html; https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html):

* Task: ``Parameters`` (keys ending in ``.$`` are JSONPath or intrinsic functions), the
  handler's result, ``ResultSelector``, ``ResultPath`` (``null`` discards the result and passes
  the input on), ``TimeoutSeconds`` (a call that takes longer fails with ``States.Timeout``),
  ``Retry`` (``ErrorEquals``, ``MaxAttempts``, ``IntervalSeconds``, ``BackoffRate``: retriers are
  tried in order, the first that matches the error applies) and ``Catch`` (the first matching
  catcher: the error output ``{"Error", "Cause"}`` goes to its ``ResultPath``);
  ``States.ALL`` matches every error but ``States.Runtime`` (spec, "Error names").
* Choice with ``Variable`` + ``IsPresent`` / ``NumericEquals`` / ``StringEquals`` /
  ``BooleanEquals`` and ``And`` / ``Or`` / ``Not``; ``Default``. No matching rule and no
  default is ``States.NoChoiceMatched``.
* Map (inline ``ItemProcessor`` or ``Iterator``) over ``ItemsPath``; Pass; Succeed; Fail.
* JSONPath: ``$``, ``$.a.b``, ``$.a[0]``; context object ``$$.Execution.Id``.
  A path that selects nothing is ``States.Runtime`` (not catchable).
* Intrinsic ``States.JsonToString(path)``.
* The state machine's own ``TimeoutSeconds``: an execution whose simulated clock passes it
  ends ``TIMED_OUT``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"


class StatesError(Exception):
    """An error raised inside a state: a name (``States.Timeout``, ``AmazonECS.Unknown``) and a cause."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass
class Call:
    """One call a Task state made: the resource (``ecs:listTasks``) and its parameters."""

    state: str
    resource: str
    parameters: Any


@dataclass
class Outcome:
    """What a handler returns: a result after ``seconds``, or an error."""

    result: Any = None
    seconds: float = 0.0
    error: str | None = None
    cause: str = ""


Handler = Callable[[Any], Outcome]


@dataclass
class Execution:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT
    error: str | None
    cause: str | None
    visited: list[str] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0
    output: Any = None

    def calls_to(self, resource: str) -> list[Call]:
        return [c for c in self.calls if c.resource == resource]


_INDEX = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def _select(data: Any, path: str, context: Mapping[str, Any]) -> Any:
    """The value at a JSONPath (``_MISSING`` when nothing is there)."""
    if path.startswith("$$."):
        data, path = context, "$" + path[2:]
    if not path.startswith("$"):
        raise StatesError(RUNTIME, f"not a path: {path}")
    node = data
    for name, index in _INDEX.findall(path[1:]):
        if name:
            if not isinstance(node, Mapping) or name not in node:
                return _MISSING
            node = node[name]
        else:
            i = int(index)
            if not isinstance(node, list) or i >= len(node):
                return _MISSING
            node = node[i]
    return node


def _value(expression: str, data: Any, context: Mapping[str, Any]) -> Any:
    intrinsic = re.fullmatch(r"States\.JsonToString\((.+)\)", expression)
    if intrinsic:
        return json.dumps(_value(intrinsic.group(1).strip(), data, context), separators=(",", ":"))
    value = _select(data, expression, context)
    if value is _MISSING:
        raise StatesError(RUNTIME, f"the path {expression} selects nothing")
    return value


def _render(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """``Parameters`` / ``ResultSelector``: keys ending in ``.$`` take a path's value."""
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _value(value, data, context)
            else:
                out[key] = _render(value, data, context)
        return out
    if isinstance(template, list):
        return [_render(v, data, context) for v in template]
    return template


def _put(data: Any, result_path: str | None, result: Any) -> Any:
    """Apply ``ResultPath``: ``$`` replaces, ``null`` discards, ``$.a.b`` sets a field."""
    if result_path is None:
        return data
    if result_path == "$":
        return result
    out = json.loads(json.dumps(data)) if isinstance(data, Mapping) else {}
    node = out
    names = [n for n, _ in _INDEX.findall(result_path[1:])]
    for name in names[:-1]:
        node = node.setdefault(name, {})
    node[names[-1]] = result
    return out


def _matches(errors: list[str], error: str) -> bool:
    return error in errors or ("States.ALL" in errors and error != RUNTIME)


def _condition(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_condition(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(_condition(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not _condition(rule["Not"], data, context)
    value = _select(data, rule["Variable"], context)
    if "IsPresent" in rule:
        return (value is not _MISSING) is bool(rule["IsPresent"])
    if value is _MISSING:
        raise StatesError(RUNTIME, f"the path {rule['Variable']} selects nothing")
    for operator, expected in rule.items():
        if operator == "NumericEquals":
            return isinstance(value, (int, float)) and not isinstance(value, bool) and value == expected
        if operator in ("StringEquals", "BooleanEquals"):
            return bool(value == expected)
    raise StatesError(RUNTIME, f"unsupported choice rule {sorted(rule)}")


def resource_name(resource: str) -> str:
    """``arn:aws:states:::aws-sdk:ecs:listTasks`` -> ``ecs:listTasks``; ``...:ecs:runTask.sync`` -> ``ecs:runTask.sync``."""
    tail = resource.split(":::", 1)[-1]
    return tail.removeprefix("aws-sdk:")


class Interpreter:
    """Runs one definition with ``handlers``: resource name -> handler of its parameters."""

    def __init__(self, definition: Mapping[str, Any], handlers: Mapping[str, Handler], *, execution_id: str = "exec-1") -> None:
        self.definition = definition
        self.handlers = handlers
        self.context = {"Execution": {"Id": execution_id}}

    def run(self, data: Any = None) -> Execution:
        execution = Execution(status="RUNNING", error=None, cause=None)
        try:
            execution.output = self._run_states(self.definition, data if data is not None else {}, execution)
            execution.status = "SUCCEEDED"
        except StatesError as error:
            execution.status, execution.error, execution.cause = "FAILED", error.error, error.cause
        limit = self.definition.get("TimeoutSeconds")
        if limit is not None and execution.seconds > limit:
            execution.status = "TIMED_OUT"
        return execution

    def _run_states(self, machine: Mapping[str, Any], data: Any, execution: Execution) -> Any:
        name: str | None = machine["StartAt"]
        while name is not None:
            state = machine["States"][name]
            execution.visited.append(name)
            kind = state["Type"]
            if kind == "Succeed":
                return data
            if kind == "Fail":
                raise StatesError(state.get("Error", "States.Fail"), state.get("Cause", ""))
            if kind == "Choice":
                name = next(
                    (rule["Next"] for rule in state["Choices"] if _condition(rule, data, self.context)),
                    state.get("Default"),
                )
                if name is None:
                    raise StatesError("States.NoChoiceMatched", "no choice rule matched and there is no Default")
                continue
            if kind == "Pass":
                data = _put(data, state.get("ResultPath", "$"), state.get("Result", data))
            elif kind == "Task":
                data, name = self._task(name, state, data, execution)
                continue
            elif kind == "Map":
                items = _value(state.get("ItemsPath", "$"), data, self.context)
                processor = state.get("ItemProcessor") or state["Iterator"]
                results = [self._run_states(processor, item, execution) for item in items]
                data = _put(data, state.get("ResultPath", "$"), results)
            else:
                raise StatesError(RUNTIME, f"unsupported state type {kind}")
            if state.get("End"):
                return data
            name = state["Next"]
        return data

    def _task(self, name: str, state: Mapping[str, Any], data: Any, execution: Execution) -> tuple[Any, str | None]:
        resource = resource_name(state["Resource"])
        parameters = _render(state.get("Parameters", data), data, self.context)
        attempts: dict[int, int] = {}
        while True:
            execution.calls.append(Call(name, resource, parameters))
            outcome = self.handlers[resource](parameters)
            timeout = state.get("TimeoutSeconds")
            try:
                if timeout is not None and outcome.seconds > timeout:
                    execution.seconds += timeout
                    raise StatesError(TIMEOUT, f"{name} ran longer than {timeout}s")
                execution.seconds += outcome.seconds
                if outcome.error is not None:
                    raise StatesError(outcome.error, outcome.cause)
                result = outcome.result
                if "ResultSelector" in state:
                    result = _render(state["ResultSelector"], result, self.context)
                data = _put(data, state.get("ResultPath", "$"), result)
                return data, (None if state.get("End") else state["Next"])
            except StatesError as error:
                retrier = next(
                    (i for i, r in enumerate(state.get("Retry", [])) if _matches(r["ErrorEquals"], error.error)), None
                )
                if retrier is not None:
                    rule = state["Retry"][retrier]
                    done = attempts.get(retrier, 0)
                    if done < rule.get("MaxAttempts", 3):
                        attempts[retrier] = done + 1
                        execution.seconds += rule.get("IntervalSeconds", 1) * rule.get("BackoffRate", 2.0) ** done
                        continue
                catcher = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], error.error)), None)
                if catcher is None:
                    raise
                data = _put(data, catcher.get("ResultPath", "$"), {"Error": error.error, "Cause": error.cause})
                return data, catcher["Next"]


def definition_of(template: Mapping[str, Any], logical_id: str | None = None) -> dict[str, Any]:
    """The definition of the (only, or named) state machine in a synthesized template, with
    every token in it replaced by a placeholder string."""
    machines = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::StepFunctions::StateMachine"}
    (machine,) = [machines[logical_id]] if logical_id else machines.values()
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, Mapping):
        body = "".join(p if isinstance(p, str) else "TOKEN" for p in body["Fn::Join"][1])
    definition: dict[str, Any] = json.loads(body)
    return definition
