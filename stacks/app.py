"""Build the whole sample app into a cdk.App: Registry plus one stage per environment."""

from __future__ import annotations

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from stable_fargate import AppConfig, DriftGuard, ParameterSets, load_app_config, load_parameter_sets, pin_availability_zones
from stacks.registry import RegistryStack
from stacks.stage import EnvironmentStage


def load_config(app: App) -> AppConfig:
    """The app's environments from cdk.json's ``stable_fargate`` context."""
    return load_app_config({"stable_fargate": app.node.try_get_context("stable_fargate")})


def load_parameters(config: AppConfig) -> ParameterSets:
    """Every service's parameter set (shared values + per-environment overrides), resolved and
    checked for every environment at load."""
    return load_parameter_sets(config.raw.get("parameters"), config.environments)


def drift_guard(config: AppConfig) -> DriftGuard:
    """The synth-time drift guard for this app's data: call ``.check(app.synth())``."""
    return DriftGuard(config=config, parameters=load_parameters(config))


def build_app(app: App, config: AppConfig | None = None) -> dict[str, EnvironmentStage]:
    """Compose the sample app into ``app`` and attach the nag packs; return the stages."""
    config = config or load_config(app)
    pin_availability_zones(app, config.environments)
    RegistryStack(
        app,
        "Registry",
        pull_accounts=config.accounts,
        env=Environment(account=config.tooling.account, region=config.tooling.region),
    )
    parameters = load_parameters(config)
    stages = {
        env.name: EnvironmentStage(app, config=config, environment=env, parameters=parameters) for env in config.environments
    }
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
    return stages
