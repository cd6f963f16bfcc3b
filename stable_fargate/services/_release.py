"""The smoke-check hook of a traffic-shifting release: a small function in the VPC that asks the
load balancer's test listener for the declared path before any production traffic moves.

* **Where it runs**: in the service's private subnets, so it reaches the test listener, which
  admits only the VPC. An internet-facing load balancer's DNS name resolves to public
  addresses, which a subnet without a NAT path cannot reach, so the function asks the EC2 API
  for the load balancer's own network interfaces and calls their private addresses. The EC2
  API is reached through an interface endpoint of its own (private DNS off, so it never
  collides with an ``ec2`` endpoint of the network), which admits only this function.
* **What it may do**: write its own log group; manage its network interfaces (what Lambda
  needs in a VPC); describe network interfaces. Nothing else, through a customer managed
  policy (no inline policy), and an endpoint policy that admits only that one call by this role.
* **Who may invoke it**: ECS, with a role of its own that may invoke only this function.

ECS rolls the release back when the function answers ``FAILED``, fails or times out
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate.services._acks import acknowledge

HANDLER_SOURCE = Path(__file__).parent.parent / "functions" / "smoke_check.py"
"""The function's code, committed and tested as a module, inlined into the template (reviewable
in the snapshot, no asset bucket)."""

INLINE_CODE_LIMIT = 4096
"""CloudFormation's limit on inline (ZipFile) function code, in characters."""

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""Pinned: the newest Python runtime aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 asks for the
newest); boto3 comes with it, so the function needs no package."""

ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
"""What Lambda needs to attach a function to a VPC (the actions of AWS's
AWSLambdaVPCAccessExecutionRole, written out so no AWS managed policy is attached);
DescribeNetworkInterfaces is also the function's own lookup of the load balancer's nodes."""


class SmokeCheckHook(Construct):
    """The function, its network path and its roles; ``target`` is the lifecycle hook
    (POST_TEST_TRAFFIC_SHIFT) to add to the service.

    Attributes: ``function``, ``log_group``, ``role``, ``policy``, ``security_group``,
    ``endpoint``, ``endpoint_security_group``, ``invoke_role``, ``invoke_policy``, ``target``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key: kms.IKey,
        retain: bool,
        load_balancer: elbv2.ApplicationLoadBalancer,
        load_balancer_security_group: ec2.SecurityGroup,
        test_port: int,
        path: str,
        expected_status: int,
        header: tuple[str, str] | None,
    ) -> None:
        super().__init__(scope, construct_id)
        source = HANDLER_SOURCE.read_text(encoding="utf-8")
        if len(source) > INLINE_CODE_LIMIT:  # a library bug, not a user's input
            raise AssertionError(f"{HANDLER_SOURCE.name} has {len(source)} characters; inline code allows {INLINE_CODE_LIMIT}")

        # Security-group descriptions: CloudFormation refuses apostrophes in them.
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{service_name} smoke check: out only to its EC2 endpoint and the test listener",
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{service_name} smoke check EC2 endpoint: HTTPS from the smoke check only",
        )
        self.security_group.connections.allow_to(self.endpoint_security_group, ec2.Port.tcp(443), "EC2 API: the load balancer nodes")
        self.security_group.connections.allow_to(load_balancer_security_group, ec2.Port.tcp(test_port), "The test listener")
        self.endpoint = ec2.InterfaceVpcEndpoint(
            self, "Ec2Endpoint", vpc=vpc, service=ec2.InterfaceVpcEndpointAwsService.EC2, subnets=subnets,
            security_groups=[self.endpoint_security_group], open=False, private_dns_enabled=False,
        )

        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention(defaults.LOG_RETENTION_DAYS), encryption_key=key,
            removal_policy=removal_policy(retain),
        )
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{service_name} smoke check: its logs, its network interfaces, the load balancer's nodes",
        )
        self.policy = iam.ManagedPolicy(
            self, "Policy", roles=[self.role],
            statements=[
                iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[self.log_group.log_group_arn]),
                iam.PolicyStatement(actions=list(ENI_ACTIONS), resources=["*"]),
            ],
        )
        acknowledge(
            self.policy, "AwsSolutions-IAM5[Resource::*]",
            "EC2's network-interface calls a VPC function needs (and its read of the load balancer's interfaces) have no "
            "resource-level permissions; the smoke check's endpoint admits only DescribeNetworkInterfaces by this role.",
        )
        self.endpoint.add_to_policy(iam.PolicyStatement(
            principals=[iam.ArnPrincipal(self.role.role_arn)], actions=["ec2:DescribeNetworkInterfaces"], resources=["*"],
        ))

        # The endpoint's first DNS entry is "<zone id>:<name>"; the SDK calls the name.
        endpoint_name = Fn.select(1, Fn.split(":", Fn.select(0, self.endpoint.vpc_endpoint_dns_entries)))
        environment = {
            "LOAD_BALANCER": load_balancer.load_balancer_full_name,
            "EC2_ENDPOINT": Fn.join("", ["https://", endpoint_name]),
            "TEST_PORT": str(test_port),
            "SMOKE_PATH": path,
            "EXPECTED_STATUS": str(expected_status),
            "REQUEST_TIMEOUT": str(defaults.SMOKE_CHECK_REQUEST_TIMEOUT_SECONDS),
        }
        if header is not None:
            environment |= {"HEADER_NAME": header[0], "HEADER_VALUE": header[1]}
        self.function = lambda_.Function(
            self, "Function", runtime=RUNTIME, architecture=lambda_.Architecture.ARM_64,
            handler="index.handler", code=lambda_.Code.from_inline(source),
            description=f"{service_name}: smoke check of a new release through the test listener (ECS lifecycle hook)",
            timeout=Duration.seconds(defaults.SMOKE_CHECK_FUNCTION_TIMEOUT_SECONDS),
            memory_size=defaults.SMOKE_CHECK_MEMORY_MIB, role=self.role, log_group=self.log_group,
            vpc=vpc, vpc_subnets=subnets, security_groups=[self.security_group], environment=environment,
        )
        # Lambda checks the role's network-interface permissions when it creates the function.
        self.function.node.add_dependency(self.policy)

        self.invoke_role = iam.Role(
            self, "InvokeRole", assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            description=f"{service_name}: lets ECS invoke the smoke check during a release",
        )
        self.invoke_policy = iam.ManagedPolicy(
            self, "InvokePolicy", roles=[self.invoke_role],
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])],
        )
        self.target = ecs.DeploymentLifecycleLambdaTarget(
            self.function, "SmokeCheck", role=self.invoke_role,
            lifecycle_stages=[ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
        )
