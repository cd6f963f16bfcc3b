"""The issue-11 kit on synthesized CloudFormation: what EnvironmentPlatform builds (budget,
logical ids under "Default", service inputs, output); whether AWS Budgets may really deliver to
its KMS-encrypted alarm topic (the policy model with AWS's documented request contexts); the
entry point (StableApp, synth_checked, run); QueueWorker.allow_producer; the outputs.

One app holds the kit as an own app builds it and is synthesized once, through synth_checked
with the default nag packs: prod gets a platform with a budget, a web service and two workers,
one of which (and the web service) produces for the other; dev gets a platform without a
budget. The StableApp tests use small apps of their own, without packs unless they test one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnElement, CfnWaitConditionHandle, Duration, Stack, Validations
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from constructs import IConstruct

from stable_fargate import ConfigError, HardenedCluster, PlatformKey, PrivateNetwork, QueueWorker, StableWebService, defaults
from stable_fargate.alarms import AlarmTopic
from stable_fargate.app import DEFAULT_PACKS, StableApp, resource_warnings, run
from stable_fargate.checks.rules.queue2_visibility_timeout import consuming_containers
from stable_fargate.checks.template import app_from_templates
from stable_fargate.environments import pin_availability_zones
from stable_fargate.gate import validation_findings
from stable_fargate.platform import BUDGETS_SERVICE_PRINCIPAL, EnvironmentPlatform
from tests.aws_models.aws_requests import (
    alarm_publishes_to_topic,
    budget_arn,
    budget_publishes_to_topic,
    producer_sends_to_queue,
    sns_encrypts_for_budget,
)
from tests.aws_models.iam_policy import (
    Principal,
    Request,
    evaluate,
    evaluate_identity,
    key_policy,
    queue_policy,
    role_policy,
    topic_policy,
)
from tests.aws_models.intrinsics import Environment, Resolver
from tests.conftest import TaskProbe, cdk_context, make_app, template_json

PROD_ACCOUNT = "333333333333"
REGION = "eu-west-2"
PROD_AZS = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
FLAGS = {key: value for key, value in cdk_context().items() if key != "stable_fargate"}
"""The repository's feature flags (what a cdk.json written by `stable-fargate init` carries)."""


def _environment(account: str, cidr: str, azs: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "account": account, "region": REGION, "availability_zones": azs, "vpc_cidr": cidr,
        "certificate_arn": f"arn:aws:acm:{REGION}:{account}:certificate/00000000-0000-0000-0000-000000000000", **extra,
    }


SERVICES = ("api", "worker", "exporter")
KIT_BLOCK: dict[str, Any] = {
    "tooling": {"account": "100000000000", "region": REGION},
    "environments": {
        "dev": _environment("111111111111", "10.10.0.0/16", ["eu-west-2a", "eu-west-2b"], production=False),
        "prod": _environment(
            PROD_ACCOUNT, "10.30.0.0/16", PROD_AZS, production=True, monthly_budget_usd=1500,
            services={name: {"cpu": 512, "memory_mib": 1024, "min_tasks": 2, "max_tasks": 4} for name in SERVICES},
            images=dict.fromkeys(SERVICES, "v1.0.0"),
        ),
    },
    "shared_parameters": {"keys": {"LOG_LEVEL": {"type": "string", "value": "info"}}},
}
"""A compact own app's data: dev declares no budget and no services, prod both."""


def kit_context(block: dict[str, Any] = KIT_BLOCK) -> dict[str, Any]:
    return FLAGS | {"stable_fargate": block}


# --- the kit, synthesized once -----------------------------------------------------------------


@dataclass
class Kit:
    app: StableApp
    outdir: Path
    platform: EnvironmentPlatform
    dev_platform: EnvironmentPlatform
    api: StableWebService
    worker: QueueWorker
    exporter: QueueWorker

    def template(self, construct: IConstruct) -> dict[str, Any]:
        return template_json(Stack.of(construct))

    def resolver(self, construct: IConstruct, **kwargs: Any) -> Resolver:
        stack = Stack.of(construct)
        env = Environment(account=stack.account, region=stack.region, stack_name=stack.stack_name)
        return Resolver(self.template(construct), env, **kwargs)

    def services_resolver(self) -> Resolver:
        """The services' template, with the platform's outputs its weak references read."""
        platform = self.resolver(self.platform)
        outputs = {(Stack.of(self.platform).stack_name, name): value for name, value in platform.outputs().items()}
        return self.resolver(self.api, stack_outputs=outputs)


