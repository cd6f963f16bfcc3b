"""Small L1 building blocks for the rule tests: only what a rule reads, nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_applicationautoscaling as aas
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

PINNED_IMAGE = "public.ecr.aws/example/app:v1.2.3"


def container(
    name: str = "app",
    *,
    image: str = PINNED_IMAGE,
    start_period: int | None = None,
    environment: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    stop_timeout: int | None = None,
) -> ecs.CfnTaskDefinition.ContainerDefinitionProperty:
    return ecs.CfnTaskDefinition.ContainerDefinitionProperty(
        name=name,
        image=image,
        essential=True,
        health_check=ecs.CfnTaskDefinition.HealthCheckProperty(command=["CMD", "true"], start_period=start_period)
        if start_period is not None
        else None,
        environment=[ecs.CfnTaskDefinition.KeyValuePairProperty(name=k, value=v) for k, v in environment.items()]
        if environment
        else None,
        secrets=[ecs.CfnTaskDefinition.SecretProperty(name=k, value_from=v) for k, v in secrets.items()] if secrets else None,
        stop_timeout=stop_timeout,
    )


def task_definition(
    stack: Stack,
    construct_id: str = "TaskDefinition",
    *,
    containers: Sequence[ecs.CfnTaskDefinition.ContainerDefinitionProperty] | None = None,
    cpu: str = "256",
    memory: str = "512",
    task_role_arn: str | None = None,
) -> ecs.CfnTaskDefinition:
    return ecs.CfnTaskDefinition(
        stack, construct_id,
        container_definitions=list(containers) if containers is not None else [container()],
        cpu=cpu, memory=memory, requires_compatibilities=["FARGATE"], network_mode="awsvpc",
        task_role_arn=task_role_arn,
    )


def target_group(stack: Stack, construct_id: str = "TargetGroup", **props: Any) -> elbv2.CfnTargetGroup:
    settings: dict[str, Any] = {"target_type": "ip", "protocol": "HTTP", "port": 80, "vpc_id": "vpc-12345678", **props}
    return elbv2.CfnTargetGroup(stack, construct_id, **settings)


def healthy_service_props() -> dict[str, Any]:
    """Deployment settings every rule accepts, to add to a case's own."""
    return {
        "deployment_configuration": ecs.CfnService.DeploymentConfigurationProperty(
            minimum_healthy_percent=100, maximum_percent=200,
            deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(enable=True, rollback=True),
            alarms=ecs.CfnService.DeploymentAlarmsProperty(alarm_names=["five-xx"], enable=True, rollback=True),
        ),
    }


def service(
    stack: Stack,
    construct_id: str = "Service",
    *,
    task: ecs.CfnTaskDefinition,
    group: elbv2.CfnTargetGroup | None = None,
    container_name: str = "app",
    **props: Any,
) -> ecs.CfnService:
    load_balancers = (
        [ecs.CfnService.LoadBalancerProperty(target_group_arn=group.ref, container_name=container_name, container_port=80)]
        if group is not None
        else None
    )
    return ecs.CfnService(stack, construct_id, task_definition=task.ref, load_balancers=load_balancers, launch_type="FARGATE", **props)


def scalable_target(stack: Stack, svc: ecs.CfnService, *, min_capacity: int = 1, max_capacity: int = 4) -> aas.CfnScalableTarget:
    return aas.CfnScalableTarget(
        stack, "ScalableTarget",
        service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
        resource_id=f"service/cluster/{svc.attr_name}",
        min_capacity=min_capacity, max_capacity=max_capacity,
    )


def queue(stack: Stack, construct_id: str = "Queue", *, dead_letter: sqs.CfnQueue | None = None, **props: Any) -> sqs.CfnQueue:
    redrive = {"deadLetterTargetArn": dead_letter.attr_arn, "maxReceiveCount": 5} if dead_letter is not None else None
    return sqs.CfnQueue(stack, construct_id, redrive_policy=redrive, **props)


def task_role(stack: Stack, statements: Sequence[Mapping[str, Any]]) -> iam.CfnRole:
    role = iam.CfnRole(
        stack, "TaskRole",
        assume_role_policy_document={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]},
    )
    iam.CfnPolicy(stack, "TaskRolePolicy", policy_name="consume", roles=[role.ref],
                  policy_document={"Version": "2012-10-17", "Statement": list(statements)})
    return role


def step_policy(stack: Stack, target: aas.CfnScalableTarget, construct_id: str = "StepPolicy") -> aas.CfnScalingPolicy:
    return aas.CfnScalingPolicy(
        stack, construct_id, policy_name=construct_id, policy_type="StepScaling", scaling_target_id=target.ref,
        step_scaling_policy_configuration=aas.CfnScalingPolicy.StepScalingPolicyConfigurationProperty(
            adjustment_type="ChangeInCapacity",
            step_adjustments=[aas.CfnScalingPolicy.StepAdjustmentProperty(metric_interval_lower_bound=0, scaling_adjustment=1)],
        ),
    )


def target_tracking(
    stack: Stack, target: aas.CfnScalableTarget, construct_id: str = "TargetTracking", **config: Any
) -> aas.CfnScalingPolicy:
    settings: dict[str, Any] = {
        "target_value": 50,
        "predefined_metric_specification": aas.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
            predefined_metric_type="ECSServiceAverageCPUUtilization"
        ),
        **config,
    }
    return aas.CfnScalingPolicy(
        stack, construct_id, policy_name=construct_id, policy_type="TargetTrackingScaling", scaling_target_id=target.ref,
        target_tracking_scaling_policy_configuration=aas.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(**settings),
    )


def queue_alarm(
    stack: Stack, watched: sqs.CfnQueue, *, actions: Sequence[str], period: int = 60, construct_id: str = "QueueAlarm",
    metric: str = "ApproximateNumberOfMessagesVisible", **props: Any,
) -> cloudwatch.CfnAlarm:
    settings: dict[str, Any] = {
        "namespace": "AWS/SQS", "metric_name": metric, "statistic": "Maximum", "period": period,
        "dimensions": [cloudwatch.CfnAlarm.DimensionProperty(name="QueueName", value=watched.attr_queue_name)],
        "evaluation_periods": 1, "threshold": 1, "comparison_operator": "GreaterThanOrEqualToThreshold",
        "alarm_actions": list(actions), **props,
    }
    return cloudwatch.CfnAlarm(stack, construct_id, **settings)
