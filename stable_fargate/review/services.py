"""The stability model: per environment, each ECS service as the templates define it.

Read from cdk.out alone (any CDK app) through the reader the drift model shares
(:func:`stable_fargate.review.model.read_assembly`); nothing here knows the constructs. Per
service: deployment configuration (circuit breaker, alarms, min/max percent), grace period,
capacity providers, launch type and platform; the task definition (CPU, memory,
architecture, containers with health checks, stop timeout, image, environment and secret
keys); target groups and their listeners; Application Auto Scaling (scalable target, step
policies with their CloudWatch alarms, target tracking with predefined or customized
metrics, metric math included); the SQS queue a worker drains and its dead-letter queue.
Per environment: AWS Budgets budgets, and RDS instances, clusters and proxies (the connection
budgets HardenedPostgres records are read by :mod:`stable_fargate.review.budgets`).

Which service a resource belongs to follows the template's own references: a scalable
target names its service in ``ResourceId``; a policy names its scalable target; an alarm
names the policies it invokes in ``AlarmActions``; a worker's queue is the SQS queue its
scaling metrics read (else the queue its containers reference). A value the template does
not set reads as AWS's documented default, cited beside each constant.

What the template cannot say, a service may declare in its resource ``Metadata``:
``{"stable_fargate": {"average_processing_seconds": 2, "longest_processing_seconds": 20,
"acceptable_latency_seconds": 60}}`` (the replay's worker speed and latency goal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stable_fargate.review import cfn
from stable_fargate.review.model import AssemblySources, Grouping, StackSource, read_assembly

ServiceKind = Literal["web", "worker", "service"]

# --- AWS defaults for what a template leaves out ---------------------------------------------

ECS_HEALTH_CHECK_INTERVAL_SECONDS = 30
ECS_HEALTH_CHECK_TIMEOUT_SECONDS = 5
ECS_HEALTH_CHECK_RETRIES = 3
ECS_HEALTH_CHECK_START_PERIOD_SECONDS = 0
"""Container health check defaults (interval 30 s, timeout 5 s, 3 retries, no start period):
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html"""

FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS = 30
"""Fargate gives a container 30 s after SIGTERM unless stopTimeout says otherwise (max 120 s):
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html"""

ECS_MINIMUM_HEALTHY_PERCENT = 100
ECS_MAXIMUM_PERCENT = 200
"""Rolling-update defaults for a REPLICA service:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html"""

ECS_GRACE_PERIOD_SECONDS = 0
"""No health check grace period unless one is set:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"""

ELB_HEALTH_CHECK_INTERVAL_SECONDS = 30
ELB_HEALTH_CHECK_TIMEOUT_SECONDS = 5
ELB_HEALTHY_THRESHOLD = 5
ELB_UNHEALTHY_THRESHOLD = 2
"""Target-group health check defaults for HTTP/HTTPS targets of type ip or instance:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-targetgroup.html"""

ELB_DEREGISTRATION_DELAY_SECONDS = 300
"""deregistration_delay.timeout_seconds defaults to 300 s:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-elasticloadbalancingv2-targetgroup-targetgroupattribute.html"""

SQS_VISIBILITY_TIMEOUT_SECONDS = 30
SQS_RETENTION_SECONDS = 345_600
SQS_RECEIVE_WAIT_SECONDS = 0
"""Queue defaults: 30 s visibility, 4 days retention, short polling:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html"""

STEP_COOLDOWN_SECONDS = 300
STEP_METRIC_AGGREGATION = "Average"
"""A step policy without Cooldown waits 300 s; without MetricAggregationType it averages:
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html"""

TARGET_TRACKING_COOLDOWN_SECONDS = 300
"""Application Auto Scaling's default scale-in and scale-out cooldown for ECS services:
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html"""

ALARM_TREAT_MISSING_DATA = "missing"
"""An alarm without TreatMissingData treats missing data as missing:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data"""

STANDARD_PERIOD_SECONDS = 60
"""Target tracking's metrics and Container Insights are evaluated on one-minute periods."""

PREDEFINED_METRICS: Mapping[str, tuple[str, str, str]] = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}
"""Predefined target-tracking metrics for ECS and the CloudWatch metric each stands for:
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html"""

QUEUE_TYPE = "AWS::SQS::Queue"
SERVICE_TYPE = "AWS::ECS::Service"
TASK_TYPE = "AWS::ECS::TaskDefinition"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER_TYPE = "AWS::ElasticLoadBalancingV2::Listener"
SCALABLE_TARGET_TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY_TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
ALARM_TYPE = "AWS::CloudWatch::Alarm"
BUDGET_TYPE = "AWS::Budgets::Budget"
DATABASE_TYPES: Mapping[str, str] = {"AWS::RDS::DBInstance": "instance", "AWS::RDS::DBCluster": "cluster", "AWS::RDS::DBProxy": "proxy"}


