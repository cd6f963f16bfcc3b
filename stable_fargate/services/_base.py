"""Shared plumbing of every service: one hardened Fargate task definition.

The public services (StableWebService, QueueWorker, ScheduledJob) stay thin: they add a
load balancer, a queue or a schedule around the task that this base builds the same way
every time: pinned image, ARM64, validated size, read-only root with a writable /tmp,
non-root user, memory limit, encrypted logs with retention, secrets by reference only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Size, Token
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate.config.rules import is_secret_looking
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.network import HardenedCluster, PlatformKey
from stable_fargate.parameters import ResolvedParameters, SecretRef
from stable_fargate.services._acks import acknowledge_task_roles

FARGATE_MEMORY_MIB: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
"""Valid Fargate CPU units -> memory (MiB). An invalid pair fails at deploy, minutes in;
here it fails at synth."""

LOG_DRIVER_MODE = ecs.AwsLogDriverMode.NON_BLOCKING
"""Non-blocking logging: a slow CloudWatch Logs API must never stall the application's
stdout and with it request handling; the buffer below absorbs bursts."""

LOG_BUFFER_MIB = 25
"""The non-blocking log buffer per container (ECS's recommended size)."""


ClusterLike = ecs.ICluster | HardenedCluster
"""A cluster, or the HardenedCluster that holds it."""

KeyLike = kms.IKey | PlatformKey
"""A KMS key, or the PlatformKey that holds it."""


def as_cluster(value: ClusterLike) -> ecs.ICluster:
    """Accept the library's wrapper where the CDK's interface is meant."""
    return value.cluster if isinstance(value, HardenedCluster) else value


def as_key(value: KeyLike) -> kms.IKey:
    return value.key if isinstance(value, PlatformKey) else value


def check_fargate_size(service: str, cpu: int, memory_mib: int) -> None:
    """Refuse a CPU/memory pair Fargate would refuse at deploy, listing the valid memory."""
    if cpu not in FARGATE_MEMORY_MIB:
        raise ConfigError(service, "cpu", cpu, f"Use one of the Fargate CPU sizes {sorted(FARGATE_MEMORY_MIB)}.")
    valid = FARGATE_MEMORY_MIB[cpu]
    if memory_mib not in valid:
        raise ConfigError(
            service, "memory_mib", memory_mib,
            f"With cpu={cpu} Fargate accepts memory_mib of {', '.join(str(m) for m in valid)}.",
        )


def check_plain_environment(service: str, environment: Mapping[str, str]) -> None:
    """Refuse a secret-looking key given as a plain value (it would sit in the task definition,
    readable by anyone who can describe it)."""
    for key in environment:
        if is_secret_looking(key):
            raise ConfigError(
                service, f"environment.{key}", "<plain value>",
                "This key looks like a secret; declare it as a secret (Secrets Manager or SSM "
                "SecureString) so that only its name is in the task definition.",
            )


def check_stop_timeout(service: str, seconds: int) -> None:
    if not 2 <= seconds <= defaults.MAX_STOP_TIMEOUT_SECONDS:
        raise ConfigError(
            service, "stop_timeout", f"{seconds}s",
            f"Fargate allows 2 to {defaults.MAX_STOP_TIMEOUT_SECONDS} s between SIGTERM and SIGKILL.",
        )


class _StableFargateBase(Construct):
    """Builds the hardened task definition and its one application container.

    Subclasses call :meth:`_build_task` from their constructor after validating their own
    inputs; it sets ``task_definition``, ``container`` and ``log_group``.
    """

    task_definition: ecs.FargateTaskDefinition
    container: ecs.ContainerDefinition
    log_group: logs.LogGroup

    def __init__(self, scope: Construct, construct_id: str, *, service_name: str) -> None:
        super().__init__(scope, construct_id)
        if not service_name or not all(c.isalnum() or c == "-" for c in service_name):
            raise ConfigError(construct_id, "service_name", service_name, "Use letters, digits and '-'.")
        self.service_name = service_name

    def _build_task(
        self,
        *,
        image: ImageRef,
        parameters: ResolvedParameters | None,
        cpu: int,
        memory_mib: int,
        log_key: kms.IKey,
        stop_timeout: Duration,
        retain_logs: bool,
        container_port: int | None = None,
        health_check: ecs.HealthCheck | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        service = self.service_name
        check_fargate_size(service, cpu, memory_mib)
        image.checked_for(service)
        check_stop_timeout(service, int(stop_timeout.to_seconds()))
        plain = dict(parameters.plain) if parameters else {}
        secret_refs = dict(parameters.secrets) if parameters else {}
        check_plain_environment(service, plain)
        if parameters is not None and parameters.service != service:
            raise ConfigError(
                service, "parameters", parameters.service,
                f"Pass the parameter set of {service}, not of {parameters.service}.",
            )

        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.of(defaults.CPU_ARCHITECTURE),
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.task_definition.add_volume(name="tmp")
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(defaults.LOG_RETENTION_DAYS),
            encryption_key=log_key,
            removal_policy=removal_policy(retain_logs),
        )
        self.container = self.task_definition.add_container(
            "App",
            container_name=service,
            image=image.container_image(self, "ImageRepository"),
            essential=True,
            readonly_root_filesystem=True,
            user=defaults.CONTAINER_USER,
            memory_limit_mib=memory_mib,
            stop_timeout=stop_timeout,
            command=list(command) if command else None,
            environment=dict(sorted(plain.items())) or None,
            secrets={k: self._secret(k, ref) for k, ref in sorted(secret_refs.items())} or None,
            health_check=health_check,
            port_mappings=[ecs.PortMapping(container_port=container_port, name="http")]
            if container_port is not None
            else None,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=service,
                log_group=self.log_group,
                mode=LOG_DRIVER_MODE,
                max_buffer_size=Size.mebibytes(LOG_BUFFER_MIB),
            ),
        )
        self.container.add_mount_points(
            ecs.MountPoint(container_path=defaults.TMP_VOLUME_PATH, source_volume="tmp", read_only=False)
        )
        # Findings every hardened task has by design, acknowledged on its own roles and definition.
        acknowledge_task_roles(self.task_definition, service)

    def _secret(self, key: str, ref: SecretRef) -> ecs.Secret:
        if Token.is_unresolved(ref.name):
            raise ConfigError(self.service_name, f"secrets.{key}", ref.name, "Give the secret's name as a literal string.")
        if ref.source == "ssm":
            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                self, f"Parameter{key}", parameter_name=ref.name
            )
            return ecs.Secret.from_ssm_parameter(parameter)
        secret = secretsmanager.Secret.from_secret_name_v2(self, f"Secret{key}", ref.name)
        return ecs.Secret.from_secrets_manager(secret, field=ref.json_field)

