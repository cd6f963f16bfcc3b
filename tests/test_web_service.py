"""StableWebService: every default on the template, every refusal, the rollout arithmetic,
and portfolio-api in every environment of the sample app."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Environment, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from hypothesis import event, given
from hypothesis import strategies as st

from stable_fargate import AccountRegion, ConfigError, Release, StableWebService, pin_availability_zones
from stable_fargate.services.web import (
    ECS_EXEC_AGENT_PATHS,
    PATTERNS_ROLLOUT_BATCH_SECONDS,
    container_health_timing,
    grace_period_seconds,
    node_health_command,
    rollout_batch_seconds,
    shell_health_command,
    time_to_healthy_seconds,
)
from stacks.app import load_config
from tests.conftest import SampleApp, make_app, template_of, with_overrides

REGISTRY = AccountRegion("100000000000", "eu-west-2")
CERT = "arn:aws:acm:eu-west-2:222222222222:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
WARM_UP_SECONDS = 45
PORT = 3000
PATH = "/healthz"


def _stack(outdir: Path, env_name: str = "staging") -> Stack:
    app = make_app(outdir)
    config = load_config(app)
    pin_availability_zones(app, config.environments)
    environment = config.environment(env_name)
    return Stack(app, "Web", env=Environment(account=environment.account, region=environment.region))


def _service(stack: Stack, **overrides: Any) -> StableWebService:
    """portfolio-api in the sample environment of ``stack``'s account (staging unless the stack
    is built for another); sizing and environment fields among ``overrides`` modify the data."""
    vpc = ec2.Vpc(
        stack, "Vpc", availability_zones=["eu-west-2a", "eu-west-2b"], nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Edge", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    config = load_config(stack.node.root)  # type: ignore[arg-type]
    (environment,) = [e for e in config.environments if e.account == stack.account]
    # The construct's own defaults release rolling; tests/test_release_*.py cover the strategies.
    environment, rest = with_overrides(environment, "portfolio-api", {"release": Release(), **overrides})
    props: dict[str, Any] = {
        "service_name": "portfolio-api",
        "environment": environment,
        "container_port": PORT,
        "health_check_path": PATH,
        "warm_up": Duration.seconds(WARM_UP_SECONDS),
        "cluster": ecs.Cluster(stack, "Cluster", vpc=vpc),
    }
    props.update(rest)
    props.setdefault("key", kms.Key(stack, "Key", enable_key_rotation=True))
    props.setdefault("alarm_topic", sns.Topic(stack, "Topic"))
    return StableWebService(stack, "Api", **props)


def _template(stack: Stack) -> Template:
    app = stack.node.root
    app.synth()  # type: ignore[attr-defined]
    return template_of(stack)


@pytest.fixture(scope="module")
def defaults_service(tmp_path_factory: pytest.TempPathFactory) -> tuple[StableWebService, Template]:
    """The construct with only its required inputs (and a 45 s warm-up), synthesized once."""
    stack = _stack(tmp_path_factory.mktemp("web-defaults"))
    service = _service(stack)
    return service, _template(stack)


def _only(template: Template, kind: str) -> dict[str, Any]:
    resources = template.find_resources(kind)
    assert len(resources) == 1, f"expected one {kind}, found {len(resources)}"
    return dict(next(iter(resources.values())))


# --- Rollout arithmetic ---------------------------------------------------------------------


def _our_batch(warm_up: float = 0) -> int:
    """The batch with StableWebService's target group: 10 s x 2 healthy, 5 s timeout, 30 s drain."""
    return rollout_batch_seconds(
        health_check_interval_seconds=10, healthy_threshold=2, health_check_timeout_seconds=5,
        deregistration_delay_seconds=30, warm_up_seconds=warm_up,
    )


def test_rollout_batch_with_defaults_fits_the_budget() -> None:
    # task start + worst-case time to healthy ((2 + 1) x 10 s + 5 s) + drain
    assert _our_batch() == 60 + (3 * 10 + 5) + 30 == 125
    assert _our_batch() <= 125  # the budget README promises
    assert PATTERNS_ROLLOUT_BATCH_SECONDS == 60 + (6 * 30 + 5) + 300 == 545


@given(st.integers(min_value=0, max_value=1200))
def test_rollout_batch_saves_the_same_420_s_whatever_the_warm_up(warm_up: int) -> None:
    patterns = rollout_batch_seconds(
        health_check_interval_seconds=30, healthy_threshold=5, health_check_timeout_seconds=5,
        deregistration_delay_seconds=300, warm_up_seconds=warm_up,
    )
    assert patterns - _our_batch(warm_up) == PATTERNS_ROLLOUT_BATCH_SECONDS - _our_batch() == 420


@pytest.mark.parametrize(
    ("interval", "threshold", "timeout", "expected"),
    [
        (10, 2, 5, 35),  # (2 + 1) x 10 + 5: up to an interval for the first check, two passes, a slow answer
        (30, 5, 5, 185),  # aws_ecs_patterns: (5 + 1) x 30 + 5
        (5, 10, 2, 57),  # (10 + 1) x 5 + 2
    ],
)
def test_time_to_healthy_worked_examples(interval: int, threshold: int, timeout: int, expected: int) -> None:
    assert time_to_healthy_seconds(interval_seconds=interval, healthy_threshold=threshold, timeout_seconds=timeout) == expected


