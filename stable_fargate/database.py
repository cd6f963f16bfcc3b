"""Postgres that holds: a hardened RDS for PostgreSQL instance behind an RDS Proxy
(:class:`HardenedPostgres`), services connected to it with TLS verified and IAM authentication
(:class:`PostgresAccess`), and a connection budget checked at synth
(:class:`~stable_fargate.connection_budget.ConnectionBudget`).

**Authentication: IAM, end to end.** The proxy's ``DefaultAuthScheme`` is ``IAM_AUTH``: a task
connects to the proxy with an IAM token (its task role may ``rds-db:connect`` as its own database
user, on this proxy only), and the proxy connects to the database with IAM as the same user (its
role may connect as exactly the users the environment's data declares). No password exists for
a service, so none can leak or need rotating
(https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_rds.DefaultAuthScheme.html). The
master user's password is RDS-managed in Secrets Manager (``ManageMasterUserPassword``, encrypted
with the environment's key): RDS rotates it itself, every seven days by default, with no
rotation Lambda of ours to write, patch or give network access
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html).

**TLS.** The instance refuses plaintext (``rds.force_ssl``) and the proxy requires TLS. A client
of the proxy verifies ``verify-full`` against the system trust store: the proxy's certificate
comes from ACM and chains to Amazon's public roots, so no RDS bundle is needed
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.howitworks.html#rds-proxy-security.tls).
A client of the instance verifies against RDS's CA bundle.

**Ports.** The proxy listens on 5432 (fixed for PostgreSQL); the instance on
``defaults.DATABASE_INSTANCE_PORT``. Every security-group rule is written with the literal
port: the CDK's own rules for an instance or proxy use a port token, on which cdk-nag's EC2
rules throw.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from typing import Any, Final, Literal

import jsii
from aws_cdk import Duration, Fn, IStableAnyProducer, Lazy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stable_fargate import defaults
from stable_fargate._cdk_values import sns_action
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.config.models import DatabaseSizing, EnvironmentSpec
from stable_fargate.config.rules import SERVICE_NAME_PATTERN, is_environment_safe
from stable_fargate.connection_budget import (
    ECS_DEFAULT_MAXIMUM_PERCENT,
    BudgetLine,
    ConnectionBudget,
    ServiceKind,
    budget_table,
    default_max_connections,
)
from stable_fargate.errors import ConfigError
from stable_fargate.parameters import SecretRef
from stable_fargate.services._acks import acknowledge, nag_flatten
from stable_fargate.services._base import KeyLike, TopicLike, as_key, as_topic
from stable_fargate.services.job import ScheduledJob
from stable_fargate.services.web import StableWebService
from stable_fargate.services.worker import QueueWorker

__all__ = ["ConnectionBudget", "HardenedPostgres", "PostgresAccess", "budget_table", "database_user"]

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
"""libpq's ``sslmode`` values (https://www.postgresql.org/docs/current/libpq-ssl.html)."""

PLAINTEXT_MODES: Final = frozenset({"disable", "allow"})
"""Modes that may connect without TLS: the instance (``rds.force_ssl``) and the proxy (RequireTLS)
refuse them, and IAM authentication needs TLS, so they would never connect."""

SYSTEM_TRUST_STORE: Final = "system"
"""libpq 16+: ``sslrootcert=system`` loads the SSL library's trusted roots and forces
``verify-full`` (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLROOTCERT)."""

POOL_SIZE_KEY: Final = "DB_POOL_MAX"
"""The environment key that tells a service how many connections its pool may hold per task."""

ENVIRONMENT_KEYS: Final = ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE", "PGSSLROOTCERT", POOL_SIZE_KEY)
"""Plain keys PostgresAccess may set (libpq's own names, which node-postgres and psycopg read
too), plus ``NODE_EXTRA_CA_CERTS`` when a Node.js service connects to the instance directly."""

RDS_ENHANCED_MONITORING_LOG_GROUP: Final = "RDSOSMetrics"
"""The log group enhanced monitoring writes to (one stream per instance, named by its
resource id) (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html)."""

MAX_IDENTIFIER = 63
"""RDS's longest DB instance identifier."""

MAX_ACKNOWLEDGEMENT = 500
"""An acknowledgement is a sentence or two, kept in the construct's metadata."""

ServiceLike = StableWebService | QueueWorker | ScheduledJob

_CONNECTED: weakref.WeakKeyDictionary[ServiceLike, PostgresAccess] = weakref.WeakKeyDictionary()
"""Each service's PostgresAccess: a second one is refused."""


def database_user(service_name: str) -> str:
    """The Postgres user a service connects as: its name with ``_`` for ``-``
    (``portfolio-api`` -> ``portfolio_api``), so it needs no quoting in SQL."""
    return service_name.replace("-", "_")