def logical_id(element: IConstruct | None) -> str:
    assert isinstance(element, CfnElement), element
    return str(Stack.of(element).resolve(element.logical_id))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    outdir = tmp_path_factory.mktemp("kit")
    app = StableApp(context=kit_context(), outdir=str(outdir))
    prod = app.config.environment("prod")
    stage = app.environment_stage(prod)
    platform = EnvironmentPlatform(Stack(stage, "Platform"), "Default", environment=prod)
    services = Stack(stage, "Services")
    api = StableWebService(
        services, "Api", service_name="api", **platform.service_inputs,
        container_port=8080, health_check_path="/healthz", warm_up=Duration.seconds(30),
    )
    # Messages of 5 s: a stop timeout (5 + 10 s) above twice the processing time.
    worker = QueueWorker(
        services, "Worker", service_name="worker", **platform.service_inputs,
        average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(5),
        acceptable_latency=Duration.seconds(60),
    )
    # A worker that also produces for the other, and stops far more slowly than that one's
    # visibility timeout: were it taken for a consumer, SF-QUEUE2 would fail the gate.
    exporter = QueueWorker(
        services, "Exporter", service_name="exporter", **platform.service_inputs,
        average_processing_time=Duration.seconds(10), longest_processing_time=Duration.seconds(60),
        acceptable_latency=Duration.minutes(10),
    )
    worker.allow_producer(api, url_key="WORKER_QUEUE_URL")
    worker.allow_producer(exporter, url_key="WORKER_QUEUE_URL")
    dev = app.config.environment("dev")
    dev_platform = EnvironmentPlatform(Stack(app.environment_stage(dev), "Platform"), "Default", environment=dev)
    app.synth_checked()
    return Kit(app, outdir, platform, dev_platform, api, worker, exporter)


# --- 1. EnvironmentPlatform ----------------------------------------------------------------------