@pytest.mark.parametrize(
    ("warm_up", "interval", "threshold", "timeout", "expected"),
    [
        (45, 10, 2, 5, 110),  # 45 + 30 start allowance + (2 + 1) x 10 + 5
        (0, 10, 2, 5, 65),  # 0 + 30 + 35
        (600, 10, 2, 5, 665),  # 600 + 30 + 35
        (45, 30, 5, 5, 260),  # 45 + 30 + (5 + 1) x 30 + 5
        (0.5, 10, 2, 5, 66),  # 0.5 + 30 + 35 = 65.5, rounded up
    ],
)
def test_grace_period_worked_examples(warm_up: float, interval: int, threshold: int, timeout: int, expected: int) -> None:
    grace = grace_period_seconds(warm_up_seconds=warm_up, interval_seconds=interval, healthy_threshold=threshold, timeout_seconds=timeout)
    assert grace == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"warm_up_seconds": 0}, 125),  # 60 start + 35 to healthy + 30 drain
        ({"warm_up_seconds": 45}, 170),  # 60 + 45 + 35 + 30
        ({"warm_up_seconds": 600, "deregistration_delay_seconds": 90}, 785),  # 60 + 600 + 35 + 90
        ({"warm_up_seconds": 0, "task_start_seconds": 20}, 85),  # 20 + 35 + 30
        ({"warm_up_seconds": 0.2}, 126),  # 125.2, rounded up
    ],
)
def test_rollout_batch_worked_examples(kwargs: dict[str, float], expected: int) -> None:
    args: dict[str, float] = {
        "health_check_interval_seconds": 10, "healthy_threshold": 2, "health_check_timeout_seconds": 5,
        "deregistration_delay_seconds": 30,
    }
    assert rollout_batch_seconds(**(args | kwargs)) == expected  # type: ignore[arg-type]

def test_service_exposes_its_rollout_batch(defaults_service: tuple[StableWebService, Template]) -> None:
    service, _ = defaults_service
    assert service.rollout_batch_seconds == _our_batch(WARM_UP_SECONDS) == 170
    # warm-up 45 + start allowance 30 + (2 + 1) x 10 s + 5 s timeout
    assert service.health_check_grace_period.to_seconds() == 45 + 30 + 3 * 10 + 5 == 110
    assert service.deregistration_delay.to_seconds() == 30  # drain as long as the longest request
    assert service.stop_timeout.to_seconds() == 30 + 10  # the longest request, then a margin after SIGTERM


# --- Container health check: warm-up is respected -------------------------------------------


@pytest.mark.parametrize(
    ("warm_up", "start_period", "interval"),
    [
        (0, 0, 10),  # no warm-up: checks every 10 s from the start
        (45, 45, 10),  # start period = warm-up
        (300, 300, 10),  # ECS's 300 s ceiling on the start period
        (301, 300, 10),  # 1 s past it: ceil(1 / 3) = 1, the 10 s interval already covers it
        (330, 300, 10),  # 30 s past it: ceil(30 / 3) = 10 = the interval
        (331, 300, 11),  # 31 s past it: ceil(31 / 3) = 11 s between checks
        (600, 300, 100),  # 300 s past it: three retries of 100 s
        (1200, 300, 300),  # 900 s past it: 300 s, ECS's ceiling on the interval
    ],
)
def test_container_health_timing_follows_warm_up(warm_up: int, start_period: int, interval: int) -> None:
    assert container_health_timing(warm_up) == (start_period, interval)
    assert start_period + 3 * interval >= warm_up  # three retries outlast the warm-up


WARMING: Counter[str] = Counter()


@given(st.integers(min_value=0, max_value=300) | st.integers(min_value=301, max_value=1200))
def _warming_property(warm_up: int) -> None:
    start, interval = container_health_timing(warm_up)
    branch = "interval stretched" if warm_up > 330 else "start period covers it"
    WARMING[branch] += 1
    event(branch)
    if warm_up > 330:
        assert start == 300 and interval > 10
    else:
        assert interval == 10
    assert start <= 300  # ECS's ceiling on the start period
    assert 5 <= interval <= 300  # ECS's bounds
    assert start + 3 * interval >= warm_up  # three retries outlast the warm-up


def test_a_warming_container_is_never_marked_unhealthy() -> None:
    WARMING.clear()
    _warming_property()
    assert WARMING["interval stretched"] >= 10 and WARMING["start period covers it"] >= 10, dict(WARMING)


def test_container_health_check(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "HealthCheck": {
                            "Command": shell_health_command(PORT, PATH),
                            "StartPeriod": 45,  # the warm-up: a warming container is never unhealthy
                            "Interval": 10,  # a hung process is found in 30 s (ECS default 30 s)
                            "Retries": 3,
                            "Timeout": 5,  # ECS's default
                        }
                    }
                )
            ]
        },
    )


