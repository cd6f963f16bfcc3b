"""The sample app's background work: portfolio-import (a QueueWorker) and reconciliation (a
ScheduledJob), sized per environment from cdk.json."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.database import PostgresAccess
from stable_fargate.scaling import WarmWindow
from stable_fargate.services.job import ScheduledJob
from stable_fargate.services.worker import QueueWorker
from stacks.data import DataStack
from stacks.platform import PlatformStack

PORTFOLIO_IMPORT = "portfolio-import"
PORTFOLIO_IMPORT_AVERAGE_PROCESSING = Duration.seconds(2)
"""Measured: an import message (one client's portfolio file) takes 2 s on average..."""
PORTFOLIO_IMPORT_LONGEST_PROCESSING = Duration.seconds(20)
"""...and 20 s at most (the largest portfolios)."""
PORTFOLIO_IMPORT_ACCEPTABLE_LATENCY = Duration.seconds(60)
"""An onboarding client sees their portfolio within a minute."""
PORTFOLIO_IMPORT_WARM_WINDOWS = (
    WarmWindow(schedule="55 1 * * ? *", time_zone="Europe/London", tasks=10, duration_minutes=55),
    WarmWindow(schedule="25 8 * * ? *", time_zone="Europe/London", tasks=15, duration_minutes=40),
)
"""The two bursts portfolio-import knows of: the nightly reconciliation enqueues ~240 checks a
minute from 02:00 to 02:45, and partners' morning files arrive from 08:30 at up to ~360 a
minute. At 2 s a message and 80 % utilization they need 10 and 15 tasks; reactive scaling alone
would leave the first two to three minutes of each burst waiting past the one-minute goal
(capped at each environment's max_tasks)."""

RECONCILIATION = "reconciliation"
RECONCILIATION_SCHEDULE = "0 2 * * ? *"
RECONCILIATION_TIME_ZONE = "Europe/London"
"""Nightly at 02:00 London time, summer and winter: after the ledger's end-of-day close."""
RECONCILIATION_MAX_RUNTIME = Duration.hours(1)
"""A night's reconciliation takes about 20 minutes; past an hour it is hung, and must not still
run when the trading day opens."""


class WorkersStack(Stack):
    """One environment's background services, on the platform's cluster, key and alarm topic;
    their sizing, release and configuration come from the environment's data. Both read and
    write portfolios in the environment's database (``data``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: EnvironmentSpec,
        platform: PlatformStack,
        data: DataStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        common: dict[str, Any] = {
            "environment": environment,
            "cluster": platform.cluster,
            "key": platform.key,
            "alarm_topic": platform.alarms,
            "subnets": platform.network.private_subnets,
        }
        self.portfolio_import = QueueWorker(
            self,
            "PortfolioImport",
            service_name=PORTFOLIO_IMPORT,
            average_processing_time=PORTFOLIO_IMPORT_AVERAGE_PROCESSING,
            longest_processing_time=PORTFOLIO_IMPORT_LONGEST_PROCESSING,
            acceptable_latency=PORTFOLIO_IMPORT_ACCEPTABLE_LATENCY,
            warm_windows=PORTFOLIO_IMPORT_WARM_WINDOWS,
            **common,
        )
        self.reconciliation = ScheduledJob(
            self,
            "Reconciliation",
            service_name=RECONCILIATION,
            schedule=RECONCILIATION_SCHEDULE,
            time_zone=RECONCILIATION_TIME_ZONE,
            max_runtime=RECONCILIATION_MAX_RUNTIME,
            **common,
        )
        self.portfolio_import_database = PostgresAccess(
            self, "PortfolioImportDatabase", service=self.portfolio_import, database=data.database
        )
        self.reconciliation_database = PostgresAccess(
            self, "ReconciliationDatabase", service=self.reconciliation, database=data.database
        )