def test_the_platform_builds_key_network_cluster_topic_and_budget(kit: Kit) -> None:
    template = Template.from_json(kit.template(kit.platform))
    for resource_type, count in [
        ("AWS::KMS::Key", 1), ("AWS::EC2::VPC", 1), ("AWS::EC2::FlowLog", 1), ("AWS::ECS::Cluster", 1),
        ("AWS::SNS::Topic", 1), ("AWS::SNS::TopicPolicy", 1), ("AWS::Budgets::Budget", 1), ("AWS::EC2::NatGateway", 0),
    ]:
        template.resource_count_is(resource_type, count)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.30.0.0/16"})
    template.has_resource_properties(
        "AWS::ECS::Cluster", {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]}
    )
    key_id = logical_id(kit.platform.key.key.node.default_child)
    template.has_resource_properties(
        "AWS::SNS::Topic", {"DisplayName": "stable_fargate prod alarms", "KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert {s["Properties"]["AvailabilityZone"] for s in subnets.values()} == set(PROD_AZS)


def test_the_budget_alerts_on_actual_80_and_forecast_100_percent_to_the_alarm_topic(kit: Kit) -> None:
    assert (defaults.BUDGET_ACTUAL_ALERT_PERCENT, defaults.BUDGET_FORECAST_ALERT_PERCENT) == (80, 100)
    assert isinstance(kit.platform.budget, budgets.CfnBudget)
    topic_id = logical_id(kit.platform.alarms.topic.node.default_child)
    subscriber = [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]

    def alert(kind: str, percent: int) -> dict[str, Any]:
        notification = {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": percent,
                        "ThresholdType": "PERCENTAGE"}
        return {"Notification": notification, "Subscribers": subscriber}

    Template.from_json(kit.template(kit.platform)).has_resource_properties("AWS::Budgets::Budget", {
        "Budget": {"BudgetType": "COST", "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": 1500, "Unit": "USD"}},
        "NotificationsWithSubscribers": [alert("ACTUAL", 80), alert("FORECASTED", 100)],
    })


def test_the_budget_is_created_after_the_topic_policy_that_lets_it_publish(kit: Kit) -> None:
    """AWS Budgets checks its access to the topic when a notification is saved ("Invalid SNS
    topic"): created beside the topic policy, the budget could race it and fail."""
    template = kit.template(kit.platform)
    budget = template["Resources"][logical_id(kit.platform.budget)]
    assert logical_id(kit.platform.alarms.policy.node.default_child) in budget.get("DependsOn", [])


def test_without_monthly_budget_usd_there_is_no_budget_and_no_grant_to_budgets(kit: Kit) -> None:
    assert kit.dev_platform.environment.monthly_budget_usd is None and kit.dev_platform.budget is None
    template = kit.template(kit.dev_platform)
    Template.from_json(template).resource_count_is("AWS::Budgets::Budget", 0)
    assert BUDGETS_SERVICE_PRINCIPAL not in json.dumps(template)  # neither the topic nor the key admits it
    assert "AlarmTopicArn" in template["Outputs"]


def _hand_built_platform(stack: Stack, environment: Any) -> None:
    """The platform as the sample's PlatformStack built it before the kit: parts as the stack's
    direct children."""
    key = PlatformKey(stack, "PlatformKey", description=f"{environment.name}: logs, queues and topics",
                      retain=environment.retain_data)
    network = PrivateNetwork(
        stack, "Network", cidr=environment.vpc_cidr, availability_zones=environment.availability_zones,
        nat_gateways=environment.nat_gateways, flow_log_key=key.key, retain_logs=environment.retain_data,
    )
    HardenedCluster(stack, "Cluster", vpc=network.vpc)
    AlarmTopic(stack, "AlarmTopic", key=key.key, display_name=f"stable_fargate {environment.name} alarms")


def test_under_the_id_default_the_platform_keeps_the_logical_ids_of_a_platform_built_by_hand(tmp_path: Path, kit: Kit) -> None:
    app = make_app(tmp_path, context=kit_context())
    pin_availability_zones(app, [kit.platform.environment])
    by_hand = Stack(app, "ByHand", env={"account": PROD_ACCOUNT, "region": REGION})
    _hand_built_platform(by_hand, kit.platform.environment)
    app.synth()
    hand_ids = set(template_json(by_hand)["Resources"])
    kit_ids = set(kit.template(kit.platform)["Resources"])
    assert kit_ids - hand_ids == {"Budget"}
    assert hand_ids <= kit_ids
    # The stateful ones, pinned (the sample's snapshots carry them since before the kit).
    assert {"PlatformKey1C4A1A63", "NetworkVpc7FB7348F", "NetworkFlowLogs2BEC3212", "ClusterC2E21B66", "AlarmTopicD01E77F9"} <= kit_ids


def test_service_inputs_are_the_platforms_parts_in_the_shared_vocabulary(kit: Kit) -> None:
    inputs = kit.platform.service_inputs
    assert set(inputs) == {"environment", "cluster", "key", "alarm_topic", "subnets"}
    assert inputs["environment"] is kit.platform.environment and inputs["environment"].name == "prod"
    assert inputs["cluster"] is kit.platform.cluster
    assert inputs["key"] is kit.platform.key
    assert inputs["alarm_topic"] is kit.platform.alarms
    assert inputs["subnets"] is kit.platform.network.private_subnets
    # What the services made of them: every task runs in the platform's private App subnets.
    for service in kit.template(kit.api)["Resources"].values():
        if service["Type"] == "AWS::ECS::Service":
            subnets = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
            names = [s["Fn::GetStackOutput"]["OutputName"] for s in subnets]
            assert len(names) == 3 and all("NetworkVpcAppSubnet" in n for n in names), names


def test_the_alarm_topic_arn_is_an_output_with_a_description(kit: Kit) -> None:
    for platform, name in [(kit.platform, "prod"), (kit.dev_platform, "dev")]:
        topic_id = logical_id(platform.alarms.topic.node.default_child)
        assert kit.template(platform)["Outputs"]["AlarmTopicArn"] == {
            "Description": f"{name}: where every alarm notifies", "Value": {"Ref": topic_id},
        }


# --- 2. may AWS Budgets deliver to this KMS-encrypted topic? ---------------------------------------


@dataclass
class TopicAndKey:
    topic_policy: dict[str, Any]
    key_policy: dict[str, Any]
    topic_arn: str
    key_arn: str


@pytest.fixture(scope="module")
def prod_topic(kit: Kit) -> TopicAndKey:
    resolver = kit.resolver(kit.platform)
    topic_id = logical_id(kit.platform.alarms.topic.node.default_child)
    key_id = logical_id(kit.platform.key.key.node.default_child)
    return TopicAndKey(
        topic_policy=topic_policy(resolver, topic_id), key_policy=key_policy(resolver, key_id),
        topic_arn=resolver.ref(topic_id), key_arn=resolver.get_att(key_id, "Arn"),
    )


@pytest.mark.parametrize("source_keys_on_kms", [False, True], ids=["as-documented", "if-kms-carried-source-keys"])
def test_aws_budgets_may_publish_the_alert_and_use_the_key(prod_topic: TopicAndKey, source_keys_on_kms: bool) -> None:
    budget = budget_arn(PROD_ACCOUNT, "Budget-a1b2c3")  # its name is CloudFormation's to generate
    decision = evaluate(prod_topic.topic_policy, budget_publishes_to_topic(budget, prod_topic.topic_arn))
    assert decision.allowed and decision.statements == ("AllowAwsBudgetsToPublish",)
    # Whether or not KMS sees aws:SourceArn/aws:SourceAccount (AWS documents neither there),
    # the key admits Budgets: its statement is scoped by the topic encryption context.
    for request in sns_encrypts_for_budget(budget, prod_topic.topic_arn, prod_topic.key_arn, assume_source_keys=source_keys_on_kms):
        decision = evaluate(prod_topic.key_policy, request)
        assert decision.allowed and decision.statements == ("AllowAwsBudgetsToUseTheKey",), (request.action, decision)


def test_another_accounts_budget_may_not_publish_nor_use_the_key_for_its_topics(prod_topic: TopicAndKey) -> None:
    foreign = budget_arn("999999999999", "Budget-a1b2c3")
    assert evaluate(prod_topic.topic_policy, budget_publishes_to_topic(foreign, prod_topic.topic_arn)).reason == "implicit deny"
    foreign_topic = f"arn:aws:sns:{REGION}:999999999999:alerts"
    for request in sns_encrypts_for_budget(foreign, foreign_topic, prod_topic.key_arn):
        assert not evaluate(prod_topic.key_policy, request).allowed
    # Over plain HTTP nobody may publish, Budgets included.
    own = budget_publishes_to_topic(budget_arn(PROD_ACCOUNT, "b"), prod_topic.topic_arn)
    insecure = Request(own.principal, own.action, own.resource, {**own.context, "aws:SecureTransport": "false"})
    assert evaluate(prod_topic.topic_policy, insecure).reason == "explicit deny"


def test_the_budget_statement_leaves_cloudwatch_alarms_publishing(prod_topic: TopicAndKey) -> None:
    alarm = f"arn:aws:cloudwatch:{REGION}:{PROD_ACCOUNT}:alarm:worker-dlq"
    assert evaluate(prod_topic.topic_policy, alarm_publishes_to_topic(alarm, prod_topic.topic_arn)).statements == (
        "AllowCloudWatchAlarmsToPublish",
    )


# --- 3. StableApp ------------------------------------------------------------------------------------


def write_cdk_json(directory: Path, context: dict[str, Any]) -> Path:
    path = directory / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": context}))
    return path


def test_outside_the_cli_the_context_comes_from_cdk_json(tmp_path: Path) -> None:
    path = write_cdk_json(tmp_path, kit_context())
    app = StableApp(cdk_json=path, outdir=str(tmp_path / "out"), packs=())
    assert app.config.environment("prod").monthly_budget_usd == 1500
    assert app.node.try_get_context("@aws-cdk/aws-ec2:restrictDefaultSecurityGroup") is True  # the flags too
    # A context given (as the CDK CLI gives it) wins over the file.
    given = json.loads(json.dumps(KIT_BLOCK))
    given["environments"]["prod"]["monthly_budget_usd"] = 99
    assert StableApp(context=kit_context(given), cdk_json=path, packs=()).config.environment("prod").monthly_budget_usd == 99


def test_by_default_cdk_json_is_read_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cdk_json(tmp_path, kit_context())
    monkeypatch.chdir(tmp_path)
    assert [env.name for env in StableApp(outdir=str(tmp_path / "out"), packs=()).config.environments] == ["dev", "prod"]


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe{}"], ids=["bad-json", "not-utf8"])
def test_an_unreadable_cdk_json_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cdk.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as error:
        StableApp(cdk_json=path, packs=())
    assert (error.value.subject, error.value.field, error.value.value) == ("app", str(path), "<unreadable>")
    assert "Fix cdk.json" in str(error.value)


def test_without_cdk_json_or_context_the_missing_block_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        StableApp(cdk_json=tmp_path / "cdk.json", packs=())
    assert (error.value.subject, error.value.field) == ("app", "context.stable_fargate")


def test_the_three_packs_are_attached_by_default_and_none_when_asked(kit: Kit) -> None:
    assert DEFAULT_PACKS == ("AwsSolutions", "PCI.DSS.321", "StableFargate")
    assert [plugin.name for plugin in kit.app.policy_validation_beta1] == ["AwsSolutions", "PCI.DSS.321", "StableFargateChecks"]
    assert StableApp(context=kit_context(), packs=()).policy_validation_beta1 == []
    only = StableApp(context=kit_context(), packs=("StableFargate",))
    assert [plugin.name for plugin in only.policy_validation_beta1] == ["StableFargateChecks"]


def test_an_unknown_pack_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        StableApp(context=kit_context(), packs=("AwsSolutions", "HIPAA"))
    assert (error.value.subject, error.value.field, error.value.value) == ("app", "packs", "HIPAA")
    assert "AwsSolutions, PCI.DSS.321, StableFargate" in str(error.value)


def test_availability_zones_are_pinned_so_synth_asks_aws_nothing(kit: Kit) -> None:
    lookup = f"availability-zones:account={PROD_ACCOUNT}:region={REGION}"
    assert kit.app.node.try_get_context(lookup) == PROD_AZS
    assert kit.app.node.try_get_context("availability-zones:account=111111111111:region=eu-west-2") == ["eu-west-2a", "eu-west-2b"]
    # A lookup the app could not answer would be listed as missing context in a manifest.
    manifests = list(kit.outdir.rglob("manifest.json"))
    assert len(manifests) == 3 and all("missing" not in json.loads(m.read_text()) for m in manifests)


def test_environment_stage_is_named_for_cdk_deploy_and_placed_in_the_environments_account() -> None:
    app = StableApp(context=kit_context(), packs=())
    by_name = app.environment_stage("prod")
    assert (by_name.stage_name, by_name.account, by_name.region) == ("Prod", PROD_ACCOUNT, REGION)
    dev = app.environment_stage(app.config.environment("dev"))
    assert (dev.stage_name, dev.account, dev.region) == ("Dev", "111111111111", REGION)
    with pytest.raises(ConfigError) as error:
        app.environment_stage("staging")
    assert (error.value.subject, error.value.field, error.value.value) == ("app", "environment", "staging")


@pytest.mark.parametrize("packs", [("AwsSolutions",), ()], ids=["with-pack", "without-packs"])
def test_synth_checked_fails_on_a_finding_inside_a_stage(tmp_path: Path, packs: tuple[str, ...]) -> None:
    app = StableApp(context=kit_context(), outdir=str(tmp_path), packs=packs)
    s3.Bucket(Stack(app.environment_stage("prod"), "Data"), "Bucket")  # no TLS policy, no access logs
    if not packs:
        app.synth_checked()  # nothing checks it: nothing to find
        return
    with pytest.raises(ConfigError) as error:
        app.synth_checked()
    assert (error.value.subject, error.value.field) == ("synth gate", "validation findings")
    assert "AwsSolutions-S10 at Prod/Data/Bucket/Resource" in str(error.value)
    assert {f.construct_path for f in validation_findings(tmp_path)} == {"Prod/Data/Bucket/Resource"}


DRIFT_BLOCK: dict[str, Any] = {
    "tooling": {"account": "100000000000", "region": REGION},
    "environments": {
        name: _environment(account, cidr, PROD_AZS, services={"worker": {"cpu": 256, "memory_mib": 512}}, images={"worker": "v1.0.0"})
        for name, account, cidr in [("staging", "222222222222", "10.20.0.0/16"), ("prod", PROD_ACCOUNT, "10.30.0.0/16")]
    },
}


@pytest.mark.parametrize("drift", [False, True], ids=["same", "undeclared-key-in-staging"])
def test_synth_checked_fails_on_undeclared_drift(tmp_path: Path, drift: bool) -> None:
    app = StableApp(context=kit_context(DRIFT_BLOCK), outdir=str(tmp_path), packs=())
    for environment in app.config.environments:
        task = TaskProbe(Stack(app.environment_stage(environment), "Services"), "worker", service="worker", environment=environment)
        if drift and environment.name == "staging":
            task.container.add_environment("NEW_FLAG", "1")
    if not drift:
        app.synth_checked()
        return
    with pytest.raises(ConfigError) as error:
        app.synth_checked()
    assert (error.value.subject, error.value.field, error.value.value) == ("worker", "drift", ["env NEW_FLAG"])


def _filler(stack: Stack, count: int) -> Stack:
    for index in range(count):
        CfnWaitConditionHandle(stack, f"Handle{index}")
    return stack


def test_synth_checked_warns_from_400_resources_in_a_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = StableApp(context=kit_context(), outdir=str(tmp_path), packs=())
    stage = app.environment_stage("prod")
    big, almost = _filler(Stack(stage, "Big"), 400), _filler(Stack(stage, "Almost"), 399)
    assembly = app.synth_checked()
    assert [len(template_json(s)["Resources"]) for s in (big, almost)] == [400, 399]
    (line,) = resource_warnings(assembly)
    assert line.startswith("Prod/Big has 400 resources of CloudFormation's 500: split it")
    assert "a StableWebService adds 25, a QueueWorker adds 21, a ScheduledJob adds 16" in line
    assert capsys.readouterr().err == f"stable_fargate: {line}\n"


# --- 4. run(build) ------------------------------------------------------------------------------------


def test_run_prints_a_config_error_as_one_line_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def build(app: StableApp) -> None:
        raise ConfigError("api", "cpu", 300, "Use one of Fargate's sizes: 256, 512, 1024, 2048, 4096, 8192 or 16384.")

    with pytest.raises(SystemExit) as exit_:
        run(build, app=StableApp(context=kit_context(), outdir=str(tmp_path), packs=()))
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        "stable_fargate: api: cpu=300 is refused. Use one of Fargate's sizes: 256, 512, 1024, 2048, 4096, 8192 or 16384.\n"
    )