def test_health_commands() -> None:
    shell = shell_health_command(3000, "/healthz")
    assert shell[0] == "CMD-SHELL" and "http://127.0.0.1:3000/healthz" in shell[1] and shell[1].endswith("|| exit 1")
    node = node_health_command(3000, "/healthz")
    assert node[:3] == ["CMD", "node", "-e"]  # exec form: no shell, no curl
    # The probe gives up a second before the 5 s container check timeout.
    assert "http://127.0.0.1:3000/healthz" in node[3] and "AbortSignal.timeout(4000)" in node[3]


# --- Task hardening -------------------------------------------------------------------------


def test_task_is_hardened(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "512",  # staging's sizing of portfolio-api in cdk.json
            "Memory": "1024",
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},  # Graviton
            "Volumes": [{"Name": "tmp"}],
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "ReadonlyRootFilesystem": True,
                        "User": "1000:1000",  # never root
                        "Memory": 1024,  # a hard memory limit
                        "StopTimeout": 30 + 10,  # longest request + margin
                        "PortMappings": [Match.object_like({"ContainerPort": PORT, "Protocol": "tcp"})],
                        "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 365, "KmsKeyId": Match.any_value()}  # PCI DSS 10.7: a year
    )
    # Without a log_key the service brings its own rotated key.
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


# --- Service: rollouts that heal themselves -------------------------------------------------


def test_service_rollout_configuration(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    five_xx = next(iter(template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Metrics": Match.any_value()}})))
    unhealthy = next(
        iter(template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "UnHealthyHostCount"}}))
    )
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "LaunchType": "FARGATE",
            # Never a DesiredCount: a deploy would reset a scaled-out service to it.
            "DesiredCount": Match.absent(),
            # warm-up 45 + start allowance 30 + (healthy threshold 2 + 1) x 10 s + 5 s timeout
            "HealthCheckGracePeriodSeconds": 110,
            "DeploymentConfiguration": {
                "MinimumHealthyPercent": 100,  # never below capacity during a rollout
                "MaximumPercent": 200,  # a whole new set before the old one stops: one batch
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                "Alarms": {"AlarmNames": [{"Ref": five_xx}, {"Ref": unhealthy}], "Enable": True, "Rollback": True},
            },
            "EnableExecuteCommand": False,  # no shell into production unless asked
            "AvailabilityZoneRebalancing": "ENABLED",
            "PropagateTags": "SERVICE",  # the service's tags reach its tasks (cost allocation)
            "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})},
            "LoadBalancers": [Match.object_like({"ContainerName": "portfolio-api", "ContainerPort": PORT})],
        },
    )


def test_deployment_alarms(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Threshold": 5,  # roll back above 5 % errors
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 2,  # two minutes in a row: one blip does not roll back
            "DatapointsToAlarm": 2,
            "TreatMissingData": "notBreaching",
            "Metrics": Match.array_with(
                [
                    Match.object_like(
                        {
                            # a rate only from 20 requests a minute: one failure of two is not a rate
                            "Expression": "IF(requests >= 20, "
                            "100 * (FILL(errors, 0) + FILL(badgateway, 0) + FILL(timeouts, 0)) / requests, 0)"
                        }
                    ),

                    Match.object_like(
                        {
                            "Id": "errors",
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": Match.object_like({"MetricName": "HTTPCode_Target_5XX_Count"}),
                                    "Period": 60,  # one-minute datapoints: a bad release rolls back in minutes
                                    "Stat": "Sum",
                                }
                            ),
                        }
                    ),
                    Match.object_like(
                        {
                            "Id": "requests",
                            "MetricStat": Match.object_like(
                                {"Metric": Match.object_like({"MetricName": "RequestCount"}),
                                 "Period": 60}
                            ),
                        }
                    ),
                ]
            ),
        },
    )
    for metric_id, name in (("badgateway", "HTTPCode_ELB_502_Count"), ("timeouts", "HTTPCode_ELB_504_Count")):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "Metrics": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": metric_id, "MetricStat": Match.object_like({"Metric": Match.object_like({"MetricName": name})})}
                        )
                    ]
                )
            },
        )
    grace = 110
    datapoints = 3  # ceil(110 / 60) + 1
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "UnHealthyHostCount",
            "Namespace": "AWS/ApplicationELB",
            "Period": 60,
            "Statistic": "Maximum",
            "Threshold": 1,  # any target that stays unhealthy
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": datapoints,
            "DatapointsToAlarm": datapoints,
        },
    )
    # The unhealthy-hosts alarm cannot fire while a task is still inside its grace period.
    assert datapoints * 60 > grace


# --- Target group ---------------------------------------------------------------------------


