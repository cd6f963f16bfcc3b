"""What surrounds a task definition, as drift properties: how its service deploys, is reached,
scales, what it drains and when it runs.

From the task definition, following the template's own references (any CDK app,
``aws_ecs_patterns`` included; resources in the task definition's stack):

* the ECS service that runs it (``TaskDefinition``): deployment configuration, grace period,
  capacity providers, launch type, platform version, tags, ECS Exec;
* the service's target groups (``LoadBalancers``), the listeners that forward to them and
  their load balancer: health checks, deregistration delay, TLS policy, attributes;
* its scalable target (``ResourceId`` names the service): minimum and maximum, scheduled
  actions, and each scaling policy (``ScalingTargetId``) with the alarms that invoke it
  (``AlarmActions``): cooldowns, targets, step adjustments, metrics and metric math;
* the SQS queue it drains (the queue its scaling metrics read, else the one its task
  definition references) and that queue's dead-letter queue;
* the schedules that run it (EventBridge Scheduler or an EventBridge rule whose ECS target
  is the task definition, or whose target is a Step Functions state machine that runs it) and
  that state machine's timeouts.

A setting the template leaves out reads as AWS's documented default where there is one
(cited in :mod:`stable_fargate.review.services`), so a default written out and one left out
compare equal. What may differ between environments is named on each property
(:class:`~stable_fargate.review.properties.Property`); see README, "What is compared".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

from stable_fargate.review import cfn
from stable_fargate.review import services as aws
from stable_fargate.review.properties import Bounds, Property, Step, render, structural

SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
RULE_TYPE = "AWS::Events::Rule"
STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"
LISTENER_RULE_TYPE = "AWS::ElasticLoadBalancingV2::ListenerRule"
LOAD_BALANCER_TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"

SCHEDULER_RETRY_ATTEMPTS = 185
SCHEDULER_MAX_EVENT_AGE_SECONDS = 86_400
"""EventBridge Scheduler and EventBridge rules retry a target 185 times over 24 hours unless a
RetryPolicy says otherwise:
https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-retry-policy.html"""

SCHEDULER_TIME_ZONE = "UTC"
"""A schedule without ScheduleExpressionTimezone runs in UTC (EventBridge rules always do):
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"""

ECS_PLATFORM_VERSION = "LATEST"
ECS_PROPAGATE_TAGS = "NONE"
"""An ECS service without PlatformVersion runs Fargate's LATEST; without PropagateTags its
tasks get no tags from it: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"""

ELB_HEALTH_CHECK_PATH = "/"
ELB_SUCCESS_CODES = "200"
"""An HTTP target group checks ``/`` and expects 200 unless told otherwise:
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html"""

ELB_IDLE_TIMEOUT_SECONDS = 60
ELB_DELETION_PROTECTION = "false"
"""Load balancer attribute defaults:
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes"""

DEPLOYMENT_LABELS: Mapping[str, str] = {
    "BakeTimeInMinutes": "bake time (min)",
    "CanaryConfiguration": "canary",
    "LinearConfiguration": "linear",
    "LifecycleHooks": "lifecycle hooks",
}
"""Readable names of the release settings of a DeploymentConfiguration (ECS blue/green, canary
and linear deployments); any other key reads under its own name."""

SERVICE_HANDLED = frozenset({
    "Cluster", "TaskDefinition", "ServiceName", "Tags", "NetworkConfiguration", "LoadBalancers", "DeploymentConfiguration",
    "DeploymentController", "CapacityProviderStrategy", "LaunchType", "PlatformVersion", "PropagateTags",
    "EnableExecuteCommand", "HealthCheckGracePeriodSeconds", "DesiredCount", "Role",
})
"""ECS service properties read below, or not compared: the cluster, network and names are the
environment's own (its subnets follow its availability zones); any other property is compared
as it is written."""

TARGET_GROUP_HANDLED = frozenset({
    "VpcId", "Name", "Tags", "Targets", "TargetGroupAttributes", "Matcher", "HealthCheckPath", "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount",
})
LISTENER_HANDLED = frozenset({"LoadBalancerArn", "DefaultActions", "Certificates", "Port", "Protocol", "SslPolicy"})
"""Certificates are the environment's own (``certificate_arn``); actions name resources."""

QUEUE_HANDLED = frozenset({
    "QueueName", "Tags", "RedrivePolicy", "KmsMasterKeyId", "SqsManagedSseEnabled", "VisibilityTimeout",
    "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "DelaySeconds", "FifoQueue",
})


