"""Reading template values that may be intrinsics.

Every reader returns None for a value it cannot know at synth (a ``Ref`` to a parameter, an
``Fn::If``, an import): the rule then decides, and documents, whether an unknown value is
not applicable or is reasoned about conservatively. Nothing here raises on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

UNKNOWN = "\x00"
"""Stands for an unknowable part of a string rendered by :func:`render_string`."""

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def dig(value: Any, *path: str | int) -> Any:
    """``value[p0][p1]...``, or None where a step is missing or of the wrong kind."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, Mapping):
                return None
            value = value.get(step)
    return value


def is_intrinsic(value: Any) -> bool:
    """A one-key object whose key is ``Ref`` or ``Fn::...``: CloudFormation computes it."""
    return isinstance(value, Mapping) and len(value) == 1 and (next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::"))


def number(value: Any) -> float | None:
    """A literal number (CloudFormation also accepts numeric strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def boolean(value: Any) -> bool | None:
    """A literal boolean (``"true"``/``"false"`` strings too)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_list(value: Any) -> list[Any]:
    """A list property as a list (absent or not a list: empty)."""
    return value if isinstance(value, list) else []


def ref_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names (pseudo parameters are not resources)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    if "Ref" in value:
        name = value["Ref"]
        return name if isinstance(name, str) and not name.startswith("AWS::") else None
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and target and isinstance(target[0], str):
            return target[0]
        if isinstance(target, str) and "." in target:
            return target.split(".", 1)[0]
    return None


def references(value: Any) -> Iterator[Any]:
    """Every reference inside ``value``: ``Ref``, ``Fn::GetAtt``, ``Fn::ImportValue``,
    ``Fn::GetStackOutput``, and the ``${Name}`` / ``${Name.Attr}`` variables of ``Fn::Sub``."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, Mapping):
        return
    if len(value) == 1:
        key, inner = next(iter(value.items()))
        if key in {"Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::GetStackOutput"}:
            yield value
            return
        if key == "Fn::Sub":
            yield from _sub_references(inner)
            return
    for inner in value.values():
        yield from references(inner)


def _sub_references(inner: Any) -> Iterator[Any]:
    template, variables = (inner, {}) if isinstance(inner, str) else (dig(inner, 0), dig(inner, 1) or {})
    if isinstance(variables, Mapping):
        for item in variables.values():
            yield from references(item)
    if isinstance(template, str):
        for name in _SUB_VARIABLE.findall(template):
            if isinstance(variables, Mapping) and name in variables:
                continue
            resource, _, attribute = name.partition(".")
            yield {"Fn::GetAtt": [resource, attribute]} if attribute else {"Ref": resource}


def render_string(value: Any) -> str | None:
    """A string value with every part CloudFormation computes replaced by :data:`UNKNOWN`.

    Understands literals, ``Fn::Join`` with a literal delimiter and ``Fn::Sub`` (its
    variables become UNKNOWN); any other intrinsic is one UNKNOWN. None for a non-string.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    key, inner = next(iter(value.items()))
    if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
        delimiter, parts = inner
        if isinstance(delimiter, str) and isinstance(parts, list):
            rendered = [render_string(part) for part in parts]
            return delimiter.join(UNKNOWN if part is None else part for part in rendered)
        return UNKNOWN
    if key == "Fn::Sub":
        template = inner if isinstance(inner, str) else dig(inner, 0)
        if isinstance(template, str):
            return _SUB_VARIABLE.sub(UNKNOWN, template).replace("${!", "${")
        return UNKNOWN
    return UNKNOWN if is_intrinsic(value) else None
