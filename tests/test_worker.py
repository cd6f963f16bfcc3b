"""QueueWorker: every default asserted on the template, every refusal, the pinned queue IDs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from stable_fargate import AccountRegion, ConfigError
from stable_fargate.services.worker import (
    QUEUE_URL_KEY,
    TASK_PROTECTION_ACTIONS,
    QueueWorker,
    derive_stop_timeout,
    derive_visibility_timeout,
)
from tests.conftest import SampleApp, template_json, with_overrides

REGISTRY = AccountRegion("100000000000", "eu-west-2")
SERVICE = Match.string_like_regexp("WorkerService")
DLQ = Match.string_like_regexp("WorkerDeadLetterQueue")


def platform(stack: Stack, azs: tuple[str, ...]) -> dict[str, Any]:
    vpc = ec2.Vpc(
        stack, "Vpc", availability_zones=list(azs), nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    return {
        "cluster": ecs.Cluster(stack, "Cluster", vpc=vpc, enable_fargate_capacity_providers=True),
        "key": kms.Key(stack, "Key", enable_key_rotation=True),
        "alarm_topic": sns.Topic(stack, "Topic"),
    }


def worker_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "service_name": "portfolio-import",
        "average_processing_time": Duration.seconds(2),
        "longest_processing_time": Duration.seconds(20),
        "acceptable_latency": Duration.seconds(60),
    }
    props.update(overrides)
    return props


@pytest.fixture
def build(env_stack: Any) -> Any:
    """build(env, **props) -> (worker, Template) in that environment of the sample data (prod:
    1 to 20 tasks). Sizing and environment fields among the props modify the environment."""

    def factory(env: str = "prod", **overrides: Any) -> tuple[QueueWorker, Template]:
        es = env_stack(env)
        environment, rest = with_overrides(es.environment, "portfolio-import", overrides)
        worker = QueueWorker(
            es.stack, "Worker", environment=environment, **platform(es.stack, es.environment.availability_zones),
            **worker_props(**rest),
        )
        return worker, es.template()

    return factory


def by_type(template: Template, resource_type: str) -> dict[str, Any]:
    return dict(template.find_resources(resource_type))


# --- Queues -------------------------------------------------------------------------------


def test_queue_defaults(build: Any) -> None:
    worker, template = build()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "KmsMasterKeyId": Match.any_value(),
            "ReceiveMessageWaitTimeSeconds": 20,  # long polling at SQS's maximum
            "VisibilityTimeout": 40,  # 2 x the longest message (20 s): no second worker on a slow one
            "MessageRetentionPeriod": 4 * 86400,  # SQS's default, four days
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5},  # DLQ on the fifth receive
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        # 14 days, SQS's maximum: longer than the source, or a message expires on arrival
        {"KmsMasterKeyId": Match.any_value(), "MessageRetentionPeriod": 14 * 86400},
    )
    assert worker.visibility_timeout_seconds == 40


def test_both_queues_refuse_non_tls_requests(build: Any) -> None:
    _, template = build()
    policies = by_type(template, "AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


@pytest.mark.parametrize(("retain", "policy"), [(True, "RetainExceptOnCreate"), (False, "Delete")])
def test_queues_are_retained_when_the_environment_keeps_data(build: Any, retain: bool, policy: str) -> None:
    _, template = build(retain_data=retain)
    queues = by_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    assert {q["DeletionPolicy"] for q in queues.values()} == {policy}


def test_visibility_timeout_is_derived_and_checked() -> None:
    assert derive_visibility_timeout("w", 20, None) == 40
    assert derive_visibility_timeout("w", 20, 300) == 300
    with pytest.raises(ConfigError) as err:
        derive_visibility_timeout("portfolio-import", 20, 30)
    assert (err.value.subject, err.value.field, err.value.value) == ("portfolio-import", "visibility_timeout", "30s")
    assert "at least 40s" in str(err.value)


def test_visibility_timeout_is_never_below_the_stop_timeout() -> None:
    """A 5 s message stops in 5 + 10 s: a visibility timeout of 2 x 5 s would hand a stopping
    task's message to another worker, and the pack's SF-QUEUE2 would fail the app's synth."""
    assert derive_visibility_timeout("w", 5, None, stop_timeout_seconds=15) == 15
    assert derive_visibility_timeout("w", 20, None, stop_timeout_seconds=30) == 40  # 2 x 20 s is already longer
    with pytest.raises(ConfigError, match=r"at least 15s \(2x the longest processing time of 5s, raised to the stop timeout of 15s\)"):
        derive_visibility_timeout("w", 5, 10, stop_timeout_seconds=15)


