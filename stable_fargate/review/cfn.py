"""Small readers for synthesized CloudFormation values, shared by the read-side models.

Templates come from any CDK app, so every reader is lenient: a value of an unexpected type
reads as ``None`` (the caller applies AWS's documented default), never as an exception.
Walks are iterative, so a deeply nested value cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def reference(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names, else None."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    ((name, arg),) = value.items()
    if name == "Ref" and isinstance(arg, str):
        return arg
    if name == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            return arg[0]
        if isinstance(arg, str):
            return arg.split(".", 1)[0]
    return None


def references(value: Any) -> set[str]:
    """Every logical id that ``value`` refers to (``Ref``/``Fn::GetAtt``), at any depth."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        target = reference(item)
        if target is not None:
            found.add(target)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def number(value: Any) -> float | None:
    """A number given as a number or a numeric string (CloudFormation accepts both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def integer(value: Any) -> int | None:
    parsed = number(value)
    return int(parsed) if parsed is not None and parsed == int(parsed) else None


def text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def resources(template: Any) -> Mapping[str, Mapping[str, Any]]:
    """The template's resources that are objects, by logical id."""
    found = mapping(mapping(template).get("Resources"))
    return {k: v for k, v in found.items() if isinstance(v, Mapping)}


def of_type(template_resources: Mapping[str, Mapping[str, Any]], resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(logical id, Properties) of every resource of ``resource_type``."""
    for logical_id, resource in template_resources.items():
        if resource.get("Type") == resource_type:
            yield logical_id, mapping(resource.get("Properties"))


def short_id(logical_id: str) -> str:
    """A logical id without CDK's 8-character hash suffix (``PortfolioImportBurst90B372D9`` ->
    ``PortfolioImportBurst``), for names that read the same in every environment."""
    suffix = logical_id[-8:]
    if len(logical_id) > 8 and all(c in "0123456789ABCDEF" for c in suffix):
        return logical_id[:-8]
    return logical_id