# --- The model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthCheck:
    command: tuple[str, ...]
    interval: int = ECS_HEALTH_CHECK_INTERVAL_SECONDS
    timeout: int = ECS_HEALTH_CHECK_TIMEOUT_SECONDS
    retries: int = ECS_HEALTH_CHECK_RETRIES
    start_period: int = ECS_HEALTH_CHECK_START_PERIOD_SECONDS


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    essential: bool = True
    health_check: HealthCheck | None = None
    stop_timeout: int | None = None
    environment_keys: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class Task:
    logical_id: str
    cpu: int | None
    memory_mib: int | None
    architecture: str = "X86_64"
    operating_system: str = "LINUX"
    containers: tuple[Container, ...] = ()

    @property
    def stop_timeout(self) -> int:
        """The longest stop timeout of its containers (Fargate's default where unset)."""
        return max((c.stop_timeout or FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS for c in self.containers),
                   default=FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS)

    @property
    def warm_up(self) -> int:
        """The essential containers' longest health-check start period: the template's only
        record of how long the app takes to warm up (0 when none is declared)."""
        return max((c.health_check.start_period for c in self.containers if c.essential and c.health_check), default=0)


@dataclass(frozen=True)
class Listener:
    logical_id: str
    port: int | None
    protocol: str | None


@dataclass(frozen=True)
class TargetGroup:
    logical_id: str
    interval: int = ELB_HEALTH_CHECK_INTERVAL_SECONDS
    timeout: int = ELB_HEALTH_CHECK_TIMEOUT_SECONDS
    healthy_threshold: int = ELB_HEALTHY_THRESHOLD
    unhealthy_threshold: int = ELB_UNHEALTHY_THRESHOLD
    deregistration_delay: int = ELB_DEREGISTRATION_DELAY_SECONDS
    path: str | None = None
    listeners: tuple[Listener, ...] = ()


@dataclass(frozen=True)
class Queue:
    logical_id: str
    visibility_timeout: int = SQS_VISIBILITY_TIMEOUT_SECONDS
    retention: int = SQS_RETENTION_SECONDS
    receive_wait: int = SQS_RECEIVE_WAIT_SECONDS
    max_receive_count: int | None = None
    dead_letter_queue: str | None = None
    fifo: bool = False


@dataclass(frozen=True)
class Metric:
    """A CloudWatch metric with its statistic and period. ``dimensions`` maps each dimension
    name to the logical id its value refers to (``queue``/``service`` binding), or to the
    literal value."""

    namespace: str
    name: str
    stat: str
    period: int = STANDARD_PERIOD_SECONDS
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MetricQuery:
    """One entry of an alarm's or policy's ``Metrics``: a metric or a math expression."""

    id: str
    metric: Metric | None = None
    expression: str | None = None
    return_data: bool = True


@dataclass(frozen=True)
class Alarm:
    logical_id: str
    queries: tuple[MetricQuery, ...]
    threshold: float
    comparison: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    treat_missing: str = ALARM_TREAT_MISSING_DATA
    period: int = STANDARD_PERIOD_SECONDS
    scaling_actions: tuple[str, ...] = ()
    notification_actions: int = 0
    description: str | None = None

    @property
    def expression(self) -> MetricQuery:
        """The query whose result the alarm compares with its threshold."""
        returned = [q for q in self.queries if q.return_data]
        return returned[0] if returned else self.queries[-1]


@dataclass(frozen=True)
class StepAdjustment:
    lower: float | None
    upper: float | None
    adjustment: float


@dataclass(frozen=True)
class StepPolicy:
    logical_id: str
    adjustment_type: str
    steps: tuple[StepAdjustment, ...]
    cooldown: int = STEP_COOLDOWN_SECONDS
    aggregation: str = STEP_METRIC_AGGREGATION
    min_adjustment_magnitude: int | None = None
    alarms: tuple[Alarm, ...] = ()


@dataclass(frozen=True)
class TargetTrackingPolicy:
    logical_id: str
    target: float
    queries: tuple[MetricQuery, ...]
    scale_out_cooldown: int = TARGET_TRACKING_COOLDOWN_SECONDS
    scale_in_cooldown: int = TARGET_TRACKING_COOLDOWN_SECONDS
    disable_scale_in: bool = False
    predefined: str | None = None