def test_visibility_below_twice_the_longest_is_refused_by_the_construct(build: Any) -> None:
    with pytest.raises(ConfigError, match="portfolio-import: visibility_timeout='39s'"):
        build(visibility_timeout=Duration.seconds(39))


# --- Task ---------------------------------------------------------------------------------


def test_task_is_arm64_with_a_stop_timeout_covering_the_longest_message(build: Any) -> None:
    worker, template = build()
    assert worker.stop_timeout_seconds == 20 + 10  # the longest message, then 10 s to delete it and flush logs
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},  # Graviton
            # prod's sizing of portfolio-import in cdk.json
            "Cpu": "1024",
            "Memory": "2048",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "StopTimeout": 30,  # longest message 20 s + 10 s to delete it and flush logs
                        "ReadonlyRootFilesystem": True,
                        "User": "1000:1000",  # never root
                        "Environment": Match.array_with([{"Name": QUEUE_URL_KEY, "Value": Match.any_value()}]),
                    }
                )
            ],
        },
    )


@pytest.mark.parametrize(("longest", "stop"), [(1, 11), (20, 30), (109, 119), (110, 120)])  # longest + 10 s
def test_stop_timeout_is_the_longest_message_plus_ten_seconds(longest: int, stop: int) -> None:
    assert derive_stop_timeout("w", longest, uses_task_protection=False) == stop
    assert derive_stop_timeout("w", longest, uses_task_protection=True) == stop


@pytest.mark.parametrize(
    ("longest", "given", "visibility"),
    [(20, None, 40), (1, None, 2), (20, 40, 40), (20, 41, 41), (20, 300, 300), (21_600, None, 43_200), (20, 43_200, 43_200)],
)
def test_visibility_timeout_worked_examples(longest: int, given: int | None, visibility: int) -> None:
    # 2 x the longest message, or the given value when it is at least that; SQS's ceiling is 12 h (43,200 s)
    assert derive_visibility_timeout("w", longest, given) == visibility


def test_stop_timeout_above_fargate_maximum_needs_task_protection() -> None:
    assert derive_stop_timeout("w", 110, uses_task_protection=False) == 120  # 110 + 10: exactly Fargate's ceiling
    with pytest.raises(ConfigError) as err:
        derive_stop_timeout("portfolio-import", 111, uses_task_protection=False)
    assert err.value.field == "longest_processing_time"
    assert "uses_task_protection=True" in str(err.value)
    assert derive_stop_timeout("w", 111, uses_task_protection=True) == 120  # capped at Fargate's ceiling
    assert derive_stop_timeout("w", 600, uses_task_protection=True) == 120


def test_long_messages_with_task_protection_get_the_maximum_stop_timeout(build: Any) -> None:
    worker, _ = build(
        longest_processing_time=Duration.minutes(10), acceptable_latency=Duration.minutes(30), uses_task_protection=True
    )
    assert worker.stop_timeout_seconds == 120  # Fargate's ceiling; task protection covers the rest
    assert worker.visibility_timeout_seconds == 1200


def test_task_may_protect_itself_within_its_cluster_only(build: Any) -> None:
    _, template = build()
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": sorted(TASK_PROTECTION_ACTIONS),
                        "Effect": "Allow",
                        "Resource": {
                            "Fn::Join": [
                                "",
                                [
                                    Match.string_like_regexp(r"arn:aws:ecs:eu-west-2:\d{12}:task/"),
                                    {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": Match.string_like_regexp("WorkerService")}]}]},
                                    "/*",
                                ],
                            ]
                        },
                    }
                ],
                "Version": "2012-10-17",
            }
        },
    )