class StackIndex:
    """One stack's resources by type, read once for every task definition of the stack."""

    def __init__(self, resources: Mapping[str, Any]) -> None:
        self.resources: dict[str, Mapping[str, Any]] = {
            str(lid): r for lid, r in resources.items() if isinstance(r, Mapping)
        }
        self._by_type: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for lid, resource in self.resources.items():
            self._by_type.setdefault(str(resource.get("Type")), []).append((lid, cfn.mapping(resource.get("Properties"))))

    def of_type(self, resource_type: str) -> list[tuple[str, Mapping[str, Any]]]:
        return self._by_type.get(resource_type, [])

    def props(self, logical_id: str | None) -> Mapping[str, Any] | None:
        resource = self.resources.get(logical_id or "")
        return None if resource is None else cfn.mapping(resource.get("Properties"))

    @cached_property
    def alarms_by_action(self) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
        """Logical id of an alarm action (a scaling policy) -> the alarms that invoke it."""
        found: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for lid, props in self.of_type(aws.ALARM_TYPE):
            for action in cfn.items(props.get("AlarmActions")):
                target = cfn.reference(action)
                if target is not None:
                    found.setdefault(target, []).append((lid, props))
        return found

    @cached_property
    def state_machines(self) -> list[tuple[str, frozenset[str], str]]:
        """Each state machine: its logical id, what it refers to, its definition as text."""
        return [
            (lid, frozenset(cfn.references(props)), _definition_text(props).replace('\\"', '"'))
            for lid, props in sorted(self.of_type(STATE_MACHINE_TYPE))
        ]

    @cached_property
    def dead_letter_queues(self) -> frozenset[str]:
        return frozenset(
            dlq for _, props in self.of_type(aws.QUEUE_TYPE)
            if (dlq := cfn.reference(cfn.mapping(props.get("RedrivePolicy")).get("deadLetterTargetArn"))) is not None
        )


Properties = dict[str, Property]


def surrounding_properties(task_id: str, family: Any, task_properties: Mapping[str, Any], index: StackIndex) -> Properties:
    """Every property of what surrounds task definition ``task_id`` in its stack."""
    found: Properties = {}
    service_id = next(
        (lid for lid, props in sorted(index.of_type(aws.SERVICE_TYPE)) if cfn.reference(props.get("TaskDefinition")) == task_id),
        None,
    )
    metric_queues: list[str] = []
    if service_id is not None:
        found.update(_service(index, service_id))
        found.update(_scaling(index, service_id, metric_queues))
    queue_id = _queue_of(index, metric_queues, task_properties)
    if queue_id is not None:
        found.update(_queue(index, queue_id, "queue"))
    found.update(_schedules(index, task_id, family))
    return found


# --- The ECS service ------------------------------------------------------------------------


