"""ScheduledJob: a Fargate task on a time-zone-aware schedule, bounded in time, never
overlapping, retried, and loud when it fails."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as sfn_tasks
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.config.models import EnvironmentSpec
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import ResolvedParameters
from stable_fargate.schedules import check_time_zone, parse_cron
from stable_fargate.services._acks import acknowledge, acknowledge_all, acknowledge_role_policy, role_policy_finding
from stable_fargate.services._base import ClusterLike, KeyLike, TopicLike, _StableService, whole_seconds

MAX_RETRY_ATTEMPTS = 185
"""EventBridge Scheduler's ceiling for retries."""

MIN_EVENT_AGE_SECONDS, MAX_EVENT_AGE_SECONDS = 60, 86_400
"""EventBridge Scheduler's bounds for the maximum event age."""

MIN_RUNTIME_SECONDS, MAX_RUNTIME_SECONDS = 60, 86_400
"""A job's declared maximum runtime: at least a minute, at most a day (a run that outlasts the
next day's schedule would be skipped by the overlap guard anyway)."""

JOB_START_ERRORS = ("AmazonECS.Unknown", "ECS.AmazonECSException", "ECS.ThrottlingException")
"""Errors of ``ecs:runTask.sync`` that mean ECS did not start the task (RunTask's ``failures``
such as no capacity surface as ``AmazonECS.Unknown``:
https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html); these are retried."""