@dataclass(frozen=True)
class ScheduledCapacity:
    """A scheduled action of the scalable target that runs every day at ``minute_of_day`` (in
    its time zone) and sets the minimum and/or maximum capacity. Only daily crons with a single
    minute and hour are modelled; others are listed in ``Scaling.unmodelled_schedules``."""

    name: str
    minute_of_day: int
    time_zone: str
    min_capacity: int | None = None
    max_capacity: int | None = None


@dataclass(frozen=True)
class Scaling:
    logical_id: str
    min_capacity: int
    max_capacity: int
    step_policies: tuple[StepPolicy, ...] = ()
    target_tracking: tuple[TargetTrackingPolicy, ...] = ()
    scheduled: tuple[ScheduledCapacity, ...] = ()
    unmodelled_schedules: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapacityProvider:
    provider: str
    base: int = 0
    weight: int = 0


@dataclass(frozen=True)
class Deployment:
    minimum_healthy_percent: int = ECS_MINIMUM_HEALTHY_PERCENT
    maximum_percent: int = ECS_MAXIMUM_PERCENT
    circuit_breaker: bool = False
    rollback: bool = False
    alarms: tuple[str, ...] = ()
    alarm_rollback: bool = False
    strategy: str = "ROLLING"
    bake_minutes: int = 0
    canary_percent: float | None = None
    canary_bake_minutes: int | None = None
    linear_step_percent: float | None = None
    linear_step_bake_minutes: int | None = None
    lifecycle_stages: tuple[str, ...] = ()
    """The stages with a lifecycle hook (e.g. POST_TEST_TRAFFIC_SHIFT: a smoke check)."""


@dataclass(frozen=True)
class WorkerHints:
    """What only the app knows, declared in the service's ``Metadata.stable_fargate``."""

    average_processing_seconds: float | None = None
    longest_processing_seconds: float | None = None
    acceptable_latency_seconds: float | None = None


@dataclass(frozen=True)
class Service:
    name: str
    environment: str
    stack: str
    logical_id: str
    kind: ServiceKind
    task: Task | None
    launch_type: str | None = None
    platform_version: str | None = None
    capacity_providers: tuple[CapacityProvider, ...] = ()
    desired_count: int | None = None
    grace_period: int = ECS_GRACE_PERIOD_SECONDS
    grace_period_declared: bool = False
    deployment: Deployment = field(default_factory=Deployment)
    target_groups: tuple[TargetGroup, ...] = ()
    scaling: Scaling | None = None
    queue: Queue | None = None
    dead_letter_queue: Queue | None = None
    hints: WorkerHints = field(default_factory=WorkerHints)
    latency_alarms: tuple[Alarm, ...] = ()
    deployment_alarms: tuple[Alarm, ...] = ()
    """The alarms of this template that ``deployment.alarms`` names."""
    alternate_target_groups: tuple[str, ...] = ()
    """Logical ids of the alternate (green) target groups of a blue/green, canary or linear release."""
    account: str | None = None
    region: str | None = None

    @property
    def spot_share(self) -> float:
        """The share of tasks above the on-demand base that run on Fargate Spot (by weight)."""
        weights = {p.provider: p.weight for p in self.capacity_providers}
        total = sum(weights.values())
        return weights.get("FARGATE_SPOT", 0) / total if total else 0.0

    @property
    def on_demand_base(self) -> int:
        return sum(p.base for p in self.capacity_providers if p.provider != "FARGATE_SPOT")


@dataclass(frozen=True)
class Budget:
    logical_id: str
    name: str | None
    amount: float | None
    unit: str | None
    time_unit: str | None
    budget_type: str | None


@dataclass(frozen=True)
class Database:
    """A hook for a connection-budget review: what the environment's templates hold."""

    logical_id: str
    kind: str
    engine: str | None
    instance_class: str | None


@dataclass(frozen=True)
class Environment:
    name: str
    account: str | None
    region: str | None
    services: tuple[Service, ...] = ()
    budgets: tuple[Budget, ...] = ()
    databases: tuple[Database, ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    @property
    def monthly_budget(self) -> Budget | None:
        """The environment's monthly cost budget in USD, if one is declared."""
        for budget in self.budgets:
            if (budget.time_unit or "").upper() == "MONTHLY" and (budget.unit or "").upper() == "USD" and budget.amount is not None:
                return budget
        return None


@dataclass(frozen=True)
class StabilityModel:
    environments: tuple[Environment, ...]
    grouping: Grouping

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name.lower() == name.lower()), None)


# --- Reading ---------------------------------------------------------------------------------


def load_stability_model(path: Any) -> StabilityModel:
    """The stability model of a cdk.out directory, a snapshot directory or a template."""
    return stability_model(read_assembly(path))


