"""SF-QUEUE1..4 on small stacks: queues, the tasks that consume them, and the scaling that
follows them."""

from __future__ import annotations

import pytest
from aws_cdk import Stack
from aws_cdk import aws_applicationautoscaling as aas
from aws_cdk import aws_events as events
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app

TARGET_ARN = "arn:aws:ecs:eu-west-2:111111111111:cluster/example"
ROLE_ARN = "arn:aws:iam::111111111111:role/example"


def queue1_with_dlq(stack: Stack) -> None:
    builders.queue(stack, dead_letter=builders.queue(stack, "DeadLetters"))


def queue1_scheduler_dlq(stack: Stack) -> None:
    failed = builders.queue(stack, "FailedRuns")
    scheduler.CfnSchedule(
        stack, "Schedule", schedule_expression="rate(1 day)",
        flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
        target=scheduler.CfnSchedule.TargetProperty(
            arn=TARGET_ARN, role_arn=ROLE_ARN, dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=failed.attr_arn)
        ),
    )


def queue1_eventbridge_dlq(stack: Stack) -> None:
    failed = builders.queue(stack, "FailedDeliveries")
    events.CfnRule(
        stack, "Rule", schedule_expression="rate(1 hour)",
        targets=[events.CfnRule.TargetProperty(
            id="Target", arn=TARGET_ARN, dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=failed.attr_arn)
        )],
    )


def queue1_declares_itself_a_dlq(stack: Stack) -> None:
    builders.queue(stack, redrive_allow_policy={"redrivePermission": "byQueue", "sourceQueueArns": [
        "arn:aws:sqs:eu-west-2:111111111111:imports"
    ]})


def _consumer(stack: Stack, consumed: sqs.CfnQueue, stop_timeout: int | None) -> None:
    builders.task_definition(stack, containers=[builders.container(environment={"QUEUE_URL": consumed.ref}, stop_timeout=stop_timeout)])


def queue2_fits(stack: Stack) -> None:
    _consumer(stack, builders.queue(stack, visibility_timeout=40, dead_letter=builders.queue(stack, "Dlq")), stop_timeout=30)


def queue2_env_consumer_stops_slower(stack: Stack) -> None:
    _consumer(stack, builders.queue(stack, dead_letter=builders.queue(stack, "Dlq")), stop_timeout=60)  # SQS default 30 s


def queue2_role_consumer_stops_slower(stack: Stack) -> None:
    consumed = builders.queue(stack, visibility_timeout=60, dead_letter=builders.queue(stack, "Dlq"))
    consume = {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": consumed.attr_arn}
    role = builders.task_role(stack, [consume])
    builders.task_definition(stack, containers=[builders.container(stop_timeout=120)], task_role_arn=role.attr_arn)


def queue2_wildcard_grant_is_not_a_consumer(stack: Stack) -> None:
    builders.queue(stack, dead_letter=builders.queue(stack, "Dlq"))
    role = builders.task_role(stack, [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])
    builders.task_definition(stack, containers=[builders.container(stop_timeout=120)], task_role_arn=role.attr_arn)


def queue2_producer_is_not_a_consumer(stack: Stack) -> None:
    produced = builders.queue(stack, dead_letter=builders.queue(stack, "Dlq"))  # SQS default 30 s
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": produced.attr_arn}
    role = builders.task_role(stack, [send])
    builders.task_definition(
        stack, containers=[builders.container(environment={"QUEUE_URL": produced.ref}, stop_timeout=120)],
        task_role_arn=role.attr_arn,
    )


def _worker(stack: Stack, *, cpu: bool, queue_period: int | None, queue_tracking: bool = False) -> None:
    svc = builders.service(stack, task=builders.task_definition(stack))
    target = builders.scalable_target(stack, svc, min_capacity=0, max_capacity=10)
    if cpu:
        builders.target_tracking(stack, target, scale_in_cooldown=300, scale_out_cooldown=60)
    watched = builders.queue(stack, dead_letter=builders.queue(stack, "Dlq"))
    if queue_period is not None:
        step = builders.step_policy(stack, target)
        builders.queue_alarm(stack, watched, actions=[step.ref], period=queue_period)
    if queue_tracking:
        builders.target_tracking(
            stack, target, "Backlog", predefined_metric_specification=None, scale_in_cooldown=300, scale_out_cooldown=60,
            customized_metric_specification=aas.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", statistic="Sum",
                dimensions=[aas.CfnScalingPolicy.MetricDimensionProperty(name="QueueName", value=watched.attr_queue_name)],
            ),
        )


CASES: list[Case] = [
    # SF-QUEUE1: every queue has a DLQ, except the DLQs themselves.
    ("Queue1WithDlq", "SF-QUEUE1", False, queue1_with_dlq),
    ("Queue1NoDlq", "SF-QUEUE1", True, lambda s: builders.queue(s)),
    ("Queue1SchedulerDlq", "SF-QUEUE1", False, queue1_scheduler_dlq),
    ("Queue1EventBridgeDlq", "SF-QUEUE1", False, queue1_eventbridge_dlq),
    ("Queue1RedriveAllowByQueue", "SF-QUEUE1", False, queue1_declares_itself_a_dlq),
    # SF-QUEUE2: visibility >= the consumer's stop timeout (defaults 30 s and 30 s).
    ("Queue2Fits", "SF-QUEUE2", False, queue2_fits),
    ("Queue2DefaultsEqual", "SF-QUEUE2", False, lambda s: _consumer(s, builders.queue(s, dead_letter=builders.queue(s, "Dlq")), None)),
    ("Queue2EnvConsumerStopsSlower", "SF-QUEUE2", True, queue2_env_consumer_stops_slower),
    ("Queue2RoleConsumerStopsSlower", "SF-QUEUE2", True, queue2_role_consumer_stops_slower),
    ("Queue2WildcardGrant", "SF-QUEUE2", False, queue2_wildcard_grant_is_not_a_consumer),
    ("Queue2ProducerWithRole", "SF-QUEUE2", False, queue2_producer_is_not_a_consumer),
    # SF-QUEUE3: one signal per direction.
    ("Queue3QueueOnly", "SF-QUEUE3", False, lambda s: _worker(s, cpu=False, queue_period=60, queue_tracking=True)),
    ("Queue3CpuAndQueueStep", "SF-QUEUE3", True, lambda s: _worker(s, cpu=True, queue_period=60)),
    ("Queue3CpuAndQueueTracking", "SF-QUEUE3", True, lambda s: _worker(s, cpu=True, queue_period=None, queue_tracking=True)),
    ("Queue3CpuOnly", "SF-QUEUE3", False, lambda s: _worker(s, cpu=True, queue_period=None)),
    # SF-QUEUE4: scaling alarms read queue metrics per minute.
    ("Queue4OneMinute", "SF-QUEUE4", False, lambda s: _worker(s, cpu=False, queue_period=60)),
    ("Queue4FiveMinutes", "SF-QUEUE4", True, lambda s: _worker(s, cpu=False, queue_period=300)),
    (
        "Queue4PagingAlarmNotScaling", "SF-QUEUE4", False,
        lambda s: builders.queue_alarm(s, builders.queue(s, dead_letter=builders.queue(s, "Dlq")),
                                       actions=["arn:aws:sns:eu-west-2:111111111111:alarms"], period=300),
    ),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("queues"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected


def test_the_signal_finding_sits_on_the_alarm(findings: Findings) -> None:
    assert findings.by_rule["SF-QUEUE4"] == {"Queue4FiveMinutes/QueueAlarm"}
