"""Alarm topics: the alarms that notify a topic, and the policies that govern it."""

from __future__ import annotations

from stable_fargate.checks import ecs
from stable_fargate.checks.template import Resource

TOPIC = "AWS::SNS::Topic"
TOPIC_POLICY = "AWS::SNS::TopicPolicy"
TOPIC_INLINE_POLICY = "AWS::SNS::TopicInlinePolicy"
KEY = "AWS::KMS::Key"

CLOUDWATCH = "cloudwatch.amazonaws.com"
"""The service principal CloudWatch alarms publish as."""

ALARM_ACTION_PROPERTIES = ("AlarmActions", "OKActions", "InsufficientDataActions")


def notifying_alarms(topic: Resource) -> list[Resource]:
    """Alarms anywhere in the app with an action that publishes to ``topic``."""
    return topic.stack.naming(topic, (ecs.ALARM, "AWS::CloudWatch::CompositeAlarm"), *ALARM_ACTION_PROPERTIES)


def policies_of(topic: Resource) -> list[Resource]:
    """TopicPolicy resources naming the topic in Topics, and inline policies naming it in TopicArn."""
    return topic.stack.naming(topic, (TOPIC_POLICY,), "Topics") + topic.stack.naming(topic, (TOPIC_INLINE_POLICY,), "TopicArn")
