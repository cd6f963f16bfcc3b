"""The sample app's public API, portfolio-api, on StableWebService in one environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.database import PostgresAccess
from stable_fargate.services.web import StableWebService, node_health_command
from stacks.data import DataStack
from stacks.platform import PlatformStack

SERVICE = "portfolio-api"
CONTAINER_PORT = 3000
HEALTH_CHECK_PATH = "/healthz"
WARM_UP = Duration.seconds(45)
"""Connecting to Postgres (through the proxy, retrying with backoff) and loading reference data takes
portfolio-api about 45 s."""


class ApiStack(Stack):
    """portfolio-api behind an HTTPS load balancer; its sizing, release, certificate and
    configuration come from the environment's data.

    :param platform: the environment's PlatformStack (network, cluster, key, alarm topic).
    :param data: the environment's DataStack (portfolio's database, through its proxy).
    :param environment: the environment's spec, loaded from cdk.json.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        platform: PlatformStack,
        data: DataStack,
        environment: EnvironmentSpec,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = StableWebService(
            self,
            "PortfolioApi",
            service_name=SERVICE,
            environment=environment,
            cluster=platform.cluster,
            key=platform.key,
            alarm_topic=platform.alarms,
            container_port=CONTAINER_PORT,
            health_check_path=HEALTH_CHECK_PATH,
            warm_up=WARM_UP,
            # A Node.js image: probe with the runtime's own fetch, no shell or curl needed.
            container_health_command=node_health_command(CONTAINER_PORT, HEALTH_CHECK_PATH),
            subnets=platform.network.private_subnets,
            load_balancer_subnets=platform.network.public_subnets,
        )
        self.database = PostgresAccess(self, "PortfolioApiDatabase", service=self.web, database=data.database)