def stability_model(read: AssemblySources) -> StabilityModel:
    by_env: dict[str, list[StackSource]] = {}
    for source in read.sources:
        by_env.setdefault(source.environment, []).append(source)
    environments = []
    for name, sources in by_env.items():
        services: list[Service] = []
        budgets: list[Budget] = []
        databases: list[Database] = []
        for source in sources:
            resources = cfn.resources(source.template)
            services.extend(_services(source, resources))
            budgets.extend(_budgets(resources))
            databases.extend(_databases(resources))
        if not services and not budgets:
            continue
        account = next((s.account for s in sources if s.account), None)
        region = next((s.region for s in sources if s.region), None) or _logs_region(sources)
        environments.append(Environment(
            name=name, account=account, region=region,
            services=tuple(sorted(services, key=lambda s: s.name)), budgets=tuple(budgets), databases=tuple(databases),
        ))
    return StabilityModel(environments=tuple(environments), grouping=read.grouping)


def _logs_region(sources: Sequence[StackSource]) -> str | None:
    """Where a template without a manifest deploys (a snapshot): the region its containers
    send logs to (``awslogs-region``), the one place ECS templates state it literally."""
    for source in sources:
        for _, props in cfn.of_type(cfn.resources(source.template), TASK_TYPE):
            for container in map(cfn.mapping, cfn.items(props.get("ContainerDefinitions"))):
                options = cfn.mapping(cfn.mapping(container.get("LogConfiguration")).get("Options"))
                if isinstance(options.get("awslogs-region"), str):
                    return str(options["awslogs-region"])
    return None


def _services(source: StackSource, resources: Mapping[str, Mapping[str, Any]]) -> list[Service]:
    tasks = {lid: _task(lid, props) for lid, props in cfn.of_type(resources, TASK_TYPE)}
    queues = {lid: _queue(lid, props) for lid, props in cfn.of_type(resources, QUEUE_TYPE)}
    policy_ids = {lid for lid, _ in cfn.of_type(resources, SCALING_POLICY_TYPE)}
    alarms = [_alarm(lid, props, policy_ids) for lid, props in cfn.of_type(resources, ALARM_TYPE)]
    listeners = list(cfn.of_type(resources, LISTENER_TYPE))
    target_groups = {lid: _target_group(lid, props, listeners) for lid, props in cfn.of_type(resources, TARGET_GROUP_TYPE)}
    policies = list(cfn.of_type(resources, SCALING_POLICY_TYPE))
    targets = list(cfn.of_type(resources, SCALABLE_TARGET_TYPE))
    found = []
    for logical_id, props in cfn.of_type(resources, SERVICE_TYPE):
        task = tasks.get(cfn.reference(props.get("TaskDefinition")) or "")
        scaling = _scaling(logical_id, targets, policies, alarms)
        queue = _worker_queue(scaling, task, resources, queues)
        dead_letter = queues.get(queue.dead_letter_queue or "") if queue else None
        lbs = [cfn.mapping(lb) for lb in cfn.items(props.get("LoadBalancers"))]
        groups = tuple(target_groups[t] for lb in lbs if (t := cfn.reference(lb.get("TargetGroupArn"))) in target_groups)
        first = task.containers[0].name if task and task.containers else None
        grace = cfn.integer(props.get("HealthCheckGracePeriodSeconds"))
        metadata = cfn.mapping(cfn.mapping(resources[logical_id].get("Metadata")).get("stable_fargate"))
        kind: ServiceKind = "web" if lbs else "worker" if queue else "service"
        deployment = _deployment(cfn.mapping(props.get("DeploymentConfiguration")), props)
        found.append(Service(
            name=first or logical_id,
            environment=source.environment,
            stack=source.stack,
            logical_id=logical_id,
            kind=kind,
            task=task,
            launch_type=cfn.text(props.get("LaunchType")),
            platform_version=cfn.text(props.get("PlatformVersion")),
            capacity_providers=tuple(
                CapacityProvider(
                    provider=cfn.text(p.get("CapacityProvider")) or "?",
                    base=cfn.integer(p.get("Base")) or 0,
                    weight=cfn.integer(p.get("Weight")) or 0,
                )
                for p in map(cfn.mapping, cfn.items(props.get("CapacityProviderStrategy")))
            ),
            desired_count=cfn.integer(props.get("DesiredCount")),
            grace_period=grace if grace is not None else ECS_GRACE_PERIOD_SECONDS,
            grace_period_declared=grace is not None,
            deployment=deployment,
            target_groups=groups,
            scaling=scaling,
            queue=queue,
            dead_letter_queue=dead_letter,
            hints=WorkerHints(
                average_processing_seconds=cfn.number(metadata.get("average_processing_seconds")),
                longest_processing_seconds=cfn.number(metadata.get("longest_processing_seconds")),
                acceptable_latency_seconds=cfn.number(metadata.get("acceptable_latency_seconds")),
            ),
            latency_alarms=tuple(a for a in alarms if queue and _reads(a, "ApproximateAgeOfOldestMessage", queue.logical_id)),
            deployment_alarms=tuple(a for a in alarms if a.logical_id in deployment.alarms),
            alternate_target_groups=tuple(
                t for lb in lbs if (t := cfn.reference(cfn.mapping(lb.get("AdvancedConfiguration")).get("AlternateTargetGroupArn")))
            ),
            account=source.account,
            region=source.region,
        ))
    return found


