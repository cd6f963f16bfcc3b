"""Small CloudFormation templates of queue workers, for the review's tests."""

from __future__ import annotations

from typing import Any

from stable_fargate.review.model import AssemblySources, StackSource
from stable_fargate.review.services import Service, stability_model

QUEUE = "Queue"
SERVICE = "Worker"
TARGET = "Target"


def queue_metric(name: str, stat: str = "Maximum", period: int = 60) -> dict[str, Any]:
    return {"Metric": {"Namespace": "AWS/SQS", "MetricName": name,
                       "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]}}]},
            "Stat": stat, "Period": period}


def insights_metric(name: str, stat: str = "Average") -> dict[str, Any]:
    return {"Metric": {"Namespace": "ECS/ContainerInsights", "MetricName": name,
                       "Dimensions": [{"Name": "ServiceName", "Value": {"Fn::GetAtt": [SERVICE, "Name"]}}]},
            "Stat": stat, "Period": 60}


def step_policy(steps: list[tuple[float | None, float | None, float]], *, adjustment: str = "ChangeInCapacity",
                cooldown: int = 60, aggregation: str = "Maximum") -> dict[str, Any]:
    return {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
        "PolicyType": "StepScaling", "ScalingTargetId": {"Ref": TARGET},
        "StepScalingPolicyConfiguration": {
            "AdjustmentType": adjustment, "Cooldown": cooldown, "MetricAggregationType": aggregation,
            "StepAdjustments": [
                {k: v for k, v in (("MetricIntervalLowerBound", lo), ("MetricIntervalUpperBound", hi), ("ScalingAdjustment", a))
                 if v is not None}
                for lo, hi, a in steps
            ],
        }}}


def alarm(policy: str | None, *, metrics: list[dict[str, Any]] | None = None, metric: str | None = None, threshold: float = 0,
          comparison: str = "GreaterThanThreshold", periods: int = 1, datapoints: int = 1, missing: str = "notBreaching",
          period: int = 60, stat: str = "Maximum", topic: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ComparisonOperator": comparison, "Threshold": threshold, "EvaluationPeriods": periods,
        "DatapointsToAlarm": datapoints, "TreatMissingData": missing,
        "AlarmActions": [{"Ref": policy}] if policy else (["arn:aws:sns:eu-west-2:111111111111:alarms"] if topic else []),
    }
    if metrics is not None:
        props["Metrics"] = metrics
    else:
        props.update({"Namespace": "AWS/SQS", "MetricName": metric or "ApproximateNumberOfMessagesVisible", "Statistic": stat,
                      "Period": period, "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]}}]})
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def worker(resources: dict[str, Any], *, minimum: int = 0, maximum: int = 10, processing: float = 2.0,
           latency: float | None = None, scheduled: list[dict[str, Any]] | None = None) -> Service:
    metadata: dict[str, Any] = {"average_processing_seconds": processing}
    if latency is not None:
        metadata["acceptable_latency_seconds"] = latency
    template = {"Resources": {
        QUEUE: {"Type": "AWS::SQS::Queue", "Properties": {"ReceiveMessageWaitTimeSeconds": 20}},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Cpu": "1024", "Memory": "2048", "RuntimePlatform": {"CpuArchitecture": "ARM64"},
            "ContainerDefinitions": [{"Name": "worker", "Image": "repo/worker:v1",
                                      "Environment": [{"Name": "QUEUE_URL", "Value": {"Ref": QUEUE}}]}]}},
        SERVICE: {"Type": "AWS::ECS::Service", "Metadata": {"stable_fargate": metadata},
                  "Properties": {"TaskDefinition": {"Ref": "Task"}, "LaunchType": "FARGATE"}},
        TARGET: {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
            "MinCapacity": minimum, "MaxCapacity": maximum, "ScalableDimension": "ecs:service:DesiredCount",
            **({"ScheduledActions": scheduled} if scheduled else {}),
            "ResourceId": {"Fn::Join": ["", ["service/cluster/", {"Fn::GetAtt": [SERVICE, "Name"]}]]}}},
        **resources,
    }}
    model = stability_model(AssemblySources((StackSource("test", "S", template, "111111111111", "eu-west-2"),), "given"))
    found = model.environments[0].service("worker")
    assert found is not None
    return found