def _service(index: StackIndex, service_id: str) -> Properties:
    props = index.props(service_id) or {}
    out: Properties = {}
    config = cfn.mapping(props.get("DeploymentConfiguration"))
    controller = cfn.text(cfn.mapping(props.get("DeploymentController")).get("Type")) or "ECS"
    strategy = (cfn.text(config.get("Strategy")) or "ROLLING") if controller == "ECS" else controller
    out["deployment strategy"] = Property(strategy, "release")
    out["deployment min healthy %"] = Property(_or(config.get("MinimumHealthyPercent"), aws.ECS_MINIMUM_HEALTHY_PERCENT), "release")
    out["deployment max %"] = Property(_or(config.get("MaximumPercent"), aws.ECS_MAXIMUM_PERCENT), "release")
    for key in sorted(config):
        if key not in ("Strategy", "MinimumHealthyPercent", "MaximumPercent", "DeploymentCircuitBreaker", "Alarms"):
            out[f"deployment {DEPLOYMENT_LABELS.get(key, key)}"] = Property(render(config[key]), "release", absence="release")
    breaker = cfn.mapping(config.get("DeploymentCircuitBreaker"))
    out["circuit breaker"] = Property(_switch(breaker.get("Enable"), breaker.get("Rollback")))
    alarms = cfn.mapping(config.get("Alarms"))
    names = sorted(cfn.short_id(r) if (r := cfn.reference(a)) else render(a) for a in cfn.items(alarms.get("AlarmNames")))
    state = _switch(alarms.get("Enable"), alarms.get("Rollback"))
    # A traffic-shifting release adds alarms on each target group's own traffic.
    out["deployment alarms"] = Property(f"{state}: {len(names)} ({', '.join(names)})" if names and state != "off" else state, "release")
    out["grace period"] = Property(_or(props.get("HealthCheckGracePeriodSeconds"), aws.ECS_GRACE_PERIOD_SECONDS))
    strategy_items = [cfn.mapping(p) for p in cfn.items(props.get("CapacityProviderStrategy"))]
    if strategy_items:
        providers = sorted(strategy_items, key=lambda p: render(p.get("CapacityProvider")))
        out["capacity providers"] = Property(", ".join(f"{render(p.get('CapacityProvider'))} weight {render(p.get('Weight', 0))}"
                                                       for p in providers))
        bases = [f"{render(p.get('CapacityProvider'))} {render(p.get('Base'))}" for p in providers if p.get("Base") not in (None, 0, "0")]
        out["capacity provider base"] = Property(", ".join(bases) or "0", "on_demand_base")
    if "LaunchType" in props:
        out["launch type"] = structural(props["LaunchType"])
    out["platform version"] = Property(_or(props.get("PlatformVersion"), ECS_PLATFORM_VERSION))
    out["propagate tags"] = Property(_or(props.get("PropagateTags"), ECS_PROPAGATE_TAGS))
    out["ECS Exec"] = Property(_or(props.get("EnableExecuteCommand"), False))
    if "DesiredCount" in props:
        out["desired count"] = Property(render(props["DesiredCount"]), "min_tasks")
    network = cfn.mapping(cfn.mapping(props.get("NetworkConfiguration")).get("AwsvpcConfiguration"))
    if network:
        out["public IP"] = Property(_or(network.get("AssignPublicIp"), "DISABLED"))
    for key in sorted(props):
        if key not in SERVICE_HANDLED:
            out[f"service {key}"] = structural(props[key])
    out.update(_load_balancing(index, props))
    return out


def _switch(enable: Any, rollback: Any) -> str:
    if not cfn.boolean(enable):
        return "off"
    return "on, rollback" if cfn.boolean(rollback) else "on"


def _or(value: Any, default: Any) -> str:
    return render(default if value is None else value)


# --- Target groups, listeners, load balancer ------------------------------------------------


def _load_balancing(index: StackIndex, service: Mapping[str, Any]) -> Properties:
    out: Properties = {}
    entries = sorted(
        (cfn.mapping(e) for e in cfn.items(service.get("LoadBalancers"))),
        key=lambda e: (render(e.get("ContainerName")), render(e.get("ContainerPort"))),
    )
    entries = [e for e in entries if cfn.reference(e.get("TargetGroupArn")) in index.resources]
    listeners: dict[str, str | None] = {}  # listener id -> the declaration its absence needs
    for entry in entries:
        label = "target group"
        if len(entries) > 1:
            label += f" {render(entry.get('ContainerName'))}:{render(entry.get('ContainerPort'))}"
        group = cfn.reference(entry.get("TargetGroupArn"))
        out.update(_target_group(index, group, label, absence=None))
        for listener in _listeners_of(index, group):
            listeners.setdefault(listener, None)
        advanced = cfn.mapping(entry.get("AdvancedConfiguration"))
        if advanced:
            out[f"{label} release routing"] = Property(", ".join(sorted(advanced)), "release", absence="release")
            alternate = cfn.reference(advanced.get("AlternateTargetGroupArn"))
            if alternate in index.resources:
                out.update(_target_group(index, alternate, f"alternate {label}", absence="release"))
                # A listener that reaches the alternate group (the test listener) exists for the
                # release strategy, even where it also reaches the production group.
                for listener in _listeners_of(index, alternate):
                    listeners[listener] = "release"
    balancers: dict[str, None] = {}
    for listener, absence in sorted(listeners.items()):
        props = index.props(listener) or {}
        out.update(_listener(props, absence))
        balancer = cfn.reference(props.get("LoadBalancerArn"))
        if balancer in index.resources:
            balancers.setdefault(balancer)
    for balancer in list(balancers)[:1]:
        out.update(_load_balancer(index, balancer))
    return out


HEALTH_CHECK_SETTINGS: tuple[tuple[str, str, Any], ...] = (
    ("health check path", "HealthCheckPath", ELB_HEALTH_CHECK_PATH),
    ("health check interval", "HealthCheckIntervalSeconds", aws.ELB_HEALTH_CHECK_INTERVAL_SECONDS),
    ("health check timeout", "HealthCheckTimeoutSeconds", aws.ELB_HEALTH_CHECK_TIMEOUT_SECONDS),
    ("healthy threshold", "HealthyThresholdCount", aws.ELB_HEALTHY_THRESHOLD),
    ("unhealthy threshold", "UnhealthyThresholdCount", aws.ELB_UNHEALTHY_THRESHOLD),
)
"""A target group's health check: row name, template property, AWS's default."""


