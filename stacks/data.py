"""The sample app's data: portfolio's Postgres behind its RDS Proxy, in one environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.database import HardenedPostgres
from stacks.platform import PlatformStack

DATABASE = "portfolio"
"""portfolio-api, portfolio-import and reconciliation share one database: the portfolios."""


class DataStack(Stack):
    """One environment's database; its instance class, storage, Multi-AZ and the services'
    pools come from the environment's data (``environments.<env>.databases.portfolio``).

    :param platform: the environment's PlatformStack (network, key, alarm topic).
    :param environment: the environment's spec, loaded from cdk.json.

    Attributes: ``database`` (:class:`HardenedPostgres`).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, platform: PlatformStack, environment: EnvironmentSpec, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.database = HardenedPostgres(
            self,
            "Portfolio",
            database_name=DATABASE,
            environment=environment,
            vpc=platform.network.vpc,
            key=platform.key,
            alarm_topic=platform.alarms,
            subnets=platform.network.private_subnets,
        )