def test_target_group_check_and_drain(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Port": PORT,
            "Protocol": "HTTP",
            "TargetType": "ip",
            "HealthCheckPath": PATH,
            "HealthCheckIntervalSeconds": 10,  # aws_ecs_patterns: 30
            "HealthCheckTimeoutSeconds": 5,  # below the interval, as ELB requires
            "HealthyThresholdCount": 2,  # traffic 20 s after the app can answer (patterns: 5, 150 s)
            "UnhealthyThresholdCount": 3,  # one slow answer is not enough
            "Matcher": {"HttpCode": "200-399"},  # a redirect from the health path still serves
            "TargetGroupAttributes": Match.array_with(
                [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]  # the longest request (ELB: 300)
            ),
        },
    )


# --- Edge -----------------------------------------------------------------------------------


def test_load_balancer_attributes(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    bucket = next(iter(template.find_resources("AWS::S3::Bucket")))
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "Type": "application",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "deletion_protection.enabled", "Value": "false"},  # staging: protection is for production
                    {"Key": "idle_timeout.timeout_seconds", "Value": "60"},  # the ALB's default: 30 s requests fit
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": bucket}},
                ]
            ),
        },
    )


def test_https_listener_and_redirect(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 2)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERT}],
            # TLS13_12_RES_PQ: TLS 1.2 and 1.3 only, restricted ciphers, post-quantum key exchange.
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
            "DefaultActions": [Match.object_like({"Type": "forward"})],
        },
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}}
            ],
        },
    )


def test_access_log_bucket(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                    },
                    "LifecycleConfiguration": {
                        "Rules": [
                            Match.object_like(
                                {
                                    "ExpirationInDays": 365,  # PCI DSS 10.7: a year
                                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},  # overwritten logs recoverable
                                    "Status": "Enabled",
                                }
                            )
                        ]
                    },
                }
            ),
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Action": "s3:*"}
                        )
                    ]
                )
            }
        },
    )


def test_security_groups_admit_only_what_they_must(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    lb_sg = template.find_resources(
        "AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": Match.string_like_regexp("^portfolio-api load balancer")}}
    )
    assert len(lb_sg) == 1
    props = next(iter(lb_sg.values()))["Properties"]
    assert sorted((r["FromPort"], r["ToPort"], r["CidrIp"]) for r in props["SecurityGroupIngress"]) == [
        (80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0"),
    ]
    # No open egress: the load balancer reaches only the tasks, on the container port.
    assert "SecurityGroupEgress" not in props or all(r.get("CidrIp") != "0.0.0.0/0" for r in props["SecurityGroupEgress"])
    lb_sg_id = next(iter(lb_sg))
    task_sg = template.find_resources(
        "AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": Match.string_like_regexp("^portfolio-api tasks")}}
    )
    task_sg_id = next(iter(task_sg))
    assert "SecurityGroupIngress" not in task_sg[task_sg_id]["Properties"]
    ingress = [
        r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [task_sg_id, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": "Load balancer to target", "FromPort": PORT, "ToPort": PORT, "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": [task_sg_id, "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [lb_sg_id, "GroupId"]},
        }
    ]


def test_web_acl_in_front_of_the_load_balancer(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Scope": "REGIONAL",
            "DefaultAction": {"Allow": {}},
            "Rules": [
                Match.object_like(
                    {
                        "Name": group, "Priority": index, "OverrideAction": {"None": {}},
                        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
                    }
                )
                # PCI DSS 6.6: known bad sources, exploit patterns, the common rules; in this order
                for index, group in enumerate(
                    ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"]
                )
            ],
        },
    )
    lb = next(iter(template.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer")))
    template.has_resource_properties("AWS::WAFv2::WebACLAssociation", {"ResourceArn": {"Ref": lb}})
    template.has_resource_properties(
        "AWS::WAFv2::LoggingConfiguration",
        {
            "LogDestinationConfigs": [Match.any_value()],
            # Credentials in headers never reach the year-long WAF log.
            "RedactedFields": [
                {"SingleHeader": {"Name": "authorization"}},
                {"SingleHeader": {"Name": "cookie"}},
                {"SingleHeader": {"Name": "proxy-authorization"}},
                {"SingleHeader": {"Name": "x-api-key"}},
            ],
        },
    )
    # A fixed name: retained data must not block a retried first deploy (RetainExceptOnCreate).
    template.has_resource("AWS::Logs::LogGroup", {"DeletionPolicy": "RetainExceptOnCreate", "Properties": Match.object_like(
        {"LogGroupName": Match.string_like_regexp("^aws-waf-logs-")})})
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": Match.string_like_regexp("^aws-waf-logs-"),
            "RetentionInDays": 365,  # a year, like every audit log
            "KmsKeyId": Match.any_value(),
        },
    )


# --- Scaling --------------------------------------------------------------------------------


def test_scaling_on_requests_and_cpu_with_damped_cooldowns(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        # staging's sizing of portfolio-api in cdk.json: 2 to 4 tasks
        {"MinCapacity": 2, "MaxCapacity": 4, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 2)
    for metric, target in (
        ("ALBRequestCountPerTarget", 1000),  # requests per task per minute, about 17 a second
        ("ECSServiceAverageCPUUtilization", 60),  # 40 % headroom while scaling out
    ):
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            {
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                    {
                        "PredefinedMetricSpecification": Match.object_like({"PredefinedMetricType": metric}),
                        "TargetValue": target,
                        "ScaleOutCooldown": 60,  # load does not wait
                        "ScaleInCooldown": 300,  # no saw-tooth of launches
                    }
                ),
            },
        )


