"""Just enough IAM policy reading for the rules: does some Allow statement grant an action?

Conditions are not evaluated: a condition such as ``aws:SourceAccount`` is how a grant to a
service principal is meant to be scoped, and judging it needs the account and ARNs at
deploy time. Deny statements are not evaluated either (a rule asks whether anything allows
the action at all; the policy evaluator in tests/ models denies).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from typing import Any

from stable_fargate.checks import values


def statements(document: Any) -> list[Mapping[str, Any]]:
    found = values.dig(document, "Statement")
    if isinstance(found, Mapping):
        return [found]
    return [s for s in values.as_list(found) if isinstance(s, Mapping)]


def _patterns(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in values.as_list(value) if isinstance(v, str)]


def action_granted(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's Action (or NotAction) covers ``action`` (IAM wildcards, any case)."""
    wanted = action.lower()
    if "Action" in statement:
        return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in _patterns(statement["Action"]))
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(wanted, p.lower()) for p in _patterns(statement["NotAction"]))
    return False


def principal_includes_service(principal: Any, service: str) -> bool:
    """Whether a Principal admits the service principal ``service`` (``*`` admits everyone)."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if "*" in _patterns(principal.get("AWS")):
        return True
    return service.lower() in (p.lower() for p in _patterns(principal.get("Service")))


def allows(
    document: Any,
    action: str,
    *,
    service: str | None = None,
    resource: Callable[[Any], bool] | None = None,
) -> bool:
    """Whether an Allow statement of ``document`` grants ``action``, to ``service`` when given
    (resource policies), on a resource that ``resource`` accepts when given."""
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or not action_granted(statement, action):
            continue
        if service is not None and not principal_includes_service(statement.get("Principal"), service):
            continue
        if resource is not None:
            named = statement.get("Resource")
            if not any(resource(r) for r in (named if isinstance(named, list) else [named])):
                continue
        return True
    return False


def granted_resources(document: Any, action: str) -> list[Any]:
    """The Resource entries of every Allow statement of ``document`` that grants ``action``:
    ``allows(document, action, resource=accepts)`` is ``any(accepts(r) for r in ...)`` of them."""
    found: list[Any] = []
    for statement in statements(document):
        if statement.get("Effect") == "Allow" and action_granted(statement, action):
            named = statement.get("Resource")
            found.extend(named if isinstance(named, list) else [named])
    return found