def test_task_role_consumes_only_its_queue(build: Any) -> None:
    _, template = build()
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["sqs:DeleteMessage", "sqs:ReceiveMessage"]),
                                "Resource": {"Fn::GetAtt": [Match.string_like_regexp("WorkerQueue"), "Arn"]},
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize("cpu_memory", [(384, 1024), (512, 512)])
def test_invalid_fargate_size_is_refused(build: Any, cpu_memory: tuple[int, int]) -> None:
    with pytest.raises(ConfigError, match=r"portfolio-import: (cpu|memory_mib)="):
        build(cpu=cpu_memory[0], memory_mib=cpu_memory[1])


# --- Service and capacity -----------------------------------------------------------------


def test_service_runs_on_spot_with_an_on_demand_base_and_share(build: Any) -> None:
    worker, template = build(production=True)
    assert worker.on_demand_base == 1  # the first task never waits for Spot capacity
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "CapacityProviderStrategy": [
                {"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1},  # one task in five on demand above the base
                {"CapacityProvider": "FARGATE_SPOT", "Weight": 4},
            ],
            "DeploymentConfiguration": {
                "MinimumHealthyPercent": 100,  # new workers start before old ones stop: the backlog drains
                "MaximumPercent": 200,  # a full new set beside the old
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
            },
            "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})},
            "PlatformVersion": "LATEST",
            "EnableECSManagedTags": True,  # tasks carry the cluster and service, for cost allocation
            "PropagateTags": "SERVICE",
        },
    )
    service = next(iter(by_type(template, "AWS::ECS::Service").values()))
    # A deploy must not reset a scaled-out worker to its minimum.
    assert "DesiredCount" not in service["Properties"]
    assert "LaunchType" not in service["Properties"]


def test_non_production_keeps_the_same_on_demand_fallback(build: Any) -> None:
    # ECS does not fall back from Spot when Spot has no capacity: dev keeps a base too.
    worker, template = build(env="dev", production=False, min_tasks=0)
    assert worker.on_demand_base == 1
    template.has_resource_properties(
        "AWS::ECS::Service",
        {"CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Base": 1, "Weight": 1}, Match.any_value()]},
    )


def test_an_explicit_zero_base_still_keeps_an_on_demand_share(build: Any) -> None:
    _, template = build(env="dev", production=False, min_tasks=0, on_demand_base=0)
    template.has_resource_properties(
        "AWS::ECS::Service",
        {"CapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Base": 0, "Weight": 1}, Match.any_value()]},
    )


def test_production_refuses_a_worker_that_scales_to_zero(build: Any) -> None:
    with pytest.raises(ConfigError) as err:
        build(production=True, min_tasks=0)
    assert (err.value.subject, err.value.field, err.value.value) == (
        "portfolio-import", "environments.prod.services.portfolio-import.min_tasks", 0,
    )
    assert "15 minutes" in str(err.value)


def test_security_group_admits_nothing(build: Any) -> None:
    _, template = build()
    for group in by_type(template, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]


def test_task_counts_are_checked_by_the_sizing_model(build: Any) -> None:
    """The environment's sizing is data: its rules refuse it once, wherever it is built."""
    with pytest.raises(ConfigError) as err:
        build(min_tasks=5, max_tasks=2)
    assert (err.value.subject, err.value.field, err.value.value) == ("ServiceSizing", "max_tasks", 2)
    with pytest.raises(ConfigError, match="max_tasks=0"):
        build(env="dev", min_tasks=0, max_tasks=0)
    with pytest.raises(ConfigError, match="on_demand_base=-1"):
        build(on_demand_base=-1)


