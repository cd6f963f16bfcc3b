"""How the rules read templates, without a synth: wildcards, intrinsics, references across
stacks, policies, and the answers for values only known at deploy time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdk_nag import NagRuleCompliance

from stable_fargate.checks import policy, values, wildcards
from stable_fargate.checks.rules import (
    alarm3_dead_letter_alarm,
    health3_slow_to_healthy,
    img1_moving_tag,
    img5_lifecycle_overlap,
    queue2_visibility_timeout,
    roll2_minimum_healthy,
    scale3_fargate_size,
)
from stable_fargate.checks.rules.img1_moving_tag import ImagePin
from stable_fargate.checks.template import app_from_templates
from tests.checks.harness import resource_from

NOT_APPLICABLE, COMPLIANT, NON_COMPLIANT = (
    NagRuleCompliance.NOT_APPLICABLE, NagRuleCompliance.COMPLIANT, NagRuleCompliance.NON_COMPLIANT,
)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("v*", "v*-*", True), ("v*", "rc-*", False), ("release-*", "rc-*", False), ("*", "latest", True),
        ("v1.*", "v2.*", False), ("*-rc*", "v*", True), ("a*b", "*c", False), ("prod", "prod", True), ("prod", "prod1", False),
    ],
)
def test_wildcard_patterns_intersect(first: str, second: str, expected: bool) -> None:
    assert wildcards.intersects(first, second) is expected
    assert wildcards.intersects(second, first) is expected


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("v*", "v*-*", True), ("v*-*", "v*", False), ("*", "anything*", True), ("v*", "v", True),
        ("v*.*", "v*", False), ("a*b*c", "a*c", False),
    ],
)
def test_wildcard_inclusion(outer: str, inner: str, expected: bool) -> None:
    assert wildcards.includes(outer, inner) is expected


def test_wildcard_match() -> None:
    assert wildcards.matches("portfolio-*", "portfolio-api") and not wildcards.matches("portfolio-*", "ledger")
    assert wildcards.matches("v*-*", "v1.9.0-rc.1") and not wildcards.matches("v*-*", "v1.9.0")


def test_render_string_keeps_literals_and_marks_computed_parts() -> None:
    joined = {"Fn::Join": ["", [{"Ref": "AWS::AccountId"}, ".dkr.ecr.eu-west-2.amazonaws.com/app:", {"Ref": "Tag"}]]}
    assert values.render_string(joined) == f"{values.UNKNOWN}.dkr.ecr.eu-west-2.amazonaws.com/app:{values.UNKNOWN}"
    assert values.render_string({"Fn::Sub": "${AWS::AccountId}.dkr.ecr/app:v1"}) == f"{values.UNKNOWN}.dkr.ecr/app:v1"
    assert values.render_string({"Fn::If": ["c", "a", "b"]}) == values.UNKNOWN
    assert values.render_string(["not", "a", "string"]) is None


def test_references_inside_sub_and_join() -> None:
    found = list(values.references({"Fn::Sub": ["https://${Queue.QueueName}/${Other}", {"Other": {"Ref": "Bucket"}}]}))
    assert {"Ref": "Bucket"} in found and {"Fn::GetAtt": ["Queue", "QueueName"]} in found and {"Ref": "Other"} not in found


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx", ImagePin.MOVING),
        ("nginx:1.27.2", ImagePin.PINNED),
        ("registry:5000/team/app", ImagePin.MOVING),
        ("registry:5000/team/app:stable", ImagePin.MOVING),
        ("app:master-2f1c", ImagePin.MOVING),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Repo", "RepositoryUri"]}, ":latest"]]}, ImagePin.MOVING),
        ({"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/cdk-assets:0123abcd"}, ImagePin.PINNED),
        ({"Fn::Sub": "example/app@${Digest}"}, ImagePin.PINNED),
        ({"Fn::Sub": "example/app:${Tag}"}, ImagePin.UNKNOWN),
        ({"Fn::Join": ["/", ["example", {"Ref": "Name"}]]}, ImagePin.UNKNOWN),  # the name may carry the tag
        ({"Ref": "Image"}, ImagePin.UNKNOWN),
    ],
)
def test_image_pins(image: Any, expected: ImagePin) -> None:
    assert img1_moving_tag.classify(image) is expected


def _rule(
    priority: int, status: str, *, patterns: list[str] | None = None, prefixes: list[str] | None = None, count: bool = True
) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": status}
    if patterns:
        selection["tagPatternList"] = patterns
    if prefixes:
        selection["tagPrefixList"] = prefixes
    by_age = {"countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90}
    selection.update({"countType": "imageCountMoreThan", "countNumber": 10} if count else by_age)
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # The library's registry before issue 8: candidates first, releases by prefix after: releases count candidates.
        ([_rule(1, "untagged", count=False), _rule(2, "tagged", patterns=["v*-*"]), _rule(3, "tagged", prefixes=["v"])], True),
        # Broad first: it takes the candidates the narrower rule was written for.
        ([_rule(1, "tagged", prefixes=["v"]), _rule(2, "tagged", patterns=["v*-*"], count=False)], True),
        # Narrow first, broad after by age: each count rule counts only its own images.
        ([_rule(1, "tagged", patterns=["v*-*"]), _rule(2, "tagged", prefixes=["v"], count=False)], False),
        # Disjoint prefixes.
        ([_rule(1, "tagged", prefixes=["rc-"]), _rule(2, "tagged", prefixes=["release-"])], False),
        # ECR's catch-all is not compared.
        ([_rule(1, "tagged", prefixes=["v"]), _rule(2, "any")], False),
        # The library's registry after issue 8: referenced tags pinned first (one image each), candidates
        # counted, releases by age. The candidate rule counts a pinned candidate: one slot, not flagged.
        (
            [
                _rule(1, "tagged", patterns=["v1.8.0"]), _rule(2, "tagged", patterns=["v1.9.0-rc.1"]),
                _rule(3, "untagged", count=False), _rule(4, "tagged", patterns=["v*-*"]),
                _rule(5, "tagged", prefixes=["v"], count=False),
            ],
            False,
        ),
        # A pin after a broader count rule pins nothing: the count rule owns the image.
        ([_rule(1, "tagged", prefixes=["v"]), _rule(2, "tagged", patterns=["v1.8.0"])], True),
        # Two patterns in one list: any of them overlapping counts.
        ([_rule(1, "tagged", patterns=["prod*", "v*"]), _rule(2, "tagged", patterns=["v1*"])], True),
    ],
)
def test_lifecycle_overlap(rules: list[dict[str, Any]], expected: bool) -> None:
    assert img5_lifecycle_overlap.counts_foreign_images({"rules": rules}) is expected


def test_lifecycle_text_that_is_computed_or_not_json_is_not_applicable() -> None:
    for text in ({"Fn::Sub": "${Policy}"}, "{not json"):
        repository = _repository(text)
        assert img5_lifecycle_overlap.check(repository) == NOT_APPLICABLE


def test_cross_stack_references_resolve_to_the_producing_resource() -> None:
    producer = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "Strong": {"Value": {"Ref": "Topic"}, "Export": {"Name": "Platform:ExportsOutputRefTopic"}},
            "Weak": {"Value": {"Ref": "Topic"}},
        },
    }
    app = app_from_templates({"Platform": producer, "Workers": {"Resources": {}}})
    workers, topic = app.stacks[1], app.stacks[0].resources["Topic"]
    assert workers.target({"Fn::ImportValue": "Platform:ExportsOutputRefTopic"}) is topic
    assert workers.target({"Fn::GetStackOutput": {"StackName": "Platform", "OutputName": "Weak", "Region": "eu-west-2"}}) is topic
    assert workers.target({"Fn::ImportValue": "SomeoneElse:Export"}) is None
    assert workers.refers_to([{"Fn::Join": ["", [{"Fn::ImportValue": "Platform:ExportsOutputRefTopic"}]]}], topic)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}, True),
        ({"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}, "Action": "SNS:*"}, True),
        ({"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}, True),
        ({"Effect": "Allow", "Principal": {"AWS": "*"}, "NotAction": "sns:Subscribe"}, True),
        ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sns:*"}, False),
        ({"Effect": "Deny", "Principal": "*", "Action": "sns:Publish"}, False),
        ({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Subscribe"}, False),
    ],
)
def test_policy_allows(statement: dict[str, Any], expected: bool) -> None:
    assert policy.allows({"Statement": [statement]}, "sns:Publish", service="cloudwatch.amazonaws.com") is expected


PARAMETER = {"Ref": "SomeParameter"}


def _repository(text: Any) -> Any:
    return resource_from({"R": {"Type": "AWS::ECR::Repository", "Properties": {"LifecyclePolicy": {"LifecyclePolicyText": text}}}}, "R")


def test_values_known_only_at_deploy_are_not_applicable() -> None:
    service: dict[str, Any] = {"Type": "AWS::ECS::Service"}
    service["Properties"] = {"DesiredCount": 3, "DeploymentConfiguration": {"MinimumHealthyPercent": PARAMETER}}
    assert roll2_minimum_healthy.check(resource_from({"S": service}, "S")) == NOT_APPLICABLE
    service["Properties"] = {"DesiredCount": PARAMETER, "DeploymentConfiguration": {"MinimumHealthyPercent": 50}}
    assert roll2_minimum_healthy.check(resource_from({"S": service}, "S")) == NOT_APPLICABLE

    interval_from_parameter = {"TargetType": "ip", "HealthCheckIntervalSeconds": PARAMETER}
    group = {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": interval_from_parameter}
    assert health3_slow_to_healthy.check(resource_from({"G": group}, "G")) == NOT_APPLICABLE

    task = {"Type": "AWS::ECS::TaskDefinition", "Properties": {"RequiresCompatibilities": ["FARGATE"], "Cpu": PARAMETER, "Memory": "512"}}
    assert scale3_fargate_size.check(resource_from({"T": task}, "T")) == NOT_APPLICABLE


def test_visibility_known_only_at_deploy_is_not_applicable() -> None:
    resources = {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": PARAMETER}},
        "T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
            {"Name": "app", "StopTimeout": 120, "Environment": [{"Name": "QUEUE_URL", "Value": {"Ref": "Q"}}]}
        ]}},
    }
    assert queue2_visibility_timeout.check(resource_from(resources, "Q")) == NOT_APPLICABLE
    resources["Q"]["Properties"] = {"VisibilityTimeout": 60}
    resources["T"]["Properties"]["ContainerDefinitions"][0]["StopTimeout"] = PARAMETER
    assert queue2_visibility_timeout.check(resource_from(resources, "Q")) == NOT_APPLICABLE


def test_an_anomaly_band_on_a_dlq_is_compliant() -> None:
    visible = {"Id": "visible", "ReturnData": True, "MetricStat": {"Period": 60, "Stat": "Maximum", "Metric": {
        "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}],
    }}}
    resources = {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}}}},
        "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"ThresholdMetricId": "band", "Metrics": [
            visible, {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(visible, 2)", "ReturnData": True},
        ]}},
    }
    assert alarm3_dead_letter_alarm.check(resource_from(resources, "A")) == COMPLIANT
    del resources["A"]["Properties"]["ThresholdMetricId"]
    resources["A"]["Properties"]["Metrics"] = [visible]
    resources["A"]["Properties"]["Threshold"] = 1
    assert alarm3_dead_letter_alarm.check(resource_from(resources, "A")) == NON_COMPLIANT


def test_render_json_policy_round_trip() -> None:
    text = json.dumps({"rules": [_rule(1, "tagged", prefixes=["v"]), _rule(2, "tagged", patterns=["v*-*"])]})
    repository = _repository(text)
    assert img5_lifecycle_overlap.check(repository) == NON_COMPLIANT


def test_deeply_nested_values_do_not_exhaust_the_recursion_limit() -> None:
    value: Any = {"Ref": "Queue"}
    for _ in range(5000):
        value = {"Fn::Join": ["", [value]]}
    assert list(values.references(value)) == [{"Ref": "Queue"}]
