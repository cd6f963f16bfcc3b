"""Shared plumbing of every service: one vocabulary and one hardened Fargate task definition.

The public services (StableWebService, QueueWorker, ScheduledJob) stay thin: they add a
load balancer, a queue or a schedule around what this base sets up the same way every time.

**One vocabulary.** Every service takes the same inputs under the same names:

* ``service_name``: lower-case letters, digits and ``-``; names the container, logs, alarms.
* ``environment``: the :class:`~stable_fargate.EnvironmentSpec` it runs in (from cdk.json):
  its sizing of the service (``services.<name>``), its release (``images.<name>``, pulled
  from ``environment.registry``), ``production``, ``retain_data``, the certificate, and the
  service's parameter set. Nothing an environment declares is threaded by hand.
* ``cluster`` (a :class:`HardenedCluster` or ``ecs.ICluster``; the VPC comes from it),
  ``key`` (a :class:`PlatformKey` or ``kms.IKey``: logs, queues), ``alarm_topic`` (an
  :class:`AlarmTopic` or ``sns.ITopic``): all required, all services.
* ``image`` (Default: the environment's release of ``service_name``), ``parameters``
  (Default: the environment's parameter set of ``service_name``), ``subnets`` (Default: the
  cluster VPC's private subnets), ``security_group`` (Default: one of the service's own),
  ``command`` (Default: the image's).

**One task.** Pinned image, ARM64, validated size, read-only root with a writable /tmp,
non-root user, memory limit, encrypted logs with retention, secrets by reference only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate.alarms import AlarmTopic
from stable_fargate.config import rules
from stable_fargate.config.models import EnvironmentSpec, ServiceSizing
from stable_fargate.config.rules import is_secret_looking
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.network import HardenedCluster, PlatformKey
from stable_fargate.parameters import ResolvedParameters, SecretRef
from stable_fargate.services._acks import acknowledge_task_roles

FARGATE_MEMORY_MIB: Mapping[int, tuple[int, ...]] = defaults.FARGATE_MEMORY_MIB
"""Valid Fargate CPU units -> memory (MiB) (kept here under its old name)."""

LOG_DRIVER_MODE = ecs.AwsLogDriverMode.NON_BLOCKING
"""Non-blocking logging: a slow CloudWatch Logs API must never stall the application's
stdout and with it request handling; the buffer below absorbs bursts."""

LOG_BUFFER_MIB = 25
"""The non-blocking log buffer per container (ECS's recommended size)."""

SERVICE_NAME = rules.SERVICE_NAME_PATTERN
"""A service name, by the same rule as cdk.json's service keys: lower-case ASCII letters, digits
and ``-``, starting with a letter, at most 63 characters."""

ClusterLike = ecs.ICluster | HardenedCluster
"""A cluster, or the HardenedCluster that holds it."""

KeyLike = kms.IKey | PlatformKey
"""A KMS key, or the PlatformKey that holds it."""

TopicLike = sns.ITopic | AlarmTopic
"""An SNS topic, or the AlarmTopic that holds it."""


def as_cluster(value: ClusterLike) -> ecs.ICluster:
    """Accept the library's wrapper where the CDK's interface is meant."""
    return value.cluster if isinstance(value, HardenedCluster) else value


def as_key(value: KeyLike) -> kms.IKey:
    return value.key if isinstance(value, PlatformKey) else value


def as_topic(value: TopicLike) -> sns.ITopic:
    return value.topic if isinstance(value, AlarmTopic) else value


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


def whole_seconds(service: str, field: str, value: Duration, *, minimum: float, maximum: float) -> int | None:
    """``value`` in whole seconds (sub-second values round up), or None for a token; outside
    ``[minimum, maximum]`` seconds it is refused, before the CDK would refuse it less clearly."""
    seconds = cdk.duration_seconds(value)
    if seconds is None:
        return None
    if not minimum <= seconds <= maximum:
        raise ConfigError(service, field, f"{seconds:g}s", f"Give {minimum:g} to {maximum:g} seconds.")
    return -int(-seconds // 1)


class _StableService(Construct):
    """Everything the services share: inputs in one vocabulary, and the hardened task.

    Subclasses call ``super().__init__`` with the shared inputs, check their own, then build
    in named steps; :meth:`_build_task` sets ``task_definition``, ``container``, ``log_group``.

    Attributes: ``service_name``, ``environment``, ``sizing`` (this service's
    :class:`ServiceSizing` in the environment), ``cluster``, ``vpc``, ``key``, ``alarm_topic``,
    ``image``, ``parameters``, ``subnets``, ``security_group``, ``task_definition``,
    ``task_role`` (the task definition's), ``container``, ``log_group``, ``wired_environment`` (the
    container's environment keys the constructs set themselves, each with who set it: the key is taken).
    """

    task_definition: ecs.FargateTaskDefinition
    task_role: iam.IRole
    container: ecs.ContainerDefinition
    log_group: logs.LogGroup
    security_group: ec2.ISecurityGroup

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        environment: EnvironmentSpec,
        cluster: ClusterLike,
        key: KeyLike,
        alarm_topic: TopicLike,
        image: ImageRef | None,
        parameters: ResolvedParameters | None,
        subnets: ec2.SubnetSelection | None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not SERVICE_NAME.fullmatch(service_name):
            raise ConfigError(
                construct_id, "service_name", service_name,
                "Use lower-case ASCII letters, digits and '-', starting with a letter and not ending with '-', at most 63 "
                "characters, e.g. portfolio-api.",
            )
        self.service_name = service_name
        self.environment = environment
        self.sizing: ServiceSizing = environment.sizing(service_name)
        self.cluster = as_cluster(cluster)
        self.vpc = cluster.vpc if isinstance(cluster, HardenedCluster) else self.cluster.vpc
        self.key = as_key(key)
        self.alarm_topic = as_topic(alarm_topic)
        self.image = image if image is not None else self._release(environment)
        self.parameters = parameters if parameters is not None else environment.parameters_for(service_name)
        if self.parameters.service != service_name or self.parameters.environment != environment.name:
            raise ConfigError(
                service_name, "parameters", f"{self.parameters.service} in {self.parameters.environment}",
                f"Pass the parameter set of {service_name} in {environment.name}.",
            )
        self.subnets = subnets if subnets is not None else self._private_subnets()
        self.wired_environment: dict[str, str] = {}

    # --- Inputs -------------------------------------------------------------------------

    def _release(self, environment: EnvironmentSpec) -> ImageRef:
        if environment.registry is None:
            raise ConfigError(
                self.service_name, "image", None,
                f"Give image= (an ImageRef), or an environment whose registry is known (load it with "
                f"load_app_config, which sets the tooling account as {environment.name}'s registry).",
            )
        reference = environment.image_digest(self.service_name) or environment.image_tag(self.service_name)
        return ImageRef.release(self.service_name, reference, registry=environment.registry)

    def _private_subnets(self) -> ec2.SubnetSelection:
        kind = ec2.SubnetType.PRIVATE_ISOLATED if self.vpc.isolated_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS
        return ec2.SubnetSelection(subnet_type=kind)

    def _security_group(self, construct_id: str, given: ec2.ISecurityGroup | None, *, description: str) -> ec2.ISecurityGroup:
        """The given security group, or one of the service's own (no inbound rule)."""
        if given is not None:
            return given
        return ec2.SecurityGroup(self, construct_id, vpc=self.vpc, description=description, allow_all_outbound=True)

    # --- The task -----------------------------------------------------------------------

    def _build_task(
        self,
        *,
        stop_timeout: Duration,
        container_port: int | None = None,
        health_check: ecs.HealthCheck | None = None,
        command: Sequence[str] | None = None,
        extra_environment: Mapping[str, str] | None = None,
    ) -> None:
        service = self.service_name
        cpu, memory_mib = self.sizing.cpu, self.sizing.memory_mib
        check_fargate_size(service, cpu, memory_mib)
        self.image.checked_for(service)
        known = cdk.duration_seconds(stop_timeout)
        whole = int(known) if known is not None and float(known).is_integer() else int(stop_timeout.to_seconds())
        check_stop_timeout(service, whole)
        plain = dict(self.parameters.plain)
        check_plain_environment(service, plain)
        for name in extra_environment or {}:
            if name in plain or name in self.parameters.secrets:
                raise ConfigError(
                    service, f"parameters.{name}", "<declared>",
                    f"{name} is set by the construct itself (wiring, the same in every environment); rename the key "
                    "in the parameter set.",
                )
        if command is not None and any(not part for part in command):
            raise ConfigError(service, "command", list(command), "Give a non-empty list of non-empty strings.")

        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=cdk.cpu_architecture(defaults.CPU_ARCHITECTURE), operating_system_family=cdk.linux(),
            ),
        )
        # Read once: every grant and acknowledgement of the service names it.
        self.task_role = self.task_definition.task_role
        self.task_definition.add_volume(name="tmp")
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(defaults.LOG_RETENTION_DAYS),
            encryption_key=self.key,
            removal_policy=removal_policy(self.environment.retain_data),
        )
        self.container = self.task_definition.add_container(
            "App",
            container_name=service,
            image=self.image.container_image(self, "ImageRepository"),
            essential=True,
            readonly_root_filesystem=True,
            user=defaults.CONTAINER_USER,
            memory_limit_mib=memory_mib,
            stop_timeout=stop_timeout,
            command=list(command) if command else None,
            environment=dict(sorted(plain.items())) or None,
            secrets={k: self._secret(k, ref) for k, ref in sorted(self.parameters.secrets.items())} or None,
            health_check=health_check,
            port_mappings=[ecs.PortMapping(container_port=container_port, name="http")]
            if container_port is not None
            else None,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=service,
                log_group=self.log_group,
                mode=LOG_DRIVER_MODE,
                max_buffer_size=cdk.mebibytes(LOG_BUFFER_MIB),
            ),
        )
        for name, value in (extra_environment or {}).items():
            self.container.add_environment(name, value)
            self.wired_environment[name] = f"set by {service} itself"
        self.container.add_mount_points(
            ecs.MountPoint(container_path=defaults.TMP_VOLUME_PATH, source_volume="tmp", read_only=False)
        )
        # Findings every hardened task has by design, acknowledged on its own roles and definition.
        acknowledge_task_roles(self.task_definition, self.task_role, service)

    def _secret(self, key: str, ref: SecretRef) -> ecs.Secret:
        if cdk.is_unresolved(ref.name):
            raise ConfigError(self.service_name, f"secrets.{key}", ref.name, "Give the secret's name as a literal string.")
        if ref.source == "ssm":
            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                self, f"Parameter{key}", parameter_name=ref.name
            )
            return ecs.Secret.from_ssm_parameter(parameter)
        secret = secretsmanager.Secret.from_secret_name_v2(self, f"Secret{key}", ref.name)
        return ecs.Secret.from_secrets_manager(secret, field=ref.json_field)