def test_run_lets_any_other_error_through() -> None:
    def build(app: StableApp) -> None:
        raise RuntimeError("a bug, not bad input")

    with pytest.raises(RuntimeError, match="a bug"):
        run(build, app=StableApp(context=kit_context(), packs=()))


def test_an_own_app_with_a_broken_cdk_json_exits_1_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    """The real entry point, as `cdk synth` runs it: `python app.py` in the app's directory."""
    (tmp_path / "cdk.json").write_text('{"context": {"stable_fargate": ')
    (tmp_path / "app.py").write_text("from stable_fargate.app import run\n\nrun(lambda app: None)\n")
    result = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("[WARNING]")]
    assert len(lines) == 1 and lines[0].startswith("stable_fargate: app: cdk.json='<unreadable>' is refused. Fix cdk.json"), result.stderr
    assert "Traceback" not in result.stderr


# --- 5. QueueWorker.allow_producer --------------------------------------------------------------------


def producers(kit: Kit) -> Iterator[tuple[str, Any]]:
    yield "api", kit.api
    yield "exporter", kit.exporter


@pytest.mark.parametrize("name", ["api", "exporter"])
def test_the_producer_may_send_to_exactly_that_queue_and_use_its_key(kit: Kit, name: str) -> None:
    producer = dict(producers(kit))[name]
    resolver = kit.services_resolver()
    role_id = logical_id(producer.task_definition.task_role.node.default_child)
    role_arn = resolver.get_att(role_id, "Arn")
    queue_id = logical_id(kit.worker.queue.node.default_child)
    queue_arn = resolver.get_att(queue_id, "Arn")
    key_arn = kit.resolver(kit.platform).get_att(logical_id(kit.platform.key.key.node.default_child), "Arn")
    policy = role_policy(resolver, role_id)
    platform_key = key_policy(kit.resolver(kit.platform), logical_id(kit.platform.key.key.node.default_child))
    for request in producer_sends_to_queue(role_arn, queue_arn, key_arn):
        assert evaluate_identity(policy, request).allowed, request.action
        # Same account: the role's allow suffices unless a resource policy denies.
        on_resource = queue_policy(resolver, queue_id) if request.action.startswith("sqs:") else platform_key
        assert evaluate(on_resource, request).reason != "explicit deny", request.action
    # Exactly that queue: not its dead-letter queue, not another queue of the account.
    me = Principal.iam(role_arn)
    others = [
        resolver.get_att(logical_id(kit.worker.dead_letter_queue.node.default_child), "Arn"),
        resolver.get_att(logical_id(kit.exporter.queue.node.default_child), "Arn"),
        f"arn:aws:sqs:{REGION}:{PROD_ACCOUNT}:anything",
    ]
    for other in others:
        assert not evaluate_identity(policy, Request(me, "sqs:SendMessage", other)).allowed, other
    sending = [s for s in policy["Statement"] if "sqs:SendMessage" in _actions(s)]
    assert [s["Resource"] for s in sending] == [queue_arn]
    # The data-key grant names the platform key, not "*".
    assert {s["Resource"] for s in policy["Statement"] if any(a.startswith("kms:") for a in _actions(s))} == {key_arn}


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_queue_url_reaches_the_producer_under_its_key_and_nothing_else_changes(kit: Kit) -> None:
    template = kit.template(kit.api)
    queue = {"Ref": logical_id(kit.worker.queue.node.default_child)}

    def environment_of(service: Any) -> dict[str, Any]:
        task = template["Resources"][logical_id(service.task_definition.node.default_child)]
        (container,) = task["Properties"]["ContainerDefinitions"]
        return {e["Name"]: e["Value"] for e in container["Environment"]}

    assert environment_of(kit.api) == {"LOG_LEVEL": "info", "WORKER_QUEUE_URL": queue}
    assert environment_of(kit.exporter) == {
        "LOG_LEVEL": "info", "QUEUE_URL": {"Ref": logical_id(kit.exporter.queue.node.default_child)}, "WORKER_QUEUE_URL": queue,
    }
    # The worker's QueueUrl output is the same reference.
    outputs = template["Outputs"]
    assert next(o["Value"] for k, o in outputs.items() if k.startswith("WorkerQueueUrl")) == queue
    assert kit.worker.producers == ("api", "exporter")
    assert kit.api.wired_environment == {"WORKER_QUEUE_URL": "set to worker's queue URL"}


