"""Build the whole sample app into a cdk.App: Registry plus one stage per environment."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import AppConfig, DriftGuard, ParameterSets, load_app_config, pin_availability_zones
from stacks.registry import RegistryStack
from stacks.stage import EnvironmentStage


def load_config(app: App) -> AppConfig:
    """The app's environments from cdk.json's ``stable_fargate`` context."""
    return load_app_config({"stable_fargate": app.node.try_get_context("stable_fargate")})


def load_parameters(config: AppConfig) -> ParameterSets:
    """Every service's parameter set (shared values + per-environment overrides), resolved and
    checked for every environment at load."""
    return config.parameters


def referenced_tags(config: AppConfig) -> dict[str, list[str]]:
    """repository -> every tag some environment runs (the registry's lifecycle protects them)."""
    tags: dict[str, list[str]] = {}
    for env in config.environments:
        for service in env.images:
            tag = env.image_tag(service)  # v1.2.3 of v1.2.3@sha256:...: the lifecycle protects tags
            if tag not in tags.setdefault(service, []):
                tags[service].append(tag)
    return tags


@dataclass(frozen=True)
class BuiltApp:
    """What build_app loaded and composed, so that nothing is loaded twice."""

    config: AppConfig
    parameters: ParameterSets
    stages: dict[str, EnvironmentStage]

    def drift_guard(self) -> DriftGuard:
        """The synth-time drift guard for this app's data: call ``.check(app.synth())``."""
        return DriftGuard(config=self.config, parameters=self.parameters)


def build_app(app: App, config: AppConfig | None = None) -> BuiltApp:
    """Compose the sample app into ``app`` and attach the nag packs."""
    config = config or load_config(app)
    pin_availability_zones(app, config.environments)
    RegistryStack(
        app,
        "Registry",
        pull_accounts=config.accounts,
        protected_tags=referenced_tags(config),
        env=Environment(account=config.tooling.account, region=config.tooling.region),
        # The registry holds every release: deleting it by accident deletes every environment's images.
        termination_protection=True,
    )
    parameters = load_parameters(config)
    stages = {
        env.name: EnvironmentStage(app, environment=env) for env in config.environments
    }
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
    return BuiltApp(config=config, parameters=parameters, stages=stages)
