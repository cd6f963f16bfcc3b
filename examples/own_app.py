"""Using stable_fargate from your own CDK app: the README's example, kept runnable.

Run it under the CDK CLI from a folder whose cdk.json carries a ``stable_fargate`` block
(`npx cdk synth`); tests/test_examples.py synthesizes it with the sample data.
"""

from aws_cdk import App, Duration, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import (
    AccountRegion,
    AlarmTopic,
    HardenedCluster,
    ImageRef,
    PlatformKey,
    PrivateNetwork,
    QueueWorker,
    ResolvedParameters,
    ScheduledJob,
    SecretRef,
    StableWebService,
    load_app_config,
    pin_availability_zones,
)

app = App()  # under `cdk synth`, cdk.json's context arrives here
config = load_app_config({"stable_fargate": app.node.try_get_context("stable_fargate")})
pin_availability_zones(app, config.environments)  # synth stays offline
prod = config.environment("prod")
registry = AccountRegion("100000000000", "eu-west-2")  # where the release images live

stack = Stack(app, "Payments", env=Environment(account=prod.account, region=prod.region))
key = PlatformKey(stack, "Key", description="payments: logs, queues, alarms")
network = PrivateNetwork(stack, "Network", cidr=prod.vpc_cidr,
                         availability_zones=prod.availability_zones, flow_log_key=key.key)
cluster = HardenedCluster(stack, "Cluster", vpc=network.vpc)
alarms = AlarmTopic(stack, "Alarms", key=key.key).topic  # CloudWatch may publish to it

api = StableWebService(
    stack, "PaymentsApi",
    service_name="payments-api",
    image=ImageRef.release("payments-api", "v3.2.1", registry=registry),
    container_port=8080, health_check_path="/healthz", warm_up=Duration.seconds(30),
    cluster=cluster, vpc=network.vpc, certificate_arn=prod.certificate_arn,
    parameters=ResolvedParameters(
        service="payments-api", environment="prod", plain={"LOG_LEVEL": "info"},
        secrets={"DATABASE_PASSWORD": SecretRef("secretsmanager", "payments/db", json_field="password")},
    ),
    log_key=key, alarm_topic=alarms, min_tasks=2, max_tasks=6,
)
QueueWorker(
    stack, "Settlements",
    service_name="settlements", cluster=cluster, key=key, alarm_topic=alarms,
    image=ImageRef.release("settlements", "v1.4.0", registry=registry),
    average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(15),
    acceptable_latency=Duration.seconds(30), min_tasks=1, max_tasks=10,
)
ScheduledJob(
    stack, "Statements",
    service_name="statements", cluster=cluster, key=key, alarm_topic=alarms,
    image=ImageRef.release("statements", "v2.0.3", registry=registry),
    schedule="30 1 * * ? *", time_zone="Europe/London", max_runtime=Duration.minutes(45),
)
Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
app.synth()
