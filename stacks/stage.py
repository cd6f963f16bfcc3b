"""One cdk.Stage per environment, so that `cdk deploy 'Prod/*'` deploys prod alone."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stage
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stacks.api import ApiStack
from stacks.data import DataStack
from stacks.platform import PlatformStack
from stacks.workers import WorkersStack

IMPORT_QUEUE_URL_KEY = "IMPORT_QUEUE_URL"
"""Where portfolio-api finds portfolio-import's queue."""


class EnvironmentStage(Stage):
    """Every stack of one environment, deployed to that environment's account and region."""

    def __init__(
        self,
        scope: Construct,
        *,
        environment: EnvironmentSpec,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            environment.stage_name,
            env=Environment(account=environment.account, region=environment.region),
            **kwargs,
        )
        self.environment = environment
        # Every stack of an environment holds data (keys, logs, queues, access logs), and the
        # Data, Api and Workers stacks read the Platform's (and Data's) outputs by weak reference
        # (Fn::GetStackOutput), which does not stop Platform from being deleted or replaced
        # under them: production stacks are termination-protected.
        protected = environment.production
        self.platform = PlatformStack(self, "Platform", environment=environment, termination_protection=protected)
        self.data = DataStack(self, "Data", platform=self.platform, environment=environment, termination_protection=protected)
        self.api = ApiStack(
            self, "Api", platform=self.platform, data=self.data, environment=environment, termination_protection=protected
        )
        self.workers = WorkersStack(
            self, "Workers", environment=environment, platform=self.platform, data=self.data, termination_protection=protected
        )
        # portfolio-api enqueues client uploads for portfolio-import: the right to send, the
        # key grant and the queue's URL as IMPORT_QUEUE_URL, in every environment alike.
        self.workers.portfolio_import.allow_producer(self.api.web, url_key=IMPORT_QUEUE_URL_KEY)
