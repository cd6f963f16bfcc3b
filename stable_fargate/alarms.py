"""Alarms that reach someone: the environment's alarm topic, and alarms that page on every
new failure instead of once.

* :class:`AlarmTopic`: an encrypted, TLS-only SNS topic whose policy lets CloudWatch alarms
  of this account and region publish to it, and whose key lets CloudWatch encrypt for it.
  A topic policy (``enforce_ssl`` writes one) *replaces* SNS's default policy, so without the
  publish statement no alarm would ever notify; an encrypted topic also needs the key to admit
  CloudWatch (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html, "Enable
  compatibility between event sources from AWS services and encrypted topics"). The publish
  statement is scoped to alarms of this account and region (``aws:SourceAccount``,
  ``aws:SourceArn``); the key statement to SNS topics of this account and region (the
  ``aws:sns:topicArn`` encryption context), because AWS documents no source keys on the KMS
  call. ``tests/test_aws_policies.py`` asks both questions of a policy evaluator.
* :func:`arrivals_alarm`: pages when messages *arrive* in a dead-letter queue, and returns to
  OK once they stop arriving, so the second poison message pages too. An alarm on "visible >=
  1" stays in ALARM until someone empties the queue and notifies only on that one transition.
* :func:`sent_messages_alarm`: the same for a queue that receives by ``SendMessage`` (a
  scheduler's dead-letter queue, a failed-runs record queue), on ``NumberOfMessagesSent``.
  Messages moved by an SQS redrive policy are not counted in ``NumberOfMessagesSent``
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
  which is why a redrive DLQ uses :func:`arrivals_alarm` instead.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate._typecheck import checked_inputs
from stable_fargate.errors import ConfigError

CLOUDWATCH_SERVICE_PRINCIPAL = "cloudwatch.amazonaws.com"
"""The principal CloudWatch alarms publish as."""

CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
"""What a publisher to a KMS-encrypted topic needs on the key (SNS key-management guide)."""

SNS_TOPIC_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:sns:topicArn"
"""The encryption context SNS sets on the data keys of an encrypted topic: the topic's ARN
(https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html
shows it in a key policy for a service publishing to an encrypted topic)."""


MAX_DISPLAY_NAME = 100
"""SNS's limit on a topic's display name."""


class AlarmTopic(Construct):
    """The environment's alarm topic: KMS-encrypted, TLS-only, and publishable by CloudWatch.

    :param key: the KMS key that encrypts the topic; its policy gains a statement that lets
        CloudWatch alarms of this account and region use it. The key must be created in this
        app (an imported key's policy cannot be changed, and the alarms would fail silently).
    :param display_name: shown in e-mail notifications. Default: none.

    Attributes: ``topic`` (sns.Topic), ``policy`` (its sns.TopicPolicy).
    """

    @checked_inputs
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, display_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        if display_name is not None and not 1 <= len(display_name) <= MAX_DISPLAY_NAME:
            raise ConfigError(f"alarm topic {construct_id}", "display_name", display_name, f"Use 1 to {MAX_DISPLAY_NAME} characters.")
        # "Default": the topic keeps the logical id it had as a bare sns.Topic named like this
        # construct, so wrapping it did not replace it (and drop its subscriptions).
        self.topic = sns.Topic(self, "Default", display_name=display_name, master_key=key, enforce_ssl=True)
        self.key = key
        stack = Stack.of(self)
        self.allow_publisher(
            CLOUDWATCH_SERVICE_PRINCIPAL, sid="CloudWatchAlarms",
            source_arn=f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*",
        )

    @property
    def policy(self) -> sns.TopicPolicy:
        """The topic's resource policy: what SNS checks on every publish. A resource that
        publishes as a service (a budget) depends on it, so that it never exists without the
        right to publish."""
        policy = self.topic.node.try_find_child("Policy")  # where sns.Topic keeps the policy it writes
        if not isinstance(policy, sns.TopicPolicy):  # pragma: no cover - enforce_ssl always writes one
            raise TypeError(f"{self.node.path}: the topic has no resource policy")
        return policy

    def allow_publisher(self, service_principal: str, *, sid: str, source_arn: str) -> None:
        """Let ``service_principal`` publish to the topic on behalf of this account's resources
        matching ``source_arn`` (``aws:SourceAccount``, ``aws:SourceArn``: the confused-deputy
        guard), and use the key for SNS topics of this account and region.

        The key statement is scoped by the encryption context SNS sets on the data key, not by
        aws:SourceArn/SourceAccount: AWS documents neither on the KMS call SNS makes for the
        publisher, and a condition on an absent key denies every publish. The topic's own ARN
        cannot be named there: the topic depends on the key.
        """
        stack = Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Allow{sid}ToPublish",
                principals=[iam.ServicePrincipal(service_principal)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": source_arn}},
            )
        )
        added = self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Allow{sid}ToUseTheKey",
                principals=[iam.ServicePrincipal(service_principal)],
                actions=list(CLOUDWATCH_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "ArnLike": {SNS_TOPIC_ENCRYPTION_CONTEXT: f"arn:{stack.partition}:sns:{stack.region}:{stack.account}:*"}
                },
            )
        )
        if not added.statement_added:
            raise ConfigError(
                f"alarm topic {self.node.id}", "key", self.key.node.path,
                "Give a KMS key created in this app (PlatformKey): an imported key's policy cannot admit the publisher, "
                "and its notifications would then fail without any error.",
            )


def _notify(alarm: cloudwatch.Alarm, topic: sns.ITopic) -> cloudwatch.Alarm:
    action = cdk.sns_action(topic)
    alarm.add_alarm_action(action)
    # OK too: the on-call engineer learns when it is over, and the alarm is ready to page again.
    alarm.add_ok_action(action)
    return alarm


def arrivals_alarm(
    scope: Construct, construct_id: str, *, queue: sqs.IQueue, description: str, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """Pages when ``queue`` gains messages (a redrive dead-letter queue), OK when it stops.

    The signal is the growth of the visible count, ``DIFF(FILL(visible, 0))``: each minute in
    which messages arrived breaches, a minute without arrivals does not, so every new poison
    message pages again once the previous page has cleared. ``FILL(.., 0)`` makes the first
    message after a quiet spell count as growth from zero (SQS stops publishing metrics for a
    queue that has been empty and idle for six hours). Two one-minute periods with one
    breaching datapoint give DIFF its preceding value inside the evaluated range.
    """
    period = cdk.seconds(defaults.ALARM_PERIOD_SECONDS)
    visible = queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum")
    arrivals = cloudwatch.MathExpression(
        expression="DIFF(FILL(visible, 0))",
        using_metrics={"visible": visible},
        period=period,
        label="Messages that arrived in the last minute",
    )
    alarm = arrivals.create_alarm(
        scope,
        construct_id,
        alarm_description=description,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=defaults.ARRIVALS_EVALUATION_PERIODS,
        datapoints_to_alarm=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return _notify(alarm, topic)


def sent_messages_alarm(
    scope: Construct, construct_id: str, *, queue: sqs.IQueue, description: str, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """Pages in every minute in which ``SendMessage`` put a message in ``queue``, OK after."""
    sent = queue.metric_number_of_messages_sent(period=cdk.seconds(defaults.ALARM_PERIOD_SECONDS), statistic="Sum")
    alarm = sent.create_alarm(
        scope,
        construct_id,
        alarm_description=description,
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=defaults.ALARM_EVALUATION_PERIODS,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return _notify(alarm, topic)