def test_processing_slower_than_latency_is_refused(build: Any) -> None:
    with pytest.raises(ConfigError) as err:
        build(average_processing_time=Duration.seconds(90), longest_processing_time=Duration.seconds(100))
    assert (err.value.subject, err.value.field) == ("portfolio-import", "average_processing_time")


# --- Scaling ------------------------------------------------------------------------------


def test_scalable_target_spans_min_to_max(build: Any) -> None:
    _, template = build(env="dev", production=False, min_tasks=0, max_tasks=20)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 0, "MaxCapacity": 20, "ScalableDimension": "ecs:service:DesiredCount", "ServiceNamespace": "ecs"},
    )


def test_target_tracking_on_tasks_needed_per_running_task(build: Any) -> None:
    worker, template = build()
    assert worker.backlog_target == 15  # half of 60 s at 2 s per message

    def queue_query(query_id: str, metric: str) -> dict[str, Any]:
        return {
            "Id": query_id,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [Match.string_like_regexp("WorkerQueue"), "QueueName"]}}],
                },
                "Stat": "Sum",
            },
        }

    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 1,  # as many tasks run as the queue needs
                "ScaleOutCooldown": 60,
                "ScaleInCooldown": 300,  # a dip does not start a saw-tooth of launches
                "DisableScaleIn": False,
                "CustomizedMetricSpecification": {
                    "Metrics": [
                        queue_query("visible", "ApproximateNumberOfMessagesVisible"),
                        queue_query("inflight", "ApproximateNumberOfMessagesNotVisible"),
                        queue_query("sent", "NumberOfMessagesSent"),
                        {
                            "Id": "running",
                            "ReturnData": False,
                            "MetricStat": {
                                "Metric": {
                                    "Namespace": "ECS/ContainerInsights",
                                    "MetricName": "RunningTaskCount",
                                    "Dimensions": [
                                        {"Name": "ClusterName", "Value": Match.any_value()},
                                        {"Name": "ServiceName", "Value": {"Fn::GetAtt": [SERVICE, "Name"]}},
                                    ],
                                },
                                "Stat": "Average",
                            },
                        },
                        {"Id": "backlog", "Expression": "(visible + inflight) / 15", "Label": Match.any_value(), "ReturnData": False},
                        # 2 s a message, 60 s a minute at 80 % utilization: 48 s of work per task-minute
                        {"Id": "arrivals", "Expression": "sent * 2 / 48", "Label": Match.any_value(), "ReturnData": False},
                        {"Id": "needed", "Expression": "IF(backlog > arrivals, backlog, arrivals)", "Label": Match.any_value(),
                         "ReturnData": False},
                        {"Id": "neededpertask", "Expression": "needed / running", "Label": Match.any_value(), "ReturnData": True},
                    ]
                },
            },
        },
    )


def test_the_service_records_what_the_work_is_like_for_the_review(build: Any) -> None:
    _, template = build()
    (service,) = template.find_resources("AWS::ECS::Service").values()
    assert service["Metadata"]["stable_fargate"] == {
        "average_processing_seconds": 2, "longest_processing_seconds": 20, "acceptable_latency_seconds": 60,
    }


def test_warm_windows_raise_and_restore_the_minimum_on_schedule(build: Any) -> None:
    from stable_fargate.scaling import WarmWindow

    _, template = build(warm_windows=[WarmWindow(schedule="25 8 * * ? *", time_zone="Europe/London", tasks=30, duration_minutes=40)])
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 1,
            "ScheduledActions": [
                # capped at prod's max_tasks (20)
                {"ScheduledActionName": "Warm0Start", "Schedule": "cron(25 8 * * ? *)", "Timezone": "Europe/London",
                 "ScalableTargetAction": {"MinCapacity": 20}},
                {"ScheduledActionName": "Warm0End", "Schedule": "cron(5 9 * * ? *)", "Timezone": "Europe/London",
                 "ScalableTargetAction": {"MinCapacity": 1}},
            ],
        },
    )


