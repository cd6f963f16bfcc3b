"""ScheduledJob: schedule, retries, DLQ, the failed-run alarm, the task hardening, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk.assertions import Match, Template

from stable_fargate import AccountRegion, ConfigError, ImageRef
from stable_fargate.schedules import check_time_zone, parse_cron
from stable_fargate.services.job import ScheduledJob
from tests.conftest import SampleApp, template_json, with_overrides
from tests.test_worker import platform

REGISTRY = AccountRegion("100000000000", "eu-west-2")


def job_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "service_name": "reconciliation",
        "schedule": "0 2 * * ? *",
        "time_zone": "Europe/London",
        "max_runtime": Duration.hours(1),
    }
    props.update(overrides)
    return props


@pytest.fixture
def build(env_stack: Any) -> Any:
    def factory(env: str = "prod", **overrides: Any) -> tuple[ScheduledJob, Template]:
        es = env_stack(env)
        environment, rest = with_overrides(es.environment, "reconciliation", overrides)
        job = ScheduledJob(
            es.stack, "Job", environment=environment, **platform(es.stack, es.environment.availability_zones), **job_props(**rest)
        )
        return job, es.template()

    return factory


# --- Cron and time zone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("0 2 * * ? *", ("0", "2", "*", "*", "?", "*")),
        ("cron(0 2 * * ? *)", ("0", "2", "*", "*", "?", "*")),  # the cron( ) wrapper is taken off
        ("30 6 ? * MON-FRI *", ("30", "6", "?", "*", "MON-FRI", "*")),
        ("0/15 * * * ? *", ("0/15", "*", "*", "*", "?", "*")),
        ("0 8 1,15 * ? *", ("0", "8", "1,15", "*", "?", "*")),
        ("0 3 L * ? *", ("0", "3", "L", "*", "?", "*")),
        ("0 3 ? * 6#3 *", ("0", "3", "?", "*", "6#3", "*")),
        ("0 0 1 JAN ? 2030", ("0", "0", "1", "JAN", "?", "2030")),
        ("5 4 ? * SUN *", ("5", "4", "?", "*", "SUN", "*")),
        ("59 23 31 12 ? 2199", ("59", "23", "31", "12", "?", "2199")),  # every field at its upper bound
        ("0 0 ? 1 1 1970", ("0", "0", "?", "1", "1", "1970")),  # and at its lower bound
        ("0 1-3 15W * ? *", ("0", "1-3", "15W", "*", "?", "*")),
    ],
)
def test_valid_cron_expressions_parse_into_their_six_fields(expression: str, fields: tuple[str, ...]) -> None:
    assert parse_cron("reconciliation", expression) == fields


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("0 2 * * *", "six fields"),
        ("0 2 * * * *", "Exactly one of day-of-month and day-of-week"),
        ("0 2 ? * ? *", "Exactly one of day-of-month and day-of-week"),
        ("60 2 * * ? *", "minutes field '60'"),
        ("0 24 * * ? *", "hours field '24'"),
        ("0 2 32 * ? *", "day-of-month field '32'"),
        ("0 2 * 13 ? *", "month field '13'"),
        ("0 2 ? * FUNDAY *", "day-of-week field 'FUNDAY'"),
        ("0 5-2 * * ? *", "hours field '5-2'"),
        ("0 */0 * * ? *", "hours field '*/0'"),
        ("rate(1 day)", "six fields"),
    ],
)
def test_invalid_cron_is_refused(expression: str, hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_cron("reconciliation", expression)
    assert (err.value.subject, err.value.field, err.value.value) == ("reconciliation", "schedule", expression)
    assert hint in str(err.value)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Etc/UTC", "Asia/Kolkata"])
def test_iana_time_zones_pass(zone: str) -> None:
    assert check_time_zone("reconciliation", zone) == zone


@pytest.mark.parametrize("zone", ["BST", "GMT+1", "Europe/Londn", "london", ""])
def test_other_time_zones_are_refused(zone: str) -> None:
    with pytest.raises(ConfigError, match=r"reconciliation: time_zone=.*IANA"):
        check_time_zone("reconciliation", zone)


def test_construct_refuses_bad_schedule_and_zone(build: Any) -> None:
    with pytest.raises(ConfigError, match="reconciliation: schedule='0 2 \\* \\* \\* \\*'"):
        build(schedule="0 2 * * * *")
    with pytest.raises(ConfigError, match="reconciliation: time_zone='BST'"):
        build(time_zone="BST")


# --- Schedule -----------------------------------------------------------------------------


def test_schedule_starts_the_orchestrator_at_two_london_time_with_retries_and_dlq(build: Any) -> None:
    _, template = build()
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/London",
            "FlexibleTimeWindow": {"Mode": "OFF"},  # on time, not "within a window"
            "State": "ENABLED",
            "Target": Match.object_like(
                {
                    "Arn": {"Ref": Match.string_like_regexp("JobOrchestrator")},
                    # three retries of a start ECS refused; a run later than an hour goes to the DLQ
                    "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
                    "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [Match.string_like_regexp("JobFailedRuns"), "Arn"]}},
                    "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("JobSchedulerRole"), "Arn"]},
                }
            ),
        },
    )


def test_orchestrator_logs_everything_traces_and_times_out_after_the_max_runtime(build: Any) -> None:
    job, template = build(max_runtime=Duration.minutes(30))
    assert job.max_runtime_seconds == 1800
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False}),
            "TracingConfiguration": {"Enabled": True},
        },
    )
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine").values()))
    definition = json.loads("".join(p if isinstance(p, str) else "X" for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1]))
    # Run at most 1800 s; the orchestrator itself stops 15 minutes later (retries, cleanup).
    assert definition["TimeoutSeconds"] == 1800 + 900
    assert definition["States"]["Run"]["TimeoutSeconds"] == 1800
    assert definition["States"]["Run"]["Resource"].endswith(":states:::ecs:runTask.sync")
    assert definition["States"]["Run"]["Parameters"]["LaunchType"] == "FARGATE"  # no Spot mid-reconciliation
    assert definition["StartAt"] == "FindRunningRun"


def test_weekday_schedules_render_with_a_question_mark_day(build: Any) -> None:
    _, template = build(schedule="30 6 ? * MON-FRI *")
    template.has_resource_properties("AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(30 6 ? * MON-FRI *)"})


def test_scheduler_role_trusts_the_scheduler_of_this_account_only(build: Any) -> None:
    _, template = build()
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": Match.any_value()}},
                        }
                    )
                ],
                "Version": "2012-10-17",
            }
        },
    )


@pytest.mark.parametrize(("field", "value"), [("retry_attempts", -1), ("retry_attempts", 186)])
def test_retry_attempts_out_of_range_are_refused(build: Any, field: str, value: int) -> None:
    with pytest.raises(ConfigError, match=f"reconciliation: {field}={value}"):
        build(**{field: value})


@pytest.mark.parametrize("age", [Duration.seconds(59), Duration.hours(25)])
def test_max_event_age_out_of_range_is_refused(build: Any, age: Duration) -> None:
    with pytest.raises(ConfigError, match="reconciliation: max_event_age="):
        build(max_event_age=age)


# --- Failed runs --------------------------------------------------------------------------


def test_failed_runs_queue(build: Any) -> None:
    _, template = build()
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 86400},  # two weeks: past a long weekend
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                ),
                "Version": "2012-10-17",
            }
        },
    )
    queue = next(iter(template.find_resources("AWS::SQS::Queue").values()))
    assert queue["DeletionPolicy"] == "RetainExceptOnCreate"


def test_every_failed_run_pages_and_the_alarm_clears(build: Any) -> None:
    _, template = build()
    (alarm,) = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    expressions = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expressions == ["FILL(failed, 0) + FILL(timedout, 0) + FILL(aborted, 0) + FILL(records, 0)"]
    metrics = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert metrics == {
        "failed": "ExecutionsFailed",
        "timedout": "ExecutionsTimedOut",
        "aborted": "ExecutionsAborted",
        "records": "NumberOfMessagesSent",  # the scheduler's DLQ and the orchestrator's records
    }
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"]) == (1, "GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    (action,) = alarm["AlarmActions"]
    assert alarm["OKActions"] == [action]


def test_max_runtime_is_required_and_bounded(build: Any) -> None:
    with pytest.raises(ConfigError, match="reconciliation: max_runtime='30s'"):
        build(max_runtime=Duration.seconds(30))
    with pytest.raises(ConfigError, match="reconciliation: max_runtime='90000s'"):
        build(max_runtime=Duration.hours(25))


# --- Task ---------------------------------------------------------------------------------


def test_task_is_hardened_like_every_service(build: Any) -> None:
    _, template = build(cpu=1024, memory_mib=2048)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "1024",
            "Memory": "2048",
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},  # Graviton
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "StopTimeout": 120,  # Fargate's maximum: the longest time to checkpoint
                        "ReadonlyRootFilesystem": True,
                        "User": "1000:1000",  # never root
                        "Image": Match.any_value(),
                    }
                )
            ],
        },
    )


def test_invalid_size_is_refused(build: Any) -> None:
    with pytest.raises(ConfigError, match="reconciliation: memory_mib=1024"):
        build(cpu=1024, memory_mib=1024)


def test_moving_image_tags_are_refused() -> None:
    with pytest.raises(ConfigError, match="latest"):
        ImageRef.release("reconciliation", "latest", registry=REGISTRY)


# --- The sample app -----------------------------------------------------------------------


def test_reconciliation_runs_nightly_in_every_environment(sample_app: SampleApp) -> None:
    found = []
    for env, stack in sample_app.stacks():
        if stack.node.id != "Workers":
            continue
        Template.from_json(template_json(stack)).has_resource_properties(
            "AWS::Scheduler::Schedule",
            {"ScheduleExpression": "cron(0 2 * * ? *)", "ScheduleExpressionTimezone": "Europe/London"},
        )
        found.append(env)
    assert sorted(found) == ["dev", "prod", "staging"]


def _definition(template: Template) -> dict[str, Any]:
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine").values()))
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else "X" for p in parts)))


def test_a_run_ecs_could_not_start_is_retried_after_one_two_and_four_minutes(build: Any) -> None:
    _, template = build()
    (retry,) = _definition(template)["States"]["Run"]["Retry"]
    assert retry == {
        "ErrorEquals": ["AmazonECS.Unknown", "ECS.AmazonECSException", "ECS.ThrottlingException"],  # never a task that ran
        "MaxAttempts": 3,
        "IntervalSeconds": 60,
        "BackoffRate": 2,
    }


def test_no_retries_leaves_the_run_without_a_retry(build: Any) -> None:
    _, template = build(retry_attempts=0)
    assert "Retry" not in _definition(template)["States"]["Run"]
    template.has_resource_properties("AWS::Scheduler::Schedule", {"Target": Match.object_like({"RetryPolicy": Match.object_like(
        {"MaximumRetryAttempts": 0})})})


@pytest.mark.parametrize(
    ("overrides", "retries", "event_age", "runtime"),
    [
        ({"retry_attempts": 185}, 185, 3600, 3600),  # EventBridge Scheduler's ceiling
        ({"max_event_age": Duration.seconds(60)}, 3, 60, 3600),  # its bounds: a minute ...
        ({"max_event_age": Duration.hours(24)}, 3, 86_400, 3600),  # ... to a day
        ({"max_event_age": Duration.millis(90_500)}, 3, 91, 3600),  # whole seconds, rounded up
        ({"max_runtime": Duration.seconds(60)}, 3, 3600, 60),  # a run: a minute ...
        ({"max_runtime": Duration.hours(24)}, 3, 3600, 86_400),  # ... to a day
        ({"max_runtime": Duration.millis(60_500)}, 3, 3600, 61),
    ],
)
def test_job_limits_at_their_bounds(build: Any, overrides: dict[str, Any], retries: int, event_age: int, runtime: int) -> None:
    job, template = build(**overrides)
    assert job.max_runtime_seconds == runtime
    template.has_resource_properties("AWS::Scheduler::Schedule", {"Target": Match.object_like(
        {"RetryPolicy": {"MaximumRetryAttempts": retries, "MaximumEventAgeInSeconds": event_age}})})
    definition = _definition(template)
    assert definition["States"]["Run"]["TimeoutSeconds"] == runtime
    assert definition["TimeoutSeconds"] == runtime + 900  # 15 minutes for retries, the overlap check, cleanup


@pytest.mark.parametrize(("stop", "expected"), [(Duration.seconds(2), 2), (Duration.millis(30_200), 31), (Duration.seconds(120), 120)])
def test_a_given_stop_timeout_is_kept_in_whole_seconds(build: Any, stop: Duration, expected: int) -> None:
    _, template = build(stop_timeout=stop)
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"ContainerDefinitions": [Match.object_like({"StopTimeout": expected})]}
    )


@pytest.mark.parametrize("stop", [Duration.seconds(1), Duration.seconds(121)])
def test_a_stop_timeout_fargate_refuses_is_refused(build: Any, stop: Duration) -> None:
    with pytest.raises(ConfigError, match=r"reconciliation: stop_timeout=.*Give 2 to 120 seconds"):
        build(stop_timeout=stop)


def test_the_failed_run_alarm_reads_one_minute_sums(build: Any) -> None:
    _, template = build()
    (alarm,) = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    stats = {(m["MetricStat"]["Period"], m["MetricStat"]["Stat"]) for m in alarm["Metrics"] if "MetricStat" in m}
    assert stats == {(60, "Sum")}


@pytest.mark.parametrize("age", [Duration.seconds(86_401), Duration.seconds(59)])
def test_max_event_age_just_outside_a_minute_to_a_day_is_refused(build: Any, age: Duration) -> None:
    with pytest.raises(ConfigError) as err:
        build(max_event_age=age)
    assert (err.value.field, err.value.fix) == ("max_event_age", "Give 60 to 86400 seconds.")


def test_a_max_runtime_out_of_range_says_the_range(build: Any) -> None:
    with pytest.raises(ConfigError) as err:
        build(max_runtime=Duration.seconds(86_401))
    assert err.value.value == "86401s"
    assert "60 s to 24 h" in err.value.fix


def test_a_max_runtime_token_is_refused_as_a_token(env_stack: Any) -> None:
    from aws_cdk import CfnParameter

    es = env_stack("prod")
    runtime = Duration.seconds(CfnParameter(es.stack, "Runtime", type="Number").value_as_number)
    with pytest.raises(ConfigError) as err:
        ScheduledJob(es.stack, "Job", environment=es.environment, **platform(es.stack, es.environment.availability_zones),
                     **job_props(max_runtime=runtime))
    assert (err.value.field, err.value.value) == ("max_runtime", "<token>")


def test_the_jobs_own_command_is_run_and_an_empty_part_is_refused(build: Any) -> None:
    _, template = build(command=["python", "-m", "reconcile"])
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"ContainerDefinitions": [Match.object_like({"Command": ["python", "-m", "reconcile"]})]}
    )
    with pytest.raises(ConfigError) as err:
        build(command=["python", ""])
    assert (err.value.field, err.value.value) == ("command", ["python", ""])


def test_a_zero_max_runtime_is_refused_showing_zero(build: Any) -> None:
    with pytest.raises(ConfigError) as err:
        build(max_runtime=Duration.seconds(0))
    assert (err.value.field, err.value.value) == ("max_runtime", "0s")  # a value, not "<token>"
