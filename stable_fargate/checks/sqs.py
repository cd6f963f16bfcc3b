"""Queues: which of them are dead-letter queues, and who consumes them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stable_fargate.checks import values
from stable_fargate.checks.template import Resource, StackTemplate
from stable_fargate.review.services import SQS_VISIBILITY_TIMEOUT_SECONDS as SQS_DEFAULT_VISIBILITY_SECONDS

QUEUE = "AWS::SQS::Queue"

_DEAD_LETTER_KEY = re.compile(r"dead.?letter|onfailure", re.IGNORECASE)
"""Property names under which a resource names its dead-letter destination: a queue's
RedrivePolicy.deadLetterTargetArn, EventBridge and Scheduler targets' DeadLetterConfig, an
SNS subscription's RedrivePolicy, Lambda's DeadLetterConfig and OnFailure destinations."""


def _dead_letter_targets(stack: StackTemplate) -> set[Resource]:
    """Every resource of the app that some resource names as its dead-letter destination."""
    memo = stack.scope
    if "dead_letter_targets" not in memo:
        found: set[Resource] = set()
        for resource in stack.every_resource():
            for value in _under_dead_letter_keys(resource.properties):
                found.update(resource.stack.targets_in(value))
        memo["dead_letter_targets"] = found
    targets: set[Resource] = memo["dead_letter_targets"]
    return targets


def _under_dead_letter_keys(properties: Any) -> list[Any]:
    """The values under every dead-letter-ish key, at any depth (iteratively)."""
    found: list[Any] = []
    pending = [properties]
    while pending:
        value = pending.pop()
        if isinstance(value, Mapping):
            for key, inner in value.items():
                (found if _DEAD_LETTER_KEY.search(str(key)) else pending).append(inner)
        elif isinstance(value, list):
            pending.extend(value)
    return found


def is_dead_letter_queue(queue: Resource) -> bool:
    """A queue that some resource of the app uses as its dead-letter queue, or that declares
    itself one (a RedriveAllowPolicy that admits only named source queues)."""
    if values.dig(queue.get("RedriveAllowPolicy"), "redrivePermission") == "byQueue":
        return True
    return queue in _dead_letter_targets(queue.stack)


def has_dead_letter_queue(queue: Resource) -> bool:
    return values.dig(queue.get("RedrivePolicy"), "deadLetterTargetArn") is not None


def visibility_timeout(queue: Resource) -> float | None:
    given = queue.get("VisibilityTimeout")
    return float(SQS_DEFAULT_VISIBILITY_SECONDS) if given is None else values.number(given)
