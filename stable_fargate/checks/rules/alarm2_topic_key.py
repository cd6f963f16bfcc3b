"""SF-ALARM2: alarms notify an encrypted topic whose key does not let CloudWatch use it.

For an alarm topic (see SF-ALARM1) with KmsMasterKeyId: the AWS managed key ``alias/aws/sns``
is non-compliant (its policy admits no CloudWatch, and cannot be changed); a key of the app
(a Ref or GetAtt of an AWS::KMS::Key, in another stack too) must allow
``cloudwatch.amazonaws.com`` both ``kms:GenerateDataKey*`` and ``kms:Decrypt`` in its
KeyPolicy (statements on the account root do not admit a service). Unencrypted topics are
compliant; a key given by ARN or alias outside the app: not applicable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import policy, sns
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (sns.TOPIC,)

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
"""What CloudWatch calls on the key to publish to an encrypted topic (AWS documents the
grant as ``kms:GenerateDataKey*`` and ``kms:Decrypt``)."""


def check(topic: Resource) -> NagRuleCompliance:
    key_id = topic.get("KmsMasterKeyId")
    if key_id is None or not sns.notifying_alarms(topic):
        return NagRuleCompliance.NOT_APPLICABLE
    if isinstance(key_id, str) and key_id.lower() in {AWS_MANAGED_SNS_KEY, f"{AWS_MANAGED_SNS_KEY}/"}:
        return NagRuleCompliance.NON_COMPLIANT
    key = topic.target(key_id)
    if key is None or key.type != sns.KEY:
        return NagRuleCompliance.NOT_APPLICABLE
    document = key.get("KeyPolicy")
    if all(policy.allows(document, action, service=sns.CLOUDWATCH) for action in KEY_ACTIONS):
        return NagRuleCompliance.COMPLIANT
    return NagRuleCompliance.NON_COMPLIANT
