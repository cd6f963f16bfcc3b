"""Properties: what the drift engine compares, one named string per setting of a service.

Every extractor (the task definition in :mod:`stable_fargate.review.drift`, the resources
around it in :mod:`stable_fargate.review.surroundings`) reduces templates to
:class:`Property` values: a readable rendering of the CloudFormation value and the names of
the declarations that may make it differ between environments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Category = Literal["value", "structural"]

PRESUMED_DECLARATIONS = frozenset({
    "cpu", "memory", "image", "min_tasks", "max_tasks", "on_demand_base", "release", "production",
})
"""Declarations a foreign app (no ``stable_fargate`` data) is presumed to make: environments
exist to differ in size, release and values (and production in its protections). Environment
and secret values (``env:KEY``, ``secret:KEY``) are presumed too."""

ENVIRONMENT_DECLARATIONS = frozenset({"release", "production"})
"""Declarations an environment makes for every service it runs (``environments.<env>.release``,
``environments.<env>.production``), not per service."""


def presumed(declaration: str | None) -> bool:
    """Whether an app without data is presumed to declare ``declaration``."""
    if declaration is None:
        return False
    return declaration in PRESUMED_DECLARATIONS or declaration.startswith(("env:", "secret:"))


@dataclass(frozen=True)
class Bounds:
    """A value that follows the environment's scaling bounds (its scalable target's minimum and
    maximum): it may differ between environments only as far as each environment clamps one
    common value into its own bounds. ``kind``:

    * ``capacity``: ``value`` is a task count (a scheduled action's minimum or maximum);
      clamp(v) = min(max(v, low), high).
    * ``steps``: ``value`` is ``(adjustment_type, ((lower, upper, adjustment), ...))`` of a step
      policy; each scale-out adjustment is clamped to ``high`` (``ChangeInCapacity`` adds to a
      non-negative capacity, so adding more than the maximum lands at the maximum;
      ``ExactCapacity`` also rises to ``low``), then adjacent steps with one adjustment merge.
    """

    kind: Literal["capacity", "steps"]
    value: Any
    low: int | None
    high: int | None


@dataclass(frozen=True)
class Property:
    """One named setting of a service in one environment.

    ``raw``: the value as text (normalised before comparing: see ``drift._normalizer``).
    ``declaration``: the declaration that may make its value differ (``cpu``, ``max_tasks``,
    ``release``, ``env:KEY``, ...), ``None`` when nothing may. ``absence``: the declaration that
    may make it exist in some environments only (a blue/green deployment's bake time exists
    where the release data says blue/green), ``None`` when its absence anywhere is drift.
    ``bounds``: for values that follow the scaling bounds (see :class:`Bounds`).
    """

    raw: str
    declaration: str | None = None
    absence: str | None = None
    bounds: Bounds | None = None

    @property
    def category(self) -> Category:
        """``value`` when an app without data is presumed to declare it, else ``structural``."""
        return "value" if presumed(self.declaration) else "structural"


def structural(value: Any) -> Property:
    """A property no data declares: rendered ``value``."""
    return Property(render(value))


# --- Rendering templates to comparable strings ----------------------------------------------


def render(value: Any) -> str:
    """A CloudFormation value as one readable string; intrinsics become ``${...}``.

    A string on its own reads as itself; inside a list or an object every string is quoted
    (JSON), so ``["a, b"]`` and ``["a", "b"]`` never read the same. ``Fn::Sub`` keeps its
    variables map (``text where {"Var": "value"}``), so two substitutions that differ only
    in their variables differ.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_element(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if is_intrinsic(value):
            ((name, arg),) = value.items()
            if name == "Ref":
                return "${" + render(arg) + "}"
            if name == "Fn::GetAtt":
                return "${" + (".".join(render(a) for a in arg) if isinstance(arg, list) else render(arg)) + "}"
            if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
                return render(arg[0]).join(render(p) for p in arg[1])
            if name == "Fn::Sub":
                if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping):
                    return render(arg[0]) + " where " + render(arg[1])
                return render(arg[0] if isinstance(arg, list) and len(arg) == 1 else arg)
            if name == "Fn::ImportValue":
                return "${Import:" + render(arg) + "}"
            return "${" + str(name)[4:] + ":" + render(arg) + "}"
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ", ".join(f"{_quoted(str(k))}: {_element(v)}" for k, v in items) + "}"
    return str(value)


def is_intrinsic(value: Mapping[Any, Any]) -> bool:
    """Whether ``value`` is one ``Ref`` or ``Fn::*`` call."""
    if len(value) != 1:
        return False
    (name,) = value
    return isinstance(name, str) and (name == "Ref" or name.startswith("Fn::"))


def _element(value: Any) -> str:
    """A value inside a list or object: strings (and the intrinsics that stand for them) are
    quoted, so a separator inside a string cannot pass for one between elements."""
    if isinstance(value, str) or (isinstance(value, Mapping) and is_intrinsic(value)):
        return _quoted(render(value))
    return render(value)


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
"""What JSON escapes in a string (``ensure_ascii=False``): quotes, backslashes, control characters."""


def _quoted(text: str) -> str:
    """``text`` as a JSON string (``json.dumps(text, ensure_ascii=False)``), without the encoder
    for the usual string that needs no escape."""
    return json.dumps(text, ensure_ascii=False) if _NEEDS_ESCAPE.search(text) else f'"{text}"'


# --- Values that follow the scaling bounds --------------------------------------------------

Step = tuple[float | None, float | None, float]

CLAMPED_ADJUSTMENTS = frozenset({"ChangeInCapacity", "ExactCapacity"})
"""Step adjustment types whose effect beyond the maximum capacity is the maximum (Application
Auto Scaling keeps the new capacity within the scalable target's minimum and maximum:
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html)."""


def follow_bounds(properties: list[Property]) -> bool:
    """Whether the values of ``properties`` (one per environment, each with :class:`Bounds`)
    are one common value clamped into each environment's own bounds.

    The common values that fit each environment form an interval whose ends are one of the
    environments' own values, so trying each environment's value as the common one suffices.
    """
    bounds = [p.bounds for p in properties]
    if any(b is None for b in bounds):
        return False
    checked = [b for b in bounds if b is not None]
    kinds = {b.kind for b in checked}
    if kinds == {"capacity"}:
        if not all(isinstance(b.value, int) and not isinstance(b.value, bool) for b in checked):
            return False
        return any(all(_clamp(v.value, b.low, b.high) == b.value for b in checked) for v in checked)
    if kinds == {"steps"}:
        types = {b.value[0] for b in checked}
        if len(types) != 1:
            return False
        own = [_effective_steps(b.value, b.low, b.high) for b in checked]
        return any(all(_effective_steps(v.value, b.low, b.high) == mine for b, mine in zip(checked, own, strict=True)) for v in checked)
    return False


def _clamp(value: int, low: int | None, high: int | None) -> int:
    if high is not None:
        value = min(value, high)
    if low is not None:
        value = max(value, low)
    return value


def _effective_steps(value: tuple[str, tuple[Step, ...]], low: int | None, high: int | None) -> tuple[Step, ...]:
    """The steps as they act within ``low``..``high``: scale-out adjustments clamped, adjacent
    steps with one adjustment merged."""
    adjustment_type, steps = value
    if adjustment_type not in CLAMPED_ADJUSTMENTS:
        return steps
    merged: list[Step] = []
    for lower, upper, adjustment in sorted(steps, key=lambda s: float("-inf") if s[0] is None else s[0]):
        if adjustment > 0 and high is not None:
            adjustment = min(adjustment, high)
        if adjustment_type == "ExactCapacity" and low is not None:
            adjustment = max(adjustment, low)
        if merged and merged[-1][2] == adjustment and merged[-1][1] == lower:
            merged[-1] = (merged[-1][0], upper, adjustment)
        else:
            merged.append((lower, upper, adjustment))
    return tuple(merged)
