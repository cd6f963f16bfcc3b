"""ScheduledJob: a Fargate task on a time-zone-aware schedule, retried, and loud when it fails."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from functools import lru_cache

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stable_fargate import defaults
from stable_fargate._retention import removal_policy
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import ResolvedParameters
from stable_fargate.services._acks import acknowledge, acknowledge_role_policy
from stable_fargate.services._base import ClusterLike, KeyLike, _StableFargateBase, as_cluster, as_key, queue_holds_messages_alarm

MAX_RETRY_ATTEMPTS = 185
"""EventBridge Scheduler's ceiling for retries."""

MIN_EVENT_AGE_SECONDS, MAX_EVENT_AGE_SECONDS = 60, 86_400
"""EventBridge Scheduler's bounds for the maximum event age."""

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for 1.., extra tokens allowed alone)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_TZ_NAME = re.compile(r"^(?:[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC|Etc/[A-Za-z0-9+-]+)$")


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    upper = token.upper()
    if upper in names:
        return names.index(upper) + 1
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    return None


def _check_cron_item(item: str, index: int) -> bool:
    _name, low, high, names = _CRON_FIELDS[index]
    if item == "*":
        return True
    if index == 2 and (item in {"L", "LW"} or re.fullmatch(r"(?:[1-9]|[12]\d|3[01])W", item)):
        return True
    if index == 4:
        if item == "L" or re.fullmatch(r"[1-7]L", item):
            return True
        hashed = re.fullmatch(r"([1-7]|[A-Za-z]{3})#([1-5])", item)
        if hashed:
            return _value(hashed.group(1), low, high, names) is not None
    base, _, step = item.partition("/")
    if step and (not step.isdigit() or int(step) < 1):
        return False
    if base == "*":
        return bool(step)
    start, dash, end = base.partition("-")
    first = _value(start, low, high, names)
    if first is None:
        return False
    if dash:
        last = _value(end, low, high, names)
        return last is not None and first <= last
    return True


def parse_cron(service: str, expression: str) -> tuple[str, str, str, str, str, str]:
    """Check an EventBridge Scheduler cron (six fields: minutes hours day-of-month month
    day-of-week year, e.g. ``0 2 * * ? *``) and return its fields; refuse anything else."""
    fix_example = "Use six fields: minutes hours day-of-month month day-of-week year, e.g. '0 2 * * ? *' (02:00 daily)."
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1].strip()
    fields = text.split()
    if len(fields) != 6:
        raise ConfigError(service, "schedule", expression, fix_example)
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ConfigError(
            service, "schedule", expression,
            "Exactly one of day-of-month and day-of-week must be '?', e.g. '0 2 * * ? *' or '0 2 ? * MON-FRI *'.",
        )
    for index, field in enumerate(fields):
        if field == "?" and index in (2, 4):
            continue
        if not all(_check_cron_item(item, index) for item in field.split(",")):
            name, low, high, _ = _CRON_FIELDS[index]
            raise ConfigError(
                service, "schedule", expression,
                f"The {name} field '{field}' is not valid: use *, a value or range within {low}-{high}, lists with ',' "
                f"and steps with '/'. {fix_example}",
            )
    minute, hour, day, month, week_day, year = fields
    return minute, hour, day, month, week_day, year


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(service: str, time_zone: str) -> str:
    """Refuse a time zone that is not an IANA name (``Europe/London``, not ``GMT+1`` or ``BST``)."""
    known = _known_time_zones()
    # Without a tz database on this machine, fall back to the shape of an IANA name.
    valid = time_zone in known if known else bool(_TZ_NAME.match(time_zone))
    if not valid:
        raise ConfigError(
            service, "time_zone", time_zone,
            "Give an IANA time zone such as 'Europe/London' or 'America/New_York': the schedule then follows "
            "daylight saving time. Use 'Etc/UTC' for a schedule that never shifts.",
        )
    return time_zone


