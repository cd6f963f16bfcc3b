"""How many CloudFormation resources each construct adds to its stack, read from synthesized
templates: README's "At scale" table and the entry point's warning quote these numbers, and a
change that adds resources shows up here first (a stack holds at most 500).

One small app as an own app builds it (the sample data's environments: dev releases rolling,
staging blue/green, prod a canary): a Registry stack with a
key and one HardenedRepository, and per environment a Platform stack (EnvironmentPlatform) and a
Services stack with a StableWebService, a QueueWorker and a ScheduledJob. Each resource is
attributed to its construct by the construct path the CDK writes into the template.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from aws_cdk import Duration, Environment, Stack

from stable_fargate import HardenedRepository, PlatformKey, QueueWorker, ScheduledJob, StableWebService
from stable_fargate.app import (
    CLOUDFORMATION_RESOURCE_LIMIT,
    RESOURCE_WARNING_SHARE,
    RESOURCES_PER_SERVICE,
    TRAFFIC_SHIFTING_RELEASE_RESOURCES,
    StableApp,
)
from stable_fargate.platform import EnvironmentPlatform
from tests.conftest import cdk_context

PATH_METADATA = {"aws:cdk:enable-path-metadata": True}
"""The CDK CLI writes each resource's construct path into the template; a bare App needs asking."""


@pytest.fixture(scope="module")
def counts(tmp_path_factory: pytest.TempPathFactory) -> Counter[str]:
    """Resources per construct path prefix (``Prod/Services/Web``, ``Dev/Platform``, ...)."""
    outdir = tmp_path_factory.mktemp("counts")
    app = StableApp(context=cdk_context() | PATH_METADATA, outdir=str(outdir), packs=())
    config = app.config
    registry = Stack(app, "Registry", env=Environment(account=config.tooling.account, region=config.tooling.region))
    key = PlatformKey(registry, "Key", description="release images")
    HardenedRepository(registry, "Repository", repository_name="portfolio-api", pull_accounts=config.accounts, encryption_key=key.key)
    for name in ("dev", "staging", "prod"):
        environment = config.environment(name)
        stage = app.environment_stage(environment)
        platform = EnvironmentPlatform(Stack(stage, "Platform"), "Default", environment=environment)
        services = Stack(stage, "Services")
        web = StableWebService(
            services, "Web", service_name="portfolio-api", **platform.service_inputs,
            container_port=8080, health_check_path="/healthz", warm_up=Duration.seconds(30),
        )
        worker = QueueWorker(
            services, "Worker", service_name="portfolio-import", **platform.service_inputs,
            average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(15),
            acceptable_latency=Duration.seconds(60),
        )
        ScheduledJob(
            services, "Job", service_name="reconciliation", **platform.service_inputs,
            schedule="0 2 * * ? *", time_zone="Europe/London", max_runtime=Duration.hours(1),
        )
        if name == "prod":  # dev's web service sends nothing: the grant's own cost is seen
            worker.allow_producer(web, url_key="IMPORT_QUEUE_URL")
    app.synth()
    found: Counter[str] = Counter()
    for template in outdir.rglob("*.template.json"):
        for resource in json.loads(Path(template).read_text())["Resources"].values():
            path = resource["Metadata"]["aws:cdk:path"]
            parts = path.split("/")
            # Registry/<construct>/..., <Stage>/Platform/... (the whole stack), <Stage>/Services/<service>/...
            found["/".join(parts[:2] if parts[0] == "Registry" or parts[1] == "Platform" else parts[:3])] += 1
    return found


def test_every_resource_belongs_to_one_of_the_constructs(counts: Counter[str]) -> None:
    assert sorted(counts) == sorted([
        "Registry/Key", "Registry/Repository",
        "Dev/Platform", "Dev/Services/Web", "Dev/Services/Worker", "Dev/Services/Job",
        "Staging/Platform", "Staging/Services/Web", "Staging/Services/Worker", "Staging/Services/Job",
        "Prod/Platform", "Prod/Services/Web", "Prod/Services/Worker", "Prod/Services/Job",
    ])


def test_a_platform_is_25_resources_and_7_per_availability_zone(counts: Counter[str]) -> None:
    # Key, VPC, internet gateway, flow log (role, policy, group), 8 endpoints, endpoint group,
    # cluster, capacity providers, topic, policy, budget, the default group's lock (and its
    # provider's role and function); per AZ a public and a private subnet, their route tables
    # and associations and the public route. The sample's prod has 3 AZs, dev 2; no NAT.
    assert counts["Prod/Platform"] == 46
    assert counts["Dev/Platform"] == 39


def test_each_service_adds_what_readme_states(counts: Counter[str]) -> None:
    for stage in ("Dev", "Staging", "Prod"):
        assert counts[f"{stage}/Services/Worker"] == 21
        assert counts[f"{stage}/Services/Job"] == 16
    assert counts["Dev/Services/Web"] == 25  # dev releases rolling: the web service alone


def test_a_traffic_shifting_release_adds_23_resources(counts: Counter[str]) -> None:
    """Staging releases blue/green and prod a canary (the sample data): each adds the alternate
    target group, the test listener, the production and test rules, the traffic role, five
    release alarms, and the smoke check (function, its role and policies, invoke role and
    policy, log group, two security groups, their rules, the EC2 endpoint) = 23."""
    assert counts["Staging/Services/Web"] == 25 + 23
    # allow_producer gives the producer's task role a policy of its own grants (its first).
    assert counts["Prod/Services/Web"] == 25 + 23 + 1


def test_a_repository_is_one_resource(counts: Counter[str]) -> None:
    assert counts["Registry/Repository"] == 1
    assert counts["Registry/Key"] == 1


def test_the_warning_quotes_the_measured_counts() -> None:
    assert RESOURCES_PER_SERVICE == {"StableWebService": 25, "QueueWorker": 21, "ScheduledJob": 16}
    assert TRAFFIC_SHIFTING_RELEASE_RESOURCES == 23


def test_six_triples_fit_below_the_warning_and_eight_do_not_fit_a_stack() -> None:
    """README's advice: a Services stack per six (web, worker, job) triples. A triple whose web
    service produces for its worker is 25 + 1 + 21 + 16 = 63 resources."""
    triple = 25 + 1 + 21 + 16
    warning = RESOURCE_WARNING_SHARE * CLOUDFORMATION_RESOURCE_LIMIT
    assert 6 * triple < warning <= 7 * triple < CLOUDFORMATION_RESOURCE_LIMIT < 8 * triple
