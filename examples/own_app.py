"""Using stable_fargate from your own CDK app: the README's example, kept runnable.

Run it under the CDK CLI from a folder whose cdk.json carries a ``stable_fargate`` block
(`npx cdk synth`); tests/test_examples.py synthesizes it with the sample data.
"""

from aws_cdk import App, Duration, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import (
    AlarmTopic,
    HardenedCluster,
    PlatformKey,
    PrivateNetwork,
    QueueWorker,
    ScheduledJob,
    StableWebService,
    load_app_config,
    pin_availability_zones,
)

app = App()  # under `cdk synth`, cdk.json's context arrives here
config = load_app_config({"stable_fargate": app.node.try_get_context("stable_fargate")})
pin_availability_zones(app, config.environments)  # synth stays offline
prod = config.environment("prod")  # sizing, releases, certificate, parameters: all from cdk.json

stack = Stack(app, "Payments", env=Environment(account=prod.account, region=prod.region))
key = PlatformKey(stack, "Key", description="payments: logs, queues, alarms")
network = PrivateNetwork(stack, "Network", cidr=prod.vpc_cidr,
                         availability_zones=prod.availability_zones, flow_log_key=key.key)
cluster = HardenedCluster(stack, "Cluster", vpc=network.vpc)
alarms = AlarmTopic(stack, "Alarms", key=key.key)  # CloudWatch may publish to it

StableWebService(
    stack, "Api", service_name="portfolio-api", environment=prod, cluster=cluster, key=key, alarm_topic=alarms,
    container_port=3000, health_check_path="/healthz", warm_up=Duration.seconds(45),
)
QueueWorker(
    stack, "Import", service_name="portfolio-import", environment=prod, cluster=cluster, key=key, alarm_topic=alarms,
    average_processing_time=Duration.seconds(2), longest_processing_time=Duration.seconds(20),
    acceptable_latency=Duration.seconds(60),
)
ScheduledJob(
    stack, "Reconciliation", service_name="reconciliation", environment=prod, cluster=cluster, key=key, alarm_topic=alarms,
    schedule="0 2 * * ? *", time_zone="Europe/London", max_runtime=Duration.hours(1),
)
Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
app.synth()
