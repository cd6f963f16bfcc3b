"""The per-environment platform: key, network, cluster."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.alarms import AlarmTopic
from stable_fargate.network import HardenedCluster, PlatformKey, PrivateNetwork


class PlatformStack(Stack):
    """One environment's key, private network, cluster and alarm topic.

    Attributes other stacks use: ``key.key`` (kms.Key), ``network.vpc``,
    ``network.private_subnets`` / ``network.public_subnets`` (SubnetSelection),
    ``cluster.cluster`` (ecs.Cluster), ``alarm_topic`` (sns.Topic).
    """

    def __init__(self, scope: Construct, construct_id: str, *, environment: EnvironmentSpec, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = PlatformKey(
            self, "PlatformKey", description=f"{environment.name}: logs, queues and topics", retain=environment.retain_data
        )
        self.network = PrivateNetwork(
            self,
            "Network",
            cidr=environment.vpc_cidr,
            availability_zones=environment.availability_zones,
            nat_gateways=environment.nat_gateways,
            flow_log_key=self.key.key,
            retain_logs=environment.retain_data,
        )
        self.cluster = HardenedCluster(self, "Cluster", vpc=self.network.vpc)
        # One encrypted, TLS-only topic per environment for every service's alarms, which
        # CloudWatch alarms of this account and region may publish to.
        self.alarms = AlarmTopic(
            self, "AlarmTopic", key=self.key.key, display_name=f"stable_fargate {environment.name} alarms"
        )
        self.alarm_topic = self.alarms.topic