# --- Variants -------------------------------------------------------------------------------


def test_production_has_deletion_protection(tmp_path: Path) -> None:
    stack = _stack(tmp_path, "prod")
    _service(stack, production=True, min_tasks=3, max_tasks=12)
    template = _template(stack)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "deletion_protection.enabled", "Value": "true"}])},
    )
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 3, "MaxCapacity": 12})


def test_overrides_are_honoured(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    topic = sns.Topic(stack, "Alarms")
    service = _service(
        stack,
        warm_up=Duration.minutes(10),
        health_check_grace_period=Duration.minutes(12),
        longest_request=Duration.seconds(90),
        container_health_command=node_health_command(PORT, PATH),
        enable_execute_command=True,
        web_acl_rule_groups=(),
        alarm_topic=topic,
        retain_data=False,
    )
    template = _template(stack)
    start, interval = container_health_timing(600)
    assert (start, interval) == (300, 100)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Volumes": Match.array_with([{"Name": f"ecs-exec-{i}"} for i in range(len(ECS_EXEC_AGENT_PATHS))]),
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "StopTimeout": 90 + 10,  # longest request + margin
                        "HealthCheck": Match.object_like(
                            {"Command": node_health_command(PORT, PATH), "StartPeriod": start, "Interval": interval}
                        ),
                        "MountPoints": Match.array_with(
                            [Match.object_like({"ContainerPath": path, "ReadOnly": False}) for path in ECS_EXEC_AGENT_PATHS]
                        ),
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ECS::Service", {"HealthCheckGracePeriodSeconds": 720, "EnableExecuteCommand": True}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"TargetGroupAttributes": Match.array_with([{"Key": "deregistration_delay.timeout_seconds", "Value": "90"}])},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "idle_timeout.timeout_seconds", "Value": "95"}])},
    )
    template.resource_count_is("AWS::WAFv2::WebACL", 0)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmActions": [{"Ref": Match.any_value()}]})
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    assert service.rollout_batch_seconds == _our_batch(600) - 30 + 90 == 60 + 600 + 35 + 90


def test_unresolved_tokens_skip_the_checks(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    path = CfnParameter(stack, "HealthPath").value_as_string
    port = CfnParameter(stack, "Port", type="Number").value_as_number
    _service(stack, health_check_path=path, container_port=port)
    template = _template(stack)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": {"Ref": "HealthPath"}, "Port": {"Ref": "Port"}}
    )
    task = next(iter(template.find_resources("AWS::ECS::TaskDefinition").values()))
    assert "Ref" in json.dumps(task["Properties"]["ContainerDefinitions"][0]["HealthCheck"]["Command"])


# --- Refusals: each names the service, the field, the value and the fix ---------------------


@pytest.mark.parametrize(
    ("overrides", "field", "value", "fix"),
    [
        ({"warm_up": Duration.minutes(21)}, "warm_up", "1260s", "from 0 to 1200 s"),
        ({"health_check_grace_period": Duration.seconds(79)}, "health_check_grace_period", "79s", "(45s + 35s = 80s)"),
        ({"cpu": 512, "memory_mib": 512}, "memory_mib", 512, "1024, 2048, 3072, 4096"),
        ({"cpu": 300}, "cpu", 300, "Fargate CPU sizes"),
        ({"health_check_path": "healthz"}, "health_check_path", "healthz", "starting with '/'"),
        ({"min_tasks": 0}, "environments.staging.services.portfolio-api.min_tasks", 0, "at least one task"),
        ({"longest_request": Duration.seconds(111)}, "longest_request", "111s", "QueueWorker"),
        ({"stop_timeout": Duration.seconds(20)}, "stop_timeout", "20s", "at least the longest request (30s)"),
        ({"container_port": 70000}, "container_port", 70000, "1 to 65535"),
        ({"health_check_timeout": Duration.seconds(10)}, "health_check_timeout", "10s", "below the interval"),
        ({"healthy_threshold": 1}, "healthy_threshold", 1, "2 to 10"),
        ({"healthy_http_codes": "200-399,600"}, "healthy_http_codes", "200-399,600", "200 to 499"),
        ({"requests_per_target": 0}, "requests_per_target", 0, "1 to 1000000"),
        ({"cpu_target_percent": 101}, "cpu_target_percent", 101, "1 to 100"),
        ({"scale_in_cooldown": Duration.hours(2)}, "scale_in_cooldown", "7200s", "0 to 3600 seconds"),
        ({"web_acl_rule_groups": ["CommonRuleSet"]}, "web_acl_rule_groups", "CommonRuleSet", "AWS managed rule groups"),
    ],
)
def test_bad_input_is_refused(tmp_path: Path, overrides: dict[str, Any], field: str, value: object, fix: str) -> None:
    stack = _stack(tmp_path)
    with pytest.raises(ConfigError) as err:
        _service(stack, **overrides)
    assert err.value.subject == "portfolio-api"
    assert err.value.field == field
    assert err.value.value == value
    assert fix in err.value.fix
    assert str(err.value).startswith(f"portfolio-api: {field}=")


