"""The sample app's public API, portfolio-api, on StableWebService in one environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from stable_fargate import AccountRegion, ConfigError, EnvironmentSpec, ImageRef, ParameterSets
from stable_fargate.services.web import StableWebService, node_health_command
from stacks.platform import PlatformStack

SERVICE = "portfolio-api"
CONTAINER_PORT = 3000
HEALTH_CHECK_PATH = "/healthz"
WARM_UP = Duration.seconds(45)
"""Connecting to Postgres and loading reference data takes portfolio-api about 45 s."""


class ApiStack(Stack):
    """portfolio-api behind an HTTPS load balancer, sized by the environment's data.

    :param platform: the environment's PlatformStack (network, cluster, key, alarm topic).
    :param environment: the environment's spec (sizing, image tag, certificate).
    :param registry: the tooling account holding the release repositories.
    :param parameters: the app's parameter sets; portfolio-api's configuration comes only from them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: PlatformStack,
        environment: EnvironmentSpec,
        registry: AccountRegion,
        parameters: ParameterSets,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if environment.certificate_arn is None:
            raise ConfigError(
                f"environment {environment.name}", "certificate_arn", None,
                f"Give the ACM certificate of {SERVICE}'s domain under environments.{environment.name} in cdk.json.",
            )
        sizing = environment.sizing(SERVICE)
        self.web = StableWebService(
            self,
            "PortfolioApi",
            service_name=SERVICE,
            image=ImageRef.release(SERVICE, environment.image_tag(SERVICE), registry=registry),
            container_port=CONTAINER_PORT,
            health_check_path=HEALTH_CHECK_PATH,
            warm_up=WARM_UP,
            cluster=platform.cluster.cluster,
            vpc=platform.network.vpc,
            certificate_arn=environment.certificate_arn,
            parameters=parameters.resolve(SERVICE, environment.name),
            production=environment.production,
            retain_data=environment.retain_data,
            cpu=sizing.cpu,
            memory_mib=sizing.memory_mib,
            min_tasks=sizing.min_tasks,
            max_tasks=sizing.max_tasks,
            # A Node.js image: probe with the runtime's own fetch, no shell or curl needed.
            container_health_command=node_health_command(CONTAINER_PORT, HEALTH_CHECK_PATH),
            log_key=platform.key.key,
            alarm_topic=platform.alarm_topic,
            load_balancer_subnets=platform.network.public_subnets,
            task_subnets=platform.network.private_subnets,
        )