def test_a_weekday_warm_window_keeps_its_day_of_week(build: Any) -> None:
    from stable_fargate.scaling import WarmWindow

    window = WarmWindow(schedule="0 7 ? * MON-FRI *", time_zone="Europe/London", tasks=3, duration_minutes=90)
    _, template = build(warm_windows=[window])
    (target,) = by_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert [(a["Schedule"], a["ScalableTargetAction"]) for a in target["Properties"]["ScheduledActions"]] == [
        ("cron(0 7 ? * MON-FRI *)", {"MinCapacity": 3}),  # weekdays at 07:00: three tasks
        ("cron(30 8 ? * MON-FRI *)", {"MinCapacity": 1}),  # 90 minutes later: prod's minimum again
    ]


def test_one_signal_per_direction_no_cpu_policy(build: Any) -> None:
    _, template = build()
    policies = by_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == 3
    kinds = sorted(p["Properties"]["PolicyType"] for p in policies.values())
    assert kinds == ["StepScaling", "StepScaling", "TargetTrackingScaling"]
    for policy in policies.values():
        config = policy["Properties"].get("TargetTrackingScalingPolicyConfiguration", {})
        assert "PredefinedMetricSpecification" not in config  # no CPU policy pulling the other way


def _step_adjustments(template: Template, adjustment_type: str) -> list[dict[str, int]]:
    (policy,) = [
        p for p in by_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if p["Properties"].get("StepScalingPolicyConfiguration", {}).get("AdjustmentType") == adjustment_type
    ]
    config = policy["Properties"]["StepScalingPolicyConfiguration"]
    assert config["MetricAggregationType"] == "Maximum"
    return list(config["StepAdjustments"])


def _alarm_with_expression(template: Template, fragment: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"] for a in by_type(template, "AWS::CloudWatch::Alarm").values()
        if any(fragment in m.get("Expression", "") for m in a["Properties"].get("Metrics", []))
    ]
    return alarm


def test_wake_policy_sets_the_exact_capacity_from_sqs_metrics_alone(build: Any) -> None:
    """From zero, Container Insights may publish nothing: waking reads only the queue's own
    metrics, and re-invocations every minute set the same capacity instead of adding it again."""
    _, template = build(max_tasks=3)
    assert _step_adjustments(template, "ExactCapacity") == [
        {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 2, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 2, "MetricIntervalUpperBound": 3, "ScalingAdjustment": 2},
        {"MetricIntervalLowerBound": 3, "ScalingAdjustment": 3},
    ]
    alarm = _alarm_with_expression(template, "CEIL(visible / 15), 0)")
    expressions = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expressions == [
        "IF(visible > 0 AND inflight == 0 AND (FILL(received, 0) + FILL(empty, 0)) == 0, CEIL(visible / 15), 0)"
    ]
    namespaces = {m["MetricStat"]["Metric"]["Namespace"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert namespaces == {"AWS/SQS"}  # nothing from ECS or Container Insights
    names = {m["Id"]: (m["MetricStat"]["Metric"]["MetricName"], m["MetricStat"]["Stat"]) for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {
        "visible": ("ApproximateNumberOfMessagesVisible", "Maximum"),
        "inflight": ("ApproximateNumberOfMessagesNotVisible", "Maximum"),
        "received": ("NumberOfMessagesReceived", "Sum"),
        "empty": ("NumberOfEmptyReceives", "Sum"),
    }
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (0, 1, 1)


def test_wake_bands_for_a_large_maximum_never_start_fewer_than_needed(build: Any) -> None:
    worker, _ = build(max_tasks=50)
    bands = worker.wake_bands
    assert len(bands) <= 20  # Application Auto Scaling's step quota
    for needed in range(1, 60):
        started = next(b.add for b in bands if needed >= b.lower and (b.upper is None or needed < b.upper))
        assert started >= min(needed, 50)


def test_burst_adds_the_missing_tasks_while_tasks_consume(build: Any) -> None:
    _, template = build(max_tasks=3)
    # A shortfall of 1 adds 1, of 2 adds 2, of 3 or more adds 3 (capped at max_tasks).
    assert _step_adjustments(template, "ChangeInCapacity") == [
        {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 2, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 2, "MetricIntervalUpperBound": 3, "ScalingAdjustment": 2},
        {"MetricIntervalLowerBound": 3, "ScalingAdjustment": 3},
    ]
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"StepScalingPolicyConfiguration": Match.object_like({"AdjustmentType": "ChangeInCapacity", "Cooldown": 180})},
    )
    alarm = _alarm_with_expression(template, "- desired")
    expressions = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    # No FILL on desired: without a Container Insights datapoint the burst does nothing.
    assert expressions == [
        "IF((inflight > 0 OR (FILL(received, 0) + FILL(empty, 0)) > 0) AND visible > desired * 15, "
        "CEIL(visible / 15) - desired, 0)"
    ]
    desired = next(m for m in alarm["Metrics"] if m["Id"] == "desired")
    assert desired["MetricStat"]["Metric"]["MetricName"] == "DesiredTaskCount"
    assert desired["MetricStat"]["Period"] == 60


# --- Alarms -------------------------------------------------------------------------------


def test_alarms_go_to_the_environment_topic_and_say_ok(build: Any) -> None:
    _, template = build(env="dev", production=False, min_tasks=0)
    topic = {"Ref": Match.string_like_regexp("Topic")}
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateAgeOfOldestMessage",
            "Namespace": "AWS/SQS",
            "Statistic": "Maximum",
            "Period": 60,
            # min_tasks 0: acceptable latency 60 + cold start 180 + SQS metrics resuming after 6 idle hours 900.
            "Threshold": 1140,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [topic],
            "OKActions": [topic],
        },
    )