@pytest.mark.parametrize(
    ("warm_up", "grace", "accepted"),
    # the floor is warm-up + the worst-case time to healthy, (2 + 1) x 10 + 5 = 35 s
    [(0, 35, True), (0, 34, False), (45, 80, True), (45, 79, False)],
)
def test_the_shortest_grace_period_is_warm_up_plus_time_to_healthy(tmp_path: Path, warm_up: int, grace: int, accepted: bool) -> None:
    overrides = {"warm_up": Duration.seconds(warm_up), "health_check_grace_period": Duration.seconds(grace)}
    if accepted:
        assert _service(_stack(tmp_path), **overrides).health_check_grace_period.to_seconds() == grace
    else:
        with pytest.raises(ConfigError, match=f"health_check_grace_period='{grace}s'.* = {warm_up + 35}s"):
            _service(_stack(tmp_path), **overrides)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("cpu_target_percent", 1, True), ("cpu_target_percent", 100, True), ("cpu_target_percent", 0, False),
        ("requests_per_target", 1, True), ("requests_per_target", 1_000_000, True), ("requests_per_target", 1_000_001, False),
        ("healthy_threshold", 10, True), ("healthy_threshold", 11, False), ("unhealthy_threshold", 2, True),
        ("unhealthy_threshold", 1, False), ("container_port", 1, True), ("container_port", 65535, True),
        ("container_port", 0, False),
    ],
)
def test_scaling_and_check_inputs_at_their_bounds(tmp_path: Path, field: str, value: int, accepted: bool) -> None:
    if accepted:
        service = _service(_stack(tmp_path), **{field: value})
        assert service.service is not None
    else:
        with pytest.raises(ConfigError) as err:
            _service(_stack(tmp_path), **{field: value})
        assert (err.value.field, err.value.value) == (field, value)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("health_check_interval", 5, True), ("health_check_interval", 300, True), ("health_check_interval", 4, False),
        ("health_check_interval", 301, False), ("health_check_timeout", 2, True), ("health_check_timeout", 1, False),
        ("health_check_timeout", 120, True), ("health_check_timeout", 121, False),
        ("longest_request", 1, True), ("longest_request", 110, True), ("warm_up", 1200, True), ("warm_up", 1201, False),
    ],
)
def test_timings_at_their_bounds(tmp_path: Path, field: str, value: int, accepted: bool) -> None:
    # ELB: interval 5-300 s, timeout from 2 s; the longest request fits Fargate's 120 s stop; warm-up up to 20 min
    overrides: dict[str, Any] = {field: Duration.seconds(value)}
    if field == "health_check_interval" and accepted:
        overrides["health_check_timeout"] = Duration.seconds(min(5, value - 1))
    if field == "health_check_timeout":
        overrides["health_check_interval"] = Duration.seconds(300)  # the timeout stays below the interval
    if accepted:
        assert _service(_stack(tmp_path), **overrides).service is not None
    else:
        with pytest.raises(ConfigError) as err:
            _service(_stack(tmp_path), **overrides)
        assert (err.value.field, err.value.value) == (field, f"{value}s")


def test_a_sub_second_grace_period_reaches_cloudformation_in_whole_seconds(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    service = _service(stack, health_check_grace_period=Duration.millis(80_500))
    assert service.health_check_grace_period.to_seconds() == 81  # 80.5 s, rounded up
    _template(stack).has_resource_properties("AWS::ECS::Service", {"HealthCheckGracePeriodSeconds": 81})


def test_production_keeps_two_tasks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _service(_stack(tmp_path, "prod"), min_tasks=1)
    assert (err.value.field, err.value.value) == ("environments.prod.services.portfolio-api.min_tasks", 1)
    assert "raise min_tasks to 2" in err.value.fix


def test_sizing_the_data_refuses_is_refused_before_the_construct(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _service(_stack(tmp_path), min_tasks=4, max_tasks=3)
    assert (err.value.subject, err.value.field, err.value.value) == ("ServiceSizing", "max_tasks", 3)


@pytest.mark.parametrize(
    "path",
    ["/healthz?deep=1;reboot", "/health z", "/healthz'", "/$(id)", "/healthz\n", "healthz", "/a`b`", "//x|y"],
)
def test_health_paths_that_a_shell_or_script_would_read_as_syntax_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ConfigError, match="health_check_path"):
        _service(_stack(tmp_path), health_check_path=path.replace("\\n", "\n"))


def test_a_query_string_is_quoted_in_the_shell_check(tmp_path: Path) -> None:
    """'/healthz?deep=1&x=1' unquoted would background wget and report healthy while down."""
    command = shell_health_command(PORT, "/healthz?deep=1&x=1")
    assert command == [
        "CMD-SHELL",
        "wget -q -O /dev/null 'http://127.0.0.1:3000/healthz?deep=1&x=1' || "
        "curl -fsS -o /dev/null 'http://127.0.0.1:3000/healthz?deep=1&x=1' || exit 1",
    ]
    stack = _stack(tmp_path)
    _service(stack, health_check_path="/healthz?deep=1&x=1")
    template = _template(stack)
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::TargetGroup", {"HealthCheckPath": "/healthz?deep=1&x=1"})
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({"HealthCheck": Match.object_like({"Command": command})})]},
    )


