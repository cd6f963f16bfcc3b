"""QueueWorker: an SQS-driven Fargate service that keeps pace with its queue and loses nothing."""

from __future__ import annotations

import math
from collections.abc import Sequence

from aws_cdk import CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults, scaling
from stable_fargate._retention import removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.alarms import arrivals_alarm
from stable_fargate.config import rules
from stable_fargate.config.models import EnvironmentSpec
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import ResolvedParameters
from stable_fargate.services._acks import acknowledge_all, nag_flatten
from stable_fargate.services._base import ClusterLike, KeyLike, TopicLike, _StableService

KEY_NAME = rules.KEY_NAME_PATTERN
"""Environment keys, by the rule of cdk.json's parameter keys."""

QUEUE_URL_KEY = "QUEUE_URL"
"""The environment key under which the container finds its queue's URL (wiring, not
configuration: it is the same logical reference in every environment)."""

SQS_MAX_VISIBILITY_SECONDS = 43_200
"""SQS's ceiling for a queue's visibility timeout (12 hours)."""

TASK_PROTECTION_ACTIONS = ("ecs:UpdateTaskProtection", "ecs:GetTaskProtection")
"""What a worker calls (through ``$ECS_AGENT_URI/task-protection/v1/state``) to keep
scale-in and deployments from stopping it in the middle of a message."""


def derive_visibility_timeout(service: str, longest_seconds: int, given_seconds: int | None, *, stop_timeout_seconds: int = 0) -> int:
    """``VISIBILITY_TIMEOUT_FACTOR`` x the longest processing time and at least the task's stop
    timeout, or the given value if it is at least that. A smaller value would hand a slow
    message to a second worker; one below the stop timeout would hand a stopping task's message
    to another while the task may still hold it (the pack's SF-QUEUE2 refuses that, so the
    synth gate would fail the worker's own app: short messages, under
    ``WORKER_STOP_MARGIN_SECONDS``, have a stop timeout above twice their processing time)."""
    factor = defaults.VISIBILITY_TIMEOUT_FACTOR * longest_seconds
    minimum = max(factor, stop_timeout_seconds)
    if minimum > SQS_MAX_VISIBILITY_SECONDS or (given_seconds or 0) > SQS_MAX_VISIBILITY_SECONDS:
        raise ConfigError(
            service, "visibility_timeout", f"{given_seconds or minimum}s",
            f"SQS allows at most {SQS_MAX_VISIBILITY_SECONDS}s (12 h); split the work into shorter messages.",
        )
    if given_seconds is None:
        return minimum
    if given_seconds < minimum:
        raise ConfigError(
            service, "visibility_timeout", f"{given_seconds}s",
            f"Use at least {minimum}s ({defaults.VISIBILITY_TIMEOUT_FACTOR}x the longest processing time of "
            f"{longest_seconds}s" + (f", raised to the stop timeout of {stop_timeout_seconds}s" if minimum > factor else "")
            + "), or omit it to get exactly that.",
        )
    return given_seconds


def derive_stop_timeout(service: str, longest_seconds: int, *, uses_task_protection: bool) -> int:
    """Longest processing + ``WORKER_STOP_MARGIN_SECONDS``, so SIGTERM lets the message in hand
    finish. Above Fargate's 120 s only task scale-in protection keeps a message from being cut;
    the worker must declare that it protects itself."""
    wanted = longest_seconds + defaults.WORKER_STOP_MARGIN_SECONDS
    if wanted <= defaults.MAX_STOP_TIMEOUT_SECONDS:
        return wanted
    if not uses_task_protection:
        raise ConfigError(
            service, "longest_processing_time", f"{longest_seconds}s",
            f"Fargate gives a stopping task at most {defaults.MAX_STOP_TIMEOUT_SECONDS}s after SIGTERM, less than "
            f"{longest_seconds}s + {defaults.WORKER_STOP_MARGIN_SECONDS}s to finish a message. Make the worker set "
            "task scale-in protection while it processes a message (README: 'protecting a message in flight') "
            "and pass uses_task_protection=True, or split the work into shorter messages.",
        )
    return defaults.MAX_STOP_TIMEOUT_SECONDS


MAX_ACCEPTABLE_LATENCY_SECONDS = 43_200
"""A message may wait at most 12 hours: longer is a batch job, and the oldest-message alarm's
threshold must stay inside CloudWatch's one-day evaluation window."""