def _task(logical_id: str, props: Mapping[str, Any]) -> Task:
    platform = cfn.mapping(props.get("RuntimePlatform"))
    containers: list[Container] = []
    for raw in map(cfn.mapping, cfn.items(props.get("ContainerDefinitions"))):
        check = cfn.mapping(raw.get("HealthCheck"))
        health = None
        if check:
            health = HealthCheck(
                command=tuple(str(c) for c in cfn.items(check.get("Command"))),
                interval=cfn.integer(check.get("Interval")) or ECS_HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=cfn.integer(check.get("Timeout")) or ECS_HEALTH_CHECK_TIMEOUT_SECONDS,
                retries=cfn.integer(check.get("Retries")) or ECS_HEALTH_CHECK_RETRIES,
                start_period=cfn.integer(check.get("StartPeriod")) or ECS_HEALTH_CHECK_START_PERIOD_SECONDS,
            )
        essential = cfn.boolean(raw.get("Essential"))
        containers.append(Container(
            name=cfn.text(raw.get("Name")) or f"#{len(containers)}",
            image=_render_image(raw.get("Image")),
            essential=True if essential is None else essential,
            health_check=health,
            stop_timeout=cfn.integer(raw.get("StopTimeout")),
            environment_keys=tuple(sorted(str(cfn.mapping(e).get("Name")) for e in cfn.items(raw.get("Environment")))),
            secret_keys=tuple(sorted(str(cfn.mapping(e).get("Name")) for e in cfn.items(raw.get("Secrets")))),
            ports=tuple(
                p for m in cfn.items(raw.get("PortMappings")) if (p := cfn.integer(cfn.mapping(m).get("ContainerPort"))) is not None
            ),
        ))
    return Task(
        logical_id=logical_id,
        cpu=cfn.integer(props.get("Cpu")),
        memory_mib=cfn.integer(props.get("Memory")),
        architecture=cfn.text(platform.get("CpuArchitecture")) or "X86_64",
        operating_system=cfn.text(platform.get("OperatingSystemFamily")) or "LINUX",
        containers=tuple(containers),
    )


def _render_image(value: Any) -> str:
    if isinstance(value, str):
        return value
    join = cfn.items(cfn.mapping(value).get("Fn::Join"))
    if len(join) == 2 and isinstance(join[1], list):
        return "".join(p if isinstance(p, str) else "${" + (cfn.reference(p) or "?") + "}" for p in join[1])
    return "${" + (cfn.reference(value) or "?") + "}"