def test_one_task_is_accepted_outside_production(tmp_path: Path) -> None:
    service = _service(_stack(tmp_path), min_tasks=1, max_tasks=2)
    assert service.sizing.min_tasks == 1


def test_zero_and_twenty_minute_warm_ups_are_accepted_with_their_grace_periods(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    none = _service(stack, warm_up=Duration.seconds(0))
    assert none.health_check_grace_period.to_seconds() == 0 + 30 + 35
    assert (none.timings.start_period_seconds, none.timings.container_interval_seconds) == (0, 10)  # checked from the start
    longest = _service(_stack(tmp_path / "b"), warm_up=Duration.minutes(20))
    assert longest.health_check_grace_period.to_seconds() == 1200 + 30 + 35
    assert (longest.timings.start_period_seconds, longest.timings.container_interval_seconds) == (300, 300)


@pytest.mark.parametrize(
    ("overrides", "grace", "datapoints"),
    [
        ({"warm_up": Duration.seconds(0)}, 65, 3),  # ceil(65 / 60) + 1
        ({"warm_up": Duration.seconds(45)}, 110, 3),  # ceil(110 / 60) + 1
        ({"warm_up": Duration.seconds(600)}, 665, 13),  # ceil(665 / 60) + 1 = 12 + 1
        ({"health_check_grace_period": Duration.seconds(120)}, 120, 3),  # exactly two periods: 2 + 1
        ({"health_check_grace_period": Duration.seconds(121)}, 121, 4),  # a second more: 3 + 1
    ],
)
def test_unhealthy_hosts_datapoints_outlast_the_grace_period(
    tmp_path: Path, overrides: dict[str, Any], grace: int, datapoints: int
) -> None:
    stack = _stack(tmp_path)
    _service(stack, **overrides)
    template = _template(stack)
    template.has_resource_properties("AWS::ECS::Service", {"HealthCheckGracePeriodSeconds": grace})
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "UnHealthyHostCount", "EvaluationPeriods": datapoints, "DatapointsToAlarm": datapoints},
    )


@pytest.mark.parametrize(
    ("overrides", "stop_timeout", "idle_timeout"),
    [
        ({"longest_request": Duration.seconds(55)}, 65, "60"),  # 55 + 5 = 60: the ALB's default is enough
        ({"longest_request": Duration.seconds(56)}, 66, "61"),  # 56 + 5 = 61: raised so the request is not cut
        ({"longest_request": Duration.seconds(30), "stop_timeout": Duration.seconds(45)}, 45, "60"),  # given, at least 30
        ({"longest_request": Duration.seconds(30), "stop_timeout": Duration.seconds(30)}, 30, "60"),  # exactly the longest
        ({"longest_request": Duration.seconds(110)}, 120, "115"),  # 110 + 10 = Fargate's 120 s ceiling
    ],
)
def test_stop_and_idle_timeouts_follow_the_longest_request(
    tmp_path: Path, overrides: dict[str, Any], stop_timeout: int, idle_timeout: str
) -> None:
    stack = _stack(tmp_path)
    _service(stack, **overrides)
    template = _template(stack)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"ContainerDefinitions": [Match.object_like({"StopTimeout": stop_timeout})]}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "idle_timeout.timeout_seconds", "Value": idle_timeout}])},
    )


@pytest.mark.parametrize(("timeout", "abort_ms"), [(5, 4000), (3, 2000), (2, 1000), (1, 1000)])
def test_the_node_probe_gives_up_a_second_before_the_check_times_out(timeout: int, abort_ms: int) -> None:
    # timeout - 1 s, but never below one second
    assert f"AbortSignal.timeout({abort_ms})" in node_health_command(3000, "/healthz", timeout)[3]


# --- The sample app: portfolio-api in every environment -------------------------------------


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_portfolio_api_runs_in_every_environment(sample_app: SampleApp, env_name: str) -> None:
    environment = sample_app.config.environment(env_name)
    stage = sample_app.stages[env_name]
    template = template_of(stage.api)
    sizing = environment.sizing("portfolio-api")
    assert stage.api.web.rollout_batch_seconds == 60 + 45 + 35 + 30 == 170
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": str(sizing.cpu),
            "Memory": str(sizing.memory_mib),
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "portfolio-api",
                        "HealthCheck": Match.object_like({"Command": node_health_command(3000, "/healthz"), "StartPeriod": 45}),
                        "PortMappings": [Match.object_like({"ContainerPort": 3000})],
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": sizing.min_tasks, "MaxCapacity": sizing.max_tasks}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Certificates": [{"CertificateArn": environment.certificate_arn}]}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "deletion_protection.enabled", "Value": "true" if environment.production else "false"}]
            )
        },
    )
    task = next(iter(template.find_resources("AWS::ECS::TaskDefinition").values()))
    image = json.dumps(task["Properties"]["ContainerDefinitions"][0]["Image"])
    assert f"portfolio-api:{environment.image_tag('portfolio-api')}" in image
    assert sample_app.config.tooling.account in image
    if environment.production:
        assert sizing.min_tasks >= 2  # production keeps two tasks