def _target_group(index: StackIndex, group: str | None, label: str, *, absence: str | None) -> Properties:
    props = index.props(group) or {}
    matcher = cfn.mapping(props.get("Matcher"))
    out = {f"{label} {name}": Property(_or(props.get(key), default), absence=absence) for name, key, default in HEALTH_CHECK_SETTINGS}
    codes = (
        render(matcher.get("HttpCode")) if "HttpCode" in matcher
        else f"gRPC {render(matcher.get('GrpcCode'))}" if "GrpcCode" in matcher
        else ELB_SUCCESS_CODES
    )
    out[f"{label} success codes"] = Property(codes, absence=absence)
    attributes = {render(cfn.mapping(a).get("Key")): cfn.mapping(a).get("Value") for a in cfn.items(props.get("TargetGroupAttributes"))}
    out[f"{label} deregistration delay"] = Property(
        _or(attributes.pop("deregistration_delay.timeout_seconds", None), aws.ELB_DEREGISTRATION_DELAY_SECONDS), absence=absence
    )
    for key, value in sorted(attributes.items()):
        out[f"{label} {key}"] = Property(render(value), absence=absence)
    for key in sorted(props):
        if key not in TARGET_GROUP_HANDLED:
            out[f"{label} {key}"] = Property(render(props[key]), absence=absence)
    return out


def _listeners_of(index: StackIndex, group: str | None) -> list[str]:
    """The listeners that forward to ``group``: by their default actions or by a rule."""
    found = {lid for lid, props in index.of_type(aws.LISTENER_TYPE) if group in cfn.references(props.get("DefaultActions"))}
    for _, rule in index.of_type(LISTENER_RULE_TYPE):
        if group in cfn.references(rule.get("Actions")) and (listener := cfn.reference(rule.get("ListenerArn"))) in index.resources:
            found.add(listener)
    return sorted(found)


def _listener(props: Mapping[str, Any], absence: str | None) -> Properties:
    protocol = render(props.get("Protocol"))
    label = f"listener {render(props.get('Port'))}/{protocol}"
    out: Properties = {}
    if protocol in ("HTTPS", "TLS") or "SslPolicy" in props:
        out[f"{label} TLS policy"] = Property(_or(props.get("SslPolicy"), "(ELB default)"), absence=absence)
    for key in sorted(props):
        if key not in LISTENER_HANDLED:
            out[f"{label} {key}"] = Property(render(props[key]), absence=absence)
    return out


def _load_balancer(index: StackIndex, balancer: str) -> Properties:
    props = index.props(balancer) or {}
    out = {
        "load balancer scheme": Property(_or(props.get("Scheme"), "internet-facing")),
        "load balancer listeners": Property(
            ", ".join(sorted(
                f"{render(p.get('Port'))}/{render(p.get('Protocol'))}"
                for _, p in index.of_type(aws.LISTENER_TYPE) if cfn.reference(p.get("LoadBalancerArn")) == balancer
            )),
            "release",
        ),
    }
    attributes = {render(cfn.mapping(a).get("Key")): cfn.mapping(a).get("Value") for a in cfn.items(props.get("LoadBalancerAttributes"))}
    out["load balancer deletion protection"] = Property(
        _or(attributes.pop("deletion_protection.enabled", None), ELB_DELETION_PROTECTION), "production"
    )
    out["load balancer idle timeout"] = Property(_or(attributes.pop("idle_timeout.timeout_seconds", None), ELB_IDLE_TIMEOUT_SECONDS))
    for key, value in sorted(attributes.items()):
        out[f"load balancer {key}"] = structural(value)
    if "IpAddressType" in props:
        out["load balancer IpAddressType"] = structural(props["IpAddressType"])
    return out


# --- Scaling ---------------------------------------------------------------------------------