def test_dead_letter_alarm_pages_on_every_arrival(build: Any) -> None:
    """Alarming on "visible >= 1" pages once and stays in ALARM; the growth of the DLQ pages
    for every new poison message, and the alarm says OK when arrivals stop."""
    _, template = build()
    alarm = _alarm_with_expression(template, "DIFF(")
    assert [m["Expression"] for m in alarm["Metrics"] if "Expression" in m] == ["DIFF(FILL(visible, 0))"]
    visible = next(m for m in alarm["Metrics"] if m["Id"] == "visible")
    (dimension,) = visible["MetricStat"]["Metric"]["Dimensions"]
    assert dimension["Name"] == "QueueName"
    assert dimension["Value"]["Fn::GetAtt"][0].startswith("WorkerDeadLetterQueue")
    assert (visible["MetricStat"]["Metric"]["MetricName"], visible["MetricStat"]["Stat"]) == (
        "ApproximateNumberOfMessagesVisible", "Maximum",
    )
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["TreatMissingData"]) == (2, 1, "notBreaching")
    (action,) = alarm["AlarmActions"]
    assert action["Ref"].startswith("Topic")
    assert alarm["OKActions"] == [action]


# --- The sample app -----------------------------------------------------------------------

PINNED_QUEUE_IDS = {
    "PortfolioImportQueue0DB71892": "AWS::SQS::Queue",
    "PortfolioImportDeadLetterQueue52B3F679": "AWS::SQS::Queue",
    "ReconciliationFailedRuns3F5A377B": "AWS::SQS::Queue",
}


def test_queue_logical_ids_are_pinned_in_every_environment(sample_app: SampleApp) -> None:
    """Renaming one of these makes CloudFormation replace the queue: its messages are lost."""
    workers = {env: stack for env, stack in sample_app.stacks() if stack.node.id == "Workers"}
    assert sorted(workers) == ["dev", "prod", "staging"]
    for env, stack in workers.items():
        resources = template_json(stack)["Resources"]
        for logical_id, resource_type in PINNED_QUEUE_IDS.items():
            assert logical_id in resources, f"{env}: {logical_id} was renamed"
            assert resources[logical_id]["Type"] == resource_type
            assert resources[logical_id]["DeletionPolicy"] == ("Delete" if env == "dev" else "RetainExceptOnCreate")


