"""Evaluate one resource-based policy (SNS topic, SQS queue, KMS key, ECR repository, VPC
endpoint), or the identity-based policies of one role, for one request, following AWS's
documented policy language and evaluation logic.

Documentation followed (IAM User Guide unless a line says otherwise):

- Evaluation within one account: an explicit Deny wins, else an Allow is needed, else the
  request is implicitly denied.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- Principal ("*", {"AWS": account id / account root ARN / role ARN / "*"}, {"Service": ...}),
  NotPrincipal: reference_policies_elements_principal.html, _notprincipal.html. An
  identity-based policy has none: "You cannot use the Principal element in an IAM
  identity-based policy" (same page); it applies to the identity it is attached to.
- Action/NotAction (the service prefix and action name are case-insensitive, ``*`` and ``?``
  wildcards): reference_policies_elements_action.html, _notaction.html
- Resource/NotResource (ARNs, case-sensitive, ``*`` and ``?``): reference_policies_elements_resource.html
- Condition: several operators or keys = AND, several values for one key = OR; operators,
  ``...IfExists``, ``Null``; and the rule for a key missing from the request context:
  "If the key that you specify in a policy condition is not present in the request context,
  the values do not match and the condition is false. If the policy condition requires that
  the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
  present, the condition is true. This logic applies to all condition operators except
  ...IfExists and Null check."
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- ForAnyValue/ForAllValues: "If the key values in the request resolve to an empty data set,
  a condition operator modified by ForAllValues returns true, and a condition operator
  modified by ForAnyValue returns false." reference_policies_multi-value-conditions.html
- Which keys a request carries: "the aws:SourceAccount condition key is only available when
  the call to your resource is made directly by an AWS service principal"; aws:PrincipalAccount
  is in every signed request. reference_policies_condition-keys.html
- VPC endpoint policies: the default policy allows everything; a policy must have a Principal;
  "With gateway endpoints, you must use the aws:PrincipalArn condition key to grant access to a
  principal. If you specify a principal [as "AWS": "account_id" or "arn:aws:iam::account_id:root"],
  access is granted to the AWS account root user only, and not all users and roles for the
  account"; no wildcards or numeric operators with keys such as aws:PrincipalAccount or
  aws:SourceVpc; six consecutive characters before or after each wildcard of a string operator;
  an ARN's account part holds an account id or a wildcard, not both.
  https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html

Simplifications, on purpose:

- One resource policy, one account. An account principal in a resource policy is treated as
  "any principal of that account": the model assumes the caller's identity policy allows the
  action (a cross-account request needs both sides; that is not modelled).
- ``{"AWS": "*"}`` is treated as ``"*"`` (the Principal page calls them equivalent), so it
  also matches service principals and callers the documentation does not name.
- Policy variables (``${aws:username}``), Date and Binary operators, Federated and CanonicalUser
  principals are not modelled: they raise :class:`PolicyModelError`, never pass silently.

The request contexts of the scenarios this project relies on, and their sources, are in
:mod:`tests.aws_models.aws_requests`.
"""

from __future__ import annotations

import ipaddress
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from tests.aws_models.intrinsics import IntrinsicError, Resolver

ContextValue = str | bool | int | Sequence[str]
EndpointKind = Literal["gateway", "interface"]

__all__ = [
    "ContextValue",
    "Decision",
    "EndpointKind",
    "PolicyModelError",
    "Principal",
    "Request",
    "endpoint_kind",
    "endpoint_policy",
    "endpoint_policy_problems",
    "endpoint_serving",
    "evaluate",
    "evaluate_identity",
    "key_policy",
    "may",
    "queue_policy",
    "repository_policy",
    "role_policy",
    "topic_key_arn",
    "topic_policy",
]


class PolicyModelError(ValueError):
    """A policy uses something the model does not implement (or that is not valid)."""


