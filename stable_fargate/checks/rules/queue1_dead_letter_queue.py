"""SF-QUEUE1: a queue has no dead-letter queue.

Non-compliant without RedrivePolicy.deadLetterTargetArn, unless the queue is itself a
dead-letter queue: another queue's redrive policy, an EventBridge rule or scheduler target's
DeadLetterConfig, an SNS subscription's or a Lambda function's dead-letter or on-failure
destination names it anywhere in the app, or its RedriveAllowPolicy admits only named
source queues (``byQueue``). Those are not applicable: a DLQ behind a DLQ hides failures.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import sqs
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (sqs.QUEUE,)


def check(queue: Resource) -> NagRuleCompliance:
    if sqs.has_dead_letter_queue(queue):
        return NagRuleCompliance.COMPLIANT
    if sqs.is_dead_letter_queue(queue):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.NON_COMPLIANT