def _scaling(index: StackIndex, service_id: str, metric_queues: list[str]) -> Properties:
    target = next(
        ((lid, props) for lid, props in sorted(index.of_type(aws.SCALABLE_TARGET_TYPE))
         if service_id in cfn.references(props.get("ResourceId"))),
        None,
    )
    if target is None:
        return {}
    target_id, props = target
    low, high = cfn.integer(props.get("MinCapacity")), cfn.integer(props.get("MaxCapacity"))
    out: Properties = {
        "scaling min tasks": Property(render(props.get("MinCapacity")), "min_tasks"),
        "scaling max tasks": Property(render(props.get("MaxCapacity")), "max_tasks"),
    }
    if "SuspendedState" in props:
        out["scaling suspended"] = structural(props["SuspendedState"])
    for action in sorted(map(cfn.mapping, cfn.items(props.get("ScheduledActions"))), key=lambda a: render(a.get("ScheduledActionName"))):
        name = f"scaling schedule {render(action.get('ScheduledActionName'))}"
        when = f"{render(action.get('Schedule'))} {_or(action.get('Timezone'), SCHEDULER_TIME_ZONE)}"
        for key in ("StartTime", "EndTime"):
            if key in action:
                when += f" {key[:-4].lower()} {render(action[key])}"
        out[name] = Property(when)
        capacity = cfn.mapping(action.get("ScalableTargetAction"))
        for key, suffix, declaration in (("MinCapacity", "min tasks", "min_tasks"), ("MaxCapacity", "max tasks", "max_tasks")):
            if key in capacity:
                out[f"{name} {suffix}"] = Property(
                    render(capacity[key]), declaration, bounds=Bounds("capacity", cfn.integer(capacity[key]), low, high)
                )
    policies = [
        (lid, policy) for lid, policy in sorted(index.of_type(aws.SCALING_POLICY_TYPE))
        if cfn.reference(policy.get("ScalingTargetId")) == target_id or service_id in cfn.references(policy.get("ResourceId"))
    ]
    named = [(_policy_name(lid, target_id, policy), lid, policy) for lid, policy in policies]
    out["scaling policies"] = Property(", ".join(sorted(name for name, _, _ in named)) or "(none)")
    for name, lid, policy in named:
        kind = render(policy.get("PolicyType"))
        if kind == "StepScaling":
            out.update(_step_policy(index, lid, name, cfn.mapping(policy.get("StepScalingPolicyConfiguration")), low, high, metric_queues))
        elif kind == "TargetTrackingScaling":
            out.update(_target_tracking(name, cfn.mapping(policy.get("TargetTrackingScalingPolicyConfiguration")), metric_queues))
        else:
            out[name] = structural({k: v for k, v in policy.items() if k not in ("PolicyName", "ScalingTargetId", "ResourceId")})
    return out


POLICY_KINDS: Mapping[str, str] = {"StepScaling": "step", "TargetTrackingScaling": "target tracking"}


def _policy_name(policy_id: str, target_id: str, policy: Mapping[str, Any]) -> str:
    """``step PortfolioImportBurst``; a policy CDK named after its scalable target
    (``...ServiceTaskCountTargetCpu``) reads without the target's name (``target tracking Cpu``)."""
    kind = render(policy.get("PolicyType"))
    name = cfn.short_id(policy_id)
    prefix = cfn.short_id(target_id)
    if name.startswith(prefix) and len(name) > len(prefix):
        name = name[len(prefix):]
    return f"{POLICY_KINDS.get(kind, kind)} {name}"


def _step_policy(
    index: StackIndex, policy_id: str, name: str, config: Mapping[str, Any], low: int | None, high: int | None, metric_queues: list[str],
) -> Properties:
    adjustment_type = cfn.text(config.get("AdjustmentType")) or "ChangeInCapacity"
    steps: list[Step] = []
    for raw in map(cfn.mapping, cfn.items(config.get("StepAdjustments"))):
        steps.append((cfn.number(raw.get("MetricIntervalLowerBound")), cfn.number(raw.get("MetricIntervalUpperBound")),
                      cfn.number(raw.get("ScalingAdjustment")) or 0.0))
    out: Properties = {
        f"{name} adjustment type": Property(render(config.get("AdjustmentType", "ChangeInCapacity"))),
        f"{name} cooldown": Property(_or(config.get("Cooldown"), aws.STEP_COOLDOWN_SECONDS)),
        f"{name} aggregation": Property(_or(config.get("MetricAggregationType"), aws.STEP_METRIC_AGGREGATION)),
        f"{name} steps": Property(
            _steps_text(steps) if len(steps) == len(cfn.items(config.get("StepAdjustments"))) else render(config.get("StepAdjustments")),
            "max_tasks",
            bounds=Bounds("steps", (adjustment_type, tuple(steps)), low, high),
        ),
    }
    if "MinAdjustmentMagnitude" in config:
        out[f"{name} min adjustment magnitude"] = structural(config["MinAdjustmentMagnitude"])
    alarms = sorted(index.alarms_by_action.get(policy_id, []))
    for alarm_id, alarm in alarms:
        label = f"{name} alarm" if len(alarms) == 1 else f"{name} alarm {cfn.short_id(alarm_id)}"
        out.update(_alarm(label, alarm, metric_queues))
    return out