@dataclass(frozen=True)
class Principal:
    """Who makes a request: an IAM principal (with its account), a service, or a caller the
    documentation does not name (which only a ``"*"`` principal matches)."""

    kind: Literal["iam", "service", "anonymous", "undocumented"]
    name: str
    account: str | None = None

    @classmethod
    def iam(cls, arn: str) -> Principal:
        """A role, user, assumed-role session or account root, e.g. arn:aws:iam::111122223333:role/x."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] not in ("iam", "sts") or not parts[4]:
            raise PolicyModelError(f"not an IAM principal ARN: {arn!r}")
        return cls("iam", arn, parts[4])

    @classmethod
    def root(cls, account: str, partition: str = "aws") -> Principal:
        return cls("iam", f"arn:{partition}:iam::{account}:root", account)

    @classmethod
    def service(cls, name: str) -> Principal:
        """An AWS service principal such as cloudwatch.amazonaws.com."""
        return cls("service", name)

    @classmethod
    def anonymous(cls) -> Principal:
        return cls("anonymous", "anonymous")

    @classmethod
    def undocumented(cls, description: str) -> Principal:
        """A caller AWS does not document; only a ``"*"`` principal can match it."""
        return cls("undocumented", description)


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The outcome, and the statements (Sid, or ``#<index>``) that decided it."""

    allowed: bool
    reason: Literal["allowed", "explicit deny", "implicit deny"]
    statements: tuple[str, ...] = ()


def may(
    policy: Mapping[str, Any] | str,
    principal: Principal,
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
    *,
    endpoint: EndpointKind | None = None,
) -> Decision:
    """May ``principal`` do ``action`` on ``resource`` under this one resource policy?"""
    return evaluate(policy, Request(principal, action, resource, context or {}), endpoint=endpoint)


def evaluate(policy: Mapping[str, Any] | str, request: Request, *, endpoint: EndpointKind | None = None) -> Decision:
    """Explicit deny, else allow, else implicit deny. ``endpoint`` marks a VPC endpoint policy,
    whose account principals mean different things for gateway and interface endpoints."""
    context = _normalised_context(request.context)
    allows: list[str] = []
    denies: list[str] = []
    for index, statement in enumerate(_statements(policy)):
        effect = _effect(statement)
        if _statement_applies(statement, request, context, endpoint):
            label = str(statement.get("Sid") or f"#{index}")
            (denies if effect == "Deny" else allows).append(label)
    if denies:
        return Decision(False, "explicit deny", tuple(denies))
    if allows:
        return Decision(True, "allowed", tuple(allows))
    return Decision(False, "implicit deny")


def evaluate_identity(policy: Mapping[str, Any] | str, request: Request) -> Decision:
    """The same logic for the identity-based policies of the principal that makes ``request``
    (e.g. :func:`role_policy`): statements without Principal, which apply to their holder. The
    caller says who holds them by making the request as that principal; a statement with a
    Principal is refused (AWS refuses it in an identity-based policy)."""
    context = _normalised_context(request.context)
    allows: list[str] = []
    denies: list[str] = []
    for index, statement in enumerate(_statements(policy)):
        effect = _effect(statement)
        if "Principal" in statement or "NotPrincipal" in statement:
            raise PolicyModelError("an identity-based policy statement has no Principal or NotPrincipal")
        if _request_matches(statement, request, context):
            label = str(statement.get("Sid") or f"#{index}")
            (denies if effect == "Deny" else allows).append(label)
    if denies:
        return Decision(False, "explicit deny", tuple(denies))
    if allows:
        return Decision(True, "allowed", tuple(allows))
    return Decision(False, "implicit deny")


# --- statements ---------------------------------------------------------------------------

_STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}