@pytest.mark.parametrize("name", ["api", "exporter"])
def test_the_key_grants_wildcards_are_acknowledged_on_the_producers_role_with_a_reason(kit: Kit, name: str) -> None:
    role = dict(producers(kit))[name].task_definition.task_role
    acknowledged: dict[str, str] = {}
    for entry in role.node.metadata:
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
            acknowledged |= {k.removeprefix("Annotation::"): v for k, v in dict(entry.data).items()}
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
        reason = acknowledged[f"AwsSolutions-IAM5[Action::{action}]"]
        assert reason.startswith(f"{name} sends to worker's KMS-encrypted queue;") and "names this one key" in reason


def _refusals(kit: Kit) -> list[tuple[str, Any, Any, tuple[str, str, Any]]]:
    """(case, producer, url_key, (subject, field, value) of the ConfigError)."""
    not_a_service = ec2.Peer.any_ipv4()  # any object of the construct library but the library's services
    return [
        ("lower-case key", kit.api, "worker_queue_url", ("api", "url_key", "worker_queue_url")),
        ("not a key name", kit.api, "WORKER-QUEUE", ("api", "url_key", "WORKER-QUEUE")),
        ("AWS_ prefix", kit.api, "AWS_QUEUE_URL", ("api", "url_key", "AWS_QUEUE_URL")),
        ("ECS_ prefix", kit.api, "ECS_QUEUE_URL", ("api", "url_key", "ECS_QUEUE_URL")),
        ("not a string", kit.api, 7, ("api", "url_key", 7)),
        ("declared parameter", kit.api, "LOG_LEVEL", ("api", "parameters.LOG_LEVEL", "<declared>")),
        ("the worker itself", kit.worker, "OWN_QUEUE_URL", ("worker", "producer", "worker")),
        ("not a library service", not_a_service, "WORKER_QUEUE_URL", ("worker", "producer", not_a_service)),
        ("the producer's own queue URL", kit.exporter, "QUEUE_URL", ("exporter", "url_key", "QUEUE_URL")),
        ("a key given already", kit.api, "WORKER_QUEUE_URL", ("api", "url_key", "WORKER_QUEUE_URL")),
    ]


