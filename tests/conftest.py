"""Shared fixtures: the sample app synthesized once per session with cdk.json's context and
feature flags (a bare App would not read them), and small apps for construct tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Environment, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import Construct
from hypothesis import settings
from hypothesis.internal.conjecture import providers as hypothesis_providers

from stable_fargate import AppConfig, EnvironmentSpec, ImageRef, ResolvedParameters, ServiceSizing, pin_availability_zones
from stable_fargate.app import StableApp
from stable_fargate.services._base import _StableService
from stacks.app import build_app, load_config
from stacks.stage import EnvironmentStage

ROOT = Path(__file__).resolve().parent.parent


def cdk_context() -> dict[str, Any]:
    """cdk.json's context: feature flags and the stable_fargate data."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def make_app(outdir: Path, context: dict[str, Any] | None = None) -> App:
    return App(context=context if context is not None else cdk_context(), outdir=str(outdir))


def template_json(stack: Stack) -> dict[str, Any]:
    """The synthesized template of ``stack`` (after its app has been synthesized)."""
    stage = Stage.of(stack)
    assert stage is not None
    data: dict[str, Any] = json.loads((Path(stage.outdir) / stack.template_file).read_text())
    return data


def template_of(stack: Stack) -> Template:
    return Template.from_json(template_json(stack))


@dataclass
class SampleApp:
    app: App
    config: AppConfig
    stages: dict[str, EnvironmentStage]
    outdir: Path

    def stacks(self) -> Iterator[tuple[str, Stack]]:
        """(environment or 'tooling', stack) for every stack of the app."""
        for child in self.app.node.children:
            if isinstance(child, Stack):
                yield "tooling", child
        for name, stage in self.stages.items():
            for child in stage.node.children:
                if isinstance(child, Stack):
                    yield name, child


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> SampleApp:
    """The whole sample app, synthesized once as app.py does (StableApp.synth_checked: nag
    packs and the gate, then the drift guard)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = StableApp(context=cdk_context(), outdir=str(outdir))
    stages = build_app(app)
    app.synth_checked()
    return SampleApp(app=app, config=app.config, stages=stages, outdir=outdir)


@pytest.fixture(scope="session")
def config() -> AppConfig:
    app = App(context=cdk_context())
    return load_config(app)


SIZING_FIELDS = frozenset({"cpu", "memory_mib", "min_tasks", "max_tasks", "on_demand_base"})
"""Inputs a test may give a service that belong to the environment's sizing of it."""

ENVIRONMENT_FIELDS = frozenset({"production", "retain_data", "certificate_arn", "release"})
"""Inputs a test may give a service that belong to the environment itself."""


def with_overrides(environment: EnvironmentSpec, service: str, overrides: dict[str, Any]) -> tuple[EnvironmentSpec, dict[str, Any]]:
    """Move sizing and environment fields out of a test's construct overrides into a modified
    (and validated) copy of the environment; return it and the remaining overrides."""
    rest = dict(overrides)
    sizing = {k: rest.pop(k) for k in SIZING_FIELDS & set(rest)}
    if sizing:
        current = environment.services.get(service, ServiceSizing())
        merged = {f: getattr(current, f) for f in SIZING_FIELDS} | sizing
        environment = environment.with_sizing(service, ServiceSizing(**merged))
    changes = {k: rest.pop(k) for k in ENVIRONMENT_FIELDS & set(rest)}
    if changes:
        environment = environment._replace(**changes)
    return environment, rest


@dataclass
class EnvStack:
    """An empty stack in one environment of the sample data, for construct tests."""

    app: App
    stack: Stack
    environment: EnvironmentSpec

    def template(self) -> Template:
        self.app.synth()
        return template_of(self.stack)


@pytest.fixture
def env_stack(tmp_path: Path, config: AppConfig) -> Any:
    """Factory: ``env_stack("prod")`` -> an EnvStack in prod's account, region and AZs."""

    def factory(name: str = "prod") -> EnvStack:
        app = make_app(tmp_path / f"out-{name}")
        pin_availability_zones(app, config.environments)
        environment = config.environment(name)
        stack = Stack(app, f"Test{environment.stage_name}", env=Environment(account=environment.account, region=environment.region))
        return EnvStack(app=app, stack=stack, environment=environment)

    return factory


# Property tests are derandomized and keep no example database: the same examples run on
# every machine, so CI is reproducible and a failure seen once is seen again.
settings.register_profile("stable_fargate", derandomize=True, database=None, deadline=None)
settings.load_profile("stable_fargate")
# Hypothesis also mixes in constants harvested from every module of this repository loaded so far,
# so examples would change with any edit anywhere, and with the order tests run in. None, then:
# the examples depend on the strategies alone.
hypothesis_providers._get_local_constants = lambda: hypothesis_providers._local_constants


class TaskProbe(_StableService):
    """The hardened task definition every service gets, without a service around it (for
    tests of the shared task and of drift between environments)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        environment: EnvironmentSpec,
        parameters: ResolvedParameters | None = None,
        image: ImageRef | None = None,
        sizing: ServiceSizing | None = None,
        port: int | None = None,
        health_check: ecs.HealthCheck | None = None,
        stop_timeout_seconds: int = 30,
    ) -> None:
        vpc = ec2.Vpc(
            scope, f"{construct_id}Vpc", availability_zones=["eu-west-2a", "eu-west-2b"], nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        if sizing is not None:
            environment = environment.with_sizing(service, sizing)
        super().__init__(
            scope, construct_id, service_name=service, environment=environment,
            cluster=ecs.Cluster(scope, f"{construct_id}Cluster", vpc=vpc),
            key=kms.Key(scope, f"{construct_id}Key", enable_key_rotation=True),
            alarm_topic=sns.Topic(scope, f"{construct_id}Topic"),
            image=image, parameters=parameters, subnets=None,
        )
        self._build_task(stop_timeout=Duration.seconds(stop_timeout_seconds), container_port=port, health_check=health_check)
