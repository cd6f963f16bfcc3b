"""PrivateNetwork, PlatformKey and HardenedCluster in the sample app's platform stacks."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stable_fargate import ConfigError
from stable_fargate.network import PlatformKey, PrivateNetwork
from tests.conftest import SampleApp, template_of


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def platform(request: pytest.FixtureRequest, sample_app: SampleApp) -> tuple[Any, Template]:
    stage = sample_app.stages[request.param]
    return stage.environment, template_of(stage.platform)


def test_vpc_uses_the_declared_cidr_and_azs(platform: tuple[Any, Template]) -> None:
    env, template = platform
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": env.vpc_cidr})
    subnets = template.find_resources("AWS::EC2::Subnet")
    azs = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert azs == set(env.availability_zones)
    # One public (/24) and one private (/20) subnet per AZ.
    masks = sorted(s["Properties"]["CidrBlock"].split("/")[1] for s in subnets.values())
    n = len(env.availability_zones)
    assert masks == sorted(["20"] * n + ["24"] * n)  # /20 private: room for a 200 % rollout; /24 public: load balancers
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_nat_gateways_follow_the_environment_data(platform: tuple[Any, Template]) -> None:
    env, template = platform
    template.resource_count_is("AWS::EC2::NatGateway", env.nat_gateways)


def test_interface_and_gateway_endpoints(platform: tuple[Any, Template]) -> None:
    env, template = platform
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint")
    names = sorted(str(e["Properties"]["ServiceName"]) for e in endpoints.values())
    # What a task needs without a NAT path: images, logs, secrets, parameters, queues, metrics.
    services = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sqs", "monitoring"]
    for service in services:
        assert any(f"eu-west-2.{service}" in name for name in names), service
    assert len(endpoints) == 7 + 1  # and the S3 gateway (image layers)
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.any_value()})
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "PrivateDnsEnabled": True}
    )
    # The endpoint security group admits HTTPS from the VPC only.
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("VPC interface endpoints"),
            "SecurityGroupIngress": [Match.object_like({"CidrIp": env.vpc_cidr, "FromPort": 443, "ToPort": 443})],
        },
    )


def test_flow_logs_to_an_encrypted_log_group_kept_a_year(platform: tuple[Any, Template]) -> None:
    _, template = platform
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceType": "VPC"})
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 365, "KmsKeyId": Match.any_value()}  # PCI DSS 10.7: a year
    )


def test_default_security_group_is_locked_down(platform: tuple[Any, Template]) -> None:
    _, template = platform
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_cluster_has_enhanced_container_insights(platform: tuple[Any, Template]) -> None:
    _, template = platform
    template.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]},  # RunningTaskCount for the workers
    )
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {"CapacityProviders": Match.array_with(["FARGATE", "FARGATE_SPOT"])},
    )


def test_key_rotates_and_alarm_topic_is_encrypted(platform: tuple[Any, Template]) -> None:
    env, template = platform
    template.has_resource("AWS::KMS::Key", {
        "Properties": Match.object_like({"EnableKeyRotation": True}),
        "DeletionPolicy": "RetainExceptOnCreate" if env.retain_data else "Delete",
    })
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_network_refusals(env_stack: Any) -> None:
    env = env_stack("dev")
    key = PlatformKey(env.stack, "Key", description="t").key
    with pytest.raises(ConfigError, match="network Net: cidr"):
        PrivateNetwork(env.stack, "Net", cidr="ten", availability_zones=["eu-west-2a", "eu-west-2b"], flow_log_key=key)
    with pytest.raises(ConfigError, match="availability_zones"):
        PrivateNetwork(env.stack, "Net2", cidr="10.0.0.0/16", availability_zones=["eu-west-2a"], flow_log_key=key)
    with pytest.raises(ConfigError, match="nat_gateways"):
        PrivateNetwork(
            env.stack, "Net3", cidr="10.0.0.0/16", availability_zones=["eu-west-2a", "eu-west-2b"], flow_log_key=key, nat_gateways=3
        )


def test_nat_gateways_make_private_subnets_egress(env_stack: Any) -> None:
    env = env_stack("dev")
    key = PlatformKey(env.stack, "Key", description="t").key
    PrivateNetwork(env.stack, "Net", cidr="10.0.0.0/16", availability_zones=["eu-west-2a", "eu-west-2b"], flow_log_key=key, nat_gateways=1)
    template = env.template()
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    # The private subnets route to the internet through the NAT gateway (PRIVATE_WITH_EGRESS).
    nat_routes = [r for r in template.find_resources("AWS::EC2::Route").values() if "NatGatewayId" in r["Properties"]]
    assert len(nat_routes) == 2 and all(r["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0" for r in nat_routes)


def _network(env_stack: Any, **props: Any) -> PrivateNetwork:
    env = env_stack("dev")
    key = PlatformKey(env.stack, "Key", description="t").key
    args: dict[str, Any] = {"cidr": "10.0.0.0/16", "availability_zones": ["eu-west-2a", "eu-west-2b"], "flow_log_key": key}
    return PrivateNetwork(env.stack, "Net", **(args | props))


@pytest.mark.parametrize(
    ("props", "field", "fix"),
    [
        ({"availability_zones": ["eu-west-2a", "eu-west-2a"]}, "availability_zones", "at least 2 different AZs"),
        ({"availability_zones": ["eu-west-2a", "us-east-1b"]}, "availability_zones", "of the stack's region eu-west-2"),
        ({"availability_zones": ["eu-west-2a", "eu-west-2"]}, "availability_zones", "e.g. eu-west-2a"),
        ({"cidr": "10.0.0.0/19"}, "cidr", "use a /18 or larger"),  # 2 AZs x (/24 + /20) do not fit a /19
        ({"nat_gateways": -1}, "nat_gateways", "Use 0 to 2."),
        ({"interface_endpoints": ["ecr api"]}, "interface_endpoints", "e.g. 'ecr.api'"),
    ],
)
def test_network_inputs_refused_with_what_to_change(env_stack: Any, props: dict[str, Any], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as err:
        _network(env_stack, **props)
    assert (err.value.subject, err.value.field) == ("network Net", field)
    assert fix in err.value.fix


def test_one_nat_gateway_per_az_and_an_eighteen_bit_network_are_accepted(env_stack: Any) -> None:
    network = _network(env_stack, cidr="10.0.0.0/18", nat_gateways=2)
    assert network.vpc.vpc_cidr_block is not None
    assert sorted(network.interface_endpoints) == sorted(["ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sqs", "monitoring"])


def test_endpoints_are_named_after_their_service(env_stack: Any) -> None:
    network = _network(env_stack, interface_endpoints=("ecr.api", "ssmmessages"))
    assert {service: endpoint.node.id for service, endpoint in network.interface_endpoints.items()} == {
        "ecr.api": "EcrApiEndpoint", "ssmmessages": "SsmmessagesEndpoint",
    }


@pytest.mark.parametrize(
    ("description", "accepted"), [("x", True), ("x" * 8192, True), ("", False), ("x" * 8193, False), ("a\x00b", False)]
)
def test_key_descriptions_kms_accepts(env_stack: Any, description: str, accepted: bool) -> None:
    env = env_stack("dev")
    if accepted:
        assert PlatformKey(env.stack, "Key", description=description).key is not None
    else:
        with pytest.raises(ConfigError, match=r"key Key: description=.*1 to 8192 characters"):
            PlatformKey(env.stack, "Key", description=description)


def test_cloudwatch_logs_may_use_the_key_for_this_accounts_log_groups_only(env_stack: Any) -> None:
    env = env_stack("dev")
    PlatformKey(env.stack, "Key", description="logs", retain=False)
    template = env.template()
    (key,) = template.find_resources("AWS::KMS::Key").values()
    assert key["DeletionPolicy"] == "Delete"
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowCloudWatchLogs"]
    assert statement["Principal"] == {"Service": "logs.eu-west-2.amazonaws.com"}
    assert statement["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-2:111111111111:log-group:*"}
    }


@pytest.mark.parametrize(("name", "accepted"), [("prod-cluster_1", True), ("x" * 255, True), ("x" * 256, False), ("prod cluster", False)])
def test_cluster_names_ecs_accepts(env_stack: Any, name: str, accepted: bool) -> None:
    from stable_fargate.network import HardenedCluster

    network = _network(env_stack)
    stack = network.node.scope
    if accepted:
        assert HardenedCluster(stack, "Cluster", vpc=network.vpc, cluster_name=name).cluster is not None  # type: ignore[arg-type]
    else:
        with pytest.raises(ConfigError, match="cluster Cluster: cluster_name="):
            HardenedCluster(stack, "Cluster", vpc=network.vpc, cluster_name=name)  # type: ignore[arg-type]


def test_a_flow_log_key_that_is_not_a_key_is_refused_naming_the_field(env_stack: Any) -> None:
    with pytest.raises(ConfigError) as err:
        _network(env_stack, flow_log_key="alias/flow-logs")
    assert (err.value.subject, err.value.field) == ("Net", "flow_log_key")


def test_a_vpc_that_is_not_a_vpc_is_refused_naming_the_field(env_stack: Any) -> None:
    from stable_fargate.network import HardenedCluster

    env = env_stack("dev")
    with pytest.raises(ConfigError) as err:
        HardenedCluster(env.stack, "Cluster", vpc="vpc-0123")  # type: ignore[arg-type]
    assert (err.value.subject, err.value.field) == ("Cluster", "vpc")


def test_every_interface_endpoint_answers_the_services_own_dns_name(env_stack: Any) -> None:
    env = env_stack("dev")
    key = PlatformKey(env.stack, "Key", description="t").key
    PrivateNetwork(env.stack, "Net", cidr="10.0.0.0/16", availability_zones=["eu-west-2a", "eu-west-2b"], flow_log_key=key)
    endpoints = [e["Properties"] for e in env.template().find_resources("AWS::EC2::VPCEndpoint").values()]
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    # Private DNS: the SDKs' default endpoints (ecr.api, logs, ...) resolve to the endpoint, no NAT needed.
    assert len(interface) == 7 and all(e["PrivateDnsEnabled"] is True for e in interface)
