"""SF-QUEUE2: a queue's visibility timeout is shorter than its consumer's stop timeout.

Consumers are the task definitions of the app whose task role's policy allows
``sqs:ReceiveMessage`` on the queue's ARN (a statement on ``*`` does not make every task a
consumer). Only a task definition whose role the pack cannot read (none, or one from outside
the app) is taken for a consumer when a container names the queue in an environment value (its
URL, name or ARN): a producer names the queue too, and its role shows it only sends.
A stopping consumer may work on a message for its whole stop timeout (StopTimeout, Fargate's
default 30 s); a visibility timeout (SQS's default 30 s) shorter than that hands
the message to a second consumer while the first still works on it. Non-compliant when any
consumer's stop timeout is longer; not applicable without consumers, with an intrinsic
visibility timeout, or when only an intrinsic stop timeout could exceed it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, policy, sqs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (sqs.QUEUE,)

RECEIVE = "sqs:ReceiveMessage"

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def _role_documents(role: Resource) -> Iterator[tuple[Resource, Any]]:
    """(where, policy document) of every policy attached to ``role`` in the app."""
    for inline in values.as_list(role.get("Policies")):
        yield role, values.dig(inline, "PolicyDocument")
    attached = role.stack.naming(role, POLICY_TYPES, "Roles")
    managed = [t for t in role.stack.targets_in(role.get("ManagedPolicyArns")) if t.type in POLICY_TYPES]
    for found in attached + [m for m in managed if not any(m is a for a in attached)]:
        yield found, found.get("PolicyDocument")


def _received(task_definition: Resource) -> set[Resource] | None:
    """What the task role may receive from (the resources its Allow statements for
    ``sqs:ReceiveMessage`` name); None when the role is not readable. Kept per app: every
    queue asks about every task definition."""
    memo: dict[Resource, set[Resource] | None] = task_definition.stack.scope.setdefault("queue2 received", {})
    if task_definition not in memo:
        role = task_definition.target(task_definition.get("TaskRoleArn"))
        found: set[Resource] | None = None
        if role is not None and role.type == "AWS::IAM::Role":
            found = set()
            for where, document in _role_documents(role):
                for named in policy.granted_resources(document, RECEIVE):
                    found.update(where.stack.targets_in(named))
        memo[task_definition] = found
    return memo[task_definition]


def consuming_containers(queue: Resource) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for task_definition in queue.stack.everywhere(ecs.TASK_DEFINITION):
        containers = ecs.containers(task_definition)
        received = _received(task_definition)
        if received is not None:
            if queue in received:
                found.extend(containers)
            continue
        found.extend(
            c for c in containers
            if any(task_definition.refers_to(values.dig(v, "Value"), queue) for v in values.as_list(c.get("Environment")))
        )
    return found


def check(queue: Resource) -> NagRuleCompliance:
    visibility = sqs.visibility_timeout(queue)
    consumers = consuming_containers(queue)
    if visibility is None or not consumers:
        return NagRuleCompliance.NOT_APPLICABLE
    timeouts = [ecs.stop_timeout(c) for c in consumers]
    if any(t is not None and t > visibility for t in timeouts):
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.NOT_APPLICABLE if None in timeouts else NagRuleCompliance.COMPLIANT