def _number(value: float | None, infinite: str) -> str:
    return infinite if value is None else f"{value:g}"


def _steps_text(steps: Iterable[Step]) -> str:
    return "; ".join(f"[{_number(lo, '-∞')}, {_number(hi, '∞')}): {adj:+g}" for lo, hi, adj in steps)


def _alarm(label: str, props: Mapping[str, Any], metric_queues: list[str]) -> Properties:
    periods = cfn.integer(props.get("EvaluationPeriods")) or 1
    condition = (
        f"{render(props.get('ComparisonOperator'))} {render(props.get('Threshold'))}, "
        f"{_or(props.get('DatapointsToAlarm'), periods)} of {periods} periods, "
        f"missing data {_or(props.get('TreatMissingData'), aws.ALARM_TREAT_MISSING_DATA)}"
    )
    if props.get("Metrics") is not None:
        metrics = _metrics_text(props.get("Metrics"), metric_queues)
    else:
        metrics = _metric_text(props, props.get("Statistic") or props.get("ExtendedStatistic"), props.get("Period"), metric_queues)
    return {f"{label}": Property(condition), f"{label} metrics": Property(metrics)}


def _target_tracking(name: str, config: Mapping[str, Any], metric_queues: list[str]) -> Properties:
    predefined = cfn.mapping(config.get("PredefinedMetricSpecification"))
    custom = cfn.mapping(config.get("CustomizedMetricSpecification"))
    if predefined:
        metric = render(predefined.get("PredefinedMetricType"))
        if "ResourceLabel" in predefined:
            metric += f" {render(predefined['ResourceLabel'])}"
    elif custom.get("Metrics") is not None:
        metric = _metrics_text(custom.get("Metrics"), metric_queues)
    else:
        metric = _metric_text(custom, custom.get("Statistic"), None, metric_queues)
    return {
        f"{name} target": Property(render(config.get("TargetValue"))),
        f"{name} metric": Property(metric),
        f"{name} scale-out cooldown": Property(_or(config.get("ScaleOutCooldown"), aws.TARGET_TRACKING_COOLDOWN_SECONDS)),
        f"{name} scale-in cooldown": Property(_or(config.get("ScaleInCooldown"), aws.TARGET_TRACKING_COOLDOWN_SECONDS)),
        f"{name} scale-in": Property("disabled" if cfn.boolean(config.get("DisableScaleIn")) else "enabled"),
    }


def _metrics_text(queries: Any, metric_queues: list[str]) -> str:
    """Metric data queries, one ``id = ...`` each; ``*`` marks the one whose value is returned."""
    parts = []
    for query in map(cfn.mapping, cfn.items(queries)):
        returned = cfn.boolean(query.get("ReturnData"))
        mark = "*" if returned is None or returned else ""
        stat = cfn.mapping(query.get("MetricStat"))
        if stat:
            body = _metric_text(cfn.mapping(stat.get("Metric")), stat.get("Stat"), stat.get("Period"), metric_queues)
        else:
            body = render(query.get("Expression"))
        parts.append(f"{render(query.get('Id'))}{mark} = {body}")
    return "; ".join(parts)


def _metric_text(metric: Mapping[str, Any], stat: Any, period: Any, metric_queues: list[str]) -> str:
    dimensions = []
    for dimension in map(cfn.mapping, cfn.items(metric.get("Dimensions"))):
        value = dimension.get("Value")
        if render(metric.get("Namespace")) == "AWS/SQS" and (queue := cfn.reference(value)) is not None:
            metric_queues.append(queue)
        dimensions.append(f"{render(dimension.get('Name'))}={render(value)}")
    text = f"{render(metric.get('Namespace'))} {render(metric.get('MetricName'))} {render(stat)}"
    if period is not None:
        text += f"/{render(period)}s"
    return text + (f" ({', '.join(sorted(dimensions))})" if dimensions else "")


# --- The queue it drains ----------------------------------------------------------------------


