"""pydantic's validation errors as ConfigErrors: subject, cdk.json path, a value safe to show,
and what to do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from stable_fargate.config.rules import KEY_NAME_PATTERN, UNSET, RuleError, is_secret_looking, shown
from stable_fargate.errors import ConfigError

UNION_TAGS: Final = frozenset({"plain key", "secret key"})
"""Tags of the key-declaration union: pydantic puts them into error locations; cdk.json has no
such level, so they are left out of the path."""

SECRET_PARTS: Final = frozenset({"name", "json_field", "source", "kind", "type"})
"""Parts of a secret-looking key that are no secret themselves (its name, its source, ...)."""

HINTS: Final[Mapping[str, str]] = {
    "account": 'e.g. "123456789012" (a string: a number loses leading zeros).',
    "region": "e.g. eu-west-2.",
    "availability_zones": 'e.g. ["eu-west-2a", "eu-west-2b", "eu-west-2c"].',
    "vpc_cidr": 'e.g. "10.20.0.0/16".',
    "certificate_arn": (
        "Every environment's load balancer serves HTTPS with the environment's ACM certificate: "
        "arn:aws:acm:<region>:<account>:certificate/<id>."
    ),
    "tooling": 'The registry account: "tooling": {"account": "123456789012", "region": "eu-west-2"}.',
    "environments": 'Declare at least one environment: "environments": {"prod": {...}}.',
    "keys": 'Declare the keys as an object: KEY -> declaration, e.g. "LOG_LEVEL": {"type": "string", "value": "info"}.',
}
"""A worked example per field, added to a refusal of that field's shape."""

TYPE_FIXES: Final[Mapping[str, str]] = {
    "string_type": "Give a string (in double quotes).",
    "int_type": "Give a whole number (without quotes).",
    "float_type": "Give a number (without quotes).",
    "bool_type": "Give true or false (without quotes).",
    "list_type": "Give a JSON array ([...]).",
    "tuple_type": "Give a JSON array ([...]).",
    "dict_type": "Give a JSON object ({...}).",
    "mapping_type": "Give a JSON object ({...}).",
    "model_type": "Give a JSON object ({...}).",
    "model_attributes_type": "Give a JSON object ({...}).",
    "finite_number": "Give a finite number.",
    "string_unicode": "Give valid text (an unpaired surrogate cannot be stored).",
    "key_kind": 'Declare the key as an object whose "kind" is "plain" (the default: an environment value) or "secret".',
}


def path_of(loc: Sequence[str | int]) -> tuple[str, ...]:
    # "[key]" marks an error in a mapping's key: the key itself is the path's last part.
    return tuple(printable(str(part)) for part in loc if part not in UNION_TAGS and part != "[key]")


MAX_NAME_CHARACTERS: Final = 64
"""A name in a path or subject is cut to this length (the value shows it whole, up to its own limit)."""


def printable(name: str) -> str:
    """``name`` as one line of a message: control characters escaped (``dev\\n``), cut if long."""
    text = name if name.isprintable() else name.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= MAX_NAME_CHARACTERS else text[: MAX_NAME_CHARACTERS - 1] + "…"


def subject_of(path: Sequence[str]) -> str:
    """Who the refusal concerns, from its cdk.json path (relative to the stable_fargate block)."""
    if len(path) >= 2 and path[0] == "environments":
        return f"environment {path[1]}"
    if len(path) >= 2 and path[0] == "parameters":
        return path[1]
    if path and path[0] == "shared_parameters":
        return "shared parameters"
    if path and path[0] == "tooling":
        return "tooling"
    return "app"


def is_hidden_path(path: Sequence[str]) -> bool:
    """A value under a secret-looking key (its value, an override of it) is never shown; its
    name, source and field are."""
    for index, part in enumerate(path):
        if KEY_NAME_PATTERN.fullmatch(part) and is_secret_looking(part):
            rest = path[index + 1:]
            return not rest or rest[-1] not in SECRET_PARTS
    return False