def test_stateful_resources_keep_their_logical_ids(sample_app: SampleApp) -> None:
    """Renaming one of these replaces it: logs and access logs would be orphaned (retained)
    and a new load balancer would get a new DNS name."""
    for env_name in ("dev", "staging", "prod"):
        template = template_of(sample_app.stages[env_name].api)
        for logical_id, kind in (
            ("PortfolioApiLogs2E62B71B", "AWS::Logs::LogGroup"),
            ("PortfolioApiWafLogs2C81E955", "AWS::Logs::LogGroup"),
            ("PortfolioApiAccessLogs193280DB", "AWS::S3::Bucket"),
            ("PortfolioApiLoadBalancer5581E34E", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
            ("PortfolioApiService15ECD4A2", "AWS::ECS::Service"),
        ):
            assert logical_id in template.find_resources(kind), f"{env_name}: {logical_id} ({kind}) was renamed"


def test_the_certificate_comes_from_the_environment(tmp_path: Path) -> None:
    service = _service(_stack(tmp_path, "prod"), min_tasks=3)
    template = _template(Stack.of(service))
    prod_certificate = "arn:aws:acm:eu-west-2:333333333333:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Certificates": [{"CertificateArn": prod_certificate}]}
    )


def test_sub_second_warm_up_rounds_up(tmp_path: Path) -> None:
    service = _service(_stack(tmp_path), warm_up=Duration.millis(500))
    assert service.health_check_grace_period.to_seconds() == 1 + 30 + 35


def test_library_wrappers_are_accepted_for_cluster_and_key(tmp_path: Path) -> None:
    from stable_fargate import AlarmTopic, HardenedCluster, PlatformKey

    stack = _stack(tmp_path)
    vpc = ec2.Vpc(
        stack, "Net", availability_zones=["eu-west-2a", "eu-west-2b"], nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Edge", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    cluster = HardenedCluster(stack, "Cluster2", vpc=vpc)
    key = PlatformKey(stack, "Key", description="t")
    alarms = AlarmTopic(stack, "Alarms", key=key.key)
    config = load_config(stack.node.root)  # type: ignore[arg-type]
    service = StableWebService(
        stack, "Wrapped", service_name="portfolio-api", environment=config.environment("staging"),
        container_port=PORT, health_check_path=PATH, warm_up=Duration.seconds(WARM_UP_SECONDS),
        cluster=cluster, key=key, alarm_topic=alarms,
    )
    assert service.alarm_topic is alarms.topic and service.key is key.key
    assert service.service.cluster is cluster.cluster


def test_waf_metrics_logs_and_access_logs_are_named_after_the_service(defaults_service: tuple[StableWebService, Template]) -> None:
    _, template = defaults_service
    (acl,) = template.find_resources("AWS::WAFv2::WebACL").values()
    assert acl["Properties"]["VisibilityConfig"] == {
        "CloudWatchMetricsEnabled": True, "MetricName": "portfolio-api-waf", "SampledRequestsEnabled": True,
    }
    assert [r["VisibilityConfig"]["MetricName"] for r in acl["Properties"]["Rules"]] == [
        "portfolio-api-waf-AWSManagedRulesAmazonIpReputationList",
        "portfolio-api-waf-AWSManagedRulesKnownBadInputsRuleSet",
        "portfolio-api-waf-AWSManagedRulesCommonRuleSet",
    ]
    # WAF logs only to log groups named aws-waf-logs-*: the stack's and the service's name follow.
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": "aws-waf-logs-Web-portfolio-api"})
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "access_logs.s3.prefix", "Value": "portfolio-api"}])},
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {"LifecycleConfiguration": {"Rules": [Match.object_like(
            {"Id": "ExpireAccessLogs", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
        )]}},
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"container_health_command": []}, "container_health_command"),
        ({"health_check_grace_period": Duration.seconds(2_147_483_648)}, "health_check_grace_period"),  # ECS's ceiling + 1
    ],
)
def test_an_empty_health_command_and_an_endless_grace_period_are_refused(tmp_path: Path, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        _service(_stack(tmp_path), **overrides)
    assert err.value.field == field


def test_the_longest_grace_period_ecs_accepts_is_accepted(tmp_path: Path) -> None:
    service = _service(_stack(tmp_path), health_check_grace_period=Duration.seconds(2_147_483_647))
    assert service.health_check_grace_period.to_seconds() == 2_147_483_647
