"""Policy questions asked of the synthesized sample app, answered by the resource-policy model
(tests/aws_models/iam_policy.py) with the request contexts AWS documents
(tests/aws_models/aws_requests.py): may CloudWatch publish to the alarm topic and use its key;
does the image pull get through the VPC endpoints, and does nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aws_models.aws_requests import alarm_publishes_to_topic, image_pull_requests, sns_encrypts_for_alarm
from tests.aws_models.iam_policy import Principal, Request, endpoint_policy, endpoint_serving, evaluate, key_policy, may, topic_policy
from tests.aws_models.intrinsics import Environment, Resolver
from tests.conftest import SampleApp, template_json

REGION = "eu-west-2"


def _platform(sample_app: SampleApp, env: str) -> tuple[Resolver, str]:
    stack = sample_app.stages[env].platform
    account = sample_app.config.environment(env).account
    return Resolver(template_json(stack), Environment(account=account, region=REGION, stack_name=stack.stack_name)), account


def _only(resolver: Resolver, resource_type: str) -> str:
    (logical_id,) = resolver.resources(resource_type)
    return logical_id


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_cloudwatch_alarms_may_publish_to_the_alarm_topic_and_use_its_key(sample_app: SampleApp, env: str) -> None:
    resolver, account = _platform(sample_app, env)
    topic_id = _only(resolver, "AWS::SNS::Topic")
    topic_arn = resolver.ref(topic_id)
    key_arn = resolver.get_att(_only(resolver, "AWS::KMS::Key"), "Arn")
    alarm = f"arn:aws:cloudwatch:{REGION}:{account}:alarm:portfolio-import-dlq"

    assert evaluate(topic_policy(resolver, topic_id), alarm_publishes_to_topic(alarm, topic_arn)).allowed
    for request in sns_encrypts_for_alarm(alarm, topic_arn, key_arn):
        decision = evaluate(key_policy(resolver, _only(resolver, "AWS::KMS::Key")), request)
        assert decision.allowed, (request.action, decision)


@pytest.mark.parametrize("env", ["prod"])
def test_only_this_accounts_alarms_may_publish(sample_app: SampleApp, env: str) -> None:
    resolver, _ = _platform(sample_app, env)
    topic_id = _only(resolver, "AWS::SNS::Topic")
    topic_arn = resolver.ref(topic_id)
    foreign = alarm_publishes_to_topic(f"arn:aws:cloudwatch:{REGION}:999999999999:alarm:x", topic_arn)
    assert not evaluate(topic_policy(resolver, topic_id), foreign).allowed
    # Over plain HTTP nobody may publish, CloudWatch included.
    plain = alarm_publishes_to_topic(f"arn:aws:cloudwatch:{REGION}:333333333333:alarm:x", topic_arn)
    insecure = Request(plain.principal, plain.action, plain.resource, {**plain.context, "aws:SecureTransport": "false"})
    assert evaluate(topic_policy(resolver, topic_id), insecure).reason == "explicit deny"


def test_the_key_admits_cloudwatch_only_for_this_accounts_topics(sample_app: SampleApp) -> None:
    resolver, _ = _platform(sample_app, "prod")
    key = key_policy(resolver, _only(resolver, "AWS::KMS::Key"))
    foreign_topic = f"arn:aws:sns:{REGION}:999999999999:elsewhere"
    (generate, _) = sns_encrypts_for_alarm(f"arn:aws:cloudwatch:{REGION}:999999999999:alarm:x", foreign_topic, "arn:aws:kms:k")
    assert not evaluate(key, generate).allowed


def _pull_decisions(sample_app: SampleApp, env: str) -> list[tuple[str, bool]]:
    resolver, account = _platform(sample_app, env)
    role = f"arn:aws:iam::{account}:role/ProdWorkers-ExecutionRole"
    repository = f"arn:aws:ecr:{REGION}:{sample_app.config.tooling.account}:repository/portfolio-api"
    decisions = []
    for item in image_pull_requests(role, repository):
        endpoint_id = endpoint_serving(resolver, item.endpoint)
        kind = "gateway" if item.endpoint == "s3" else "interface"
        decisions.append((item.request.action, evaluate(endpoint_policy(resolver, endpoint_id), item.request, endpoint=kind).allowed))
    return decisions


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_image_pull_from_the_registry_account_gets_through_the_endpoints(sample_app: SampleApp, env: str) -> None:
    assert all(allowed for _, allowed in _pull_decisions(sample_app, env)), _pull_decisions(sample_app, env)


def test_the_s3_gateway_reaches_ecr_layers_and_this_accounts_buckets_only(sample_app: SampleApp) -> None:
    resolver, account = _platform(sample_app, "prod")
    policy = endpoint_policy(resolver, endpoint_serving(resolver, "s3"))
    role = Principal.iam(f"arn:aws:iam::{account}:role/task")

    def get(bucket_account: str, bucket: str) -> bool:
        context: dict[str, Any] = {"aws:PrincipalAccount": account, "aws:ResourceAccount": bucket_account}
        return may(policy, role, "s3:GetObject", f"arn:aws:s3:::{bucket}/key", context, endpoint="gateway").allowed

    assert get(account, "prod-exports")
    assert not get("999999999999", "attacker-drop-box")  # no path out to another account's bucket
    stolen = Principal.iam("arn:aws:iam::999999999999:role/x")
    foreign_caller = {"aws:PrincipalAccount": "999999999999", "aws:ResourceAccount": account}
    assert not may(policy, stolen, "s3:PutObject", "arn:aws:s3:::prod-exports/key", foreign_caller, endpoint="gateway").allowed


def test_interface_endpoints_serve_this_accounts_principals_only(sample_app: SampleApp) -> None:
    resolver, account = _platform(sample_app, "prod")
    for service in ("secretsmanager", "sqs", "logs"):
        policy = endpoint_policy(resolver, endpoint_serving(resolver, service))
        ours = may(policy, Principal.iam(f"arn:aws:iam::{account}:role/task"), "sqs:SendMessage", "*",
                   {"aws:PrincipalAccount": account}, endpoint="interface")
        theirs = may(policy, Principal.iam("arn:aws:iam::999999999999:role/x"), "sqs:SendMessage", "*",
                     {"aws:PrincipalAccount": "999999999999"}, endpoint="interface")
        assert ours.allowed and not theirs.allowed, service
