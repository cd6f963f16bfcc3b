"""SF-ALARM1: alarms notify a topic whose policy does not let CloudWatch publish.

A topic is an alarm topic when an alarm anywhere in the app (in another stack too) names it
in its AlarmActions, OKActions or InsufficientDataActions; other topics are not applicable.
A topic without any AWS::SNS::TopicPolicy keeps SNS's default policy, which lets alarms of
the same account publish: compliant. A topic policy replaces that default (``enforce_ssl``
writes one that only denies plain HTTP), so then some statement must Allow ``sns:Publish``
to ``cloudwatch.amazonaws.com`` (or to everyone); conditions such as ``aws:SourceAccount``
are how to scope it and are not judged. Otherwise non-compliant: every alarm fires into
nothing, silently.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import policy, sns
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (sns.TOPIC,)

PUBLISH = "sns:Publish"


def check(topic: Resource) -> NagRuleCompliance:
    if not sns.notifying_alarms(topic):
        return NagRuleCompliance.NOT_APPLICABLE
    policies = sns.policies_of(topic)
    if not policies:
        return NagRuleCompliance.COMPLIANT
    if any(policy.allows(p.get("PolicyDocument"), PUBLISH, service=sns.CLOUDWATCH) for p in policies):
        return NagRuleCompliance.COMPLIANT
    return NagRuleCompliance.NON_COMPLIANT
