"""HardenedPostgres and PostgresAccess: every default asserted as a literal on the template,
every refusal with its message, the nag packs on the shapes the sample does not use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Environment, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import (
    AccountRegion,
    ConfigError,
    DatabaseSizing,
    EnvironmentSpec,
    HardenedPostgres,
    ImageRef,
    PostgresAccess,
    QueueWorker,
    ResolvedParameters,
    ScheduledJob,
    SecretRef,
    ServiceSizing,
    StableFargateChecks,
    StableWebService,
    pin_availability_zones,
)
from stable_fargate.database import database_user
from stacks.app import load_config
from stacks.platform import PlatformStack
from tests.conftest import EnvStack, make_app

INSTANCE = "AWS::RDS::DBInstance"


@dataclass
class World:
    es: EnvStack
    environment: EnvironmentSpec
    vpc: ec2.Vpc
    cluster: ecs.Cluster
    key: kms.Key
    topic: sns.Topic

    @property
    def stack(self) -> Stack:
        return self.es.stack

    def database(self, construct_id: str = "Db", **overrides: Any) -> HardenedPostgres:
        props: dict[str, Any] = {
            "database_name": "portfolio", "environment": self.environment, "vpc": self.vpc, "key": self.key,
            "alarm_topic": self.topic,
        }
        return HardenedPostgres(self.stack, construct_id, **(props | overrides))

    def shared(self) -> dict[str, Any]:
        return {"environment": self.environment, "cluster": self.cluster, "key": self.key, "alarm_topic": self.topic}

    def api(self, construct_id: str = "Api", **overrides: Any) -> StableWebService:
        props = {"service_name": "portfolio-api", "container_port": 3000, "health_check_path": "/healthz",
                 "warm_up": Duration.seconds(45)} | self.shared() | overrides
        return StableWebService(self.stack, construct_id, **props)

    def worker(self, construct_id: str = "Import", **overrides: Any) -> QueueWorker:
        props = {"service_name": "portfolio-import", "average_processing_time": Duration.seconds(2),
                 "longest_processing_time": Duration.seconds(20), "acceptable_latency": Duration.seconds(60)}
        return QueueWorker(self.stack, construct_id, **(props | self.shared() | overrides))

    def job(self, construct_id: str = "Recon", **overrides: Any) -> ScheduledJob:
        props = {"service_name": "reconciliation", "schedule": "0 2 * * ? *", "time_zone": "Europe/London",
                 "max_runtime": Duration.hours(1)}
        return ScheduledJob(self.stack, construct_id, **(props | self.shared() | overrides))

    def template(self) -> Template:
        return self.es.template()


@pytest.fixture
def world(env_stack: Any) -> Any:
    def factory(env: str = "prod", environment: EnvironmentSpec | None = None) -> World:
        es = env_stack(env)
        spec = environment or es.environment
        vpc = ec2.Vpc(
            es.stack, "Vpc", availability_zones=list(spec.availability_zones), nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Edge", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
        )
        return World(
            es=es, environment=spec, vpc=vpc, cluster=ecs.Cluster(es.stack, "Cluster", vpc=vpc),
            key=kms.Key(es.stack, "Key", enable_key_rotation=True), topic=sns.Topic(es.stack, "Topic"),
        )

    return factory


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource)


def environment_of(template: Template) -> dict[str, Any]:
    (task,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    return {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}


# --- The instance -----------------------------------------------------------------------------


def test_instance_defaults_in_production(world: Any) -> None:
    w = world("prod")
    w.database()
    template = w.template()
    template.has_resource(INSTANCE, {
        "Properties": {
            "Engine": "postgres",
            "EngineVersion": "17.7",
            "AutoMinorVersionUpgrade": False,
            "AllowMajorVersionUpgrade": False,
            "DBInstanceClass": "db.m7g.large",
            "DBInstanceIdentifier": "prod-portfolio",
            "DBName": "portfolio",
            "Port": "5433",
            "PubliclyAccessible": False,
            "MultiAZ": True,
            "StorageType": "gp3",
            "AllocatedStorage": "100",
            "MaxAllocatedStorage": 400,
            "StorageEncrypted": True,
            "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
            "ManageMasterUserPassword": True,
            "MasterUsername": "dbadmin",
            "MasterUserSecret": {"KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]}},
            "MasterUserPassword": Match.absent(),
            "EnableIAMDatabaseAuthentication": True,
            "CACertificateIdentifier": "rds-ca-rsa2048-g1",
            "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
            "MonitoringInterval": 60,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 35,
            "DeleteAutomatedBackups": False,
            "CopyTagsToSnapshot": True,
        },
        "DeletionPolicy": "RetainExceptOnCreate",
    })


def test_instance_in_a_disposable_environment(world: Any) -> None:
    w = world("dev")
    w.database()
    template = w.template()
    template.has_resource(INSTANCE, {
        "Properties": {
            "DBInstanceIdentifier": "dev-portfolio", "DBInstanceClass": "db.t4g.medium", "MultiAZ": False,
            "BackupRetentionPeriod": 7, "DeleteAutomatedBackups": True, "DeletionProtection": True,
            "AllocatedStorage": "20", "MaxAllocatedStorage": 40,  # twice the allocation when not declared
        },
        "DeletionPolicy": "Delete",
    })


def test_parameter_group_forces_tls_and_logs_connections(world: Any) -> None:
    w = world("prod")
    w.database()
    w.template().has_resource_properties("AWS::RDS::DBParameterGroup", {
        "Family": "postgres17",
        "Parameters": {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
    })


def test_a_declared_max_connections_is_written_into_the_parameter_group(world: Any, config: Any) -> None:
    prod = config.environment("prod")
    declared = prod.with_database("portfolio", DatabaseSizing(instance_class="db.m7g.large", max_connections=700))
    w = world("prod", environment=declared)
    database = w.database()
    assert (database.max_connections, database.budget.limit) == (700, 560)
    assert "declared in environments.prod.databases.portfolio.max_connections" in database.max_connections_source
    w.template().has_resource_properties("AWS::RDS::DBParameterGroup", {"Parameters": Match.object_like({"max_connections": "700"})})


def test_log_exports_go_to_encrypted_log_groups_kept_a_year_created_first(world: Any) -> None:
    w = world("prod")
    w.database()
    template = w.template()
    groups = template.find_resources("AWS::Logs::LogGroup")
    names = {g["Properties"]["LogGroupName"]: (lid, g) for lid, g in groups.items()}
    assert set(names) == {"/aws/rds/instance/prod-portfolio/postgresql", "/aws/rds/instance/prod-portfolio/upgrade"}
    for _, group in names.values():
        assert group["Properties"]["RetentionInDays"] == 365 and "KmsKeyId" in group["Properties"]
    instance = only(template, INSTANCE)
    assert set(instance["DependsOn"]) >= {lid for lid, _ in names.values()}


def test_enhanced_monitoring_role_is_scoped_to_the_rdsosmetrics_group(world: Any) -> None:
    w = world("prod")
    w.database()
    template = w.template()
    template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": "333333333333"}},
        }]},
    })
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": [
        {"Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"], "Effect": "Allow",
         "Resource": "arn:aws:logs:eu-west-2:333333333333:log-group:RDSOSMetrics"},
        {"Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:PutLogEvents"], "Effect": "Allow",
         "Resource": "arn:aws:logs:eu-west-2:333333333333:log-group:RDSOSMetrics:log-stream:*"},
    ]}})
    assert not template.find_resources("AWS::IAM::Policy")  # nothing inline


def test_instance_security_group_admits_only_the_proxy_on_the_literal_port(world: Any) -> None:
    w = world("prod")
    database = w.database()
    template = w.template()
    instance_group = w.stack.get_logical_id(database.instance_security_group.node.default_child)
    proxy_group = w.stack.get_logical_id(database.security_group.node.default_child)
    ingress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [instance_group, "GroupId"]}]
    assert len(ingress) == 1
    assert ingress[0]["SourceSecurityGroupId"] == {"Fn::GetAtt": [proxy_group, "GroupId"]}
    assert (ingress[0]["FromPort"], ingress[0]["ToPort"], ingress[0]["IpProtocol"]) == (5433, 5433, "tcp")
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in groups[instance_group]["Properties"]
    assert "SecurityGroupIngress" not in groups[proxy_group]["Properties"]  # nobody until a service connects


# --- The proxy --------------------------------------------------------------------------------


def test_proxy_requires_tls_and_iam_end_to_end(world: Any) -> None:
    w = world("prod")
    w.database()
    template = w.template()
    template.has_resource_properties("AWS::RDS::DBProxy", {
        "EngineFamily": "POSTGRESQL", "RequireTLS": True, "DefaultAuthScheme": "IAM_AUTH", "DebugLogging": False,
        "Auth": Match.absent(),
    })
    template.has_resource_properties("AWS::RDS::DBProxyTargetGroup", {
        "TargetGroupName": "default", "ConnectionPoolConfigurationInfo": {"MaxConnectionsPercent": 80},
        "DBInstanceIdentifiers": [{"Ref": Match.string_like_regexp("DbInstance")}],
    })
    # Outbound only to the instance, on its port.
    template.has_resource_properties("AWS::EC2::SecurityGroupEgress", {"FromPort": 5433, "ToPort": 5433, "IpProtocol": "tcp"})


def test_proxy_connects_only_as_the_declared_users(world: Any) -> None:
    w = world("prod")
    w.database()
    statements = [
        s for p in w.template().find_resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "rds-db:connect"
    ]
    (statement,) = statements
    users = [r["Fn::Join"][1][-1] for r in statement["Resource"]]
    assert users == ["/portfolio_api", "/portfolio_import", "/reconciliation"]
    assert all("DbiResourceId" in str(resource) for resource in statement["Resource"])


def test_alarms_page_and_clear_on_the_environment_topic(world: Any) -> None:
    w = world("prod")
    w.database()
    template = w.template()
    topic = {"Ref": Match.string_like_regexp("^Topic")}
    expected = {
        "CPUUtilization": ("GreaterThanThreshold", 80),
        "FreeStorageSpace": ("LessThanThreshold", 10_737_418_240),  # 10 % of 100 GiB, in bytes
        "DatabaseConnections": ("GreaterThanThreshold", 584),  # ceil(90 % of 648)
    }
    for metric, (comparison, threshold) in expected.items():
        template.has_resource_properties("AWS::CloudWatch::Alarm", {
            "MetricName": metric, "Namespace": "AWS/RDS", "ComparisonOperator": comparison, "Threshold": threshold,
            "EvaluationPeriods": 5, "DatapointsToAlarm": 5, "Period": 60,
            "AlarmActions": [topic], "OKActions": [topic],
        })


def test_the_budget_is_recorded_on_the_instance(world: Any) -> None:
    w = world("prod")
    database = w.database()
    PostgresAccess(w.stack, "ApiDb", service=w.api(), database=database)
    record = only(w.template(), INSTANCE)["Metadata"]["stable_fargate"]["connection_budget"]
    assert (record["max_connections"], record["max_connections_percent"], record["limit"], record["reserved"]) == (811, 80, 648, 5)
    assert record["services"] == [{"service": "portfolio-api", "kind": "web", "max_tasks": 12, "maximum_percent": 200,
                                   "tasks": 24, "pool_size": 10, "connections": 240}]
    assert (record["total"], record["headroom"]) == (245, 403)


# --- PostgresAccess ---------------------------------------------------------------------------


def test_through_the_proxy_a_service_gets_iam_and_verify_full_with_the_system_roots(world: Any) -> None:
    w = world("prod")
    database = w.database()
    api = w.api()
    access = PostgresAccess(w.stack, "ApiDb", service=api, database=database)
    template = w.template()
    env = environment_of(template)
    assert {k: v for k, v in env.items() if k.startswith("PG") or k == "DB_POOL_MAX"} == {
        "PGHOST": {"Fn::GetAtt": [w.stack.get_logical_id(database.proxy.node.default_child), "Endpoint"]},
        "PGPORT": "5432", "PGDATABASE": "portfolio", "PGUSER": "portfolio_api", "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "system",
        "DB_POOL_MAX": "10",
    }
    assert "NODE_EXTRA_CA_CERTS" not in env and "PGPASSWORD" not in env
    assert (access.user, access.pool_size, access.port) == ("portfolio_api", 10, 5432)
    # One rule on the proxy's group: this service's group, 5432.
    proxy_group = w.stack.get_logical_id(database.security_group.node.default_child)
    task_group = w.stack.get_logical_id(api.security_group.node.default_child)
    rules = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
             if r["Properties"]["GroupId"] == {"Fn::GetAtt": [proxy_group, "GroupId"]}]
    assert rules == [{"Description": "portfolio-api: Postgres through the proxy", "FromPort": 5432, "ToPort": 5432, "IpProtocol": "tcp",
                      "GroupId": {"Fn::GetAtt": [proxy_group, "GroupId"]},
                      "SourceSecurityGroupId": {"Fn::GetAtt": [task_group, "GroupId"]}}]
    # The task role may connect as portfolio_api to this proxy, through a managed policy beside it.
    policy_id = w.stack.get_logical_id(access.connect_policy.node.default_child)
    role = template.find_resources("AWS::IAM::Role")[w.stack.get_logical_id(api.task_definition.task_role.node.default_child)]
    assert role["Properties"]["ManagedPolicyArns"] == [{"Ref": policy_id}]
    (statement,) = template.find_resources("AWS::IAM::ManagedPolicy")[policy_id]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    parts = statement["Resource"]["Fn::Join"][1]
    assert parts[0] == "arn:aws:rds-db:eu-west-2:333333333333:dbuser:" and parts[-1] == "/portfolio_api"
    assert parts[1]["Fn::Select"][0] == 6  # prx-... of the proxy's ARN


def test_directly_to_the_instance_a_service_gets_the_rds_bundle(world: Any) -> None:
    w = world("prod")
    database = w.database()
    worker = w.worker()
    PostgresAccess(w.stack, "ImportDb", service=worker, database=database, via_proxy=False)
    template = w.template()
    env = environment_of(template)
    assert env["PGPORT"] == "5433"
    assert env["PGHOST"] == {"Fn::GetAtt": [w.stack.get_logical_id(database.instance.node.default_child), "Endpoint.Address"]}
    assert env["PGSSLROOTCERT"] == env["NODE_EXTRA_CA_CERTS"] == "/etc/ssl/certs/rds-global-bundle.pem"
    assert (env["PGSSLMODE"], env["DB_POOL_MAX"]) == ("verify-full", "5")
    instance_group = w.stack.get_logical_id(database.instance_security_group.node.default_child)
    sources = [r["Properties"].get("SourceSecurityGroupId") for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [instance_group, "GroupId"]}]
    task_group = w.stack.get_logical_id(worker.security_group.node.default_child)
    proxy_group = w.stack.get_logical_id(database.security_group.node.default_child)
    expected = [{"Fn::GetAtt": [proxy_group, "GroupId"]}, {"Fn::GetAtt": [task_group, "GroupId"]}]
    assert sorted(map(str, sources)) == sorted(map(str, expected))


def test_a_password_directly_to_the_instance_is_an_ecs_secret(world: Any) -> None:
    w = world("prod")
    database = w.database()
    worker = w.worker()
    PostgresAccess(w.stack, "ImportDb", service=worker, database=database, via_proxy=False,
                   password=SecretRef("secretsmanager", "portfolio-import/database", json_field="password"))
    (task,) = w.template().find_resources("AWS::ECS::TaskDefinition").values()
    secrets = {s["Name"]: s["ValueFrom"] for s in task["Properties"]["ContainerDefinitions"][0]["Secrets"]}
    assert "portfolio-import/database:password::" in str(secrets["PGPASSWORD"])


def test_a_job_and_a_worker_count_their_own_way(world: Any) -> None:
    w = world("prod")
    database = w.database()
    PostgresAccess(w.stack, "ImportDb", service=w.worker(), database=database)
    PostgresAccess(w.stack, "ReconDb", service=w.job(), database=database)
    lines = {line.service: line for line in database.budget.lines}
    assert (lines["portfolio-import"].tasks, lines["portfolio-import"].connections) == (40, 200)  # 20 x 200 %
    assert (lines["reconciliation"].tasks, lines["reconciliation"].connections) == (1, 4)
    assert (database.budget.total, database.budget.limit) == (209, 648)


def test_database_user_names_need_no_quoting() -> None:
    assert database_user("portfolio-api") == "portfolio_api" and database_user("recon2") == "recon2"


# --- Refusals ---------------------------------------------------------------------------------


def refused(build: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build()
    return info.value


def test_a_service_connected_twice_is_refused(world: Any) -> None:
    w = world("prod")
    database, api = w.database(), w.api()
    PostgresAccess(w.stack, "ApiDb", service=api, database=database)
    error = refused(lambda: PostgresAccess(w.stack, "ApiDbAgain", service=api, database=database))
    assert (error.subject, error.field) == ("portfolio-api", "database")
    assert "already connected (to portfolio, by TestProd/ApiDb)" in error.fix


@pytest.mark.parametrize("pool", [0, -1, 1001])
def test_a_pool_outside_1_to_1000_is_refused(world: Any, pool: int) -> None:
    w = world("prod")
    database, api = w.database(), w.api()
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=api, database=database, pool_size=pool))
    assert (error.field, error.value) == ("pool_size", pool) and "Give 1 to 1000 connections per task" in error.fix


def test_a_pool_given_twice_differently_is_refused_and_a_missing_one_named(world: Any, config: Any) -> None:
    w = world("prod")
    database = w.database()
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=w.api(), database=database, pool_size=7))
    assert "The data declares 10 (environments.prod.databases.portfolio.pools.portfolio-api)" in error.fix
    ledger_env = w.environment.with_sizing("ledger", ServiceSizing(min_tasks=1, max_tasks=2))
    ledger = QueueWorker(
        w.stack, "Ledger", service_name="ledger", environment=ledger_env, cluster=w.cluster, key=w.key, alarm_topic=w.topic,
        image=ImageRef.release("ledger", "v1.0.0", registry=AccountRegion("100000000000", "eu-west-2")),
        average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(5),
        acceptable_latency=Duration.seconds(30),
    )
    error = refused(lambda: PostgresAccess(w.stack, "LedgerDb", service=ledger, database=database))
    assert error.field == "environments.prod.databases.portfolio.pools.ledger"
    assert "Declare ledger's connection pool per task under environments.prod.databases.portfolio.pools.ledger" in error.fix
    PostgresAccess(w.stack, "LedgerDbGiven", service=ledger, database=database, pool_size=2)  # given here, not in the data


@pytest.mark.parametrize("mode", ["require", "prefer", "verify-ca"])
def test_a_weaker_ssl_mode_needs_an_acknowledgement_with_a_reason(world: Any, mode: str) -> None:
    w = world("prod")
    database, api = w.database(), w.api()
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=api, database=database, ssl_mode=mode))
    assert (error.field, error.value) == ("ssl_mode", mode) and "ssl_mode_acknowledgement=" in error.fix
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb2", service=api, database=database, ssl_mode=mode,
                                           ssl_mode_acknowledgement="legacy"))
    assert error.field == "ssl_mode"  # a reason, not a word
    access = PostgresAccess(w.stack, "ApiDb3", service=api, database=database, ssl_mode=mode,
                            ssl_mode_acknowledgement="The vendor driver of this batch tool cannot verify host names yet.")
    assert access.environment["PGSSLMODE"] == mode
    assert access.environment["PGSSLROOTCERT"] == "/etc/ssl/certs/ca-certificates.crt"  # libpq refuses "system" below verify-full
    assert any(e.type == "stable_fargate:ssl-mode-acknowledgement" for e in access.node.metadata)


@pytest.mark.parametrize("mode", ["disable", "allow"])
def test_plaintext_modes_are_refused_even_with_an_acknowledgement(world: Any, mode: str) -> None:
    w = world("prod")
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=w.api(), database=w.database(), ssl_mode=mode,
                                           ssl_mode_acknowledgement="A long enough reason that does not help."))
    assert error.field == "ssl_mode" and "refuses connections without TLS" in error.fix


def test_other_refusals_name_the_field(world: Any) -> None:
    w = world("prod")
    database, api = w.database(), w.api()
    cases = {
        "ssl_mode_acknowledgement": lambda: PostgresAccess(w.stack, "A", service=api, database=database,
                                                           ssl_mode_acknowledgement="verify-full needs nothing, so this is refused."),
        "password": lambda: PostgresAccess(w.stack, "B", service=api, database=database, password=SecretRef("ssm", "/db/password")),
        "ca_bundle_path": lambda: PostgresAccess(w.stack, "C", service=api, database=database, via_proxy=False, ca_bundle_path="rds.pem"),
    }
    fixes = {"ssl_mode_acknowledgement": "needs no acknowledgement", "password": "IAM only", "ca_bundle_path": "absolute path"}
    for field, build in cases.items():
        error = refused(build)
        assert error.field == field and fixes[field] in error.fix


def test_a_key_of_the_parameter_set_that_postgres_access_sets_is_refused(world: Any) -> None:
    w = world("prod")
    params = ResolvedParameters("portfolio-api", "prod", plain={"PGHOST": "db.internal", "LOG_LEVEL": "info"})
    api = w.api(parameters=params)
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=api, database=w.database()))
    assert (error.subject, error.field) == ("portfolio-api", "parameters.PGHOST")
    assert "PostgresAccess sets PGHOST itself" in error.fix and "remove it from portfolio-api's parameter set" in error.fix


def test_another_environment_or_another_stack_is_refused(world: Any, config: Any) -> None:
    w = world("prod")
    database = w.database()
    staging = config.environment("staging")
    other = StableWebService(
        w.stack, "StagingApi", service_name="portfolio-api", environment=staging, cluster=w.cluster, key=w.key, alarm_topic=w.topic,
        container_port=3000, health_check_path="/healthz", warm_up=Duration.seconds(45),
    )
    error = refused(lambda: PostgresAccess(w.stack, "X", service=other, database=database))
    assert "to the database of staging" in error.fix
    elsewhere = Stack(w.es.app, "Elsewhere", env=Environment(account="333333333333", region="eu-west-2"))
    error = refused(lambda: PostgresAccess(elsewhere, "Y", service=w.api(), database=database))
    assert error.field == "scope" and "Create the PostgresAccess in portfolio-api's own stack" in error.fix


def test_an_over_budget_connection_is_refused_and_changes_nothing(world: Any) -> None:
    w = world("prod")
    database = w.database()
    api = w.api()
    error = refused(lambda: PostgresAccess(w.stack, "ApiDb", service=api, database=database, pool_size=27))  # data says 10
    assert "declare the pool in one place" in error.fix
    sizing = w.environment.with_database("portfolio", DatabaseSizing(instance_class="db.m7g.large", pools={"portfolio-api": 27}))
    w2 = world("prod", environment=sizing)
    database2, api2 = w2.database(), w2.api()
    # 12 x 200 % = 24 tasks x 27 = 648, + 5 reserved = 653 > 648.
    error = refused(lambda: PostgresAccess(w2.stack, "ApiDb", service=api2, database=database2))
    assert (error.field, error.value) == ("connection budget", "653 connections")
    assert "portfolio-api  web   12 max_tasks x 200 % = 24     27          648" in str(error)
    assert database2.budget.lines == ()  # nothing was counted
    assert "PGHOST" not in environment_of(w2.template())


@pytest.mark.parametrize(
    ("overrides", "field", "fix"),
    [
        ({"max_connections_percent": 100}, "max_connections_percent", "Give 1 to 99"),
        ({"max_connections_percent": 0}, "max_connections_percent", "Give 1 to 99"),
        ({"reserved_connections": -1}, "reserved_connections", "0 to 1000"),
        ({"subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)}, "subnets", "private subnets only"),
        ({"database_name": "ledger"}, "environments.prod.databases.ledger", "Declare the database"),
        ({"max_connections_percent": "80"}, "max_connections_percent", "Give a whole number"),
    ],
)
def test_database_refusals(world: Any, overrides: dict[str, Any], field: str, fix: str) -> None:
    w = world("prod")
    error = refused(lambda: w.database(**overrides))
    assert error.field == field and fix in error.fix


def test_an_identifier_rds_would_refuse_is_refused(world: Any, config: Any) -> None:
    prod = config.environment("prod")
    name = "p" + "_" * 2 + "x"
    env = prod.with_database(name, DatabaseSizing(instance_class="db.m7g.large"))
    w = world("prod", environment=env)
    error = refused(lambda: w.database(database_name=name))
    assert (error.field, error.value) == ("instance identifier", "prod-p--x") and "no '--'" in error.fix


# --- Nag packs on the shapes the sample does not use ------------------------------------------


def test_variants_are_nag_clean(tmp_path: Path) -> None:
    """A single-AZ staging database, a direct connection with a password and a weaker
    acknowledged mode, a declared max_connections: zero unacknowledged findings (AwsSolutions,
    PCI DSS and the library's own pack)."""
    app = make_app(tmp_path)
    config = load_config(app)
    pin_availability_zones(app, config.environments)
    env = config.environment("staging").with_database("ledger", DatabaseSizing(instance_class="db.t4g.micro", max_connections=60))
    where = Environment(account=env.account, region=env.region)
    platform = PlatformStack(app, "Platform", environment=env, env=where)
    stack = Stack(app, "Variants", env=where)
    database = HardenedPostgres(stack, "Ledger", database_name="ledger", environment=env, vpc=platform.network.vpc,
                                key=platform.key, alarm_topic=platform.alarms)
    worker = QueueWorker(
        stack, "Import", service_name="portfolio-import", environment=env, cluster=platform.cluster, key=platform.key,
        alarm_topic=platform.alarms, average_processing_time=Duration.seconds(2), longest_processing_time=Duration.seconds(20),
        acceptable_latency=Duration.seconds(60), subnets=platform.network.private_subnets,
    )
    PostgresAccess(stack, "ImportLedger", service=worker, database=database, via_proxy=False, pool_size=2, ssl_mode="verify-ca",
                   ssl_mode_acknowledgement="A migration tool pinned to an old driver that cannot check host names.",
                   password=SecretRef("secretsmanager", "portfolio-import/ledger", json_field="password"))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app), StableFargateChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
    assert database.multi_az is False and database.max_connections == 60