def test_portfolio_import_is_sized_per_environment(sample_app: SampleApp) -> None:
    # prod keeps a task (SQS metrics stop after six idle hours); every environment keeps one on demand.
    expected = {"dev": (0, 2, 1), "staging": (0, 5, 1), "prod": (1, 20, 1)}
    for env, stack in sample_app.stacks():
        if stack.node.id != "Workers":
            continue
        template = Template.from_json(template_json(stack))
        low, high, base = expected[env]
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": low, "MaxCapacity": high}
        )
        template.has_resource_properties(
            "AWS::ECS::Service",
            {"CapacityProviderStrategy": Match.array_with([{"CapacityProvider": "FARGATE", "Base": base, "Weight": 1}])},
        )
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            {"TargetTrackingScalingPolicyConfiguration": Match.object_like({"TargetValue": 1})},
        )


def test_sub_second_processing_times_are_accepted(build: Any) -> None:
    worker, _ = build(
        average_processing_time=Duration.millis(500),
        longest_processing_time=Duration.millis(1500),
        acceptable_latency=Duration.seconds(30),
    )
    assert worker.backlog_target == 30  # ceil(0.5 x 30 s / 0.5 s)
    # Whole seconds, rounded up: ceil(1.5 s) + the 10 s stop margin; the visibility timeout is
    # raised from 2 x 2 s to that stop timeout (SF-QUEUE2).
    assert (worker.stop_timeout_seconds, worker.visibility_timeout_seconds) == (12, 12)


def test_production_is_the_default_so_one_task_always_runs(build: Any) -> None:
    worker, template = build()
    assert worker.on_demand_base == 1
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 1})


def test_oldest_message_alarm_is_the_latency_when_a_task_always_runs(build: Any) -> None:
    worker, template = build(min_tasks=1)
    assert worker.oldest_message_threshold_seconds == 60
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "ApproximateAgeOfOldestMessage", "Threshold": 60}
    )


def test_scaling_uses_the_service_linked_role(build: Any) -> None:
    _, template = build()
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 1)
    (target,) = by_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert "AWSServiceRoleForApplicationAutoScaling_ECSService" in str(target["Properties"]["RoleARN"])
    roles = by_type(template, "AWS::IAM::Role")
    assert not [name for name in roles if "ScalableTarget" in name or "TaskCount" in name]


def test_visibility_beyond_sqs_limit_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"visibility_timeout=.*43200s"):
        derive_visibility_timeout("w", 30_000, None)
    with pytest.raises(ConfigError, match="visibility_timeout='50000s'"):
        derive_visibility_timeout("w", 20, 50_000)


def test_queue_url_is_reserved(build: Any) -> None:
    from stable_fargate import ResolvedParameters

    with pytest.raises(ConfigError, match=r"parameters\.QUEUE_URL"):
        build(parameters=ResolvedParameters("portfolio-import", "prod", plain={QUEUE_URL_KEY: "https://elsewhere"}))


def test_sample_import_timeout_fits_the_declared_longest_processing(config: Any) -> None:
    """The app's own timeout must not outlast what the worker was sized for, or a message
    would be handed to a second worker (visibility) or killed on scale-in (stop timeout)."""
    from stacks.app import load_parameters
    from stacks.workers import PORTFOLIO_IMPORT, PORTFOLIO_IMPORT_LONGEST_PROCESSING

    parameters = load_parameters(config)
    for env in config.environments:
        timeout = int(parameters.resolve(PORTFOLIO_IMPORT, env.name).plain["IMPORT_TIMEOUT"])
        assert timeout <= PORTFOLIO_IMPORT_LONGEST_PROCESSING.to_seconds(), env.name


def test_on_demand_base_above_max_is_refused(build: Any) -> None:
    with pytest.raises(ConfigError, match=r"on_demand_base=3 .*at most max_tasks \(2\)"):
        build(on_demand_base=3, max_tasks=2)


