#!/usr/bin/env python3
"""This app's CDK entry point, on stable_fargate's kit (written by `stable-fargate init`).

Every environment in cdk.json gets a stage with a Platform stack (key, private network,
cluster, alarm topic, budget) and a Services stack (a web service, a queue worker, a nightly
job); the release images live in a Registry stack in the tooling account. `run` synthesizes
with the nag packs, fails on any finding in any stage and on undeclared drift between the
environments, and prints a bad input as one message.
"""

from aws_cdk import Duration, Environment, Stack

from stable_fargate import HardenedRepository, PlatformKey, QueueWorker, ScheduledJob, StableWebService
from stable_fargate.app import StableApp, run
from stable_fargate.images import referenced_tags
from stable_fargate.platform import EnvironmentPlatform

SERVICES = ("api", "worker", "nightly")


def build(app: StableApp) -> None:
    config = app.config
    registry = Stack(app, "Registry", env=Environment(account=config.tooling.account, region=config.tooling.region),
                     termination_protection=True)
    key = PlatformKey(registry, "RegistryKey", description="release images")
    tags = referenced_tags(config)
    for name in SERVICES:
        HardenedRepository(registry, name, repository_name=name, pull_accounts=config.accounts,
                           encryption_key=key.key, protected_tags=tags.get(name, ()))

    for environment in config.environments:
        stage = app.environment_stage(environment)
        platform = EnvironmentPlatform(
            Stack(stage, "Platform", termination_protection=environment.production), "Default", environment=environment
        )
        services = Stack(stage, "Services", termination_protection=environment.production)
        api = StableWebService(
            services, "Api", service_name="api", **platform.service_inputs,
            container_port=8080, health_check_path="/healthz", warm_up=Duration.seconds(30),
        )
        worker = QueueWorker(
            services, "Worker", service_name="worker", **platform.service_inputs,
            average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(15),
            acceptable_latency=Duration.seconds(60),
        )
        worker.allow_producer(api, url_key="WORKER_QUEUE_URL")
        ScheduledJob(
            services, "Nightly", service_name="nightly", **platform.service_inputs,
            schedule="0 2 * * ? *", time_zone="Europe/London", max_runtime=Duration.hours(1),
        )


if __name__ == "__main__":
    run(build)