class ScheduledJob(_StableService):
    """A hardened Fargate task run on a cron in a time zone, with a maximum runtime, no
    overlapping runs, retries, and one alarm for every failed run.

    EventBridge Scheduler starts a Step Functions state machine (an orchestrator AWS runs, so a
    hung run cannot outlive its budget because of our own code), which:

    1. **never overlaps**: lists the tasks of this job's task-definition family that are still
       running in the cluster; if one is, the run is skipped, recorded and failed (it pages);
    2. **runs the task and waits** (``ecs:runTask.sync``), retrying a task ECS could not start
       (capacity, throttling) ``retry_attempts`` times with backoff, never a task that ran;
    3. **bounds the runtime**: the task state's ``TimeoutSeconds`` is ``max_runtime``; on a
       timeout (or any error) the orchestrator stops the job's running tasks itself (``StopTask``:
       SIGTERM, then SIGKILL after the stop timeout), records the error and fails;
    4. **checks the exit code**: a run whose container exited non-zero (or that never produced
       an exit code) is recorded and failed.

    Records go to the failed-runs queue, which is also the schedule's dead-letter queue (a
    StartExecution that failed after the scheduler's retries). One alarm, "a run failed", fires
    in every minute in which a run failed, timed out, was aborted, or a record arrived, and
    returns to OK after, so the next night's failure pages again. The record (error, cause,
    exit codes) stays in the queue for the on-call engineer for ``FAILED_RUN_RETENTION_DAYS``.

    The failed-runs queue uses SQS-managed encryption (SSE-SQS): the records hold run metadata
    (execution ARNs, exit codes, reasons), no application data. Only runs started by the
    orchestrator are watched; a task started by hand is its starter's to watch.

    Shared inputs (``service_name``, ``environment``, ``cluster``, ``key``, ``alarm_topic``,
    ``image``, ``parameters``, ``subnets``, ``security_group``, ``command``) are described in
    :mod:`stable_fargate.services._base`; the environment gives the job its cpu and memory
    (``services.<name>``) and retain_data.

    :param schedule: an EventBridge Scheduler cron of six fields, e.g. ``0 2 * * ? *``.
    :param time_zone: the IANA time zone the cron is read in, e.g. ``Europe/London``
        (required: a job at 02:00 UTC runs at 03:00 in a London summer).
    :param max_runtime: the longest a run may take (required: only the job's owner knows it);
        a run past it is stopped and alarms. From ``MIN_RUNTIME_SECONDS`` to ``MAX_RUNTIME_SECONDS``.
    :param retry_attempts: retries of a run ECS could not start. Default:
        ``defaults.JOB_RETRY_ATTEMPTS`` (3).
    :param max_event_age: how late a run may still start. Default:
        ``defaults.JOB_MAX_EVENT_AGE_SECONDS`` (1 hour).
    :param stop_timeout: SIGTERM-to-SIGKILL time. Default: ``defaults.JOB_STOP_TIMEOUT_SECONDS`` (120 s).

    Attributes (beside the shared ones): ``state_machine``, ``schedule``,
    ``schedule_expression``, ``scheduler_role``, ``failed_runs``, ``failed_run_alarm``,
    ``max_runtime_seconds``.
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        environment: EnvironmentSpec,
        cluster: ClusterLike,
        key: KeyLike,
        alarm_topic: TopicLike,
        schedule: str,
        time_zone: str,
        max_runtime: Duration,
        image: ImageRef | None = None,
        parameters: ResolvedParameters | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        command: Sequence[str] | None = None,
        retry_attempts: int = defaults.JOB_RETRY_ATTEMPTS,
        max_event_age: Duration | None = None,
        stop_timeout: Duration | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, service_name=service_name, environment=environment, cluster=cluster, key=key,
            alarm_topic=alarm_topic, image=image, parameters=parameters, subnets=subnets,
        )
        service = self.service_name
        cron = parse_cron(service, schedule)
        check_time_zone(service, time_zone)
        if not 0 <= retry_attempts <= MAX_RETRY_ATTEMPTS:
            raise ConfigError(service, "retry_attempts", retry_attempts, f"Use 0 to {MAX_RETRY_ATTEMPTS}.")
        max_event_age = max_event_age or cdk.seconds(defaults.JOB_MAX_EVENT_AGE_SECONDS)
        stop_timeout = stop_timeout or cdk.seconds(defaults.JOB_STOP_TIMEOUT_SECONDS)
        # Whole seconds where a duration reaches CloudFormation (sub-second values round up).
        age = whole_seconds(service, "max_event_age", max_event_age, minimum=MIN_EVENT_AGE_SECONDS, maximum=MAX_EVENT_AGE_SECONDS)
        stop = whole_seconds(service, "stop_timeout", stop_timeout, minimum=2, maximum=defaults.MAX_STOP_TIMEOUT_SECONDS)
        max_event_age = cdk.seconds(age) if age is not None else max_event_age
        stop_timeout = cdk.seconds(stop) if stop is not None else stop_timeout
        known = cdk.duration_seconds(max_runtime)
        runtime = -1 if known is None else known
        if not MIN_RUNTIME_SECONDS <= runtime <= MAX_RUNTIME_SECONDS:
            raise ConfigError(
                service, "max_runtime", "<token>" if runtime < 0 else f"{runtime:g}s",
                f"Give the longest a run may take, {MIN_RUNTIME_SECONDS} s to {MAX_RUNTIME_SECONDS // 3600} h; a run "
                "past it is stopped and pages. Split longer work into runs that checkpoint.",
            )
        self.max_runtime_seconds = math.ceil(runtime)

        self._build_task(stop_timeout=stop_timeout, command=command)
        self._build_failed_runs()
        self.security_group = self._security_group(
            "SecurityGroup", security_group, description=f"{service}: no inbound; outbound to endpoints and dependencies"
        )
        self.state_machine = self._orchestrator(retry_attempts=retry_attempts)
        self._build_schedule(cron, time_zone, retry_attempts, max_event_age)
        self.failed_run_alarm = self._failed_run_alarm(self.alarm_topic)

    # --- Failed runs: the record, and the schedule's dead-letter queue -------------------

    def _build_failed_runs(self) -> None:
        self.failed_runs = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.days(defaults.FAILED_RUN_RETENTION_DAYS),
            removal_policy=removal_policy(self.environment.retain_data),
        )
        acknowledge(
            self.failed_runs,
            "AwsSolutions-SQS3",
            f"{self.service_name}'s failed-runs queue is itself the dead-letter queue of the schedule and the record of "
            "its failed runs; a DLQ behind it would hide the failures its alarm reports.",
        )

    # --- Schedule: EventBridge Scheduler starts the orchestrator -------------------------

    def _build_schedule(
        self, cron: tuple[str, str, str, str, str, str], time_zone: str, retry_attempts: int, max_event_age: Duration
    ) -> None:
        minute, hour, day, month, week_day, year = cron
        service = self.service_name
        # The schedule's own role (not the stack-wide one the L2 would share between jobs).
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
            description=f"EventBridge Scheduler starts {service}'s orchestrator",
        )
        acknowledge_role_policy(self.scheduler_role, service, "scheduler role (StartExecution, DLQ)")
        self.schedule_expression = scheduler.ScheduleExpression.cron(
            minute=minute,
            hour=hour,
            day=None if day == "?" else day,
            month=month,
            week_day=None if week_day == "?" else week_day,
            year=year,
            time_zone=TimeZone.of(time_zone),
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"{service}: cron({minute} {hour} {day} {month} {week_day} {year}) in {time_zone}",
            schedule=self.schedule_expression,
            time_window=scheduler.TimeWindow.off(),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                role=self.scheduler_role,
                dead_letter_queue=self.failed_runs,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            ),
        )

    # --- Parts ------------------------------------------------------------------------------

    def _orchestrator(self, *, retry_attempts: int) -> sfn.StateMachine:
        """Guard against overlap, run with a timeout, stop what outlives it, record failures."""
        service, cluster = self.service_name, self.cluster
        family = self.task_definition.family

        def running_tasks(state_id: str, result_path: str) -> sfn_tasks.CallAwsService:
            return sfn_tasks.CallAwsService(
                self, state_id,
                service="ecs", action="listTasks", iam_action="ecs:ListTasks", iam_resources=["*"],
                parameters={"Cluster": cluster.cluster_arn, "Family": family, "DesiredStatus": "RUNNING"},
                result_selector={"taskArns.$": "$.TaskArns"},
                result_path=result_path,
            )

        def record(state_id: str, error: str, cause: str) -> sfn_tasks.SqsSendMessage:
            return sfn_tasks.SqsSendMessage(
                self, state_id,
                queue=self.failed_runs,
                message_body=sfn.TaskInput.from_object(
                    {"job": service, "execution": cdk.json_path_execution_id(), "error": error, "cause": cause}
                ),
                result_path=cdk.json_path_discard(),
            )

        previous = running_tasks("FindRunningRun", "$.previous")
        overlap = record(
            "RecordOverlap", "PreviousRunStillRunning",
            "The previous run is still running; this run was skipped so that two runs never overlap.",
        ).next(sfn.Fail(self, "Skipped", error="PreviousRunStillRunning", cause="The previous run is still running."))

        run = sfn_tasks.EcsRunTask(
            self, "Run",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            cluster=cluster,
            task_definition=self.task_definition,
            # Regular Fargate (defaults.JOB_CAPACITY_PROVIDER): a Spot reclaim mid-run leaves a half-done run.
            launch_target=sfn_tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.LATEST),
            assign_public_ip=False,
            security_groups=[self.security_group],
            subnets=self.subnets,
            task_timeout=sfn.Timeout.duration(cdk.seconds(self.max_runtime_seconds)),
            result_path="$.run",
        )
        # Only a task ECS could not start is retried; a task that ran is never run twice.
        if retry_attempts:
            run.add_retry(
                errors=list(JOB_START_ERRORS),
                max_attempts=retry_attempts,
                interval=cdk.seconds(defaults.JOB_RETRY_INTERVAL_SECONDS),
                backoff_rate=defaults.JOB_RETRY_BACKOFF_RATE,
            )
        stop_each = sfn.Map(self, "StopEachRunningTask", items_path="$.cleanup.taskArns", result_path=cdk.json_path_discard())
        stop_each.item_processor(
            sfn_tasks.CallAwsService(
                self, "StopTask",
                # ecs:runTask.sync already grants ecs:StopTask on "*" (task ids exist only at run time).
                service="ecs", action="stopTask", iam_action="ecs:StopTask", iam_resources=["*"],
                parameters={
                    "Cluster": cluster.cluster_arn,
                    "Task.$": "$",
                    "Reason": f"{service}: the run failed or passed its max runtime of {self.max_runtime_seconds}s",
                },
            )
        )
        failed = (
            running_tasks("FindTasksToStop", "$.cleanup")
            .next(stop_each)
            .next(
                record("RecordError", sfn.JsonPath.string_at("$.error.Error"), sfn.JsonPath.string_at("$.error.Cause"))
            )
            .next(sfn.Fail(self, "RunFailed", error="RunFailed", cause="The run failed, timed out or could not start."))
        )
        run.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        exit_code = "$.run.Containers[0].ExitCode"
        exited = (
            sfn.Choice(self, "ExitedWithZero")
            .when(
                sfn.Condition.and_(sfn.Condition.is_present(exit_code), sfn.Condition.number_equals(exit_code, 0)),
                sfn.Succeed(self, "Done"),
            )
            .otherwise(
                record(
                    "RecordExitCode", "NonZeroExit",
                    sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.run.Containers")),
                ).next(sfn.Fail(self, "ExitedNonZero", error="NonZeroExit", cause="The job's container exited non-zero."))
            )
        )
        definition = previous.next(
            sfn.Choice(self, "PreviousRunStillRunning")
            .when(sfn.Condition.is_present("$.previous.taskArns[0]"), overlap)
            .otherwise(run.next(exited))
        )
        log_group = logs.LogGroup(
            self, "OrchestratorLogs",
            encryption_key=self.key,
            retention=log_retention(defaults.LOG_RETENTION_DAYS),
            removal_policy=removal_policy(self.environment.retain_data),
        )
        machine = sfn.StateMachine(
            self, "Orchestrator",
            comment=f"{service}: one run at a time, at most {self.max_runtime_seconds}s, failures recorded",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=cdk.seconds(self.max_runtime_seconds + defaults.JOB_ORCHESTRATION_MARGIN_SECONDS),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        self._acknowledge_orchestrator(machine)
        return machine

    def _acknowledge_orchestrator(self, machine: sfn.StateMachine) -> None:
        service = self.service_name
        acknowledge_all(machine.role, {
            **role_policy_finding(service, "orchestrator role (run, list and stop its tasks, record failures)"),
            "AwsSolutions-IAM5[Resource::*]":
                f"{service}'s orchestrator: ecs:ListTasks and the X-Ray and CloudWatch Logs delivery actions have no "
                "resource-level permissions, and the ecs:runTask.sync integration grants ecs:StopTask and "
                "ecs:DescribeTasks on task ids that exist only at run time.",
        })

    def _failed_run_alarm(self, topic: sns.ITopic) -> cloudwatch.Alarm:
        """Every minute with a failed, timed-out or aborted run, or a new record, breaches."""
        period = cdk.seconds(defaults.ALARM_PERIOD_SECONDS)
        machine = self.state_machine
        signal = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedout, 0) + FILL(aborted, 0) + FILL(records, 0)",
            using_metrics={
                "failed": machine.metric_failed(period=period, statistic="Sum"),
                "timedout": machine.metric_timed_out(period=period, statistic="Sum"),
                "aborted": machine.metric_aborted(period=period, statistic="Sum"),
                "records": self.failed_runs.metric_number_of_messages_sent(period=period, statistic="Sum"),
            },
            period=period,
            label=f"{self.service_name}: failed runs",
        )
        alarm = signal.create_alarm(
            self, "FailedRunAlarm",
            alarm_description=(
                f"{self.service_name}: a run failed, passed its max runtime, overlapped the previous one or could not "
                "start. The failed-runs queue holds the record; delete it once handled."
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=defaults.ALARM_EVALUATION_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cdk.sns_action(topic))
        alarm.add_ok_action(cdk.sns_action(topic))
        return alarm
