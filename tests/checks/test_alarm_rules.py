"""SF-ALARM1..3 on small stacks: alarms that fire into nothing, or fire once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app

TLS_ONLY = {
    "Sid": "AllowPublishThroughSSLOnly", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
CLOUDWATCH_PUBLISH = {
    "Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
}
TOPIC_ARN = "arn:aws:sns:eu-west-2:111111111111:alarms"
ACCOUNT_ROOT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}
CLOUDWATCH_KEY_USE = {
    "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
}


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _alarm_on(stack: Stack, topic_arn: str, construct_id: str = "Alarm") -> None:
    cloudwatch.CfnAlarm(
        stack, construct_id, namespace="AWS/ECS", metric_name="CPUUtilization", statistic="Average", period=60,
        evaluation_periods=1, threshold=90, comparison_operator="GreaterThanThreshold", alarm_actions=[topic_arn],
    )


def _topic(*statements: dict[str, Any], key: Any = None, alarmed: bool = True) -> Any:
    def build(stack: Stack) -> sns.CfnTopic:
        topic = sns.CfnTopic(stack, "Topic", kms_master_key_id=key(stack) if callable(key) else key)
        if statements:
            sns.CfnTopicPolicy(stack, "TopicPolicy", topics=[topic.ref], policy_document=_document(*statements))
        if alarmed:
            _alarm_on(stack, topic.ref)
        return topic

    return build


def _key(*statements: dict[str, Any]) -> Any:
    return lambda stack: kms.CfnKey(stack, "Key", key_policy=_document(*statements)).attr_arn


def alarm1_alarms_in_another_stack(stack: Stack) -> None:
    topic = _topic(TLS_ONLY, alarmed=False)(stack)
    _alarm_on(Stack(stack.node.scope, f"{stack.node.id}Alarms"), topic.ref)


def _dead_letter_alarm(**props: Any) -> Any:
    def build(stack: Stack) -> None:
        dead_letters = builders.queue(stack, "DeadLetters")
        builders.queue(stack, dead_letter=dead_letters)
        builders.queue_alarm(stack, dead_letters, actions=[TOPIC_ARN], **props)

    return build


def _visible_query(queue: sqs.CfnQueue, *, return_data: bool) -> cloudwatch.CfnAlarm.MetricDataQueryProperty:
    return cloudwatch.CfnAlarm.MetricDataQueryProperty(
        id="visible", return_data=return_data,
        metric_stat=cloudwatch.CfnAlarm.MetricStatProperty(
            period=60, stat="Maximum",
            metric=cloudwatch.CfnAlarm.MetricProperty(
                namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name="QueueName", value=queue.attr_queue_name)],
            ),
        ),
    )


def alarm3_arrivals_by_metric_math(stack: Stack) -> None:
    dead_letters = builders.queue(stack, "DeadLetters")
    builders.queue(stack, dead_letter=dead_letters)
    cloudwatch.CfnAlarm(
        stack, "Arrivals", evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
        alarm_actions=[TOPIC_ARN], ok_actions=[TOPIC_ARN],
        metrics=[
            _visible_query(dead_letters, return_data=False),
            cloudwatch.CfnAlarm.MetricDataQueryProperty(id="arrivals", expression="RATE(visible) * 60", return_data=True),
        ],
    )


def alarm3_anomaly_band(stack: Stack) -> None:
    dead_letters = builders.queue(stack, "DeadLetters")
    builders.queue(stack, dead_letter=dead_letters)
    cloudwatch.CfnAlarm(
        stack, "Anomaly", evaluation_periods=1, comparison_operator="GreaterThanUpperThreshold", threshold_metric_id="band",
        alarm_actions=[TOPIC_ARN],
        metrics=[
            _visible_query(dead_letters, return_data=True),
            cloudwatch.CfnAlarm.MetricDataQueryProperty(id="band", expression="ANOMALY_DETECTION_BAND(visible, 2)", return_data=True),
        ],
    )


def alarm3_not_a_dead_letter_queue(stack: Stack) -> None:
    watched: sqs.CfnQueue = builders.queue(stack, dead_letter=builders.queue(stack, "DeadLetters"))
    builders.queue_alarm(stack, watched, actions=[TOPIC_ARN])


CASES: list[Case] = [
    # SF-ALARM1: whoever replaces SNS's default policy must let CloudWatch publish.
    ("Alarm1DefaultPolicy", "SF-ALARM1", False, _topic()),
    ("Alarm1TlsOnlyPolicy", "SF-ALARM1", True, _topic(TLS_ONLY)),
    ("Alarm1AllowsCloudWatch", "SF-ALARM1", False, _topic(TLS_ONLY, CLOUDWATCH_PUBLISH)),
    ("Alarm1NotAnAlarmTopic", "SF-ALARM1", False, _topic(TLS_ONLY, alarmed=False)),
    ("Alarm1CrossStack", "SF-ALARM1", True, alarm1_alarms_in_another_stack),
    # SF-ALARM2: the topic's key lets CloudWatch generate and decrypt data keys.
    ("Alarm2KeyAllowsCloudWatch", "SF-ALARM2", False, _topic(key=_key(ACCOUNT_ROOT, CLOUDWATCH_KEY_USE))),
    ("Alarm2KeyForAccountOnly", "SF-ALARM2", True, _topic(key=_key(ACCOUNT_ROOT))),
    ("Alarm2AwsManagedKey", "SF-ALARM2", True, _topic(key="alias/aws/sns")),
    ("Alarm2Unencrypted", "SF-ALARM2", False, _topic()),
    ("Alarm2KeyOutsideTheApp", "SF-ALARM2", False, _topic(key="arn:aws:kms:eu-west-2:111111111111:key/1234abcd")),
    # SF-ALARM3: a DLQ alarm on visible messages with a static threshold pages once.
    ("Alarm3StaticOnDlq", "SF-ALARM3", True, _dead_letter_alarm()),
    ("Alarm3ArrivalsByMetricMath", "SF-ALARM3", False, alarm3_arrivals_by_metric_math),
    ("Alarm3AnomalyBand", "SF-ALARM3", False, alarm3_anomaly_band),
    ("Alarm3NotADeadLetterQueue", "SF-ALARM3", False, alarm3_not_a_dead_letter_queue),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("alarms"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected


def test_cross_stack_finding_sits_on_the_topic(findings: Findings) -> None:
    assert {p for p in findings.by_rule["SF-ALARM1"] if p.startswith("Alarm1CrossStack")} == {"Alarm1CrossStack/Topic"}


def test_weak_cross_stack_references_are_followed(tmp_path: Path) -> None:
    """The sample app's cdk.json makes references weak (Fn::GetStackOutput): still followed."""
    app = make_app(tmp_path, context={"@aws-cdk/core:defaultCrossStackReferences": "weak"})
    alarm1_alarms_in_another_stack(Stack(app, "Weak"))
    findings = run_pack(app)
    assert findings.by_rule == {"SF-ALARM1": {"Weak/Topic"}}
