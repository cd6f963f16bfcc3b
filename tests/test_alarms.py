"""alarms.py on its own: the alarm topic's statements as written, and the two queue alarms
(arrivals in a redrive DLQ; messages sent to a record queue), each value as documented."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from stable_fargate import AlarmTopic, ConfigError
from stable_fargate.alarms import arrivals_alarm, sent_messages_alarm


def _topic(env_stack: Any, **props: Any) -> Template:
    env = env_stack("prod")
    key = kms.Key(env.stack, "Key", enable_key_rotation=True)
    AlarmTopic(env.stack, "Alarms", key=key, **props)
    return env.template()


def test_the_topic_is_encrypted_tls_only_and_publishable_by_this_accounts_alarms(env_stack: Any) -> None:
    template = _topic(env_stack, display_name="prod alarms")
    template.has_resource_properties(
        "AWS::SNS::Topic", {"DisplayName": "prod alarms", "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}}
    )
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    publish = statements["AllowCloudWatchAlarmsToPublish"]
    assert (publish["Effect"], publish["Principal"], publish["Action"]) == (
        "Allow", {"Service": "cloudwatch.amazonaws.com"}, "sns:Publish",
    )
    # The confused-deputy guard: alarms of this account (prod: 333333333333) and region only.
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-2:333333333333:alarm:*"},
    }
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements.values())


def test_the_key_lets_cloudwatch_encrypt_for_this_accounts_topics_only(env_stack: Any) -> None:
    template = _topic(env_stack)
    (key,) = template.find_resources("AWS::KMS::Key").values()
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchAlarmsToUseTheKey"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]  # what a publisher needs (SNS guide)
    assert statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-2:333333333333:*"}
    }


def test_no_display_name_is_left_out(env_stack: Any) -> None:
    template = _topic(env_stack)
    template.has_resource_properties("AWS::SNS::Topic", {"DisplayName": Match.absent()})


@pytest.mark.parametrize(("name", "accepted"), [("a", True), ("x" * 100, True), ("", False), ("x" * 101, False)])
def test_display_names_sns_accepts_are_one_to_a_hundred_characters(env_stack: Any, name: str, accepted: bool) -> None:
    env = env_stack("prod")
    key = kms.Key(env.stack, "Key", enable_key_rotation=True)
    if accepted:
        assert AlarmTopic(env.stack, "Alarms", key=key, display_name=name).topic is not None
    else:
        with pytest.raises(ConfigError, match=r"alarm topic Alarms: display_name=.*1 to 100 characters"):
            AlarmTopic(env.stack, "Alarms", key=key, display_name=name)


def test_an_imported_key_is_refused_because_cloudwatch_could_not_use_it(env_stack: Any) -> None:
    env = env_stack("prod")
    imported = kms.Key.from_key_arn(env.stack, "Imported", "arn:aws:kms:eu-west-2:333333333333:key/abcd")
    with pytest.raises(ConfigError) as err:
        AlarmTopic(env.stack, "Alarms", key=imported)
    assert (err.value.subject, err.value.field) == ("alarm topic Alarms", "key")
    assert "PlatformKey" in err.value.fix


def _queue_alarm(env_stack: Any, build: Any) -> dict[str, Any]:
    env = env_stack("prod")
    queue = sqs.Queue(env.stack, "Records")
    topic = sns.Topic(env.stack, "Topic")
    build(env.stack, "Alarm", queue=queue, description="records arrived", topic=topic)
    (alarm,) = env.template().find_resources("AWS::CloudWatch::Alarm").values()
    return dict(alarm["Properties"])


def test_every_sent_message_pages_and_the_alarm_clears(env_stack: Any) -> None:
    alarm = _queue_alarm(env_stack, sent_messages_alarm)
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (
        "AWS/SQS", "NumberOfMessagesSent", "Sum", 60,  # one-minute datapoints
    )
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")  # one message
    assert (alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (1, "notBreaching")  # the first breaching minute
    assert alarm["AlarmDescription"] == "records arrived"
    (action,) = alarm["AlarmActions"]
    assert alarm["OKActions"] == [action]  # OK too: the next failure pages again


def test_every_arrival_in_a_dead_letter_queue_pages_and_the_alarm_clears(env_stack: Any) -> None:
    alarm = _queue_alarm(env_stack, arrivals_alarm)
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "DIFF(FILL(visible, 0))"  # growth: each minute with arrivals
    (visible,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
    assert (visible["MetricStat"]["Metric"]["MetricName"], visible["MetricStat"]["Stat"], visible["MetricStat"]["Period"]) == (
        "ApproximateNumberOfMessagesVisible", "Maximum", 60,
    )
    # Two periods, one breaching: DIFF needs the preceding datapoint inside the evaluated range.
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (
        1, "GreaterThanOrEqualToThreshold", 2, 1,
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    (action,) = alarm["AlarmActions"]
    assert alarm["OKActions"] == [action]


def test_another_service_may_publish_for_this_accounts_resources_only(env_stack: Any) -> None:
    env = env_stack("prod")
    key = kms.Key(env.stack, "Key", enable_key_rotation=True)
    topic = AlarmTopic(env.stack, "Alarms", key=key)
    topic.allow_publisher("budgets.amazonaws.com", sid="Budgets", source_arn="arn:aws:budgets::333333333333:*")
    template = env.template()
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    (publish,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AllowBudgetsToPublish"]
    assert (publish["Principal"], publish["Action"]) == ({"Service": "budgets.amazonaws.com"}, "sns:Publish")
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "333333333333"}, "ArnLike": {"aws:SourceArn": "arn:aws:budgets::333333333333:*"},
    }
    (stored,) = template.find_resources("AWS::KMS::Key").values()
    (use,) = [s for s in stored["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowBudgetsToUseTheKey"]
    assert sorted(use["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert use["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-2:333333333333:*"}}
