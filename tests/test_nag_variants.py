"""The nag packs on the constructs' other shapes, not only the sample app's: ECS Exec on, a
worker that protects itself past Fargate's stop timeout, a job with its own command. Each
must still synthesize with zero unacknowledged AwsSolutions and PCI DSS findings."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import (
    ImageRef,
    QueueWorker,
    ResolvedParameters,
    ScheduledJob,
    SecretRef,
    ServiceSizing,
    StableWebService,
    pin_availability_zones,
)
from stacks.app import load_config
from stacks.platform import PlatformStack
from tests.conftest import make_app


def test_variants_are_nag_clean(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    config = load_config(app)
    pin_availability_zones(app, config.environments)
    env = config.environment("staging")
    where = Environment(account=env.account, region=env.region)
    platform = PlatformStack(app, "Platform", environment=env, env=where)
    stack = Stack(app, "Variants", env=where)
    image = ImageRef.release("portfolio-api", "v1.8.0", registry=config.tooling)
    secrets = ResolvedParameters(
        service="ops-api", environment="staging", plain={"LOG_LEVEL": "info"},
        secrets={"DATABASE_PASSWORD": SecretRef("secretsmanager", "ops-api/database", json_field="password")},
    )
    env = (
        env.with_sizing("ops-api", ServiceSizing(min_tasks=2, max_tasks=3))
        .with_sizing("long-import", ServiceSizing(min_tasks=0, max_tasks=4))
        .with_sizing("hourly-report", ServiceSizing())
    )
    shared = {"environment": env, "cluster": platform.cluster, "key": platform.key, "alarm_topic": platform.alarms, "image": image}
    StableWebService(
        stack, "OpsApi", service_name="ops-api", container_port=8080, health_check_path="/health",
        warm_up=Duration.minutes(2), parameters=secrets, enable_execute_command=True, **shared,
    )
    QueueWorker(
        stack, "LongImport", service_name="long-import", average_processing_time=Duration.seconds(60),
        longest_processing_time=Duration.minutes(5), acceptable_latency=Duration.minutes(15),
        uses_task_protection=True, subnets=platform.network.private_subnets, **shared,
    )
    ScheduledJob(
        stack, "Hourly", service_name="hourly-report", schedule="5 * * * ? *", time_zone="UTC",
        max_runtime=Duration.minutes(30), command=["node", "report.js"], subnets=platform.network.private_subnets, **shared,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