def config_error(
    error: ValidationError,
    *,
    prefix: Sequence[str | int] = (),
    subject: str | None = None,
    schema: Mapping[str, Any] | None = None,
) -> ConfigError:
    """The first of ``error``'s errors as a ConfigError. ``prefix`` is where the validated data
    sits in the block (``("environments", "prod")``); ``subject`` overrides the one derived
    from the path (a hand-built model names its class); ``schema`` (the block's JSON schema)
    lists the known fields when one is unknown."""
    details = error.errors(include_url=False)
    detail = _most_specific(details)
    path = path_of((*prefix, *detail["loc"]))
    refusal = _refusal(detail)
    value: object = None if detail["type"] == "missing" else detail.get("input")
    hidden = is_hidden_path(path)
    if refusal is not None:
        if refusal.field:
            path = (*path, *refusal.field.split("."))
        if refusal.value is not UNSET:
            value = refusal.value
        # The refused part decides: a secret's name is shown, its value never.
        hidden = refusal.hidden or is_hidden_path(path)
        fix = refusal.fix
    else:
        fix = _fix(detail, path, schema)
        if detail["type"] == "key_kind" and isinstance(value, Mapping) and "kind" in value:
            path, value = (*path, "kind"), value["kind"]
    field = ".".join(path) or "stable_fargate"
    shown_value = "<hidden>" if hidden else shown(value)
    return ConfigError(subject or subject_of(path), field, shown_value, fix)


def _most_specific(details: Sequence[ErrorDetails]) -> ErrorDetails:
    """The error to report: a rule's own refusal first (it says the most), then the deepest."""
    for detail in details:
        if _refusal(detail) is not None:
            return detail
    return max(details, key=lambda d: len(d["loc"]))


def _refusal(detail: ErrorDetails) -> RuleError | None:
    ctx = detail.get("ctx") or {}
    found = ctx.get("error")
    return found if isinstance(found, RuleError) else None


def _fix(detail: ErrorDetails, path: Sequence[str], schema: Mapping[str, Any] | None) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    last = path[-1] if path else ""
    hint = HINTS.get(last, "")
    if kind == "missing":
        return f"Add {last}: it is required. {hint}".strip()
    if kind == "extra_forbidden":
        known = known_fields(schema, path[:-1]) if schema is not None else None
        listed = f" Known fields here: {', '.join(known)}." if known else ""
        return f"Remove it, or correct its spelling: {last!r} is no field here.{listed}"
    if kind == "literal_error":
        return f"Give one of {ctx.get('expected')}."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most", "less_than": "less than"}
        limit = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        return f"Give a number {bound[kind]} {limit}."
    if kind in ("string_too_short", "too_short"):
        return f"Give at least {ctx.get('min_length')} {'character' if kind.startswith('string') else 'entry'}(s)."
    if kind in ("string_too_long", "too_long"):
        return f"Give at most {ctx.get('max_length')} {'characters' if kind.startswith('string') else 'entries'}."
    fix = TYPE_FIXES.get(kind, f"{detail['msg']}.")
    return f"{fix} {hint}".strip()


def known_fields(schema: Mapping[str, Any], path: Sequence[str]) -> list[str] | None:
    """The properties the JSON schema allows at ``path`` (following $ref, maps and unions)."""
    defs = schema.get("$defs", {})
    nodes: list[Mapping[str, Any]] = [schema]
    for part in path:
        nodes = [child for node in nodes for child in _children(_resolve(node, defs), part, defs)]
        if not nodes:
            return None
    names: list[str] = []
    for node in nodes:
        for option in _options(_resolve(node, defs), defs):
            names.extend(n for n in option.get("properties", {}) if n not in names)
    return names or None


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    return node


def _options(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for union in ("anyOf", "oneOf"):
        if union in node:
            return [o for option in node[union] for o in _options(_resolve(option, defs), defs)]
    return [node]


def _children(node: Mapping[str, Any], part: str, defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    for option in _options(node, defs):
        if part in option.get("properties", {}):
            found.append(option["properties"][part])
        elif isinstance(option.get("additionalProperties"), Mapping):
            found.append(option["additionalProperties"])
        elif part.isdigit() and isinstance(option.get("items"), Mapping):
            found.append(option["items"])
    return found