def _queue_of(index: StackIndex, metric_queues: list[str], task_properties: Mapping[str, Any]) -> str | None:
    """The queue the service's scaling reads, else one its task definition references; never a
    dead-letter queue."""
    queues = {lid for lid, _ in index.of_type(aws.QUEUE_TYPE)} - index.dead_letter_queues
    for queue in metric_queues:
        if queue in queues:
            return queue
    referenced = sorted(cfn.references(task_properties) & queues)
    return referenced[0] if referenced else None


def _queue(index: StackIndex, queue_id: str, label: str) -> Properties:
    props = index.props(queue_id) or {}
    redrive = cfn.mapping(props.get("RedrivePolicy"))
    if props.get("KmsMasterKeyId") is not None:
        encryption = f"KMS {render(props['KmsMasterKeyId'])}"
    elif "SqsManagedSseEnabled" in props:
        encryption = "SQS-managed" if cfn.boolean(props["SqsManagedSseEnabled"]) else "off"
    else:
        encryption = "(not set)"
    out: Properties = {
        f"{label} visibility timeout": Property(_or(props.get("VisibilityTimeout"), aws.SQS_VISIBILITY_TIMEOUT_SECONDS)),
        f"{label} retention": Property(_or(props.get("MessageRetentionPeriod"), aws.SQS_RETENTION_SECONDS)),
        f"{label} receive wait": Property(_or(props.get("ReceiveMessageWaitTimeSeconds"), aws.SQS_RECEIVE_WAIT_SECONDS)),
        f"{label} delivery delay": Property(_or(props.get("DelaySeconds"), 0)),
        f"{label} FIFO": Property(_or(props.get("FifoQueue"), False)),
        f"{label} encryption": Property(encryption),
    }
    dead_letter = cfn.reference(redrive.get("deadLetterTargetArn"))
    if redrive or label == "queue":
        # How often a message is received before it moves to the dead-letter queue.
        out[f"{label} max receives"] = Property(render(redrive.get("maxReceiveCount")) if redrive else "(no dead-letter queue)")
    for key in sorted(props):
        if key not in QUEUE_HANDLED:
            out[f"{label} {key}"] = structural(props[key])
    if label == "queue" and dead_letter in index.resources:
        out.update(_queue(index, dead_letter, "dead-letter queue"))
    return out


# --- Schedules and the orchestrator that runs the task ----------------------------------------


def _schedules(index: StackIndex, task_id: str, family: Any) -> Properties:
    # A state machine runs the task when it refers to the task definition, or when its
    # definition names the task definition's family (as CDK's EcsRunTask writes it).
    named = f'"{family}"' if isinstance(family, str) and family else None
    machines = [lid for lid, refs, text in index.state_machines if task_id in refs or (named is not None and named in text)]
    targets = {task_id, *machines}
    found: list[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]] = []  # (id, schedule, rule target)
    for lid, props in sorted(index.of_type(SCHEDULE_TYPE)):
        target = cfn.mapping(props.get("Target"))
        arns = {cfn.reference(target.get("Arn")), cfn.reference(cfn.mapping(target.get("EcsParameters")).get("TaskDefinitionArn"))}
        if arns & targets:
            found.append((lid, props, None))
    for lid, props in sorted(index.of_type(RULE_TYPE)):
        if "ScheduleExpression" not in props:
            continue
        for candidate in map(cfn.mapping, cfn.items(props.get("Targets"))):
            arns = {cfn.reference(candidate.get("Arn")),
                    cfn.reference(cfn.mapping(candidate.get("EcsParameters")).get("TaskDefinitionArn"))}
            if arns & targets:
                found.append((lid, props, candidate))
                break
    out: Properties = {}
    for lid, schedule, rule_target in found:
        label = "schedule" if len(found) == 1 else f"schedule {cfn.short_id(lid)}"
        out.update(_scheduler_schedule(label, schedule) if rule_target is None else _rule_schedule(label, schedule, rule_target))
    for lid in machines:
        out.update(_orchestrator("orchestrator" if len(machines) == 1 else f"orchestrator {cfn.short_id(lid)}", index.props(lid) or {}))
    return out