CASES = ["lower-case key", "not a key name", "AWS_ prefix", "ECS_ prefix", "not a string", "declared parameter",
         "the worker itself", "not a library service", "the producer's own queue URL", "a key given already"]


@pytest.mark.parametrize("case", CASES)
def test_allow_producer_refuses_naming_service_field_and_value_and_changes_nothing(kit: Kit, case: str) -> None:
    _, producer, url_key, (subject, field, value) = next(r for r in _refusals(kit) if r[0] == case)
    wired = {s: dict(s.wired_environment) for s in (kit.api, kit.worker, kit.exporter)}
    with pytest.raises(ConfigError) as error:
        kit.worker.allow_producer(producer, url_key=url_key)
    assert (error.value.subject, error.value.field, error.value.value) == (subject, field, value)
    assert str(error.value).startswith(f"{subject}: {field}=")
    assert kit.worker.producers == ("api", "exporter")
    assert {s: dict(s.wired_environment) for s in (kit.api, kit.worker, kit.exporter)} == wired


def test_a_taken_key_is_refused_with_who_took_it(kit: Kit) -> None:
    with pytest.raises(ConfigError, match=r"QUEUE_URL is already set by exporter itself; give worker's queue URL a key of its own"):
        kit.worker.allow_producer(kit.exporter, url_key="QUEUE_URL")
    with pytest.raises(ConfigError, match=r"WORKER_QUEUE_URL is already set to worker's queue URL"):
        kit.worker.allow_producer(kit.api, url_key="WORKER_QUEUE_URL")