@pytest.mark.parametrize(("latency", "accepted"), [(Duration.hours(12), True), (Duration.seconds(43_201), False)])
def test_acceptable_latency_is_at_most_twelve_hours(build: Any, latency: Duration, accepted: bool) -> None:
    props = {"acceptable_latency": latency, "average_processing_time": Duration.seconds(2)}
    if accepted:
        worker, _ = build(**props)
        assert worker.oldest_message_threshold_seconds == 43_200  # prod keeps a task: no cold start on top
    else:
        with pytest.raises(ConfigError) as err:
            build(**props)
        assert (err.value.field, err.value.value) == ("acceptable_latency", "43201s")
        assert "at most 12 h" in err.value.fix  # CloudWatch evaluates at most a day


@pytest.mark.parametrize(
    ("field", "value"),
    [("average_processing_time", Duration.seconds(0)), ("longest_processing_time", Duration.seconds(0)),
     ("acceptable_latency", Duration.seconds(0)), ("visibility_timeout", Duration.seconds(0))],
)
def test_durations_must_be_positive(build: Any, field: str, value: Duration) -> None:
    with pytest.raises(ConfigError) as err:
        build(**{field: value})
    assert (err.value.field, err.value.value, err.value.fix) == (field, "0s", "Give a positive duration.")


def _worker_and_job(env_stack: Any) -> tuple[QueueWorker, Any, Any]:
    from stable_fargate.services.job import ScheduledJob

    es = env_stack("prod")
    shared = platform(es.stack, es.environment.availability_zones)
    worker = QueueWorker(es.stack, "Worker", environment=es.environment, **shared, **worker_props())
    job = ScheduledJob(
        es.stack, "Job", environment=es.environment, service_name="reconciliation", schedule="0 2 * * ? *",
        time_zone="Europe/London", max_runtime=Duration.hours(1), **shared,
    )
    return worker, job, es


def test_a_producer_gets_the_queue_url_and_the_right_to_send(env_stack: Any) -> None:
    worker, job, es = _worker_and_job(env_stack)
    worker.allow_producer(job, url_key="IMPORT_QUEUE_URL")
    assert worker.producers == ("reconciliation",)
    template = es.template()
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({
            "Name": "reconciliation",
            "Environment": Match.array_with([{"Name": "IMPORT_QUEUE_URL", "Value": {"Ref": Match.string_like_regexp("WorkerQueue")}}]),
        })]},
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": Match.array_with(["sqs:SendMessage"]),
            "Resource": {"Fn::GetAtt": [Match.string_like_regexp("WorkerQueue"), "Arn"]},
        })])}, "Roles": [{"Ref": Match.string_like_regexp("JobTaskDefinitionTaskRole")}]},
    )


@pytest.mark.parametrize(
    ("producer", "url_key", "field"),
    [
        ("job", "import_queue_url", "url_key"),  # upper-case only
        ("job", "AWS_QUEUE_URL", "url_key"),  # the SDK's namespace
        ("job", "ECS_QUEUE", "url_key"),  # the agent's
        ("worker", "IMPORT_QUEUE_URL", "producer"),  # a worker consumes its own queue already
        ("nothing", "IMPORT_QUEUE_URL", "producer"),
    ],
)
def test_producers_and_keys_that_cannot_work_are_refused(env_stack: Any, producer: str, url_key: str, field: str) -> None:
    worker, job, _ = _worker_and_job(env_stack)
    given = {"job": job, "worker": worker, "nothing": object()}[producer]
    with pytest.raises(ConfigError) as err:
        worker.allow_producer(given, url_key=url_key)
    assert err.value.field == field
    assert worker.producers == ()


def test_a_key_the_producer_declares_is_not_overwritten(env_stack: Any) -> None:
    worker, job, _ = _worker_and_job(env_stack)
    declared = next(iter(job.parameters.plain))  # LOG_LEVEL, shared by every service
    with pytest.raises(ConfigError) as err:
        worker.allow_producer(job, url_key=declared)
    assert (err.value.subject, err.value.field) == ("reconciliation", f"parameters.{declared}")