def _scheduler_schedule(label: str, props: Mapping[str, Any]) -> Properties:
    target = cfn.mapping(props.get("Target"))
    retry = cfn.mapping(target.get("RetryPolicy"))
    window = cfn.mapping(props.get("FlexibleTimeWindow"))
    mode = render(window.get("Mode", "OFF"))
    out: Properties = {
        f"{label} expression": structural(props.get("ScheduleExpression")),
        f"{label} time zone": Property(_or(props.get("ScheduleExpressionTimezone"), SCHEDULER_TIME_ZONE)),
        f"{label} flexible window": Property(
            f"{mode} {render(window['MaximumWindowInMinutes'])} min" if "MaximumWindowInMinutes" in window else mode
        ),
        f"{label} state": Property(_or(props.get("State"), "ENABLED")),
        f"{label} retry attempts": Property(_or(retry.get("MaximumRetryAttempts"), SCHEDULER_RETRY_ATTEMPTS)),
        f"{label} max event age": Property(_or(retry.get("MaximumEventAgeInSeconds"), SCHEDULER_MAX_EVENT_AGE_SECONDS)),
        f"{label} dead-letter queue": Property("set" if cfn.mapping(target.get("DeadLetterConfig")).get("Arn") else "none"),
    }
    for key in ("StartDate", "EndDate"):
        if key in props:
            out[f"{label} {key}"] = structural(props[key])
    return out


def _rule_schedule(label: str, props: Mapping[str, Any], target: Mapping[str, Any]) -> Properties:
    retry = cfn.mapping(target.get("RetryPolicy"))
    return {
        f"{label} expression": structural(props.get("ScheduleExpression")),
        f"{label} time zone": Property(SCHEDULER_TIME_ZONE),
        f"{label} state": Property(_or(props.get("State"), "ENABLED")),
        f"{label} retry attempts": Property(_or(retry.get("MaximumRetryAttempts"), SCHEDULER_RETRY_ATTEMPTS)),
        f"{label} max event age": Property(_or(retry.get("MaximumEventAgeInSeconds"), SCHEDULER_MAX_EVENT_AGE_SECONDS)),
        f"{label} dead-letter queue": Property("set" if cfn.mapping(target.get("DeadLetterConfig")).get("Arn") else "none"),
    }


_PLACEHOLDER = "${token}"
_TIMEOUT = re.compile(r'"(TimeoutSeconds|HeartbeatSeconds)"\s*:\s*(\d+)')


def _definition_text(machine: Mapping[str, Any]) -> str:
    """The state machine's definition as JSON text, each intrinsic inside it as a placeholder."""
    if machine.get("Definition") is not None:
        return json.dumps(machine["Definition"])
    value = machine.get("DefinitionString")
    if isinstance(value, str):
        return value
    join = cfn.items(cfn.mapping(value).get("Fn::Join"))
    if len(join) == 2 and isinstance(join[1], list):
        return "".join(p if isinstance(p, str) else _PLACEHOLDER for p in join[1])
    sub = cfn.mapping(value).get("Fn::Sub")
    if isinstance(sub, str):
        return sub
    if isinstance(sub, list) and sub and isinstance(sub[0], str):
        return sub[0]
    return ""


def _orchestrator(label: str, machine: Mapping[str, Any]) -> Properties:
    """The state machine's timeouts: the execution's and each state's (TimeoutSeconds,
    HeartbeatSeconds), in Parallel branches and Map iterators too."""
    text = _definition_text(machine)
    out: Properties = {}
    if "StateMachineType" in machine:
        out[f"{label} type"] = structural(machine["StateMachineType"])
    try:
        definition = json.loads(text)
    except ValueError:
        # A number given by a token: read the timeouts, not the states they belong to.
        found = sorted(f"{key} {value}" for key, value in _TIMEOUT.findall(text))
        out[f"{label} timeouts"] = Property(", ".join(found) or "(none)")
        return out
    definition = cfn.mapping(definition)
    out[f"{label} timeout"] = Property(_or(definition.get("TimeoutSeconds"), "(none)"))
    for state, key, value in _state_timeouts(definition):
        suffix = "timeout" if key == "TimeoutSeconds" else "heartbeat" if key == "HeartbeatSeconds" else key
        out.setdefault(f"{label} {state} {suffix}", structural(value))
    return out


def _state_timeouts(definition: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    pending = [cfn.mapping(definition.get("States"))]
    while pending:
        states = pending.pop()
        for name, state in sorted(states.items()):
            state = cfn.mapping(state)
            for key in ("TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"):
                if key in state:
                    found.append((str(name), key, state[key]))
            pending.extend(cfn.mapping(b.get("States")) for b in map(cfn.mapping, cfn.items(state.get("Branches"))))
            for nested in ("Iterator", "ItemProcessor"):
                if nested in state:
                    pending.append(cfn.mapping(cfn.mapping(state[nested]).get("States")))
    return sorted(found)