def _statements(policy: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else list(statements)
    for statement in statements:
        unknown = set(statement) - _STATEMENT_KEYS
        if unknown:
            raise PolicyModelError(f"statement elements the model does not know: {sorted(unknown)}")
    return statements


def _effect(statement: Mapping[str, Any]) -> str:
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyModelError(f"Effect must be Allow or Deny, got {effect!r}")
    return str(effect)


def _statement_applies(statement: Mapping[str, Any], request: Request, context: _Context, endpoint: EndpointKind | None) -> bool:
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise PolicyModelError("a resource-based policy statement needs Principal or NotPrincipal (one of them)")
    if "Principal" in statement:
        principal_ok = _principal_matches(statement["Principal"], request.principal, endpoint)
    else:
        principal_ok = not _principal_matches(statement["NotPrincipal"], request.principal, endpoint)
    return principal_ok and _request_matches(statement, request, context)


def _request_matches(statement: Mapping[str, Any], request: Request, context: _Context) -> bool:
    return (
        _listed(statement, "Action", request.action, case_sensitive=False)
        and _listed(statement, "Resource", request.resource, case_sensitive=True)
        and _conditions_hold(statement.get("Condition", {}), context)
    )


def _listed(statement: Mapping[str, Any], element: str, value: str, *, case_sensitive: bool) -> bool:
    """Action/NotAction or Resource/NotResource. No Resource at all (ECR repository policies)
    means the resource the policy is attached to."""
    if element in statement:
        return any(_wildcard(p, value, case_sensitive) for p in _as_list(statement[element]))
    if f"Not{element}" in statement:
        return not any(_wildcard(p, value, case_sensitive) for p in _as_list(statement[f"Not{element}"]))
    if element == "Action":
        raise PolicyModelError("a statement needs Action or NotAction")
    return True


def _principal_matches(block: Any, principal: Principal, endpoint: EndpointKind | None) -> bool:
    if block == "*":
        return True
    if not isinstance(block, Mapping):
        raise PolicyModelError(f"Principal must be '*' or an object, got {block!r}")
    for kind, values in block.items():
        for value in _as_list(values):
            if kind == "AWS" and _aws_principal_matches(value, principal, endpoint):
                return True
            if kind == "Service" and principal.kind == "service" and principal.name.lower() == value.lower():
                return True
            if kind not in ("AWS", "Service"):
                raise PolicyModelError(f"{kind} principals are not modelled")
    return False


_ACCOUNT_ROOT = re.compile(r"^(?:\d{12}|arn:[\w-]+:iam::(\d{12}):root)$")


def _aws_principal_matches(value: str, principal: Principal, endpoint: EndpointKind | None) -> bool:
    if value == "*":
        return True
    if principal.kind != "iam":
        return False
    root = _ACCOUNT_ROOT.match(value)
    if root:
        account = root.group(1) or value
        if endpoint == "gateway":  # documented: the account's root user only
            return principal.name.endswith(f":iam::{account}:root")
        return principal.account == account  # simplification: any principal of the account
    if principal.name == value:
        return True
    # A role also matches its sessions: arn:aws:sts::<account>:assumed-role/<role name>/<session>.
    role = re.match(r"^arn:([\w-]+):iam::(\d{12}):role/(?:.*/)?([^/]+)$", value)
    if role:
        partition, account, name = role.groups()
        return principal.name.startswith(f"arn:{partition}:sts::{account}:assumed-role/{name}/")
    return False


# --- conditions ---------------------------------------------------------------------------

_Context = dict[str, list[str]]


def _normalised_context(context: Mapping[str, ContextValue]) -> _Context:
    """Key names are case-insensitive; every value becomes a list of strings."""
    return {key.lower(): _as_list(value) for key, value in context.items()}


def _as_list(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _conditions_hold(condition: Mapping[str, Mapping[str, Any]], context: _Context) -> bool:
    return all(
        _condition_holds(operator_name, key, _as_list(policy_values), context)
        for operator_name, keys in condition.items()
        for key, policy_values in keys.items()
    )


def _condition_holds(operator_name: str, key: str, policy_values: list[str], context: _Context) -> bool:
    set_operator, _, base = operator_name.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if any("${" in v for v in policy_values):
        raise PolicyModelError(f"policy variables are not modelled: {key} {policy_values}")
    request_values = context.get(key.lower())
    if base == "Null":
        absent = request_values is None
        return any(absent == (v.lower() == "true") for v in policy_values)
    matcher, negated = _operator(base)
    if not request_values:
        if if_exists or set_operator == "ForAllValues":
            return True
        if set_operator == "ForAnyValue":
            return False
        return negated  # documented: a missing key matches only negated operators

    def one_value_holds(value: str) -> bool:
        matched = any(matcher(value, p) for p in policy_values)
        return not matched if negated else matched

    if set_operator == "ForAnyValue":
        return any(one_value_holds(v) for v in request_values)
    if set_operator == "ForAllValues":
        return all(one_value_holds(v) for v in request_values)
    if set_operator:
        raise PolicyModelError(f"unknown set operator {set_operator!r}")
    if len(request_values) != 1:
        raise PolicyModelError(f"{key} has several values in the request: use ForAnyValue: or ForAllValues:")
    return one_value_holds(request_values[0])


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def match(value: str, policy_value: str) -> bool:
        try:
            return compare(float(value), float(policy_value))
        except ValueError:
            return False

    return match


def _ip_address(value: str, policy_value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(policy_value, strict=False)
    except ValueError:
        return False


def _arn_like(value: str, policy_value: str) -> bool:
    """ArnEquals/ArnLike: each of the six colon-delimited parts matched on its own, wildcards allowed."""
    if policy_value == "*":
        return True
    actual, wanted = value.split(":", 5), policy_value.split(":", 5)
    return len(actual) == 6 == len(wanted) and all(_wildcard(w, a, True) for w, a in zip(wanted, actual, strict=True))


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": operator.eq,
    "StringEqualsIgnoreCase": lambda v, p: v.casefold() == p.casefold(),
    "StringLike": lambda v, p: _wildcard(p, v, True),
    "NumericEquals": _numeric(operator.eq),
    "NumericLessThan": _numeric(operator.lt),
    "NumericLessThanEquals": _numeric(operator.le),
    "NumericGreaterThan": _numeric(operator.gt),
    "NumericGreaterThanEquals": _numeric(operator.ge),
    "Bool": lambda v, p: v.lower() == p.lower(),
    "IpAddress": _ip_address,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _operator(name: str) -> tuple[Callable[[str, str], bool], bool]:
    if name in _MATCHERS:
        return _MATCHERS[name], False
    if name in _NEGATED:
        return _MATCHERS[_NEGATED[name]], True
    raise PolicyModelError(f"condition operator {name!r} is not modelled")


@lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def _wildcard(pattern: str, value: str, case_sensitive: bool) -> bool:
    return _wildcard_regex(pattern, case_sensitive).fullmatch(value) is not None


# --- what a VPC endpoint refuses ----------------------------------------------------------

_SYSTEM_IDENTIFIER_KEYS = {"aws:principalaccount", "aws:sourcevpc"}  # the documented examples


def endpoint_policy_problems(policy: Mapping[str, Any] | str) -> list[str]:
    """What the PrivateLink guide says an endpoint policy must not contain (empty = none found)."""
    text = policy if isinstance(policy, str) else json.dumps(policy)
    problems = [f"policy is {len(text)} characters; the limit is 20,480"] if len(text) > 20480 else []
    for index, statement in enumerate(_statements(policy)):
        label = statement.get("Sid") or f"#{index}"
        if "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append(f"{label}: an endpoint policy statement must contain a Principal")
        arns = _as_list(statement.get("Resource", [])) + _as_list(statement.get("NotResource", []))
        for operator_name, keys in statement.get("Condition", {}).items():
            base = operator_name.rpartition(":")[2].removesuffix("IfExists")
            for key, values in keys.items():
                values = _as_list(values)
                if key.lower() in _SYSTEM_IDENTIFIER_KEYS and (base.startswith("Numeric") or any("*" in v or "?" in v for v in values)):
                    problems.append(f"{label}: no wildcards or numeric operators with {key}")
                if base.startswith("String") and any(not _six_around_each_wildcard(v) for v in values):
                    problems.append(f"{label}: {key}: six consecutive characters must stand before or after each wildcard")
                if base.startswith("Arn"):
                    arns += values
        for arn in arns:
            account = arn.split(":")[4] if arn.count(":") >= 5 else ""
            if re.search(r"\d", account) and re.search(r"[*?]", account):
                problems.append(f"{label}: {arn}: an ARN's account is an account id or a wildcard, not both")
    return problems


def _six_around_each_wildcard(value: str) -> bool:
    runs = re.split(r"[*?]", value)
    return all(max(len(runs[i]), len(runs[i + 1])) >= 6 for i in range(len(runs) - 1))


# --- policies out of a synthesized template -------------------------------------------------
# Each takes a Resolver of the template that holds the resource, and returns the policy with
# every intrinsic resolved, ready for ``may``.


def topic_policy(resolver: Resolver, topic_id: str) -> dict[str, Any]:
    """The policy of the AWS::SNS::TopicPolicy that names this topic in ``Topics``."""
    return _attached_policy(resolver, "AWS::SNS::TopicPolicy", "Topics", topic_id)


def queue_policy(resolver: Resolver, queue_id: str) -> dict[str, Any]:
    """The policy of the AWS::SQS::QueuePolicy that names this queue in ``Queues``."""
    return _attached_policy(resolver, "AWS::SQS::QueuePolicy", "Queues", queue_id)


def key_policy(resolver: Resolver, key_id: str) -> dict[str, Any]:
    """A KMS key's KeyPolicy; without one, KMS's documented default (the account may use IAM).
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"""
    properties = resolver.resource(key_id).get("Properties", {})
    if "KeyPolicy" in properties:
        return dict(resolver.resolve(properties["KeyPolicy"]))
    root = f"arn:{resolver.env.partition}:iam::{resolver.env.account}:root"
    return {
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
        ]
    }


def role_policy(resolver: Resolver, role_id: str) -> dict[str, Any]:
    """Every identity-based statement of an IAM role in this template, as one document for
    :func:`evaluate_identity`: its inline ``Policies`` and each AWS::IAM::Policy or
    AWS::IAM::ManagedPolicy whose ``Roles`` name it. (Managed policies from outside the
    template, by ARN in ``ManagedPolicyArns``, are not modelled: they raise.)"""
    role = resolver.resource(role_id)
    if role.get("Type") != "AWS::IAM::Role":
        raise PolicyModelError(f"{role_id} is not an AWS::IAM::Role")
    properties = role.get("Properties", {})
    if properties.get("ManagedPolicyArns"):
        raise PolicyModelError(f"{role_id} has managed policies by ARN; the model cannot read them")
    documents = [inline["PolicyDocument"] for inline in properties.get("Policies", [])]
    name = resolver.ref(role_id)
    for resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in resolver.resources(resource_type).values():
            attached = resource.get("Properties", {})
            try:
                roles = resolver.resolve(attached.get("Roles", []))
            except IntrinsicError:
                continue
            if name in roles:
                documents.append(attached["PolicyDocument"])
    statements: list[Any] = []
    for document in documents:
        resolved = resolver.resolve(document)
        found = resolved.get("Statement", [])
        statements.extend([found] if isinstance(found, Mapping) else found)
    return {"Version": "2012-10-17", "Statement": statements}


def repository_policy(resolver: Resolver, repository_id: str) -> dict[str, Any] | None:
    """An ECR repository's RepositoryPolicyText, or None when it has none."""
    text = resolver.resource(repository_id).get("Properties", {}).get("RepositoryPolicyText")
    return None if text is None else dict(resolver.resolve(text))


def endpoint_policy(resolver: Resolver, endpoint_id: str) -> dict[str, Any]:
    """A VPC endpoint's PolicyDocument; without one, the documented default: full access."""
    document = resolver.resource(endpoint_id).get("Properties", {}).get("PolicyDocument")
    if document is None:
        return {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    return dict(resolver.resolve(json.loads(document) if isinstance(document, str) else document))


def endpoint_kind(resolver: Resolver, endpoint_id: str) -> EndpointKind:
    kind = str(resolver.resource(endpoint_id).get("Properties", {}).get("VpcEndpointType", "Gateway"))
    return "interface" if kind == "Interface" else "gateway"


def endpoint_serving(resolver: Resolver, service: str) -> str:
    """The logical id of the endpoint whose ServiceName ends with ``.<service>`` ("s3", "ecr.dkr")."""
    found = [
        logical_id
        for logical_id, resource in resolver.resources("AWS::EC2::VPCEndpoint").items()
        if resolver.resolve_str(resource["Properties"]["ServiceName"]).endswith(f".{service}")
    ]
    if len(found) != 1:
        raise LookupError(f"expected one VPC endpoint for {service!r}, found {found}")
    return found[0]


def topic_key_arn(resolver: Resolver, topic_id: str) -> str | None:
    """The resolved KmsMasterKeyId of a topic (an ARN in CDK's templates), None if unencrypted.
    Find the key's own template and logical id with ``Resolver.find_by_attribute("Arn", ...)``."""
    key = resolver.resource(topic_id).get("Properties", {}).get("KmsMasterKeyId")
    return None if key is None else resolver.resolve_str(key)


def _attached_policy(resolver: Resolver, policy_type: str, targets: str, target_id: str) -> dict[str, Any]:
    target = resolver.resolve({"Ref": target_id})
    found = []
    for logical_id, resource in resolver.resources(policy_type).items():
        properties = resource.get("Properties", {})
        try:
            attached = resolver.resolve(properties.get(targets, []))
        except IntrinsicError:
            continue
        if target in attached:
            found.append((logical_id, properties["PolicyDocument"]))
    if len(found) != 1:
        raise LookupError(f"expected one {policy_type} for {target_id}, found {[lid for lid, _ in found]}")
    return dict(resolver.resolve(found[0][1]))
