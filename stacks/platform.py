"""The per-environment platform: key, network, cluster."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stable_fargate import EnvironmentSpec
from stable_fargate.network import HardenedCluster, PlatformKey, PrivateNetwork


class PlatformStack(Stack):
    """One environment's key, private network and cluster."""

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
