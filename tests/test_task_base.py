"""The shared task hardening every service gets (services/_base.py)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from stable_fargate import ConfigError, ResolvedParameters, ServiceSizing
from stable_fargate.services._base import (
    FARGATE_MEMORY_MIB,
    LOG_BUFFER_MIB,
    LOG_DRIVER_MODE,
    check_fargate_size,
    check_plain_environment,
    check_stop_timeout,
    is_secret_looking,
)
from tests.conftest import TaskProbe


def test_fargate_table_matches_aws() -> None:
    assert FARGATE_MEMORY_MIB[256] == (512, 1024, 2048)
    assert FARGATE_MEMORY_MIB[512] == (1024, 2048, 3072, 4096)
    assert FARGATE_MEMORY_MIB[1024][0] == 2048 and FARGATE_MEMORY_MIB[1024][-1] == 8192
    assert FARGATE_MEMORY_MIB[4096][-1] == 30720
    assert FARGATE_MEMORY_MIB[8192][1] - FARGATE_MEMORY_MIB[8192][0] == 4096
    assert FARGATE_MEMORY_MIB[16384][-1] == 122880


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 512), (256, 2048), (512, 1024), (512, 4096), (1024, 2048), (1024, 8192), (2048, 4096), (2048, 16384),
     (4096, 8192), (4096, 30720), (8192, 16384), (8192, 61440), (16384, 32768), (16384, 122880)],
)
def test_each_end_of_fargates_memory_ranges_passes(cpu: int, memory: int) -> None:
    assert check_fargate_size("svc", cpu, memory) is None


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 3072), (512, 5120), (1024, 1024), (1024, 9216), (2048, 17408), (4096, 31744), (8192, 65536), (8192, 18432),
     (16384, 131072), (16384, 36864)],
)
def test_memory_outside_fargates_ranges_or_steps_is_refused(cpu: int, memory: int) -> None:
    with pytest.raises(ConfigError, match=f"memory_mib={memory} "):
        check_fargate_size("svc", cpu, memory)


def test_invalid_memory_lists_the_valid_values() -> None:
    with pytest.raises(ConfigError) as err:
        check_fargate_size("portfolio-api", 512, 512)
    assert str(err.value) == (
        "portfolio-api: memory_mib=512 is refused. With cpu=512 Fargate accepts memory_mib of 1024, 2048, 3072, 4096."
    )


def test_invalid_cpu_lists_the_valid_sizes() -> None:
    with pytest.raises(ConfigError, match=r"portfolio-api: cpu=384 .*\[256, 512, 1024, 2048, 4096, 8192, 16384\]"):
        check_fargate_size("portfolio-api", 384, 1024)


@pytest.mark.parametrize("key", ["DATABASE_PASSWORD", "API_TOKEN", "client_secret", "SIGNING_KEY", "AWS_CREDENTIALS"])
def test_secret_looking_plain_keys_are_refused(key: str) -> None:
    assert is_secret_looking(key)
    with pytest.raises(ConfigError, match=f"portfolio-api: environment.{key}="):
        check_plain_environment("portfolio-api", {key: "hunter2"})


def test_plain_keys_pass() -> None:
    assert check_plain_environment("portfolio-api", {"LOG_LEVEL": "info", "PORT": "3000", "KEYBOARD_LAYOUT": "uk"}) is None


@pytest.mark.parametrize("key", ["MONKEY_MODE", "KEYBOARD_LAYOUT", "CACHE_KEYSPACE", "PASSENGER_LIMIT"])
def test_key_only_counts_as_a_whole_part(key: str) -> None:
    assert not is_secret_looking(key)


@pytest.mark.parametrize("key", ["API_KEY", "KEY", "DB_PASS", "STRIPE_APIKEY", "DBPASSWORD", "GITHUB_TOKEN", "TLS_PRIVATE_KEY"])
def test_secret_words_and_parts(key: str) -> None:
    assert is_secret_looking(key)


@pytest.mark.parametrize("seconds", [2, 30, 120])  # Fargate: 2 s to 120 s between SIGTERM and SIGKILL
def test_stop_timeouts_fargate_allows_pass(seconds: int) -> None:
    assert check_stop_timeout("svc", seconds) is None


@pytest.mark.parametrize("seconds", [0, 1, 121])
def test_stop_timeouts_outside_fargates_bounds_are_refused(seconds: int) -> None:
    with pytest.raises(ConfigError, match=f"stop_timeout='{seconds}s' .*2 to 120 s"):
        check_stop_timeout("svc", seconds)


def test_logging_never_blocks_the_app() -> None:
    assert LOG_DRIVER_MODE.name == "NON_BLOCKING" and LOG_BUFFER_MIB == 25


def test_task_definition_is_hardened(env_stack: object) -> None:

    from aws_cdk import Duration
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_sns as sns
    from aws_cdk.assertions import Match

    from stable_fargate import ResolvedParameters, SecretRef, ServiceSizing
    from stable_fargate.network import PlatformKey
    from stable_fargate.services._base import _StableService

    class Probe(_StableService):
        def __init__(self, scope: Any, construct_id: str, environment: Any) -> None:
            vpc = ec2.Vpc(scope, "Vpc", availability_zones=["eu-west-2a", "eu-west-2b"], nat_gateways=0,
                          subnet_configuration=[ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
            super().__init__(
                scope, construct_id, service_name="probe",
                environment=environment.with_sizing("probe", ServiceSizing(cpu=512, memory_mib=1024)).with_image("probe", "v1.0.0"),
                cluster=ecs.Cluster(scope, "Cluster", vpc=vpc), key=PlatformKey(scope, "Key", description="t"),
                alarm_topic=sns.Topic(scope, "Topic"), image=None, subnets=None,
                parameters=ResolvedParameters(
                    service="probe",
                    environment="prod",
                    plain={"LOG_LEVEL": "info"},
                    secrets={
                        "DATABASE_PASSWORD": SecretRef("secretsmanager", "prod/probe/db", json_field="password"),
                        "API_TOKEN": SecretRef("ssm", "/prod/probe/api-token"),
                    },
                ),
            )
            self._build_task(stop_timeout=Duration.seconds(30))

    env: Any = env_stack("prod")  # type: ignore[operator]
    Probe(env.stack, "Probe", env.environment)
    template = env.template()
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},  # Graviton
            "Volumes": [{"Name": "tmp"}],
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": "probe",
                        "ReadonlyRootFilesystem": True,
                        "User": "1000:1000",  # never root
                        "Memory": 1024,
                        "StopTimeout": 30,
                        # the one writable path beside the read-only root
                        "MountPoints": [{"ContainerPath": "/tmp", "SourceVolume": "tmp", "ReadOnly": False}],
                        "Environment": [{"Name": "LOG_LEVEL", "Value": "info"}],
                        "Secrets": [
                            {"Name": "API_TOKEN", "ValueFrom": Match.any_value()},
                            {"Name": "DATABASE_PASSWORD", "ValueFrom": Match.any_value()},
                        ],
                        "LogConfiguration": {
                            "LogDriver": "awslogs",
                            "Options": Match.object_like({"mode": "non-blocking", "max-buffer-size": f"{LOG_BUFFER_MIB * 1024 * 1024}b"}),
                        },
                    }
                )
            ],
        },
    )
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"RetentionInDays": 365, "KmsKeyId": Match.any_value()},  # PCI DSS 10.7: a year
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )


def test_log_retention_follows_the_named_days() -> None:
    from aws_cdk import aws_logs as logs

    from stable_fargate._retention import log_retention

    assert log_retention(365) is logs.RetentionDays.ONE_YEAR
    assert log_retention(731) is logs.RetentionDays.TWO_YEARS
    with pytest.raises(ConfigError, match="retention_days=366"):
        log_retention(366)


# --- The shared inputs, through the task every service gets (tests/conftest.py's TaskProbe) ----------

def _probe(env_stack: Any, service: str = "probe", **props: Any) -> tuple[TaskProbe, Any]:
    """The shared task of ``service`` in prod, sized by the data's defaults, running v1.0.0."""
    env = env_stack("prod")
    environment = env.environment.with_sizing(service, ServiceSizing()).with_image(service, "v1.0.0")
    return TaskProbe(env.stack, "Probe", service=service, environment=environment, **props), env