class ScheduledJob(_StableFargateBase):
    """A hardened Fargate task that EventBridge Scheduler runs on a cron in a time zone.

    A run that ECS cannot start is retried (``retry_attempts``), then lands in the
    failed-runs queue. A run that starts and fails (an essential container exits non-zero,
    or the task fails to start) is caught by an EventBridge rule on the task-stopped event,
    which puts that event in the same queue. One alarm, "a run failed", fires while that
    queue holds a message, and the message says which run and why.

    Why a queue and not only a metric: the scheduler's invocation succeeds as soon as ECS
    accepts RunTask, so its metrics never see a job that exits 1; the task-stopped event does.
    And the record (exit code, stop reason, task ARN) stays for the on-call engineer.

    The failed-runs queue uses SQS-managed encryption (SSE-SQS), not the environment's KMS
    key: EventBridge can only write to a KMS-encrypted queue if the key policy admits
    ``events.amazonaws.com``, which would let every rule in the account use the key. The
    records hold task metadata (ARNs, exit codes, reasons), no application data.

    :param service_name: the job's name (letters, digits, '-').
    :param cluster: the environment's cluster.
    :param image: the release to run (``ImageRef``; moving tags refused).
    :param key: the environment's KMS key (logs).
    :param alarm_topic: the environment's (encrypted) alarm topic.
    :param schedule: an EventBridge Scheduler cron of six fields, e.g. ``0 2 * * ? *``.
    :param time_zone: the IANA time zone the cron is read in, e.g. ``Europe/London``
        (required: a job at 02:00 UTC runs at 03:00 in a London summer).
    :param parameters: runtime configuration (``ResolvedParameters``). Default: none.
    :param vpc_subnets: where the task runs. Default: the cluster VPC's private subnets.
    :param cpu: Default: ``defaults.DEFAULT_CPU`` (512).
    :param memory_mib: Default: ``defaults.DEFAULT_MEMORY_MIB`` (1024).
    :param retry_attempts: retries of a run ECS refused to start. Default:
        ``defaults.JOB_RETRY_ATTEMPTS`` (3).
    :param max_event_age: how late a run may still start. Default:
        ``defaults.JOB_MAX_EVENT_AGE_SECONDS`` (1 hour).
    :param stop_timeout: SIGTERM-to-SIGKILL time. Default: ``defaults.JOB_STOP_TIMEOUT_SECONDS`` (120 s).
    :param retain_data: keep the failed-runs queue and logs on stack deletion. Default: True.
    :param command: the container command. Default: the image's.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        cluster: ClusterLike,
        image: ImageRef,
        key: KeyLike,
        alarm_topic: sns.ITopic,
        schedule: str,
        time_zone: str,
        parameters: ResolvedParameters | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        cpu: int = defaults.DEFAULT_CPU,
        memory_mib: int = defaults.DEFAULT_MEMORY_MIB,
        retry_attempts: int = defaults.JOB_RETRY_ATTEMPTS,
        max_event_age: Duration | None = None,
        stop_timeout: Duration | None = None,
        retain_data: bool = True,
        command: Sequence[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id, service_name=service_name)
        cluster = as_cluster(cluster)
        key = as_key(key)
        service = self.service_name
        minute, hour, day, month, week_day, year = parse_cron(service, schedule)
        check_time_zone(service, time_zone)
        if not 0 <= retry_attempts <= MAX_RETRY_ATTEMPTS:
            raise ConfigError(service, "retry_attempts", retry_attempts, f"Use 0 to {MAX_RETRY_ATTEMPTS}.")
        max_event_age = max_event_age or Duration.seconds(defaults.JOB_MAX_EVENT_AGE_SECONDS)
        stop_timeout = stop_timeout or Duration.seconds(defaults.JOB_STOP_TIMEOUT_SECONDS)
        age = max_event_age.to_seconds(integral=False)
        if not MIN_EVENT_AGE_SECONDS <= age <= MAX_EVENT_AGE_SECONDS:
            raise ConfigError(
                service, "max_event_age", f"{age}s", f"Use {MIN_EVENT_AGE_SECONDS} to {MAX_EVENT_AGE_SECONDS} seconds."
            )

        self._build_task(
            image=image,
            parameters=parameters,
            cpu=cpu,
            memory_mib=memory_mib,
            log_key=key,
            stop_timeout=stop_timeout,
            retain_logs=retain_data,
            command=command,
        )

        self.failed_runs = sqs.Queue(
            self,
            "FailedRuns",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(defaults.FAILED_RUN_RETENTION_DAYS),
            removal_policy=removal_policy(retain_data),
        )
        acknowledge(
            self.failed_runs,
            "AwsSolutions-SQS3",
            f"{service}'s failed-runs queue is itself the dead-letter queue of the schedule and the sink of its "
            "failed-run events; a DLQ behind it would hide the failures its alarm reports.",
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description=f"{service}: no inbound; outbound to endpoints and dependencies",
            allow_all_outbound=True,
        )
        # The schedule's own role (not the stack-wide one the L2 would share between jobs).
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
            description=f"EventBridge Scheduler runs {service}",
        )
        acknowledge_role_policy(self.scheduler_role, service, "scheduler role (RunTask, PassRole, DLQ)")
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
            target=scheduler_targets.EcsRunFargateTask(
                cluster,
                task_definition=self.task_definition,
                # An empty selection picks private subnets, with or without egress.
                vpc_subnets=vpc_subnets or ec2.SubnetSelection(),
                security_groups=[self.security_group],
                assign_public_ip=False,
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(capacity_provider=defaults.JOB_CAPACITY_PROVIDER, weight=1)
                ],
                platform_version=ecs.FargatePlatformVersion.LATEST,
                # No task tagging: it would need ecs:TagResource on every task of the cluster.
                enable_ecs_managed_tags=False,
                propagate_tags=False,
                role=self.scheduler_role,
                dead_letter_queue=self.failed_runs,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            ),
        )

        # Any run of this task definition (scheduled or started by hand) that fails.
        stack = Stack.of(self)
        family_prefix = stack.format_arn(
            service="ecs", resource="task-definition", resource_name=f"{self.task_definition.family}:"
        )
        self.failed_run_rule = events.Rule(
            self,
            "FailedRunRule",
            description=f"{service}: a run stopped with a non-zero exit code or failed to start",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={
                    "clusterArn": [cluster.cluster_arn],
                    "taskDefinitionArn": [{"prefix": family_prefix}],
                    "lastStatus": ["STOPPED"],
                    "$or": [
                        {"containers": {"exitCode": [{"anything-but": 0}]}},
                        {"stopCode": ["TaskFailedToStart"]},
                    ],
                },
            ),
            targets=[events_targets.SqsQueue(self.failed_runs)],
        )

        self.failed_run_alarm = queue_holds_messages_alarm(
            self,
            "FailedRunAlarm",
            queue=self.failed_runs,
            description=(
                f"{service}: a run failed (did not start after {retry_attempts} retries, or exited non-zero). "
                "The failed-runs queue holds the event; delete it once handled."
            ),
            topic=alarm_topic,
        )
