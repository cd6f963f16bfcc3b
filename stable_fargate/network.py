"""PrivateNetwork, PlatformKey and HardenedCluster: where every service of an environment runs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from aws_cdk import Acknowledgment, Stack, Token, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.config import rules
from stable_fargate.errors import ConfigError

PUBLIC_SUBNET_GROUP = "Edge"
"""Subnet group of the load balancers: the only subnets with a route to the internet."""

PRIVATE_SUBNET_GROUP = "App"
"""Subnet group of tasks, interface endpoints and data stores."""

AZ_NAME = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9][a-z]")
"""An availability zone's name, e.g. eu-west-2a."""

ENDPOINT_SERVICE = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+){0,4}")
"""An interface endpoint's service name within ``com.amazonaws.<region>.``, e.g. ecr.api."""

CLUSTER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
"""ECS cluster names: up to 255 ASCII letters, digits, hyphens and underscores."""


def ecr_layer_bucket(region: str) -> str:
    """The S3 bucket ECR serves image layers from in ``region``; an S3 gateway endpoint policy
    must allow ``s3:GetObject`` on it or image pulls fail
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html, "Create the
    Amazon S3 gateway endpoint")."""
    return f"prod-{region}-starport-layer-bucket"


MAX_KEY_DESCRIPTION = 8192
"""KMS's limit on a key's description."""


class PlatformKey(Construct):
    """The environment's KMS key for logs, queues, topics and buckets, rotated yearly.

    CloudWatch Logs may use it for this account's log groups. CloudWatch alarms get their
    grant from the :class:`~stable_fargate.alarms.AlarmTopic` that needs it.

    :param description: what the key protects.
    :param retain: keep the key when the stack deletes it. Default: True (data encrypted
        with a deleted key is lost).
    """

    @checked_inputs
    def __init__(self, scope: Construct, construct_id: str, *, description: str, retain: bool = True) -> None:
        super().__init__(scope, construct_id)
        if not description or len(description) > MAX_KEY_DESCRIPTION or "\x00" in description:
            raise ConfigError(
                f"key {construct_id}", "description", description, f"Say what the key protects, 1 to {MAX_KEY_DESCRIPTION} characters."
            )
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy(retain),
        )
        # CloudWatch Logs encrypts with the key directly; scope it to this account's log groups.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    }
                },
            )
        )