def _instance_identifier(environment: EnvironmentSpec, database_name: str) -> str:
    identifier = f"{environment.name}-{database_name.replace('_', '-')}"
    if len(identifier) > MAX_IDENTIFIER or "--" in identifier or identifier.endswith("-"):
        raise ConfigError(
            f"database {database_name}", "instance identifier", identifier,
            f"RDS names the instance <environment>-<database> ({identifier}): at most {MAX_IDENTIFIER} characters, no '--' and "
            "no trailing '-'. Shorten the database's name (environments.<env>.databases.<name>) or avoid '__' in it.",
        )
    return identifier


@jsii.implements(IStableAnyProducer)
class _BudgetMetadata:
    """The budget as the template records it, computed at synth: after every service connected."""

    def __init__(self, database: HardenedPostgres) -> None:
        self._database = database

    def produce(self) -> Any:
        return {"connection_budget": self._database.budget.to_json()}


class HardenedPostgres(Construct):
    """RDS for PostgreSQL at a pinned version behind an RDS Proxy, hardened, with a connection
    budget that every :class:`PostgresAccess` is checked against.

    The instance: engine ``defaults.POSTGRES_ENGINE_VERSION`` (no automatic minor upgrades), gp3
    storage encrypted with the environment's key and autoscaling to the data's ceiling, not
    publicly accessible, in the private subnets, Multi-AZ in production (from the data:
    ``environments.<env>.databases.<name>.multi_az``, default the environment's ``production``),
    deletion protection, automated backups for ``defaults.DATABASE_BACKUP_RETENTION_DAYS`` (35)
    where data is retained and ``DATABASE_BACKUP_RETENTION_DAYS_DISPOSABLE`` (7) elsewhere, a
    parameter group with ``rds.force_ssl=1`` and connection logging, the postgresql and upgrade
    logs exported to KMS-encrypted log groups kept ``defaults.LOG_RETENTION_DAYS``, enhanced
    monitoring every minute, IAM database authentication, the master password managed and
    rotated by RDS in Secrets Manager (the environment's key), a non-default port.

    The proxy: TLS required, IAM authentication end to end, ``MaxConnectionsPercent`` =
    ``max_connections_percent``, in the private subnets; its security group admits nobody until
    a service connects (:class:`PostgresAccess` adds that one service).

    Alarms to ``alarm_topic`` (with OK): CPU, free storage, database connections near the
    budget's limit.

    :param database_name: the database's name in the environment's data
        (``environments.<env>.databases.<name>``) and in Postgres (PGDATABASE).
    :param environment: the environment (instance class, storage, pools, production, retain_data).
    :param vpc: the environment's VPC.
    :param key: the environment's key (storage, master secret, log groups).
    :param alarm_topic: the environment's alarm topic.
    :param subnets: where the instance and the proxy live. Default: the VPC's private subnets
        (public subnets are refused).
    :param security_group: the proxy's security group. Default: one of its own with no inbound
        rule and outbound only to the instance.
    :param max_connections_percent: the proxy's share of ``max_connections``, 1 to 99.
        Default: ``defaults.PROXY_MAX_CONNECTIONS_PERCENT`` (80).
    :param reserved_connections: connections no service declares, counted in the budget.
        Default: ``defaults.DATABASE_RESERVED_CONNECTIONS`` (5).

    Attributes: ``database_name``, ``environment``, ``sizing`` (:class:`DatabaseSizing`),
    ``instance``, ``instance_identifier``, ``instance_security_group``, ``proxy``,
    ``security_group`` (the proxy's), ``parameter_group``, ``log_groups``, ``monitoring_role``,
    ``proxy_role``, ``master_secret``, ``max_connections``, ``max_connections_source``,
    ``budget`` (the :class:`ConnectionBudget` so far), ``cpu_alarm``, ``storage_alarm``,
    ``connections_alarm``.
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database_name: str,
        environment: EnvironmentSpec,
        vpc: ec2.IVpc,
        key: KeyLike,
        alarm_topic: TopicLike,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        max_connections_percent: int = defaults.PROXY_MAX_CONNECTIONS_PERCENT,
        reserved_connections: int = defaults.DATABASE_RESERVED_CONNECTIONS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.database_name = database_name
        self.environment = environment
        self.sizing: DatabaseSizing = environment.database(database_name)
        self.subject = f"database {database_name}"
        self._check_inputs(max_connections_percent, reserved_connections, subnets)
        self.instance_identifier = _instance_identifier(environment, database_name)
        self.vpc = vpc
        self.key = as_key(key)
        self.alarm_topic = as_topic(alarm_topic)
        self.subnets = subnets if subnets is not None else self._private_subnets()
        self.multi_az = environment.database_multi_az(database_name)
        self._budget = self._empty_budget(max_connections_percent, reserved_connections)
        self._budget.check()  # the reserved connections alone must fit

        self._build_log_groups()
        self._build_monitoring_role()
        self._build_instance()
        self._build_proxy(security_group)
        self._build_alarms()
        cfn_instance = self.instance.node.default_child
        assert isinstance(cfn_instance, rds.CfnDBInstance)
        # The read side (review) shows the budget from the template alone.
        cfn_instance.add_metadata("stable_fargate", Lazy.any(_BudgetMetadata(self)))

    # --- Inputs -------------------------------------------------------------------------

    def _check_inputs(self, max_connections_percent: int, reserved_connections: int, subnets: ec2.SubnetSelection | None) -> None:
        if Token.is_unresolved(max_connections_percent) or not 1 <= max_connections_percent <= 99:
            raise ConfigError(
                self.subject, "max_connections_percent", max_connections_percent,
                "Give 1 to 99: the rest of max_connections is for what never goes through the proxy (RDS's reserved superuser "
                "slots, the proxy's monitoring, an operator during an incident). The budget is checked against it, so it must "
                "be a literal.",
            )
        if Token.is_unresolved(reserved_connections) or not 0 <= reserved_connections <= 1000:
            raise ConfigError(self.subject, "reserved_connections", reserved_connections, "Give 0 to 1000 connections, as a literal.")
        if subnets is not None and subnets.subnet_type == ec2.SubnetType.PUBLIC:
            raise ConfigError(
                self.subject, "subnets", "PUBLIC",
                "A database and its proxy live in private subnets only; give the VPC's private subnets (or leave it out).",
            )

    def _private_subnets(self) -> ec2.SubnetSelection:
        kind = ec2.SubnetType.PRIVATE_ISOLATED if self.vpc.isolated_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS
        return ec2.SubnetSelection(subnet_type=kind)

    def _empty_budget(self, max_connections_percent: int, reserved_connections: int) -> ConnectionBudget:
        env, name, sizing = self.environment.name, self.database_name, self.sizing
        if sizing.max_connections is not None:
            self.max_connections = sizing.max_connections
            self.max_connections_source = f"declared in environments.{env}.databases.{name}.max_connections"
        else:
            derived = default_max_connections(sizing.instance_class)
            assert derived is not None  # the data's rules refuse a class without a derivation
            self.max_connections = derived
            self.max_connections_source = (
                f"RDS's default for {sizing.instance_class}, LEAST(DBInstanceClassMemory / 9531392, 5000), reading "
                "DBInstanceClassMemory as 90 % of the nominal memory"
            )
        return ConnectionBudget(
            database=name,
            environment=env,
            max_connections=self.max_connections,
            max_connections_source=self.max_connections_source,
            max_connections_percent=max_connections_percent,
            reserved=reserved_connections,
            instance_class=sizing.instance_class,
            where={
                "pools": f"environments.{env}.databases.{name}.pools.<service>",
                "max_tasks": f"environments.{env}.services.<service>.max_tasks",
                "instance_class": f"environments.{env}.databases.{name}.instance_class",
            },
        )

    @property
    def budget(self) -> ConnectionBudget:
        """The connection budget with every service connected so far."""
        return self._budget

    def _add_to_budget(self, line: BudgetLine) -> ConnectionBudget:
        """Count ``line``; a budget over its limit is refused with every contribution listed."""
        budget = self._budget.with_line(line)
        budget.check()
        self._budget = budget
        return budget

    # --- Logs and monitoring --------------------------------------------------------------

    def _build_log_groups(self) -> None:
        # Created before the instance, so RDS exports into encrypted groups with retention
        # (RDS would otherwise create them itself: unencrypted and kept forever).
        self.log_groups: dict[str, logs.LogGroup] = {}
        for log_type in defaults.DATABASE_LOG_EXPORTS:
            self.log_groups[log_type] = logs.LogGroup(
                self,
                f"{log_type.capitalize()}Logs",
                log_group_name=f"/aws/rds/instance/{self.instance_identifier}/{log_type}",
                encryption_key=self.key,
                retention=log_retention(defaults.LOG_RETENTION_DAYS),
                removal_policy=removal_policy(self.environment.retain_data),
            )

    def _build_monitoring_role(self) -> None:
        """Enhanced monitoring's role, with AWS's managed policy's grants narrowed to this account
        and region's RDSOSMetrics log group (a customer-managed policy: nothing inline)."""
        stack = Stack.of(self)
        self.monitoring_role = iam.Role(
            self,
            "MonitoringRole",
            assumed_by=iam.ServicePrincipal(
                "monitoring.rds.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"{self.instance_identifier}: enhanced monitoring writes OS metrics to {RDS_ENHANCED_MONITORING_LOG_GROUP}",
        )
        group = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{RDS_ENHANCED_MONITORING_LOG_GROUP}"
        streams = f"{group}:log-stream:*"
        policy = iam.ManagedPolicy(
            self,
            "MonitoringPolicy",
            roles=[self.monitoring_role],
            statements=[
                iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources=[group]),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
                    resources=[streams],
                ),
            ],
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{nag_flatten(stack, streams)}]",
            f"{self.instance_identifier}'s enhanced monitoring writes one stream per instance, named by the instance's resource "
            "id, which exists only after the instance (that needs this role) is created; the grant is this account and "
            "region's RDSOSMetrics group only.",
        )

    # --- The instance ---------------------------------------------------------------------

    def _build_instance(self) -> None:
        env, sizing = self.environment, self.sizing
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(defaults.POSTGRES_ENGINE_VERSION, defaults.POSTGRES_MAJOR_VERSION)
        )
        self.engine = engine
        parameters = dict(defaults.DATABASE_PARAMETERS)
        if sizing.max_connections is not None:
            parameters["max_connections"] = str(sizing.max_connections)  # the budget and the database agree
        self.parameter_group = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description=f"{self.instance_identifier}: TLS only, connections logged",
            parameters=parameters,
        )
        self.instance_security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=self.vpc,
            description=f"{self.instance_identifier}: only its proxy, on {defaults.DATABASE_INSTANCE_PORT}",
            allow_all_outbound=False,  # the database opens no connection of its own
        )
        retain = env.retain_data
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_type=ec2.InstanceType(sizing.instance_class.removeprefix("db.")),
            instance_identifier=self.instance_identifier,
            database_name=self.database_name,
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            security_groups=[self.instance_security_group],
            port=defaults.DATABASE_INSTANCE_PORT,
            publicly_accessible=False,
            multi_az=self.multi_az,
            storage_type=rds.StorageType[defaults.DATABASE_STORAGE_TYPE.upper()],
            allocated_storage=sizing.allocated_storage_gib,
            max_allocated_storage=sizing.storage_ceiling_gib,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            credentials=rds.Credentials.from_username(defaults.DATABASE_MASTER_USERNAME, encryption_key=self.key),
            manage_master_user_password=True,
            iam_authentication=True,
            parameter_group=self.parameter_group,
            ca_certificate=rds.CaCertificate.of(defaults.DATABASE_CA_CERTIFICATE),
            cloudwatch_logs_exports=list(defaults.DATABASE_LOG_EXPORTS),
            monitoring_interval=Duration.seconds(defaults.DATABASE_MONITORING_INTERVAL_SECONDS),
            monitoring_role=self.monitoring_role,
            auto_minor_version_upgrade=defaults.DATABASE_AUTO_MINOR_VERSION_UPGRADE,
            allow_major_version_upgrade=False,
            deletion_protection=defaults.DATABASE_DELETION_PROTECTION,
            backup_retention=Duration.days(
                defaults.DATABASE_BACKUP_RETENTION_DAYS if retain else defaults.DATABASE_BACKUP_RETENTION_DAYS_DISPOSABLE
            ),
            delete_automated_backups=not retain,
            copy_tags_to_snapshot=True,
            removal_policy=removal_policy(retain),
        )
        for log_group in self.log_groups.values():
            self.instance.node.add_dependency(log_group)
        self.master_secret: secretsmanager.ISecret | None = self.instance.secret
        self._acknowledge_instance()

    def _acknowledge_instance(self) -> None:
        name = self.instance_identifier
        acknowledge(
            self.instance,
            "PCI.DSS.321-RDSAutomaticMinorVersionUpgradeEnabled",
            f"{name} runs the engine version pinned in the template (defaults.POSTGRES_ENGINE_VERSION): an upgrade is a "
            "reviewed change that reaches staging before prod. An automatic minor upgrade would move an environment to a "
            "version neither the template nor staging has run.",
        )
        if not self.multi_az:
            acknowledge(
                self.instance,
                "AwsSolutions-RDS3",
                f"{name} is in {self.environment.name}, a non-production environment, and runs without a standby to halve its "
                "cost; production databases are Multi-AZ (the environment data refuses multi_az false there).",
            )

    # --- The proxy ------------------------------------------------------------------------

    def _build_proxy(self, security_group: ec2.ISecurityGroup | None) -> None:
        stack = Stack.of(self)
        self.security_group = security_group or ec2.SecurityGroup(
            self,
            "ProxySecurityGroup",
            vpc=self.vpc,
            description=f"{self.instance_identifier} proxy: only the services that connect, on {defaults.PROXY_PORT}",
            # Outbound only to the instance (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-setup.html:
            # inbound from the applications, outbound to the database targets).
            allow_all_outbound=False,
        )
        # The proxy's role may connect to the database as the users the data declares, nothing else.
        self.proxy_role = iam.Role(
            self,
            "ProxyRole",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
            description=f"{self.instance_identifier} proxy: connects to the database with IAM as the declared service users",
        )
        users = sorted(database_user(service) for service in self.sizing.pools)
        if users:
            iam.ManagedPolicy(
                self,
                "ProxyConnectPolicy",
                roles=[self.proxy_role],
                statements=[
                    iam.PolicyStatement(
                        actions=["rds-db:connect"],
                        resources=[
                            f"arn:{stack.partition}:rds-db:{stack.region}:{stack.account}:dbuser:{self.instance.instance_resource_id}/{user}"
                            for user in users
                        ],
                    )
                ],
            )
        # The proxy's target is the instance seen with its literal port: the CDK then writes the
        # proxy -> instance rules with 5433, not with the instance's port token.
        target = rds.DatabaseInstance.from_database_instance_attributes(
            self,
            "ProxyTarget",
            instance_endpoint_address=self.instance.db_instance_endpoint_address,
            instance_identifier=self.instance.instance_identifier,
            port=defaults.DATABASE_INSTANCE_PORT,
            security_groups=[self.instance_security_group],
            engine=self.engine,
            instance_resource_id=self.instance.instance_resource_id,
        )
        self.proxy = rds.DatabaseProxy(
            self,
            "Proxy",
            proxy_target=rds.ProxyTarget.from_instance(target),
            vpc=self.vpc,
            vpc_subnets=self.subnets,
            security_groups=[self.security_group],
            role=self.proxy_role,
            require_tls=True,
            default_auth_scheme=rds.DefaultAuthScheme.IAM_AUTH,
            max_connections_percent=self._budget.max_connections_percent,
            debug_logging=False,
        )

    # --- Who may connect ------------------------------------------------------------------

    def connect_policy(self, user: str, *, via_proxy: bool = True) -> iam.ManagedPolicy:
        """A customer-managed policy that allows ``rds-db:connect`` as ``user`` to this proxy (or
        instance) only; PostgresAccess attaches it to the service's task role.

        It lives here, beside the proxy, and the task role names it by ARN: the ARN of a proxy's
        database user needs the proxy's resource id, cut from its ARN with Fn::Split, which a
        service's stack could only apply to another stack's output (CloudFormation does not
        take Fn::GetStackOutput inside Fn::Split)."""
        construct_id = ("Connect" if via_proxy else "ConnectDirect") + "".join(part.capitalize() for part in user.split("_"))
        existing = self.node.try_find_child(construct_id)
        if isinstance(existing, iam.ManagedPolicy):
            return existing
        stack = Stack.of(self)
        # A proxy's id is the last part of arn:aws:rds:<region>:<account>:db-proxy:prx-...
        resource_id = Fn.select(6, Fn.split(":", self.proxy.db_proxy_arn)) if via_proxy else self.instance.instance_resource_id
        return iam.ManagedPolicy(
            self,
            construct_id,
            description=f"Connect to {self.instance_identifier}" + (" through its proxy" if via_proxy else "") + f" as {user}",
            statements=[
                iam.PolicyStatement(
                    actions=["rds-db:connect"],
                    resources=[f"arn:{stack.partition}:rds-db:{stack.region}:{stack.account}:dbuser:{resource_id}/{user}"],
                )
            ],
        )

    # --- Alarms ---------------------------------------------------------------------------

    def _build_alarms(self) -> None:
        period = Duration.seconds(defaults.ALARM_PERIOD_SECONDS)
        periods = defaults.DATABASE_ALARM_EVALUATION_PERIODS
        name = self.instance_identifier
        storage_bytes = self.sizing.allocated_storage_gib * 2**30
        free_threshold = storage_bytes * defaults.DATABASE_FREE_STORAGE_ALARM_PERCENT // 100
        above, below = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD

        def sustained(construct_id: str, metric: cloudwatch.Metric, description: str, threshold: float,
                      comparison: cloudwatch.ComparisonOperator) -> cloudwatch.Alarm:
            """Every datapoint of ``periods`` minutes breaching; notifies on ALARM and on OK."""
            alarm = metric.create_alarm(
                self, construct_id,
                alarm_description=description,
                threshold=threshold,
                comparison_operator=comparison,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            )
            alarm.add_alarm_action(sns_action(self.alarm_topic))
            alarm.add_ok_action(sns_action(self.alarm_topic))
            return alarm

        self.cpu_alarm = sustained(
            "CpuAlarm", self.instance.metric_cpu_utilization(period=period, statistic="Average"),
            f"{name}: CPU above {defaults.DATABASE_CPU_ALARM_PERCENT} % for {periods} minutes.",
            defaults.DATABASE_CPU_ALARM_PERCENT, above,
        )
        self.storage_alarm = sustained(
            "FreeStorageAlarm", self.instance.metric_free_storage_space(period=period, statistic="Minimum"),
            f"{name}: free storage below {defaults.DATABASE_FREE_STORAGE_ALARM_PERCENT} % of the allocated "
            f"{self.sizing.allocated_storage_gib} GiB; autoscaling grows it up to {self.sizing.storage_ceiling_gib} GiB.",
            free_threshold, below,
        )
        self.connections_alarm = sustained(
            "ConnectionsAlarm", self.instance.metric_database_connections(period=period, statistic="Maximum"),
            f"{name}: database connections above {defaults.DATABASE_CONNECTIONS_ALARM_PERCENT} % of the proxy's limit "
            f"({self._budget.limit}); the connection budget's assumptions no longer hold.",
            math.ceil(self._budget.limit * defaults.DATABASE_CONNECTIONS_ALARM_PERCENT / 100), above,
        )