def _positive_seconds(service: str, field: str, value: Duration) -> float:
    seconds = cdk.duration_seconds(value)
    if seconds is None:
        raise ConfigError(service, field, "<token>", "Give a literal duration: the scaling targets are computed from it at synth.")
    if seconds <= 0:
        raise ConfigError(service, field, f"{seconds:g}s", "Give a positive duration.")
    return seconds


class QueueWorker(_StableService):
    """A Fargate service that drains an encrypted SQS queue within an acceptable latency.

    It creates the queue and its dead-letter queue (KMS, TLS-only, long polling, redrive),
    a hardened task (see the base), a service on Fargate Spot with an on-demand base and
    share, three queue-driven scaling policies (see :mod:`stable_fargate.scaling`),
    permission for the task to protect itself from scale-in, and alarms to the environment's
    topic.

    Shared inputs (``service_name``, ``environment``, ``cluster``, ``key``, ``alarm_topic``,
    ``image``, ``parameters``, ``subnets``, ``security_group``, ``command``) are described in
    :mod:`stable_fargate.services._base`. The environment gives this service its sizing: cpu,
    memory, ``min_tasks`` (production refuses 0: see ``defaults.WORKER_MIN_TASKS_PRODUCTION``),
    ``max_tasks`` and ``on_demand_base`` (tasks kept on regular Fargate before any goes to
    Spot; above it one task in five runs on demand. Default when the data leaves it out:
    ``defaults.WORKER_ON_DEMAND_BASE``, 1), and production and retain_data.

    :param average_processing_time: how long one message takes on average. Sets the
        backlog-per-task target ``ceil(acceptable_latency / average)``.
    :param longest_processing_time: the longest a message may take. Sets the visibility
        timeout and the stop timeout.
    :param acceptable_latency: how long a message may wait before it is late (1 s to 12 h).
        Sets the target, the burst steps and the oldest-message alarm (plus the cold start
        when ``min_tasks`` is 0).
    :param visibility_timeout: Default: ``defaults.VISIBILITY_TIMEOUT_FACTOR`` (2) x the
        longest processing time, and no less than the stop timeout; a smaller value is refused.
    :param warm_windows: known bursts to warm for (:class:`~stable_fargate.scaling.WarmWindow`):
        at least ``tasks`` run from the window's start for its duration (capped at the
        environment's max_tasks). Default: none.
    :param uses_task_protection: the worker sets task scale-in protection while it processes
        a message. Required when the longest processing time plus
        ``defaults.WORKER_STOP_MARGIN_SECONDS`` exceeds Fargate's 120 s stop timeout.
        Default: False. (The permission is granted either way.)

    Attributes (beside the shared ones): ``queue``, ``dead_letter_queue``, ``service``,
    ``scalable_target``, ``target_tracking``, ``wake`` / ``wake_alarm``, ``burst`` /
    ``burst_alarm``, ``oldest_message_alarm``, ``dead_letter_alarm``,
    ``task_protection_policy``, ``backlog_target``, ``visibility_timeout_seconds``,
    ``stop_timeout_seconds``, ``on_demand_base``, ``oldest_message_threshold_seconds``.
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
        average_processing_time: Duration,
        longest_processing_time: Duration,
        acceptable_latency: Duration,
        image: ImageRef | None = None,
        parameters: ResolvedParameters | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        command: Sequence[str] | None = None,
        visibility_timeout: Duration | None = None,
        uses_task_protection: bool = False,
        warm_windows: Sequence[scaling.WarmWindow] = (),
    ) -> None:
        super().__init__(
            scope, construct_id, service_name=service_name, environment=environment, cluster=cluster, key=key,
            alarm_topic=alarm_topic, image=image, parameters=parameters, subnets=subnets,
        )
        self._check_inputs(average_processing_time, longest_processing_time, acceptable_latency, visibility_timeout,
                           uses_task_protection)
        self._build_queues()
        self._build_task(
            stop_timeout=cdk.seconds(self.stop_timeout_seconds),
            command=command,
            extra_environment={QUEUE_URL_KEY: self.queue.queue_url},
        )
        self.queue.grant_consume_messages(self.task_role)
        self._build_service(security_group)
        self._grant_task_protection()
        self._build_scaling(warm_windows)
        self._build_alarms()
        self.producers: tuple[str, ...] = ()
        CfnOutput(self, "QueueUrl", value=self.queue.queue_url, description=f"{service_name}: where producers send")
        CfnOutput(self, "QueueArn", value=self.queue.queue_arn, description=f"{service_name}: the queue's ARN, for grants")
        CfnOutput(
            self, "DeadLetterQueueUrl", value=self.dead_letter_queue.queue_url, description=f"{service_name}: failed messages"
        )

    # --- Inputs: everything checked before anything is built ---------------------------

    def _check_inputs(
        self,
        average_processing_time: Duration,
        longest_processing_time: Duration,
        acceptable_latency: Duration,
        visibility_timeout: Duration | None,
        uses_task_protection: bool,
    ) -> None:
        service, sizing = self.service_name, self.sizing
        average = _positive_seconds(service, "average_processing_time", average_processing_time)
        longest_exact = _positive_seconds(service, "longest_processing_time", longest_processing_time)
        longest = math.ceil(longest_exact)
        latency = math.ceil(_positive_seconds(service, "acceptable_latency", acceptable_latency))
        if latency > MAX_ACCEPTABLE_LATENCY_SECONDS:
            raise ConfigError(
                service, "acceptable_latency", f"{latency}s",
                f"Give at most {MAX_ACCEPTABLE_LATENCY_SECONDS // 3600} h: a longer wait is a batch job (ScheduledJob), "
                "and the oldest-message alarm must fit CloudWatch's one-day evaluation window.",
            )
        scaling.check_processing_times(
            service, average_seconds=average, longest_seconds=longest_exact, acceptable_latency_seconds=latency,
        )
        on_demand_base = defaults.WORKER_ON_DEMAND_BASE if sizing.on_demand_base is None else sizing.on_demand_base
        min_tasks, max_tasks = sizing.min_tasks, sizing.max_tasks
        # Counts and their order are the ServiceSizing model's rules; production's floor is the worker's.
        field = f"environments.{self.environment.name}.services.{service}"
        if self.environment.production and min_tasks < 1:
            raise ConfigError(
                service, f"{field}.min_tasks", min_tasks,
                "Production workers keep at least one task: SQS stops publishing metrics for a queue idle six hours "
                f"and takes up to {defaults.SQS_METRICS_RESUME_SECONDS // 60} minutes to resume, so a worker at zero "
                "would not wake within minutes of the first message after a quiet night. Use min_tasks >= 1 "
                "(one task on regular Fargate costs a few dollars a day).",
            )
        given_visibility = None
        if visibility_timeout is not None:
            given_visibility = math.ceil(_positive_seconds(service, "visibility_timeout", visibility_timeout))
        self.stop_timeout_seconds = derive_stop_timeout(service, longest, uses_task_protection=uses_task_protection)
        self.visibility_timeout_seconds = derive_visibility_timeout(
            service, longest, given_visibility, stop_timeout_seconds=self.stop_timeout_seconds
        )
        self.backlog_target = scaling.backlog_per_task_target(
            average_processing_seconds=average, acceptable_latency_seconds=latency
        )
        self.burst_steps = scaling.burst_steps(max_tasks=max_tasks)
        self.wake_bands = scaling.wake_bands(max_tasks=max_tasks)
        self.on_demand_base = on_demand_base
        self.acceptable_latency_seconds = latency
        self.average_processing_seconds = average
        self.longest_processing_seconds = longest_exact
        # From zero, a message waits for metrics (after a quiet spell, for SQS to publish them
        # again), the wake alarm, the step and a task start before it is read: the
        # oldest-message alarm allows for that rather than page on every cold start.
        self.cold_start_seconds = defaults.WORKER_COLD_START_SECONDS + defaults.SQS_METRICS_RESUME_SECONDS if min_tasks == 0 else 0
        self.oldest_message_threshold_seconds = latency + self.cold_start_seconds

    # --- Queues -------------------------------------------------------------------------

    def _build_queues(self) -> None:
        removal = removal_policy(self.environment.retain_data)
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=cdk.days(defaults.DLQ_RETENTION_DAYS),
            removal_policy=removal,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            visibility_timeout=cdk.seconds(self.visibility_timeout_seconds),
            receive_message_wait_time=cdk.seconds(defaults.QUEUE_RECEIVE_WAIT_SECONDS),
            retention_period=cdk.days(defaults.QUEUE_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=defaults.QUEUE_MAX_RECEIVE_COUNT, queue=self.dead_letter_queue
            ),
            removal_policy=removal,
        )

    # --- Service: Spot with an on-demand base and share, 100/200 ------------------------

    def _build_service(self, security_group: ec2.ISecurityGroup | None) -> None:
        self.security_group = self._security_group(
            "SecurityGroup", security_group,
            description=f"{self.service_name}: no inbound; outbound to the queue, endpoints and dependencies",
        )
        capacity = [
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=self.on_demand_base, weight=defaults.ON_DEMAND_WEIGHT),
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=defaults.SPOT_WEIGHT),
        ]
        # No desired_count: a deploy must not reset a scaled-out worker to its minimum.
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            vpc_subnets=self.subnets,
            security_groups=[self.security_group],
            assign_public_ip=False,
            capacity_provider_strategies=capacity,
            min_healthy_percent=defaults.WORKER_MIN_HEALTHY_PERCENT,
            max_healthy_percent=defaults.WORKER_MAX_HEALTHY_PERCENT,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            platform_version=ecs.FargatePlatformVersion.LATEST,
            enable_ecs_managed_tags=True,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )
        # What the work is like, for readers of the template (the stability review replays
        # the scaling policies against a day of arrivals at this processing time).
        resource = self.service.node.default_child
        assert isinstance(resource, ecs.CfnService)
        resource.add_metadata("stable_fargate", {
            "average_processing_seconds": self.average_processing_seconds,
            "longest_processing_seconds": self.longest_processing_seconds,
            "acceptable_latency_seconds": self.acceptable_latency_seconds,
        })

    # --- Scaling: the queue is the one signal, in both directions ---------------------

    def _build_scaling(self, warm_windows: Sequence[scaling.WarmWindow]) -> None:
        # The ECS L2 scalable target uses Application Auto Scaling's service-linked role
        # (a ScalableTarget of our own would create an unused IAM role).
        self.task_count = self.service.auto_scale_task_count(min_capacity=self.sizing.min_tasks, max_capacity=self.sizing.max_tasks)
        scalable_target = self.task_count.node.find_child("Target")
        assert isinstance(scalable_target, appscaling.ScalableTarget)
        self.scalable_target = scalable_target
        self.target_tracking = scaling.tasks_needed_tracking(
            self,
            "BacklogPerTask",  # the logical id of the policy it replaces: updated in place
            scalable_target=self.scalable_target,
            queue_name=self.queue.queue_name,
            cluster_name=self.cluster.cluster_name,
            service_name=self.service.service_name,
            backlog_target=self.backlog_target,
            average_processing_seconds=self.average_processing_seconds,
        )
        self.wake, self.wake_alarm = scaling.wake_step_scaling(
            self,
            "Wake",
            scalable_target=self.scalable_target,
            queue=self.queue,
            service_name=self.service.service_name,
            target=self.backlog_target,
            bands=self.wake_bands,
        )
        scaling.warm_schedules(self.task_count, warm_windows, min_tasks=self.sizing.min_tasks, max_tasks=self.sizing.max_tasks)
        self.warm_windows = tuple(warm_windows)
        self.burst, self.burst_alarm = scaling.burst_step_scaling(
            self,
            "Burst",
            scalable_target=self.scalable_target,
            queue=self.queue,
            cluster_name=self.cluster.cluster_name,
            service_name=self.service.service_name,
            target=self.backlog_target,
            steps=self.burst_steps,
        )

    # --- Alarms: late messages, and every message the DLQ receives ----------------------

    def _build_alarms(self) -> None:
        service, latency = self.service_name, self.acceptable_latency_seconds
        period = cdk.seconds(defaults.ALARM_PERIOD_SECONDS)
        self.oldest_message_alarm = cloudwatch.Alarm(
            self,
            "OldestMessageAlarm",
            alarm_description=(
                f"{service}: the oldest message has waited longer than the acceptable latency ({latency}s"
                + (f" + {self.cold_start_seconds}s to start from zero after a quiet spell" if self.cold_start_seconds else "")
                + ")."
            ),
            metric=self.queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
            threshold=self.oldest_message_threshold_seconds,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=defaults.ALARM_EVALUATION_PERIODS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.oldest_message_alarm.add_alarm_action(cdk.sns_action(self.alarm_topic))
        self.oldest_message_alarm.add_ok_action(cdk.sns_action(self.alarm_topic))
        self.dead_letter_alarm = arrivals_alarm(
            self,
            "DeadLetterAlarm",
            queue=self.dead_letter_queue,
            description=f"{service}: a message failed {defaults.QUEUE_MAX_RECEIVE_COUNT} times and was moved to the DLQ "
            "(pages for every new arrival; OK once arrivals stop).",
            topic=self.alarm_topic,
        )
        # A release that poisons messages (DLQ arrivals) or stops keeping up (the oldest message
        # past the acceptable latency) is rolled back while the last good one can still take over.
        self.service.enable_deployment_alarms(
            [self.dead_letter_alarm.alarm_name, self.oldest_message_alarm.alarm_name],
            behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
        )

    def allow_producer(self, producer: _StableService, *, url_key: str) -> None:
        """Let ``producer`` (another service of this library) send to this worker's queue: the
        right to send (and to use the key for it), and the queue's URL in its container under
        ``url_key``, the same logical reference in every environment.

        The grant's KMS actions carry wildcards (``kms:GenerateDataKey*``, ``kms:ReEncrypt*``,
        CDK's encrypt grant on the queue's key): acknowledged on the producer's task role, with
        the reason, since they name this one key.
        """
        if not isinstance(producer, _StableService):
            raise ConfigError(self.service_name, "producer", producer, "Give a StableWebService, QueueWorker or ScheduledJob.")
        if not isinstance(url_key, str) or not KEY_NAME.fullmatch(url_key) or url_key.startswith(("AWS_", "ECS_")):
            raise ConfigError(
                producer.service_name, "url_key", url_key,
                "Name the environment key in upper-case ASCII letters, digits and '_' (not AWS_* or ECS_*), e.g. IMPORT_QUEUE_URL.",
            )
        if producer is self:
            raise ConfigError(self.service_name, "producer", self.service_name, "A worker already consumes its own queue.")
        if url_key in producer.parameters.plain or url_key in producer.parameters.secrets:
            raise ConfigError(
                producer.service_name, f"parameters.{url_key}", "<declared>",
                f"{url_key} is set to {self.service_name}'s queue URL by allow_producer; rename one of them.",
            )
        # The container holds one value per key: adding a taken key would silently replace
        # its value (a worker producer's own QUEUE_URL, or another worker's queue URL).
        if url_key in producer.wired_environment:
            raise ConfigError(
                producer.service_name, "url_key", url_key,
                f"{url_key} is already {producer.wired_environment[url_key]}; give {self.service_name}'s queue URL a key "
                "of its own.",
            )
        self.queue.grant_send_messages(producer.task_role)
        producer.container.add_environment(url_key, self.queue.queue_url)
        producer.wired_environment[url_key] = f"set to {self.service_name}'s queue URL"
        acknowledge_all(producer.task_role, {
            f"AwsSolutions-IAM5[Action::{action}]":
                f"{producer.service_name} sends to {self.service_name}'s KMS-encrypted queue; CDK's grant names this one "
                "key, and SQS needs the data-key actions to encrypt each message."
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*")
        })
        self.producers = (*self.producers, producer.service_name)

    def _grant_task_protection(self) -> None:
        """Let the task protect itself: only tasks of its own cluster.

        The cluster's name is read from this service's ARN
        (``arn:...:service/<cluster>/<service>``) rather than from the platform stack, so the
        policy names only resources of this stack and its nag finding has a stable id.
        """
        stack = Stack.of(self)
        cluster_name = Fn.select(1, Fn.split("/", self.service.service_arn))
        tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{cluster_name}/*")
        # A policy of its own: the service waits for the task role's default policy, so that
        # one cannot name the service without a dependency cycle.
        self.task_protection_policy = iam.Policy(
            self,
            "TaskProtectionPolicy",
            statements=[iam.PolicyStatement(actions=list(TASK_PROTECTION_ACTIONS), resources=[tasks])],
            roles=[self.task_role],
        )
        acknowledge_all(self.task_protection_policy, {
            "PCI.DSS.321-IAMNoInlinePolicy":
                f"{self.service_name}'s task-protection policy names this one service's cluster and is attached to "
                "this task role alone.",
            f"AwsSolutions-IAM5[Resource::{nag_flatten(stack, tasks)}]":
                f"{self.service_name} protects its own task from scale-in while it processes a message; task ids are "
                "only known at run time, so the grant covers the tasks of this service's cluster and nothing else.",
        })