class PrivateNetwork(Construct):
    """A VPC over the environment's explicit AZs: public subnets for load balancers only,
    private subnets for tasks and data, flow logs, and VPC endpoints so that tasks pull images
    and read secrets without a NAT path.

    :param cidr: the VPC's IPv4 network (literal: endpoint security groups admit it as text).
    :param availability_zones: the AZs, explicit so that synth never asks AWS.
    :param nat_gateways: NAT gateways (0 allowed: the endpoints below cover what tasks need
        at start). Default: 0.
    :param flow_log_key: KMS key of the flow-log group.
    :param flow_log_retention: Default: ``defaults.FLOW_LOG_RETENTION_DAYS`` (one year).
    :param interface_endpoints: Default: ``defaults.INTERFACE_ENDPOINT_SERVICES``.
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        flow_log_key: kms.IKey,
        nat_gateways: int = 0,
        interface_endpoints: Sequence[str] = defaults.INTERFACE_ENDPOINT_SERVICES,
        retain_logs: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        subject = f"network {construct_id}"
        # The same rules as an environment's data in cdk.json (stable_fargate.config.rules).
        try:
            network = ipaddress.IPv4Network(rules.check_vpc_cidr(cidr))
        except rules.RuleError as error:
            fix = f"{error.fix} It must be a literal: endpoint security groups admit it as text."
            raise ConfigError(subject, "cidr", cidr, fix) from None
        if len(availability_zones) < defaults.MIN_AZS or len(set(availability_zones)) != len(availability_zones):
            raise ConfigError(subject, "availability_zones", list(availability_zones), f"Give at least {defaults.MIN_AZS} different AZs.")
        region = None if Token.is_unresolved(stack.region) else stack.region
        for az in availability_zones:
            if not AZ_NAME.fullmatch(az) or (region is not None and not az.startswith(region)):
                raise ConfigError(
                    subject, "availability_zones", az, f"Give AZ names of the stack's region {region or ''}, e.g. eu-west-2a."
                )
        if network.prefixlen > rules.smallest_vpc_prefix(len(availability_zones)):
            raise ConfigError(
                subject, "cidr", cidr,
                f"A /{network.prefixlen} cannot hold a /{defaults.PUBLIC_SUBNET_MASK} public and a /{defaults.PRIVATE_SUBNET_MASK} "
                f"private subnet in each of {len(availability_zones)} AZs; use a /{rules.smallest_vpc_prefix(len(availability_zones))} "
                "or larger.",
            )
        if not 0 <= nat_gateways <= len(availability_zones):
            raise ConfigError(subject, "nat_gateways", nat_gateways, f"Use 0 to {len(availability_zones)}.")
        for service in interface_endpoints:
            if not ENDPOINT_SERVICE.fullmatch(service):
                raise ConfigError(
                    subject, "interface_endpoints", service, "Name AWS services as their endpoints do, e.g. 'ecr.api' or 'logs'."
                )
        private_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways else ec2.SubnetType.PRIVATE_ISOLATED
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(network)),
            availability_zones=list(availability_zones),
            nat_gateways=nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC_SUBNET_GROUP, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=defaults.PUBLIC_SUBNET_MASK,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name=PRIVATE_SUBNET_GROUP, subnet_type=private_type, cidr_mask=defaults.PRIVATE_SUBNET_MASK
                ),
            ],
        )
        self.private_subnets = ec2.SubnetSelection(subnet_group_name=PRIVATE_SUBNET_GROUP)
        self.public_subnets = ec2.SubnetSelection(subnet_group_name=PUBLIC_SUBNET_GROUP)

        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=flow_log_key,
            retention=log_retention(defaults.FLOW_LOG_RETENTION_DAYS),
            removal_policy=removal_policy(retain_logs),
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        Validations.of(self.flow_log).acknowledge(
            Acknowledgment(
                id="PCI.DSS.321-IAMNoInlinePolicy",
                reason="The flow-log delivery role's policy is generated by CDK and scoped to this one log group.",
            )
        )
        for subnet in self.vpc.public_subnets:
            Validations.of(subnet).acknowledge(
                Acknowledgment(
                    id="PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
                    reason="Public subnets hold only the internet-facing load balancers; tasks and data sit in private subnets.",
                )
            )

        # Endpoints admit HTTPS from the VPC's literal CIDR (a token CIDR breaks nag rules).
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(str(network)), ec2.Port.tcp(443), "HTTPS from tasks in this VPC"
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for service in interface_endpoints:
            endpoint_id = "".join(part.capitalize() for part in service.split(".")) + "Endpoint"
            self.interface_endpoints[service] = self.vpc.add_interface_endpoint(
                endpoint_id,
                service=ec2.InterfaceVpcEndpointAwsService(service),
                subnets=self.private_subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
                private_dns_enabled=True,
            )
            # Only this account's principals may use the endpoint (a stolen credential of
            # another account cannot carry data out through it).
            self.interface_endpoints[service].add_to_policy(
                iam.PolicyStatement(
                    sid="OnlyThisAccountsPrincipals",
                    principals=[iam.AnyPrincipal()],
                    actions=["*"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
                )
            )
        # ECR keeps image layers in S3: the gateway endpoint is the pull path without NAT.
        # Without NAT it is also the only way out to S3, so it reaches ECR's layer bucket of
        # this region and this account's own buckets, and nothing else.
        self.s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.private_subnets]
        )
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="EcrImageLayers",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[f"arn:{stack.partition}:s3:::{ecr_layer_bucket(stack.region)}/*"],
            )
        )
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="ThisAccountsBuckets",
                principals=[iam.AnyPrincipal()],
                actions=["s3:*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:ResourceAccount": stack.account, "aws:PrincipalAccount": stack.account}},
            )
        )


class HardenedCluster(Construct):
    """An ECS cluster with enhanced Container Insights (per-task metrics and the
    RunningTaskCount that the workers' backlog-per-task signal divides by).

    :param vpc: the environment's network.
    :param cluster_name: Default: generated by CloudFormation.

    Attributes: ``cluster`` (ecs.Cluster), ``vpc`` (the VPC it was given).
    """

    @checked_inputs
    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, cluster_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        if cluster_name is not None and not Token.is_unresolved(cluster_name) and not CLUSTER_NAME.fullmatch(cluster_name):
            raise ConfigError(
                f"cluster {construct_id}", "cluster_name", cluster_name, "Use up to 255 ASCII letters, digits, '-' and '_'."
            )
        self.vpc = vpc
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=cluster_name,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,  # defaults.CONTAINER_INSIGHTS
            enable_fargate_capacity_providers=True,
        )