def test_sf_queue2_takes_only_the_worker_for_its_queues_consumer(kit: Kit) -> None:
    """The producers name the queue in their environment and stop more slowly than its
    visibility timeout; their roles only send, so SF-QUEUE2 does not count them (and the
    gate, which ran every pack over the kit, found nothing)."""
    services = kit.template(kit.api)
    platform_stack, services_stack = Stack.of(kit.platform), Stack.of(kit.api)
    read = app_from_templates({platform_stack.stack_name: kit.template(kit.platform), services_stack.stack_name: services})
    stack = read.stack(services_stack.stack_name)
    assert stack is not None
    queue = stack.resources[logical_id(kit.worker.queue.node.default_child)]
    assert [c["Name"] for c in consuming_containers(queue)] == ["worker"]
    visibility = kit.worker.visibility_timeout_seconds
    assert kit.api.stop_timeout.to_seconds() > visibility and kit.exporter.stop_timeout_seconds > visibility
    assert validation_findings(kit.outdir) == []


def test_a_worker_of_short_messages_passes_its_own_pack(kit: Kit) -> None:
    """5 s messages stop in 15 s: the visibility timeout is raised from 2 x 5 s to 15 s, or
    SF-QUEUE2 would fail the gate on the library's own worker."""
    assert (kit.worker.stop_timeout_seconds, kit.worker.visibility_timeout_seconds) == (15, 15)
    Template.from_json(kit.template(kit.worker)).has_resource_properties(
        "AWS::SQS::Queue", {"VisibilityTimeout": 15, "RedrivePolicy": Match.any_value()}
    )


