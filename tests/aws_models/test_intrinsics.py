"""The intrinsic-function resolver, pinned with the examples of CloudFormation's own docs
(intrinsic-function-reference-*.html) and with shapes CDK writes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.aws_models.intrinsics import Environment, IntrinsicError, Resolver, UnknownIntrinsicError

PROD = Environment(account="333333333333", region="eu-west-2", stack_name="Prod-Platform")

# A trimmed CDK-shaped template: an encrypted alarm topic with its policy, a named repository.
TEMPLATE: dict[str, Any] = {
    "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "333333333333"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Mappings": {"Retention": {"eu-west-2": {"Days": "365"}}},
    "Resources": {
        "PlatformKey1C4A1A63": {"Type": "AWS::KMS::Key", "Properties": {}},
        "AlarmTopicD01E77F9": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]}}},
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "portfolio-api"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "ClusterC2E21B66": {"Type": "AWS::ECS::Cluster", "Properties": {}},
        "Service": {"Type": "AWS::ECS::Service", "Properties": {"Cluster": {"Ref": "ClusterC2E21B66"}}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmName": {"Fn::Join": ["-", ["prod", "dlq"]]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Widget": {"Type": "Custom::Widget", "Properties": {}},
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.30.0.0/16"}},
        "Target": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ResourceId": {"Fn::Join": ["", ["service/", {"Ref": "ClusterC2E21B66"}, "/", {"Fn::GetAtt": ["Service", "Name"]}]]},
                "ScalableDimension": "ecs:service:DesiredCount",
                "ServiceNamespace": "ecs",
            },
        },
        "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {"Name": "api", "Scope": "REGIONAL"}},
    },
    "Outputs": {
        "TopicArn": {"Value": {"Ref": "AlarmTopicD01E77F9"}},
        "KeyArn": {"Value": {"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]}, "Export": {"Name": "prod-key-arn"}},
    },
}


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(TEMPLATE, PROD)


def test_pseudo_parameters(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "333333333333"
    assert resolver.resolve({"Ref": "AWS::Region"}) == "eu-west-2"
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "Prod-Platform"
    china = Resolver(TEMPLATE, Environment("111111111111", "cn-north-1", partition="aws-cn"))
    assert china.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com.cn"


def test_documented_return_values(resolver: Resolver) -> None:
    # SNS topic: Ref is the ARN.
    assert resolver.resolve({"Ref": "AlarmTopicD01E77F9"}) == "arn:aws:sns:eu-west-2:333333333333:AlarmTopicD01E77F9"
    # SQS queue: Ref is the URL, GetAtt Arn the ARN.
    assert resolver.resolve({"Ref": "Queue"}) == "https://sqs.eu-west-2.amazonaws.com/333333333333/Queue"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-2:333333333333:Queue"
    # KMS key: Ref is the key id, Arn ends with key/<id>.
    key_id = resolver.resolve({"Ref": "PlatformKey1C4A1A63"})
    assert resolver.resolve({"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]}) == f"arn:aws:kms:eu-west-2:333333333333:key/{key_id}"
    # S3 bucket: Ref is the name (lower case), Arn has no region or account.
    assert resolver.resolve({"Fn::GetAtt": ["Bucket", "Arn"]}) == "arn:aws:s3:::bucket"
    # ECS cluster: Ref is the name; a service's Ref is its ARN under the cluster.
    assert resolver.resolve({"Fn::GetAtt": ["ClusterC2E21B66", "Arn"]}) == "arn:aws:ecs:eu-west-2:333333333333:cluster/ClusterC2E21B66"
    assert resolver.resolve({"Ref": "Service"}) == "arn:aws:ecs:eu-west-2:333333333333:service/ClusterC2E21B66/Service"
    # CloudWatch alarm: Ref is the name, Arn is arn:...:alarm:<name>; the name property wins.
    assert resolver.resolve({"Ref": "Alarm"}) == "prod-dlq"
    assert resolver.resolve({"Fn::GetAtt": ["Alarm", "Arn"]}) == "arn:aws:cloudwatch:eu-west-2:333333333333:alarm:prod-dlq"
    # A fixed repository name is used as is.
    assert resolver.resolve({"Fn::GetAtt": ["Repo", "Arn"]}) == "arn:aws:ecr:eu-west-2:333333333333:repository/portfolio-api"
    assert resolver.resolve({"Fn::GetAtt": ["Repo", "RepositoryUri"]}) == "333333333333.dkr.ecr.eu-west-2.amazonaws.com/portfolio-api"
    assert resolver.resolve({"Fn::GetAtt": ["Role", "Arn"]}) == "arn:aws:iam::333333333333:role/Role"
    # Scalable target: Ref is "<ResourceId>|<ScalableDimension>|<ServiceNamespace>".
    assert resolver.resolve({"Ref": "Target"}) == "service/ClusterC2E21B66/Service|ecs:service:DesiredCount|ecs"
    assert resolver.resolve({"Fn::GetAtt": ["Vpc", "CidrBlock"]}) == "10.30.0.0/16"
    assert resolver.resolve({"Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]}).startswith("sg-")
    acl_id = resolver.resolve({"Fn::GetAtt": ["Acl", "Id"]})
    assert resolver.resolve({"Ref": "Acl"}) == f"api|{acl_id}|REGIONAL"
    assert resolver.resolve({"Fn::GetAtt": ["Acl", "Arn"]}) == f"arn:aws:wafv2:eu-west-2:333333333333:regional/webacl/api/{acl_id}"


def test_getatt_string_form_and_nested_values(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::GetAtt": "Queue.Arn"}) == resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]})
    policy = {"Statement": [{"Resource": {"Ref": "AlarmTopicD01E77F9"}, "Action": "sns:Publish"}]}
    topic_arn = "arn:aws:sns:eu-west-2:333333333333:AlarmTopicD01E77F9"
    assert resolver.resolve(policy) == {"Statement": [{"Resource": topic_arn, "Action": "sns:Publish"}]}


def test_caller_attributes_override_and_complete_the_defaults() -> None:
    resolver = Resolver(TEMPLATE, PROD, attributes={"Queue": {"Arn": "arn:aws:sqs:eu-west-2:333333333333:real"}, "Widget": {"Ref": "w-1"}})
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-2:333333333333:real"
    assert resolver.resolve({"Ref": "Widget"}) == "w-1"


def test_join_select_split_docs_examples(resolver: Resolver) -> None:
    # intrinsic-function-reference-join: "a:b:c"
    assert resolver.resolve({"Fn::Join": [":", ["a", "b", "c"]]}) == "a:b:c"
    # intrinsic-function-reference-select: the second of the list is "grapes"
    assert resolver.resolve({"Fn::Select": ["1", ["apples", "grapes", "oranges", "mangoes"]]}) == "grapes"
    # intrinsic-function-reference-split: "a|b|c" -> ["a", "b", "c"]; "a||c" keeps the empty one
    assert resolver.resolve({"Fn::Split": ["|", "a|b|c"]}) == ["a", "b", "c"]
    assert resolver.resolve({"Fn::Split": ["|", "a||c"]}) == ["a", "", "c"]
    # CDK's shape: the cluster name out of a service ARN.
    cluster = {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "Service"}]}]}
    assert resolver.resolve(cluster) == "ClusterC2E21B66"
    with pytest.raises(IntrinsicError, match="out of range"):
        resolver.resolve({"Fn::Select": [4, ["a"]]})


def test_sub_both_forms(resolver: Resolver) -> None:
    # intrinsic-function-reference-sub: pseudo parameters, variables map, resource attributes, literals.
    assert resolver.resolve({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}) == (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    with_vars = {"Fn::Sub": ["www.${Domain}", {"Domain": {"Ref": "AWS::Region"}}]}
    assert resolver.resolve(with_vars) == "www.eu-west-2"
    assert resolver.resolve({"Fn::Sub": "${Queue.Arn}|${Repo}|${!Literal}"}) == (
        "arn:aws:sqs:eu-west-2:333333333333:Queue|portfolio-api|${Literal}"
    )


def test_conditions_if_and_novalue(resolver: Resolver) -> None:
    assert resolver.condition("IsProd") is True
    assert resolver.condition("NotProd") is False
    value = {"A": {"Fn::If": ["IsProd", "yes", "no"]}, "B": {"Fn::If": ["NotProd", "x", {"Ref": "AWS::NoValue"}]}}
    assert resolver.resolve(value) == {"A": "yes"}
    assert resolver.resolve(["a", {"Fn::If": ["NotProd", "b", {"Ref": "AWS::NoValue"}]}]) == ["a"]
    assert Resolver(TEMPLATE, PROD, conditions={"IsProd": False}).resolve({"Fn::If": ["IsProd", 1, 2]}) == 2


def test_parameters_mappings_base64(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "BootstrapVersion"}) == "/cdk-bootstrap/hnb659fds/version"
    assert Resolver(TEMPLATE, PROD, parameters={"BootstrapVersion": "21"}).resolve({"Ref": "BootstrapVersion"}) == "21"
    assert resolver.resolve({"Fn::FindInMap": ["Retention", {"Ref": "AWS::Region"}, "Days"]}) == "365"
    assert resolver.resolve({"Fn::Base64": "hi"}) == base64.b64encode(b"hi").decode()


def test_other_stacks_only_through_what_the_caller_supplies(resolver: Resolver) -> None:
    weak = {"Fn::GetStackOutput": {"StackName": "Prod-Platform", "Region": "eu-west-2", "OutputName": "TopicArn"}}
    with pytest.raises(IntrinsicError, match="stack_outputs"):
        resolver.resolve(weak)
    with pytest.raises(IntrinsicError, match="imports"):
        resolver.resolve({"Fn::ImportValue": "prod-key-arn"})
    # A consumer is wired from the producer's own resolved outputs and exports.
    consumer = Resolver(
        {"Resources": {}},
        PROD,
        stack_outputs={("Prod-Platform", name): value for name, value in resolver.outputs().items()},
        imports=resolver.exports(),
    )
    assert consumer.resolve(weak) == "arn:aws:sns:eu-west-2:333333333333:AlarmTopicD01E77F9"
    assert consumer.resolve({"Fn::ImportValue": "prod-key-arn"}) == resolver.resolve({"Fn::GetAtt": ["PlatformKey1C4A1A63", "Arn"]})


def test_find_by_attribute_walks_back_from_an_arn(resolver: Resolver) -> None:
    key_arn = resolver.resolve(TEMPLATE["Resources"]["AlarmTopicD01E77F9"]["Properties"]["KmsMasterKeyId"])
    assert resolver.find_by_attribute("Arn", key_arn) == "PlatformKey1C4A1A63"
    assert resolver.find_by_attribute("Arn", "arn:aws:kms:eu-west-2:1:key/none") is None


def test_unknown_things_fail_loudly_and_name_themselves(resolver: Resolver) -> None:
    with pytest.raises(UnknownIntrinsicError, match="Fn::GetAZs"):
        resolver.resolve({"Fn::GetAZs": ""})
    with pytest.raises(IntrinsicError, match="Nope"):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(IntrinsicError, match="Custom::Widget"):
        resolver.resolve({"Ref": "Widget"})
    with pytest.raises(IntrinsicError, match=r"Queue\.Colour"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "Colour"]})
