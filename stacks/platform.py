"""The per-environment platform: the library's EnvironmentPlatform in a stack of its own."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.platform import EnvironmentPlatform


class PlatformStack(Stack):
    """One environment's key, private network, cluster, alarm topic and budget.

    Attributes other stacks use: ``platform`` (the EnvironmentPlatform), and its parts as
    ``key``, ``network``, ``cluster``, ``alarms``, ``alarm_topic``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, environment: EnvironmentSpec, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # "Default": the platform's resources keep the logical ids they had as this stack's
        # direct children, so moving onto the library construct replaced nothing.
        self.platform = EnvironmentPlatform(self, "Default", environment=environment)
        self.key = self.platform.key
        self.network = self.platform.network
        self.cluster = self.platform.cluster
        self.alarms = self.platform.alarms
        self.alarm_topic = self.alarms.topic
