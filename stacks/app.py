"""Build the whole sample app into a cdk.App: Registry plus one stage per environment."""

from __future__ import annotations

from aws_cdk import App, Environment

from stable_fargate import AppConfig, ParameterSets, load_app_config
from stable_fargate.app import StableApp
from stable_fargate.images import referenced_tags
from stacks.registry import RegistryStack
from stacks.stage import EnvironmentStage


def load_config(app: App) -> AppConfig:
    """The app's environments from cdk.json's ``stable_fargate`` context."""
    return load_app_config({"stable_fargate": app.node.try_get_context("stable_fargate")})


def load_parameters(config: AppConfig) -> ParameterSets:
    """Every service's parameter set (shared values + per-environment overrides), resolved and
    checked for every environment at load."""
    return config.parameters


def build_app(app: StableApp) -> dict[str, EnvironmentStage]:
    """Compose the sample app into ``app`` (a StableApp: config loaded, AZs pinned, nag packs
    attached): the Registry in the tooling account and one stage per environment."""
    config = app.config
    RegistryStack(
        app,
        "Registry",
        pull_accounts=config.accounts,
        protected_tags=referenced_tags(config),
        env=Environment(account=config.tooling.account, region=config.tooling.region),
        # The registry holds every release: deleting it by accident deletes every environment's images.
        termination_protection=True,
    )
    return {env.name: EnvironmentStage(app, environment=env) for env in config.environments}
