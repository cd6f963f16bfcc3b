"""Shared fixtures: the sample app synthesized once per session with cdk.json's context and
feature flags (a bare App would not read them), and small apps for construct tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage
from aws_cdk.assertions import Template
from hypothesis import settings

from stable_fargate import AppConfig, EnvironmentSpec
from stacks.app import build_app, load_config, pin_availability_zones
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
    """The whole sample app, synthesized once as app.py does: nag packs (synth raises on a
    finding), then the drift guard (raises on undeclared drift)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = make_app(outdir)
    built = build_app(app)
    built.drift_guard().check(app.synth())
    return SampleApp(app=app, config=built.config, stages=built.stages, outdir=outdir)


@pytest.fixture(scope="session")
def config() -> AppConfig:
    app = App(context=cdk_context())
    return load_config(app)


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