# --- 6. outputs -----------------------------------------------------------------------------------------


def test_web_worker_and_platform_outputs_exist_with_descriptions(kit: Kit) -> None:
    services = kit.template(kit.api)["Outputs"]

    def output(prefix: str) -> dict[str, Any]:
        (found,) = [o for k, o in services.items() if k.startswith(prefix)]
        return found

    load_balancer = logical_id(kit.api.load_balancer.node.default_child)
    assert output("ApiLoadBalancerDnsName") == {
        "Description": "api: point the service's DNS name (alias) here", "Value": {"Fn::GetAtt": [load_balancer, "DNSName"]},
    }
    for worker, prefix in [(kit.worker, "Worker"), (kit.exporter, "Exporter")]:
        queue = logical_id(worker.queue.node.default_child)
        dead_letter = logical_id(worker.dead_letter_queue.node.default_child)
        name = worker.service_name
        assert output(f"{prefix}QueueUrl") == {"Description": f"{name}: where producers send", "Value": {"Ref": queue}}
        assert output(f"{prefix}QueueArn") == {
            "Description": f"{name}: the queue's ARN, for grants", "Value": {"Fn::GetAtt": [queue, "Arn"]},
        }
        assert output(f"{prefix}DeadLetterQueueUrl") == {"Description": f"{name}: failed messages", "Value": {"Ref": dead_letter}}
    assert kit.template(kit.platform)["Outputs"]["AlarmTopicArn"]["Description"] == "prod: where every alarm notifies"