def _queue(logical_id: str, props: Mapping[str, Any]) -> Queue:
    redrive = cfn.mapping(props.get("RedrivePolicy"))
    return Queue(
        logical_id=logical_id,
        visibility_timeout=_or(cfn.integer(props.get("VisibilityTimeout")), SQS_VISIBILITY_TIMEOUT_SECONDS),
        retention=_or(cfn.integer(props.get("MessageRetentionPeriod")), SQS_RETENTION_SECONDS),
        receive_wait=_or(cfn.integer(props.get("ReceiveMessageWaitTimeSeconds")), SQS_RECEIVE_WAIT_SECONDS),
        max_receive_count=cfn.integer(redrive.get("maxReceiveCount")),
        dead_letter_queue=cfn.reference(redrive.get("deadLetterTargetArn")),
        fifo=bool(cfn.boolean(props.get("FifoQueue"))),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _target_group(logical_id: str, props: Mapping[str, Any], listeners: Sequence[tuple[str, Mapping[str, Any]]]) -> TargetGroup:
    attributes = {
        str(cfn.mapping(a).get("Key")): cfn.mapping(a).get("Value") for a in cfn.items(props.get("TargetGroupAttributes"))
    }
    own_listeners = tuple(
        Listener(logical_id=lid, port=cfn.integer(lp.get("Port")), protocol=cfn.text(lp.get("Protocol")))
        for lid, lp in listeners
        if logical_id in cfn.references(lp.get("DefaultActions"))
    )
    return TargetGroup(
        logical_id=logical_id,
        interval=_or(cfn.integer(props.get("HealthCheckIntervalSeconds")), ELB_HEALTH_CHECK_INTERVAL_SECONDS),
        timeout=_or(cfn.integer(props.get("HealthCheckTimeoutSeconds")), ELB_HEALTH_CHECK_TIMEOUT_SECONDS),
        healthy_threshold=_or(cfn.integer(props.get("HealthyThresholdCount")), ELB_HEALTHY_THRESHOLD),
        unhealthy_threshold=_or(cfn.integer(props.get("UnhealthyThresholdCount")), ELB_UNHEALTHY_THRESHOLD),
        deregistration_delay=_or(cfn.integer(attributes.get("deregistration_delay.timeout_seconds")), ELB_DEREGISTRATION_DELAY_SECONDS),
        path=cfn.text(props.get("HealthCheckPath")),
        listeners=own_listeners,
    )


def _deployment(config: Mapping[str, Any], props: Mapping[str, Any]) -> Deployment:
    breaker = cfn.mapping(config.get("DeploymentCircuitBreaker"))
    alarms = cfn.mapping(config.get("Alarms"))
    alarms_on = bool(cfn.boolean(alarms.get("Enable")))
    controller = cfn.text(cfn.mapping(props.get("DeploymentController")).get("Type")) or "ECS"
    canary = cfn.mapping(config.get("CanaryConfiguration"))
    linear = cfn.mapping(config.get("LinearConfiguration"))
    return Deployment(
        minimum_healthy_percent=_or(cfn.integer(config.get("MinimumHealthyPercent")), ECS_MINIMUM_HEALTHY_PERCENT),
        maximum_percent=_or(cfn.integer(config.get("MaximumPercent")), ECS_MAXIMUM_PERCENT),
        circuit_breaker=bool(cfn.boolean(breaker.get("Enable"))),
        rollback=bool(cfn.boolean(breaker.get("Rollback"))),
        alarms=tuple(sorted(r for a in cfn.items(alarms.get("AlarmNames")) if (r := cfn.reference(a) or cfn.text(a)))) if alarms_on else (),
        alarm_rollback=alarms_on and bool(cfn.boolean(alarms.get("Rollback"))),
        strategy=(cfn.text(config.get("Strategy")) or "ROLLING") if controller == "ECS" else controller,
        bake_minutes=cfn.integer(config.get("BakeTimeInMinutes")) or 0,
        canary_percent=cfn.number(canary.get("CanaryPercent")),
        canary_bake_minutes=cfn.integer(canary.get("CanaryBakeTimeInMinutes")),
        linear_step_percent=cfn.number(linear.get("StepPercent")),
        linear_step_bake_minutes=cfn.integer(linear.get("StepBakeTimeInMinutes")),
        lifecycle_stages=tuple(sorted({
            stage for hook in map(cfn.mapping, cfn.items(config.get("LifecycleHooks")))
            for item in cfn.items(hook.get("LifecycleStages")) if (stage := cfn.text(item))
        })),
    )


def _metric(raw: Mapping[str, Any], stat: Any, period: Any) -> Metric:
    dimensions = []
    for d in map(cfn.mapping, cfn.items(raw.get("Dimensions"))):
        value = d.get("Value")
        dimensions.append((str(d.get("Name")), cfn.reference(value) or (value if isinstance(value, str) else "?")))
    return Metric(
        namespace=cfn.text(raw.get("Namespace")) or "?",
        name=cfn.text(raw.get("MetricName")) or "?",
        stat=cfn.text(stat) or "Average",
        period=cfn.integer(period) or STANDARD_PERIOD_SECONDS,
        dimensions=tuple(sorted(dimensions)),
    )


def _queries(raw_queries: Any, *, default_period: int = STANDARD_PERIOD_SECONDS) -> tuple[MetricQuery, ...]:
    queries: list[MetricQuery] = []
    for raw in map(cfn.mapping, cfn.items(raw_queries)):
        stat = cfn.mapping(raw.get("MetricStat"))
        returned = cfn.boolean(raw.get("ReturnData"))
        queries.append(MetricQuery(
            id=cfn.text(raw.get("Id")) or f"q{len(queries)}",
            metric=_metric(cfn.mapping(stat.get("Metric")), stat.get("Stat"), stat.get("Period") or default_period) if stat else None,
            expression=cfn.text(raw.get("Expression")),
            return_data=True if returned is None else returned,
        ))
    return tuple(queries)


def _alarm(logical_id: str, props: Mapping[str, Any], policy_ids: set[str]) -> Alarm:
    if props.get("Metrics") is not None:
        queries = _queries(props.get("Metrics"))
    else:
        queries = (MetricQuery(id="m1", metric=_metric(props, props.get("Statistic"), props.get("Period"))),)
    periods = [q.metric.period for q in queries if q.metric]
    evaluation = cfn.integer(props.get("EvaluationPeriods")) or 1
    actions = cfn.items(props.get("AlarmActions"))
    # An action naming a scaling policy of this template scales; any other (an SNS topic,
    # an imported ARN) notifies.
    scaling = tuple(r for a in actions if (r := cfn.reference(a)) in policy_ids)
    return Alarm(
        logical_id=logical_id,
        queries=queries,
        threshold=cfn.number(props.get("Threshold")) or 0.0,
        comparison=cfn.text(props.get("ComparisonOperator")) or "GreaterThanThreshold",
        evaluation_periods=evaluation,
        datapoints_to_alarm=cfn.integer(props.get("DatapointsToAlarm")) or evaluation,
        treat_missing=cfn.text(props.get("TreatMissingData")) or ALARM_TREAT_MISSING_DATA,
        period=max(periods, default=STANDARD_PERIOD_SECONDS),
        scaling_actions=scaling,
        notification_actions=len(actions) - len(scaling),
        description=cfn.text(props.get("AlarmDescription")),
    )


def _scaling(
    service_id: str,
    targets: Sequence[tuple[str, Mapping[str, Any]]],
    policies: Sequence[tuple[str, Mapping[str, Any]]],
    alarms: Sequence[Alarm],
) -> Scaling | None:
    for target_id, props in targets:
        if service_id not in cfn.references(props.get("ResourceId")):
            continue
        steps: list[StepPolicy] = []
        tracking: list[TargetTrackingPolicy] = []
        for policy_id, policy in policies:
            linked = cfn.reference(policy.get("ScalingTargetId")) == target_id or service_id in cfn.references(policy.get("ResourceId"))
            if not linked:
                continue
            if policy.get("PolicyType") == "StepScaling":
                steps.append(_step_policy(policy_id, cfn.mapping(policy.get("StepScalingPolicyConfiguration")), alarms))
            elif policy.get("PolicyType") == "TargetTrackingScaling":
                tracking.append(_target_tracking(policy_id, cfn.mapping(policy.get("TargetTrackingScalingPolicyConfiguration"))))
        scheduled, unmodelled = _scheduled_actions(props.get("ScheduledActions"))
        return Scaling(
            logical_id=target_id,
            min_capacity=cfn.integer(props.get("MinCapacity")) or 0,
            max_capacity=cfn.integer(props.get("MaxCapacity")) or 0,
            step_policies=tuple(steps),
            target_tracking=tuple(tracking),
            scheduled=scheduled,
            unmodelled_schedules=unmodelled,
        )
    return None


_DAILY_CRON = re.compile(r"cron\(([0-9]{1,2}) ([0-9]{1,2}) [*?] \* [*?] \*\)")
"""A daily cron with one minute and hour (``cron(55 1 * * ? *)``): the schedules the replay models."""


def _scheduled_actions(raw: Any) -> tuple[tuple[ScheduledCapacity, ...], tuple[str, ...]]:
    """The scalable target's ScheduledActions
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-applicationautoscaling-scalabletarget-scheduledaction.html)."""
    modelled: list[ScheduledCapacity] = []
    unmodelled: list[str] = []
    for action in raw if isinstance(raw, list) else []:
        action = cfn.mapping(action)
        name = cfn.text(action.get("ScheduledActionName")) or "?"
        match = _DAILY_CRON.fullmatch(cfn.text(action.get("Schedule")) or "")
        target = cfn.mapping(action.get("ScalableTargetAction"))
        if match is None or action.get("StartTime") or action.get("EndTime"):
            unmodelled.append(name)
            continue
        modelled.append(ScheduledCapacity(
            name=name,
            minute_of_day=int(match.group(2)) * 60 + int(match.group(1)),
            time_zone=cfn.text(action.get("Timezone")) or "UTC",
            min_capacity=cfn.integer(target.get("MinCapacity")),
            max_capacity=cfn.integer(target.get("MaxCapacity")),
        ))
    return tuple(sorted(modelled, key=lambda a: a.minute_of_day)), tuple(unmodelled)


def _step_policy(logical_id: str, config: Mapping[str, Any], alarms: Sequence[Alarm]) -> StepPolicy:
    return StepPolicy(
        logical_id=logical_id,
        adjustment_type=cfn.text(config.get("AdjustmentType")) or "ChangeInCapacity",
        steps=tuple(
            StepAdjustment(
                lower=cfn.number(s.get("MetricIntervalLowerBound")),
                upper=cfn.number(s.get("MetricIntervalUpperBound")),
                adjustment=cfn.number(s.get("ScalingAdjustment")) or 0.0,
            )
            for s in map(cfn.mapping, cfn.items(config.get("StepAdjustments")))
        ),
        cooldown=_or(cfn.integer(config.get("Cooldown")), STEP_COOLDOWN_SECONDS),
        aggregation=cfn.text(config.get("MetricAggregationType")) or STEP_METRIC_AGGREGATION,
        min_adjustment_magnitude=cfn.integer(config.get("MinAdjustmentMagnitude")),
        alarms=tuple(a for a in alarms if logical_id in a.scaling_actions),
    )


def _target_tracking(logical_id: str, config: Mapping[str, Any]) -> TargetTrackingPolicy:
    predefined = cfn.text(cfn.mapping(config.get("PredefinedMetricSpecification")).get("PredefinedMetricType"))
    custom = cfn.mapping(config.get("CustomizedMetricSpecification"))
    if predefined is not None:
        namespace, name, stat = PREDEFINED_METRICS.get(predefined, ("?", predefined, "Average"))
        queries: tuple[MetricQuery, ...] = (MetricQuery(id="m1", metric=Metric(namespace=namespace, name=name, stat=stat)),)
    elif custom.get("Metrics") is not None:
        queries = _queries(custom.get("Metrics"))
    else:
        queries = (MetricQuery(id="m1", metric=_metric(custom, custom.get("Statistic"), None)),)
    return TargetTrackingPolicy(
        logical_id=logical_id,
        target=cfn.number(config.get("TargetValue")) or 0.0,
        queries=queries,
        scale_out_cooldown=_or(cfn.integer(config.get("ScaleOutCooldown")), TARGET_TRACKING_COOLDOWN_SECONDS),
        scale_in_cooldown=_or(cfn.integer(config.get("ScaleInCooldown")), TARGET_TRACKING_COOLDOWN_SECONDS),
        disable_scale_in=bool(cfn.boolean(config.get("DisableScaleIn"))),
        predefined=predefined,
    )


def _queries_of(scaling: Scaling | None) -> list[MetricQuery]:
    if scaling is None:
        return []
    queries = [q for p in scaling.target_tracking for q in p.queries]
    queries += [q for p in scaling.step_policies for a in p.alarms for q in a.queries]
    return queries


def _worker_queue(
    scaling: Scaling | None, task: Task | None, resources: Mapping[str, Mapping[str, Any]], queues: Mapping[str, Queue]
) -> Queue | None:
    """The queue the service's scaling reads, else the one its task definition references
    (a queue URL or name in the environment); never a dead-letter queue of another."""
    dead_letters = {q.dead_letter_queue for q in queues.values()}
    for query in _queries_of(scaling):
        if query.metric and query.metric.namespace == "AWS/SQS":
            for _, value in query.metric.dimensions:
                if value in queues and value not in dead_letters:
                    return queues[value]
    if task is not None:
        referenced = cfn.references(resources.get(task.logical_id, {}).get("Properties"))
        for logical_id in sorted(referenced):
            if logical_id in queues and logical_id not in dead_letters:
                return queues[logical_id]
    return None


def _reads(alarm: Alarm, metric_name: str, queue_id: str) -> bool:
    return any(q.metric and q.metric.name == metric_name and (("QueueName", queue_id) in q.metric.dimensions) for q in alarm.queries)


def _budgets(resources: Mapping[str, Mapping[str, Any]]) -> list[Budget]:
    found = []
    for logical_id, props in cfn.of_type(resources, BUDGET_TYPE):
        budget = cfn.mapping(props.get("Budget"))
        limit = cfn.mapping(budget.get("BudgetLimit"))
        found.append(Budget(
            logical_id=logical_id,
            name=cfn.text(budget.get("BudgetName")),
            amount=cfn.number(limit.get("Amount")),
            unit=cfn.text(limit.get("Unit")),
            time_unit=cfn.text(budget.get("TimeUnit")),
            budget_type=cfn.text(budget.get("BudgetType")),
        ))
    return found


def _databases(resources: Mapping[str, Mapping[str, Any]]) -> list[Database]:
    found = []
    for resource_type, kind in DATABASE_TYPES.items():
        for logical_id, props in cfn.of_type(resources, resource_type):
            found.append(Database(
                logical_id=logical_id,
                kind=kind,
                engine=cfn.text(props.get("Engine")) or cfn.text(props.get("EngineFamily")),
                instance_class=cfn.text(props.get("DBInstanceClass")),
            ))
    return found