def test_a_service_the_data_sizes_with_defaults_gets_half_a_vcpu_and_a_gib(env_stack: Any) -> None:
    probe, env = _probe(env_stack)
    assert (probe.sizing.cpu, probe.sizing.memory_mib, probe.sizing.min_tasks, probe.sizing.max_tasks) == (512, 1024, 1, 2)
    env.template().has_resource_properties(
        "AWS::ECS::TaskDefinition",
        # half a vCPU warms a Node.js or JVM service; 1 GiB is the smallest memory Fargate pairs with it
        {"Cpu": "512", "Memory": "1024", "ContainerDefinitions": [Match.object_like({"Memory": 1024, "Name": "probe"})]},
    )


@pytest.mark.parametrize("name", ["a", "portfolio-api", "a" * 63, "a1-b2"])
def test_service_names_ecs_and_ecr_take_are_accepted(env_stack: Any, name: str) -> None:
    probe, _ = _probe(env_stack, name)
    assert probe.service_name == name and probe.container.container_name == name


@pytest.mark.parametrize("name", ["Portfolio", "1api", "api-", "a" * 64, "api_v2", "api\n", ""])
def test_other_service_names_are_refused(env_stack: Any, name: str) -> None:
    env = env_stack("prod")
    with pytest.raises(ConfigError) as err:
        TaskProbe(env.stack, "Probe", service=name, environment=env.environment)
    assert (err.value.subject, err.value.field, err.value.value) == ("Probe", "service_name", name)


def test_the_parameter_set_of_another_service_or_environment_is_refused(env_stack: Any) -> None:
    for other in (ResolvedParameters("other", "prod"), ResolvedParameters("probe", "staging")):
        with pytest.raises(ConfigError, match=r"probe: parameters=.*Pass the parameter set of probe in prod"):
            _probe(env_stack, parameters=other)


def test_without_an_image_or_a_registry_the_service_says_what_to_give(env_stack: Any) -> None:
    env = env_stack("prod")
    environment = env.environment.with_sizing("probe", ServiceSizing()).with_image("probe", "v1.0.0")._replace(registry=None)
    with pytest.raises(ConfigError) as err:
        TaskProbe(env.stack, "Probe", service="probe", environment=environment)
    assert (err.value.subject, err.value.field) == ("probe", "image")
    assert "registry" in err.value.fix


def test_the_release_is_pulled_by_digest_when_the_environment_pins_one(env_stack: Any) -> None:
    digest = "sha256:" + "ab" * 32
    env = env_stack("prod")
    environment = env.environment.with_sizing("probe", ServiceSizing()).with_image("probe", f"v1.0.0@{digest}")
    probe = TaskProbe(env.stack, "Probe", service="probe", environment=environment)
    assert probe.image.version == digest  # the digest, not the tag: the bytes staging tested
