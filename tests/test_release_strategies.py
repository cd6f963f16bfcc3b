"""Releases as environment data: rolling in dev, blue/green in staging, canary in prod, read from
cdk.json; the alternate target group and the rules ECS moves; alarms that watch the new
release; the smoke-check hook; worker deployment alarms; and every refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from stable_fargate import ConfigError, QueueWorker, Release, SmokeCheck, StableWebService, pin_availability_zones
from stable_fargate.__main__ import main
from stacks.app import load_config
from tests.conftest import ROOT, SampleApp, make_app, template_json
from tests.test_web_service import _service, _stack, _template

ALB = "AWS::ElasticLoadBalancingV2"


def _resources(sample_app: SampleApp, env: str, stack: str) -> dict[str, Any]:
    (found,) = [s for e, s in sample_app.stacks() if e == env and s.node.id == stack]
    resources: dict[str, Any] = template_json(found)["Resources"]
    return resources


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def _ecs_service(resources: dict[str, Any]) -> dict[str, Any]:
    (service,) = _of_type(resources, "AWS::ECS::Service").values()
    properties: dict[str, Any] = service["Properties"]
    return properties


# --- The sample app: each environment's release from cdk.json ---------------------------------


def test_the_sample_data_declares_rolling_blue_green_and_canary(sample_app: SampleApp) -> None:
    releases = {env.name: env.release for env in sample_app.config.environments}
    assert releases["dev"] == Release(strategy="rolling")
    assert (releases["staging"].strategy, releases["staging"].bake_minutes) == ("blue_green", 10)
    prod = releases["prod"]
    assert (prod.strategy, prod.canary_percent, prod.canary_bake_minutes, prod.bake_minutes) == ("canary", 10.0, 6, 10)


def test_dev_rolls_out_as_before(sample_app: SampleApp) -> None:
    resources = _resources(sample_app, "dev", "Api")
    config = _ecs_service(resources)["DeploymentConfiguration"]
    assert "Strategy" not in config and "LifecycleHooks" not in config and "BakeTimeInMinutes" not in config
    assert len(_of_type(resources, f"{ALB}::TargetGroup")) == 1
    assert _of_type(resources, f"{ALB}::ListenerRule") == {}
    assert _of_type(resources, "AWS::Lambda::Function") == {}
    assert len(config["Alarms"]["AlarmNames"]) == 2


def test_staging_is_blue_green_with_a_bake(sample_app: SampleApp) -> None:
    config = _ecs_service(_resources(sample_app, "staging", "Api"))["DeploymentConfiguration"]
    assert config["Strategy"] == "BLUE_GREEN"
    assert config["BakeTimeInMinutes"] == 10
    assert "CanaryConfiguration" not in config


def test_prod_is_a_ten_percent_canary(sample_app: SampleApp) -> None:
    config = _ecs_service(_resources(sample_app, "prod", "Api"))["DeploymentConfiguration"]
    assert config["Strategy"] == "CANARY"
    assert config["CanaryConfiguration"] == {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 6}
    assert config["BakeTimeInMinutes"] == 10
    # The circuit breaker and the alarms still roll back.
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert config["Alarms"]["Rollback"] is True


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_alternate_target_group_and_the_rules_ecs_moves(sample_app: SampleApp, env: str) -> None:
    resources = _resources(sample_app, env, "Api")
    groups = _of_type(resources, f"{ALB}::TargetGroup")
    assert set(groups) >= {"PortfolioApiTargetGroup62661BD8"}, "the production group keeps its logical id"
    (alternate,) = [lid for lid in groups if lid != "PortfolioApiTargetGroup62661BD8"]
    # Both groups check health the same way.
    check = ("HealthCheckPath", "HealthCheckIntervalSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount", "Matcher")
    blue, green = groups["PortfolioApiTargetGroup62661BD8"]["Properties"], groups[alternate]["Properties"]
    assert {k: blue.get(k) for k in check} == {k: green.get(k) for k in check}
    assert green["TargetType"] == "ip"

    (lb,) = _ecs_service(resources)["LoadBalancers"]
    advanced = lb["AdvancedConfiguration"]
    assert advanced["AlternateTargetGroupArn"] == {"Ref": alternate}
    rules = _of_type(resources, f"{ALB}::ListenerRule")
    assert {advanced["ProductionListenerRule"]["Ref"], advanced["TestListenerRule"]["Ref"]} == set(rules)
    listeners = _of_type(resources, f"{ALB}::Listener")
    for rule in rules.values():
        props = rule["Properties"]
        # Every request, forwarded with weights (100 old / 0 new until ECS moves them).
        assert props["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}]
        ((action),) = props["Actions"]
        assert action["Type"] == "forward"
        weights = {g["TargetGroupArn"]["Ref"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
        assert weights == {"PortfolioApiTargetGroup62661BD8": 100, alternate: 0}
    ports = {listeners[r["Properties"]["ListenerArn"]["Ref"]]["Properties"]["Port"] for r in rules.values()}
    assert ports == {443, 9443}


@pytest.mark.parametrize(("env", "cidr"), [("staging", "10.20.0.0/16"), ("prod", "10.30.0.0/16")])
def test_the_test_listener_is_reachable_only_from_inside_the_vpc(sample_app: SampleApp, env: str, cidr: str) -> None:
    resources = _resources(sample_app, env, "Api")
    (test,) = [lst["Properties"] for lst in _of_type(resources, f"{ALB}::Listener").values() if lst["Properties"]["Port"] == 9443]
    assert test["Protocol"] == "HTTPS" and test["Certificates"]
    (group,) = [
        g for lid, g in _of_type(resources, "AWS::EC2::SecurityGroup").items() if lid.startswith("PortfolioApiLoadBalancerSecurityGroup")
    ]
    on_test_port = [r for r in group["Properties"]["SecurityGroupIngress"] if r["FromPort"] == 9443]
    assert [(r.get("CidrIp"), r["ToPort"]) for r in on_test_port] == [(cidr, 9443)]
    # The internet reaches 443 and 80 only.
    public = {r["FromPort"] for r in group["Properties"]["SecurityGroupIngress"] if r.get("CidrIp") == "0.0.0.0/0"}
    assert public == {443, 80}


def _alarm_targets(alarm: dict[str, Any]) -> set[str]:
    """Logical ids of the target groups an alarm's metrics name."""
    found = set()
    for query in alarm["Properties"].get("Metrics", []):
        for dimension in query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []):
            if dimension["Name"] == "TargetGroup":
                found.add(dimension["Value"]["Fn::GetAtt"][0])
    for dimension in alarm["Properties"].get("Dimensions", []):
        if dimension["Name"] == "TargetGroup":
            found.add(dimension["Value"]["Fn::GetAtt"][0])
    return found


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_alarms_that_roll_back_watch_the_new_release(sample_app: SampleApp, env: str) -> None:
    resources = _resources(sample_app, env, "Api")
    names = [n["Ref"] for n in _ecs_service(resources)["DeploymentConfiguration"]["Alarms"]["AlarmNames"]]
    (lb,) = _ecs_service(resources)["LoadBalancers"]
    alternate = lb["AdvancedConfiguration"]["AlternateTargetGroupArn"]["Ref"]
    alarms = {name: resources[name] for name in names}
    on_alternate = {name for name, alarm in alarms.items() if alternate in _alarm_targets(alarm)}
    # The alternate group's own 5xx rate, latency and unhealthy hosts; the same for the other group.
    assert len(on_alternate) == 3
    kinds = {
        ("5xx" if "HTTPCode_Target_5XX_Count" in json.dumps(a) else "latency" if "TargetResponseTime" in json.dumps(a) else "hosts")
        for name, a in alarms.items() if name in on_alternate
    }
    assert kinds == {"5xx", "latency", "hosts"}
    for name in on_alternate:
        props = alarms[name]["Properties"]
        if "Metrics" in props:
            # Short enough to trip inside the canary's bake: two one-minute datapoints.
            periods = {q["MetricStat"]["Period"] for q in props["Metrics"] if "MetricStat" in q}
            assert periods == {60} and props["EvaluationPeriods"] == props["DatapointsToAlarm"] == 2
    # Beside the load balancer's own: its whole 5xx rate (no target-group dimension at all).
    whole = [a for a in alarms.values() if "HTTPCode_Target_5XX_Count" in json.dumps(a) and not _alarm_targets(a)]
    assert len(whole) == 1
    # Every one pages the environment's topic, and says when it is over.
    for alarm in alarms.values():
        assert len(alarm["Properties"]["AlarmActions"]) == 1
        assert alarm["Properties"]["OKActions"] == alarm["Properties"]["AlarmActions"]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_smoke_check_hook(sample_app: SampleApp, env: str) -> None:
    resources = _resources(sample_app, env, "Api")
    (hook,) = _ecs_service(resources)["DeploymentConfiguration"]["LifecycleHooks"]
    assert hook["LifecycleStages"] == ["POST_TEST_TRAFFIC_SHIFT"]
    function_id = hook["HookTargetArn"]["Fn::GetAtt"][0]
    function = resources[function_id]["Properties"]
    assert function["Runtime"] == "python3.14" and function["Architectures"] == ["arm64"]
    assert function["Handler"] == "index.handler" and "hookStatus" in function["Code"]["ZipFile"]
    assert function["Timeout"] == 60
    variables = function["Environment"]["Variables"]
    assert {k: variables[k] for k in ("TEST_PORT", "SMOKE_PATH", "EXPECTED_STATUS")} == {
        "TEST_PORT": "9443", "SMOKE_PATH": "/healthz", "EXPECTED_STATUS": "200",
    }
    assert "HEADER_NAME" not in variables
    # In the service's private subnets, with its own encrypted log group kept a year.
    assert function["VpcConfig"]["SubnetIds"] == _ecs_service(resources)["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    log_group = resources[function["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["RetentionInDays"] == 365 and "KmsKeyId" in log_group
    # The endpoint it asks EC2 through: private DNS off, one call by one role.
    (endpoint,) = _of_type(resources, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["PrivateDnsEnabled"] is False
    (statement,) = endpoint["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "ec2:DescribeNetworkInterfaces"
    assert statement["Principal"]["AWS"]["Fn::GetAtt"][0] == function["Role"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_hook_has_least_privilege_and_no_inline_policy(sample_app: SampleApp, env: str) -> None:
    resources = _resources(sample_app, env, "Api")
    (hook,) = _ecs_service(resources)["DeploymentConfiguration"]["LifecycleHooks"]
    function_id = hook["HookTargetArn"]["Fn::GetAtt"][0]
    invoke_role = hook["RoleArn"]["Fn::GetAtt"][0]
    function_role = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = _of_type(resources, "AWS::IAM::ManagedPolicy")
    attached = {lid: p["Properties"] for lid, p in policies.items()}
    invoke = [p for p in attached.values() if p["Roles"] == [{"Ref": invoke_role}]]
    assert [s["Action"] for p in invoke for s in p["PolicyDocument"]["Statement"]] == ["lambda:InvokeFunction"]
    assert invoke[0]["PolicyDocument"]["Statement"][0]["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    own = [p for p in attached.values() if p["Roles"] == [{"Ref": function_role}]]
    statements = [s for p in own for s in p["PolicyDocument"]["Statement"]]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == sorted([
        "logs:CreateLogStream", "logs:PutLogEvents", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ])
    for role in (invoke_role, function_role):
        assert "ManagedPolicyArns" not in resources[role]["Properties"], "no AWS managed policy on the hook's roles"
        assert not [p for p in _of_type(resources, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]]
    # Its network: out to its endpoint and the test listener only.
    (function_sg,) = resources[function_id]["Properties"]["VpcConfig"]["SecurityGroupIds"]
    egress = [r["Properties"] for r in _of_type(resources, "AWS::EC2::SecurityGroupEgress").values()
              if r["Properties"]["GroupId"] == function_sg]
    assert sorted(r["FromPort"] for r in egress) == [443, 9443]


def test_workers_roll_back_on_dead_letters_and_late_messages(sample_app: SampleApp) -> None:
    for env in ("dev", "staging", "prod"):
        resources = _resources(sample_app, env, "Workers")
        (worker,) = [p for p in (r["Properties"] for r in _of_type(resources, "AWS::ECS::Service").values())
                     if "Alarms" in p["DeploymentConfiguration"]]
        alarms = worker["DeploymentConfiguration"]["Alarms"]
        assert alarms["Enable"] is True and alarms["Rollback"] is True
        watched = {json.dumps(resources[n["Ref"]]["Properties"]) for n in alarms["AlarmNames"]}
        assert any("ApproximateAgeOfOldestMessage" in w for w in watched)
        assert any("DIFF(FILL(visible, 0))" in w for w in watched)  # DLQ arrivals
        # A worker has no load balancer: the environment's strategy never reaches it.
        assert "Strategy" not in worker["DeploymentConfiguration"]


# --- The construct, one strategy at a time ----------------------------------------------------


@pytest.fixture(scope="module")
def linear(tmp_path_factory: pytest.TempPathFactory) -> tuple[StableWebService, Template]:
    stack = _stack(tmp_path_factory.mktemp("linear"))
    service = _service(stack, release=Release(strategy="linear", linear_step_percent=20, linear_step_bake_minutes=5),
                       smoke_check=SmokeCheck("/smoke?depth=full", expected_status=204, header=("X-Smoke-Test", "1")))
    return service, _template(stack)


def test_linear_steps_and_a_declared_smoke_check(linear: tuple[StableWebService, Template]) -> None:
    service, template = linear
    template.has_resource_properties("AWS::ECS::Service", {"DeploymentConfiguration": {
        "Strategy": "LINEAR", "LinearConfiguration": {"StepPercent": 20, "StepBakeTimeInMinutes": 5}, "BakeTimeInMinutes": 10,
    }})
    (function,) = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": "index.handler"}}).values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["SMOKE_PATH"], variables["EXPECTED_STATUS"]) == ("/smoke?depth=full", "204")
    assert (variables["HEADER_NAME"], variables["HEADER_VALUE"]) == ("X-Smoke-Test", "1")
    assert [step.percent for step in service.traffic_schedule] == [20, 40, 60, 80, 100]


def test_a_release_may_skip_the_latency_alarm(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    service = _service(stack, release=Release(strategy="blue_green"), release_alarms=["5xx"])
    assert set(service.release_alarms) == {"5xx"}
    assert len(service.deployment_alarms) == 5  # load balancer 5xx, two groups' hosts, two groups' 5xx


# --- Refusals ---------------------------------------------------------------------------------


CANARY = Release(strategy="canary")


@pytest.mark.parametrize(
    ("overrides", "field", "fix"),
    [
        # A smoke path that is not a plain URL path (the health-check path rule).
        ({"smoke_check": SmokeCheck("smoke")}, "smoke_check.path", "plain URL path"),
        ({"smoke_check": SmokeCheck("/smoke; rm -rf /")}, "smoke_check.path", "plain URL path"),
        ({"smoke_check": SmokeCheck("/a b")}, "smoke_check.path", "plain URL path"),
        ({"smoke_check": SmokeCheck("https://example.com/smoke")}, "smoke_check.path", "plain URL path"),
        ({"smoke_check": SmokeCheck("/smoke", expected_status=503)}, "smoke_check.expected_status", "200 to 499"),
        ({"smoke_check": SmokeCheck("/smoke", header=("Authorization", "Bearer x"))}, "smoke_check.header", "credential"),
        ({"smoke_check": SmokeCheck("/smoke", header=("X-Api-Key", "k"))}, "smoke_check.header", "credential"),
        ({"smoke_check": SmokeCheck("/smoke", header=("X-Session-Token", "t"))}, "smoke_check.header", "credential"),
        ({"smoke_check": SmokeCheck("/smoke", header=("X Smoke", "1"))}, "smoke_check.header", "HTTP token"),
        ({"smoke_check": SmokeCheck("/smoke", header=("X-Smoke", "1\r\nHost: evil"))}, "smoke_check.header", "printable ASCII"),
        # An alarm set that watches nothing of the new release.
        ({"release_alarms": []}, "release_alarms", "watches the new release"),
        ({"release_alarms": ["errors"]}, "release_alarms", "Name release alarms of 5xx, latency"),
        ({"release_latency_threshold": Duration.seconds(31)}, "release_latency_threshold", "longest request (30s)"),
        # Bakes too short for the alarms to act inside them.
        ({"release": Release(strategy="canary", canary_bake_minutes=4)}, "environments.staging.release.canary_bake_minutes",
         "at least 5 minutes"),
        ({"release": Release(strategy="blue_green", bake_minutes=0)}, "environments.staging.release.bake_minutes", "at least 5"),
        ({"release": Release(strategy="linear", linear_step_bake_minutes=2)},
         "environments.staging.release.linear_step_bake_minutes", "at least 5"),
    ],
)
def test_bad_release_input_is_refused(tmp_path: Path, overrides: dict[str, Any], field: str, fix: str) -> None:
    stack = _stack(tmp_path)
    overrides.setdefault("release", CANARY)
    with pytest.raises(ConfigError) as info:
        _service(stack, **overrides)
    assert (info.value.subject, info.value.field) == ("portfolio-api", field)
    assert fix in info.value.fix
    assert "Bearer" not in str(info.value) and "evil" not in str(info.value)


def test_a_rolling_environment_ignores_the_release_inputs(tmp_path: Path) -> None:
    """Release alarms and the smoke check are inputs of traffic-shifting releases; in a rolling
    environment they build nothing (so one construct call serves every environment)."""
    stack = _stack(tmp_path)
    service = _service(stack, smoke_check=SmokeCheck("/smoke"))
    assert service.smoke_check is None and service.alternate_target_group is None and service.release_alarms == {}


def test_a_worker_in_a_canary_environment_still_rolls(tmp_path: Path) -> None:
    """Strategies reach only StableWebService: a worker has no load balancer to shift, so the
    environment's canary is not refused there, it does not apply."""
    app = make_app(tmp_path)
    config = load_config(app)
    pin_availability_zones(app, config.environments)
    prod = config.environment("prod")
    assert prod.release.strategy == "canary"
    stack = Stack(app, "Work", env=Environment(account=prod.account, region=prod.region))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=list(prod.availability_zones), nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    QueueWorker(
        stack, "Worker", service_name="portfolio-import", environment=prod, cluster=ecs.Cluster(stack, "Cluster", vpc=vpc),
        key=kms.Key(stack, "Key", enable_key_rotation=True), alarm_topic=sns.Topic(stack, "Topic"),
        average_processing_time=Duration.seconds(2), longest_processing_time=Duration.seconds(20),
        acceptable_latency=Duration.seconds(60),
    )
    app.synth()
    service = Template.from_stack(stack).find_resources("AWS::ECS::Service")
    (props,) = [s["Properties"] for s in service.values()]
    assert "Strategy" not in props["DeploymentConfiguration"]
    assert props["DeploymentConfiguration"]["Alarms"]["Rollback"] is True


def test_the_release_differences_are_declared_drift(sample_app: SampleApp, capsys: pytest.CaptureFixture[str]) -> None:
    """What the strategies add (the alternate group, the test listener, the hook, the release
    alarms) differs between the environments because their release data differs: declared."""
    code = main(["drift", str(sample_app.outdir), "--config", str(ROOT / "cdk.json"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    (api,) = [s for s in report["services"] if s["service"] == "portfolio-api"]
    status = {r["property"]: r["status"] for r in api["rows"]}
    for declared in ("deployment strategy", "deployment alarms", "deployment lifecycle hooks", "deployment canary",
                     "target group release routing", "alternate target group health check path", "listener 9443/HTTPS TLS policy",
                     "load balancer listeners"):
        assert status[declared] == "declared", declared
    # What both releases share must still match: the production listener's TLS policy, the health check.
    assert status["listener 443/HTTPS TLS policy"] == "same"
    assert status["target group health check path"] == "same"
