"""The pack on an app built only with aws_ecs_patterns and a default ECR repository, run as
a validation plugin (end to end: validation-report.json). This is what a platform team sees
on a service written before the library; README's table shows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as patterns

from tests.checks.harness import Findings, synth_with_plugin
from tests.conftest import make_app

SAMPLE_IMAGE = "amazon/amazon-ecs-sample"
"""The image aws_ecs_patterns' own examples use: untagged, so ``latest``."""


def patterns_app(app: App) -> None:
    stack = Stack(app, "Patterns", env=Environment(account="111111111111", region="eu-west-2"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-2a", "eu-west-2b"])
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    image = ecs.ContainerImage.from_registry(SAMPLE_IMAGE)
    patterns.ApplicationLoadBalancedFargateService(
        stack, "Web", cluster=cluster, task_image_options=patterns.ApplicationLoadBalancedTaskImageOptions(image=image),
    )
    patterns.QueueProcessingFargateService(stack, "Worker", cluster=cluster, image=image, cpu=256, memory_limit_mib=512)
    patterns.ScheduledFargateTask(
        stack, "Job", cluster=cluster, schedule=appscaling.Schedule.expression("rate(1 day)"),
        scheduled_fargate_task_image_options=patterns.ScheduledFargateTaskImageOptions(image=image, memory_limit_mib=512),
    )
    ecr.Repository(stack, "Repository")


EXPECTED = {
    "SF-ROLL1": ["Patterns/Web/Service/Service", "Patterns/Worker/QueueProcessingFargateService/Service"],
    "SF-ROLL3": ["Patterns/Web/Service/Service"],
    "SF-HEALTH1": ["Patterns/Web/Service/Service"],
    "SF-HEALTH3": ["Patterns/Web/LB/PublicListener/ECSGroup/Resource"],
    "SF-HEALTH4": ["Patterns/Web/LB/PublicListener/ECSGroup/Resource"],
    "SF-HEALTH5": ["Patterns/Web/Service/Service"],
    "SF-IMG1": [
        "Patterns/Job/ScheduledTaskDef/Resource", "Patterns/Web/TaskDef/Resource", "Patterns/Worker/QueueProcessingTaskDef/Resource"
    ],
    "SF-IMG2": ["Patterns/Repository/Resource"],
    "SF-IMG3": ["Patterns/Repository/Resource"],
    "SF-IMG4": ["Patterns/Repository/Resource"],
    "SF-QUEUE3": ["Patterns/Worker/QueueProcessingFargateService/TaskCount/Target/Resource"],
    "SF-QUEUE4": [
        "Patterns/Worker/QueueProcessingFargateService/TaskCount/Target/QueueMessagesVisibleScaling/LowerAlarm/Resource",
        "Patterns/Worker/QueueProcessingFargateService/TaskCount/Target/QueueMessagesVisibleScaling/UpperAlarm/Resource",
    ],
    "SF-SCALE1": ["Patterns/Worker/QueueProcessingFargateService/TaskCount/Target/CpuScaling/Resource"],
}
"""Exactly what the pack finds, and nothing else: no SF-QUEUE1 (the pattern's queue has a DLQ),
no SF-QUEUE2 (30 s visibility, 30 s default stop timeout), no SF-ROLL2 (one task), no
SF-HEALTH2 (no start period to compare with), no SF-SCALE3 (valid sizes)."""


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    outdir: Path = tmp_path_factory.mktemp("patterns")
    app = make_app(outdir, context={})
    patterns_app(app)
    found, succeeded = synth_with_plugin(app, outdir)
    assert not succeeded  # any finding fails synth
    return found


def test_findings_on_aws_ecs_patterns(findings: Findings) -> None:
    assert findings.as_sorted() == EXPECTED


def test_readme_table_shows_these_findings(findings: Findings) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("<!-- section:checks -->", 1)[1].split("<!-- /section:checks -->", 1)[0]
    for rule in findings.by_rule:
        assert f"`{rule}`" in section, rule
