"""Reading template values that may be intrinsics.

Every reader returns None for a value it cannot know at synth (a ``Ref`` to a parameter, an
``Fn::If``, an import): the rule then decides, and documents, whether an unknown value is
not applicable or is reasoned about conservatively. Nothing here raises on odd input. The
plain readers are the read side's (:mod:`stable_fargate.review.cfn`); what the rules need on
top is here: pseudo parameters, cross-stack references and ``Fn::Sub`` variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from stable_fargate.review.cfn import boolean, number, reference, text
from stable_fargate.review.cfn import items as as_list

__all__ = ["UNKNOWN", "as_list", "boolean", "dig", "is_intrinsic", "number", "ref_id", "references", "render_string", "text"]

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


def ref_id(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names (pseudo parameters are not resources)."""
    found = reference(value)
    return None if found is None or found.startswith("AWS::") else found


_REFERENCE_KEYS = frozenset({"Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::GetStackOutput"})


def references(value: Any) -> Iterator[Any]:
    """Every reference inside ``value``: ``Ref``, ``Fn::GetAtt``, ``Fn::ImportValue``,
    ``Fn::GetStackOutput``, and the ``${Name}`` / ``${Name.Attr}`` variables of ``Fn::Sub``.
    Iterative, like the read side's walks: no nesting exhausts the recursion limit."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, Mapping):
            key = next(iter(item)) if len(item) == 1 else None
            if key in _REFERENCE_KEYS:
                yield item
            elif key == "Fn::Sub":
                template, variables = _sub_parts(item[key])
                pending.extend(reversed(list(variables.values())))
                yield from _sub_variables(template, variables)
            else:
                pending.extend(reversed(list(item.values())))


def _sub_parts(inner: Any) -> tuple[Any, Mapping[str, Any]]:
    if isinstance(inner, str):
        return inner, {}
    variables = dig(inner, 1)
    return dig(inner, 0), variables if isinstance(variables, Mapping) else {}


def _sub_variables(template: Any, variables: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(template, str):
        for name in _SUB_VARIABLE.findall(template):
            if name in variables:
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
