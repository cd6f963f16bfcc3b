"""How an ECS service's instability spreads over resources: its task definition, the target
groups it registers with, the scalable target and policies that size it, the alarms that
drive them. Each helper returns None or an empty list where a link is unknowable (a task
definition passed by ARN string, a target group of an imported load balancer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stable_fargate.checks import values
from stable_fargate.checks.template import Resource
from stable_fargate.review import services as aws_defaults

SERVICE = "AWS::ECS::Service"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
ALARM = "AWS::CloudWatch::Alarm"

# AWS's defaults for absent properties are the read side's, each cited there once.
ELB_DEFAULT_INTERVAL_SECONDS = aws_defaults.ELB_HEALTH_CHECK_INTERVAL_SECONDS
ELB_DEFAULT_HEALTHY_THRESHOLD = aws_defaults.ELB_HEALTHY_THRESHOLD
ELB_DEFAULT_TIMEOUT_SECONDS = aws_defaults.ELB_HEALTH_CHECK_TIMEOUT_SECONDS
"""5 s, also the smallest timeout ELB documents as a default for ip targets (HTTP 5-6 s; TCP,
TLS and HTTPS 10 s): a floor computed with it errs low, never flags a grace period that is enough."""
ELB_DEFAULT_DEREGISTRATION_DELAY_SECONDS = aws_defaults.ELB_DEREGISTRATION_DELAY_SECONDS
FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS = aws_defaults.FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS
ECS_DEFAULT_GRACE_PERIOD_SECONDS = aws_defaults.ECS_GRACE_PERIOD_SECONDS

DEREGISTRATION_DELAY_ATTRIBUTE = "deregistration_delay.timeout_seconds"

ECS_DESIRED_COUNT_DEFAULT = 1
"""CloudFormation creates a replica service with one task when DesiredCount is absent."""

ECS_SCALABLE_DIMENSION = "ecs:service:DesiredCount"


def uses_ecs_deployments(service: Resource) -> bool:
    """Rolling deployments run by ECS (the default controller); CODE_DEPLOY and EXTERNAL
    controllers have their own rollback machinery."""
    controller = service.get("DeploymentController", "Type")
    return controller is None or controller == "ECS"


def task_definition_of(service: Resource) -> Resource | None:
    found = service.target(service.get("TaskDefinition"))
    return found if found is not None and found.type == TASK_DEFINITION else None


def containers(task_definition: Resource) -> list[Mapping[str, Any]]:
    return [c for c in values.as_list(task_definition.get("ContainerDefinitions")) if isinstance(c, Mapping)]


def container_named(task_definition: Resource, name: Any) -> Mapping[str, Any] | None:
    return next((c for c in containers(task_definition) if c.get("Name") == name), None)


def target_group_entries(service: Resource) -> list[Mapping[str, Any]]:
    """The service's load balancer entries that register it with an ELBv2 target group."""
    return [
        entry for entry in values.as_list(service.get("LoadBalancers"))
        if isinstance(entry, Mapping) and entry.get("TargetGroupArn") is not None
    ]


def is_load_balanced(service: Resource) -> bool:
    return bool(values.as_list(service.get("LoadBalancers")))


@dataclass(frozen=True)
class Registration:
    """One load balancer entry of a service, with what it names where that is known."""

    entry: Mapping[str, Any]
    container: Mapping[str, Any] | None
    target_group: Resource | None


def registrations(service: Resource) -> list[Registration]:
    task_definition = task_definition_of(service)
    found = []
    for entry in target_group_entries(service):
        container = container_named(task_definition, entry.get("ContainerName")) if task_definition else None
        group = service.target(entry.get("TargetGroupArn"))
        found.append(Registration(entry, container, group if group is not None and group.type == TARGET_GROUP else None))
    return found


def start_period(container: Mapping[str, Any]) -> float | None:
    """The container health check's StartPeriod, None if it has no check or no start period."""
    return values.number(values.dig(container, "HealthCheck", "StartPeriod"))


def stop_timeout(container: Mapping[str, Any]) -> float | None:
    """StopTimeout, with Fargate's default; None when it is an intrinsic."""
    given = container.get("StopTimeout")
    return float(FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS) if given is None else values.number(given)


def grace_period(service: Resource) -> float | None:
    given = service.get("HealthCheckGracePeriodSeconds")
    return float(ECS_DEFAULT_GRACE_PERIOD_SECONDS) if given is None else values.number(given)


@dataclass(frozen=True)
class TargetGroupTiming:
    interval: float
    healthy_threshold: float
    timeout: float

    @property
    def seconds_to_healthy(self) -> float:
        """The earliest a target that answers at once is counted healthy."""
        return self.healthy_threshold * self.interval


def target_group_timing(group: Resource) -> TargetGroupTiming | None:
    """The check timing, ELB's defaults where a value is absent; None if any is an intrinsic."""

    def read(name: str, default: float) -> float | None:
        given = group.get(name)
        return float(default) if given is None else values.number(given)

    interval = read("HealthCheckIntervalSeconds", ELB_DEFAULT_INTERVAL_SECONDS)
    healthy = read("HealthyThresholdCount", ELB_DEFAULT_HEALTHY_THRESHOLD)
    timeout = read("HealthCheckTimeoutSeconds", ELB_DEFAULT_TIMEOUT_SECONDS)
    if interval is None or healthy is None or timeout is None:
        return None
    return TargetGroupTiming(interval=interval, healthy_threshold=healthy, timeout=timeout)


def is_ip_target_group(group: Resource) -> bool:
    """Fargate tasks (awsvpc) register as ip targets; instance and lambda groups are not Fargate's."""
    return values.text(group.get("TargetType")) == "ip"


def target_group_attribute(group: Resource, key: str) -> Any:
    for attribute in values.as_list(group.get("TargetGroupAttributes")):
        if isinstance(attribute, Mapping) and attribute.get("Key") == key:
            return attribute.get("Value")
    return None


def scalable_targets_of(service: Resource) -> list[Resource]:
    """Scalable targets (in any stack of the app) whose ResourceId names this service."""
    targets = service.stack.naming(service, (SCALABLE_TARGET,), "ResourceId")
    return [t for t in targets if t.get("ScalableDimension") == ECS_SCALABLE_DIMENSION]


def is_ecs_scalable_target(target: Resource) -> bool:
    return values.text(target.get("ServiceNamespace")) == "ecs" and values.text(target.get("ScalableDimension")) == ECS_SCALABLE_DIMENSION


def policies_of(target: Resource) -> list[Resource]:
    return target.stack.naming(target, (SCALING_POLICY,), "ScalingTargetId")


def target_of_policy(policy: Resource) -> Resource | None:
    found = policy.target(policy.get("ScalingTargetId"))
    return found if found is not None and found.type == SCALABLE_TARGET else None


def alarms_invoking(policy: Resource) -> list[Resource]:
    return policy.stack.naming(policy, (ALARM,), "AlarmActions")


def tasks_at_least(service: Resource) -> float | None:
    """The fewest tasks the service runs in steady state: its DesiredCount (CloudFormation's
    default 1 when absent) or a scalable target's MinCapacity, whichever is larger. None when
    every known count is an intrinsic."""
    counts: list[float] = []
    desired = service.get("DesiredCount")
    scalable = scalable_targets_of(service)
    if desired is not None:
        number = values.number(desired)
        if number is not None:
            counts.append(number)
    elif not scalable:
        counts.append(float(ECS_DESIRED_COUNT_DEFAULT))
    for target in scalable:
        minimum = values.number(target.get("MinCapacity"))
        if minimum is not None:
            counts.append(minimum)
    return max(counts) if counts else None