def _service_kind(service: ServiceLike) -> ServiceKind:
    if isinstance(service, StableWebService):
        return "web"
    if isinstance(service, QueueWorker):
        return "worker"
    return "job"


def _maximum_percent(service: ServiceLike) -> int | None:
    """The service's rollout surge as its template sets it (``DeploymentConfiguration.
    MaximumPercent``, ECS's default 200 when unset); ``None`` for a scheduled job."""
    if isinstance(service, ScheduledJob):
        return None
    cfn_service = service.service.node.default_child
    if not isinstance(cfn_service, ecs.CfnService):
        return ECS_DEFAULT_MAXIMUM_PERCENT
    # The properties as the template will render them: reading the L1 property itself makes
    # jsii rebuild it as a struct, which fails on the service's alarm configuration.
    stack = Stack.of(cfn_service)
    rendered = stack.resolve(cfn_service._render_properties(stack.resolve(cfn_service._cfn_properties)))
    config = rendered.get("DeploymentConfiguration", {}) if isinstance(rendered, Mapping) else {}
    value = config.get("MaximumPercent") if isinstance(config, Mapping) else None
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ECS_DEFAULT_MAXIMUM_PERCENT


class PostgresAccess(Construct):
    """Connects one service (a :class:`StableWebService`, :class:`QueueWorker` or
    :class:`ScheduledJob`) to a :class:`HardenedPostgres`, through its proxy by default.

    * **Network**: the proxy's (or instance's) security group admits this service's security
      group on the Postgres port, and nothing else is added. Create the access in the service's
      stack: the rule lives there, so the database's stack never depends on a service's.
    * **Where and who**, as plain environment values: ``PGHOST``, ``PGPORT``, ``PGDATABASE``,
      ``PGUSER`` (:func:`database_user`), ``DB_POOL_MAX`` (the pool size); the same keys in
      every environment (values differ where the data does).
    * **Authentication**: IAM. The task role may ``rds-db:connect`` as its own user on this
      proxy (or instance) only; the app signs a token with the AWS SDK as its password
      (README: "Connecting"). Directly to the instance, ``password=`` (a SecretRef) may give
      the password instead, as the ECS secret ``PGPASSWORD``.
    * **TLS**: ``PGSSLMODE=verify-full``. Through the proxy ``PGSSLROOTCERT=system`` (libpq 16+:
      the system trust store, which holds the Amazon roots the proxy's certificate chains to;
      node-postgres verifies against Node's bundled roots). Directly to the instance
      ``PGSSLROOTCERT`` and ``NODE_EXTRA_CA_CERTS`` name ``ca_bundle_path``, RDS's CA bundle,
      which the image must contain.
    * **Budget**: the service's worst moment (``max_tasks`` x its rollout surge, or a job's one
      run) x pool size is added to the database's :class:`ConnectionBudget`; over the limit is
      a ConfigError listing every contribution.

    :param service: the service that connects.
    :param database: the database it connects to, in the same environment.
    :param pool_size: connections per task. Default: the data's
        ``environments.<env>.databases.<name>.pools.<service>`` (giving both, differently, is refused).
    :param via_proxy: connect through the proxy. Default: ``defaults.DATABASE_CONNECT_VIA_PROXY`` (True).
    :param ssl_mode: libpq's ``sslmode``. Default: ``defaults.DATABASE_SSL_MODE`` (verify-full);
        ``require``, ``prefer`` or ``verify-ca`` only with ``ssl_mode_acknowledgement``;
        ``disable`` and ``allow`` are refused (the database refuses plaintext anyway).
    :param ssl_mode_acknowledgement: why a weaker mode is acceptable (a sentence, kept in the
        construct's metadata and acknowledging the library pack's SF-CFG2 on the task
        definition). Default: none.
    :param ca_bundle_path: where the image keeps RDS's CA bundle, for a direct connection.
        Default: ``defaults.RDS_CA_BUNDLE_PATH``.
    :param password: the database user's password, directly to the instance only. Default:
        none (IAM authentication).

    Attributes: ``service``, ``database``, ``user``, ``pool_size``, ``port``, ``environment``
    (the plain keys set), ``budget_line``.
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: ServiceLike,
        database: HardenedPostgres,
        pool_size: int | None = None,
        via_proxy: bool = defaults.DATABASE_CONNECT_VIA_PROXY,
        ssl_mode: SslMode = defaults.DATABASE_SSL_MODE,
        ssl_mode_acknowledgement: str | None = None,
        ca_bundle_path: str = defaults.RDS_CA_BUNDLE_PATH,
        password: SecretRef | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service = service
        self.database = database
        self.via_proxy = via_proxy
        name = service.service_name
        self._check_pairing(service, database)
        self.pool_size = self._pool_size(pool_size)
        self._check_ssl(ssl_mode, ssl_mode_acknowledgement, ca_bundle_path)
        if password is not None and via_proxy:
            raise ConfigError(
                name, "password", "<secret>",
                "The proxy authenticates with IAM only (no password exists for a service): leave password out, or connect "
                "directly to the instance with via_proxy=False.",
            )
        self.user = database_user(name)
        self.port = defaults.PROXY_PORT if via_proxy else defaults.DATABASE_INSTANCE_PORT
        self.environment = self._environment(ssl_mode, ca_bundle_path)
        self._check_collisions(password)
        # Counted before anything is added: an over-budget connection changes nothing.
        self.budget_line = BudgetLine(
            service=name,
            kind=_service_kind(service),
            pool_size=self.pool_size,
            max_tasks=service.sizing.max_tasks,
            maximum_percent=_maximum_percent(service),
        )
        database._add_to_budget(self.budget_line)
        _CONNECTED[service] = self  # one database per service

        for key, value in self.environment.items():
            service.container.add_environment(key, value)
        if password is not None:
            service.container.add_secret("PGPASSWORD", self._password(password))
        self._grant_connect()
        self._admit()
        if ssl_mode_acknowledgement is not None:
            self.node.add_metadata("stable_fargate:ssl-mode-acknowledgement", f"{ssl_mode}: {ssl_mode_acknowledgement}")
            # The library's own pack finds the weaker mode on the task definition (SF-CFG2): the
            # reason given here is the acknowledgement, on that resource.
            acknowledge(
                service.task_definition, "SF-CFG2",
                f"{name} connects to {database.database_name} with sslmode={ssl_mode}: {ssl_mode_acknowledgement}",
            )

    # --- Inputs -------------------------------------------------------------------------

    def _check_pairing(self, service: ServiceLike, database: HardenedPostgres) -> None:
        name = service.service_name
        other = _CONNECTED.get(service)
        if other is not None:
            raise ConfigError(
                name, "database", database.database_name,
                f"{name} is already connected (to {other.database.database_name}, by {other.node.path}): a service connects "
                "once, to one database (PGHOST and DB_POOL_MAX name one, and its pool counts once in the budget).",
            )
        if service.environment.name != database.environment.name:
            raise ConfigError(
                name, "database", f"{database.database_name} in {database.environment.name}",
                f"Connect {name} in {service.environment.name} to the database of {service.environment.name}.",
            )
        if Stack.of(self) is not Stack.of(service):
            raise ConfigError(
                name, "scope", self.node.path,
                f"Create the PostgresAccess in {name}'s own stack ({Stack.of(service).node.path}): its security-group rule lives "
                "there, so the database's stack never depends on a service's stack.",
            )
        if not SERVICE_NAME_PATTERN.fullmatch(name):  # the service checked it; the user name depends on it
            raise ConfigError(name, "service_name", name, "Name the service in lower-case letters, digits and '-'.")

    def _pool_size(self, given: int | None) -> int:
        service, database = self.service.service_name, self.database
        where = f"environments.{database.environment.name}.databases.{database.database_name}.pools.{service}"
        declared = database.sizing.pools.get(service)
        if given is not None and (Token.is_unresolved(given) or not 1 <= given <= 1000):
            raise ConfigError(service, "pool_size", given, "Give 1 to 1000 connections per task, as a literal: the budget counts it.")
        if given is not None and declared is not None and given != declared:
            raise ConfigError(
                service, "pool_size", given,
                f"The data declares {declared} ({where}): declare the pool in one place, so cdk.json and the budget agree.",
            )
        pool = given if given is not None else declared
        if pool is None:
            raise ConfigError(
                service, where, None,
                f"Declare {service}'s connection pool per task under {where} in cdk.json (or pass pool_size=).",
            )
        return pool

    def _check_ssl(self, ssl_mode: str, acknowledgement: str | None, ca_bundle_path: str) -> None:
        service = self.service.service_name
        if ssl_mode in PLAINTEXT_MODES:
            raise ConfigError(
                service, "ssl_mode", ssl_mode,
                "The database refuses connections without TLS (rds.force_ssl=1, the proxy requires TLS, IAM authentication "
                "needs it): use verify-full.",
            )
        if ssl_mode != defaults.DATABASE_SSL_MODE and (acknowledgement is None or len(acknowledgement.strip()) < 20):
            raise ConfigError(
                service, "ssl_mode", ssl_mode,
                f"{ssl_mode} does not verify the server's name (or its certificate), so a host inside the VPC could impersonate "
                "the database. Use verify-full, or say why a weaker mode is acceptable here with "
                "ssl_mode_acknowledgement='<a sentence of at least 20 characters>'.",
            )
        if acknowledgement is not None and ssl_mode == defaults.DATABASE_SSL_MODE:
            raise ConfigError(service, "ssl_mode_acknowledgement", acknowledgement, "verify-full needs no acknowledgement: remove it.")
        if acknowledgement is not None and (len(acknowledgement) > MAX_ACKNOWLEDGEMENT or not acknowledgement.isprintable()
                                            or not is_environment_safe(acknowledgement)):
            raise ConfigError(
                service, "ssl_mode_acknowledgement", acknowledgement,
                f"Say why in one line of printable text, at most {MAX_ACKNOWLEDGEMENT} characters.",
            )
        if (Token.is_unresolved(ca_bundle_path) or not ca_bundle_path.startswith("/") or len(ca_bundle_path) > 4096
                or not is_environment_safe(ca_bundle_path) or any(c.isspace() or not c.isprintable() for c in ca_bundle_path)):
            raise ConfigError(service, "ca_bundle_path", ca_bundle_path, "Give an absolute path inside the image, without spaces.")

    def _environment(self, ssl_mode: str, ca_bundle_path: str) -> dict[str, str]:
        database = self.database
        host = database.proxy.endpoint if self.via_proxy else database.instance.db_instance_endpoint_address
        values = {
            "PGHOST": host,
            "PGPORT": str(self.port),
            "PGDATABASE": database.database_name,
            "PGUSER": self.user,
            "PGSSLMODE": ssl_mode,
        }
        if self.via_proxy and ssl_mode == defaults.DATABASE_SSL_MODE:
            values["PGSSLROOTCERT"] = SYSTEM_TRUST_STORE
        elif self.via_proxy:
            values["PGSSLROOTCERT"] = defaults.SYSTEM_CA_BUNDLE_PATH  # libpq refuses "system" with a weaker mode
        else:
            values["PGSSLROOTCERT"] = ca_bundle_path
            values["NODE_EXTRA_CA_CERTS"] = ca_bundle_path  # node-postgres verifies with Node's roots plus these
        values[POOL_SIZE_KEY] = str(self.pool_size)
        return values

    def _check_collisions(self, password: SecretRef | None) -> None:
        service = self.service
        declared = set(service.parameters.plain) | set(service.parameters.secrets)
        ours = set(self.environment) | ({"PGPASSWORD"} if password is not None else set())
        clash = sorted(declared & ours)
        if clash:
            raise ConfigError(
                service.service_name, f"parameters.{clash[0]}", "<declared>",
                f"PostgresAccess sets {', '.join(clash)} itself (the database's wiring, the same keys in every environment): "
                f"remove {'it' if len(clash) == 1 else 'them'} from {service.service_name}'s parameter set in cdk.json.",
            )

    # --- Wiring -------------------------------------------------------------------------

    def _password(self, password: SecretRef) -> ecs.Secret:
        if password.source == "ssm":
            from aws_cdk import aws_ssm as ssm

            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(self, "Password", parameter_name=password.name)
            return ecs.Secret.from_ssm_parameter(parameter)
        secret = secretsmanager.Secret.from_secret_name_v2(self, "Password", password.name)
        return ecs.Secret.from_secrets_manager(secret, field=password.json_field)

    def _grant_connect(self) -> None:
        self.connect_policy = self.database.connect_policy(self.user, via_proxy=self.via_proxy)
        self.service.task_definition.task_role.add_managed_policy(self.connect_policy)

    def _admit(self) -> None:
        """One rule on the proxy's (or instance's) group: this service's group, the literal port."""
        target = self.database.security_group if self.via_proxy else self.database.instance_security_group
        source = self.service.security_group
        name = self.service.service_name
        ec2.CfnSecurityGroupIngress(
            self,
            "Ingress",
            group_id=target.security_group_id,
            source_security_group_id=source.security_group_id,
            ip_protocol="tcp",
            from_port=self.port,
            to_port=self.port,
            description=f"{name}: Postgres" + (" through the proxy" if self.via_proxy else ""),
        )
        if not source.allow_all_outbound:
            ec2.CfnSecurityGroupEgress(
                self,
                "Egress",
                group_id=source.security_group_id,
                destination_security_group_id=target.security_group_id,
                ip_protocol="tcp",
                from_port=self.port,
                to_port=self.port,
                description=f"{name}: to Postgres",
            )
