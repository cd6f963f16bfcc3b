"""Environments as data: cdk.json context loaded into typed, frozen, validated specs.

Everything an environment may differ in is declared in cdk.json's ``stable_fargate`` block,
once; whatever is not declared there is the same in every environment (the drift guard holds
the rest). The models and their rules live in :mod:`stable_fargate.config`; this module keeps
the public names and the one piece that touches an App (pinning AZs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from stable_fargate.config.loader import AppConfig, load_app_config, load_environment
from stable_fargate.config.models import AccountRegion, DatabaseSizing, EnvironmentSpec, Hotfix, Release, ServiceSizing
from stable_fargate.config.rules import KNOWN_REGIONS

if TYPE_CHECKING:
    from constructs import IConstruct  # the read side imports this module: no CDK at run time

__all__ = [
    "KNOWN_REGIONS",
    "AccountRegion",
    "AppConfig",
    "DatabaseSizing",
    "EnvironmentSpec",
    "Hotfix",
    "Release",
    "ServiceSizing",
    "load_app_config",
    "load_environment",
    "pin_availability_zones",
]


def pin_availability_zones(scope: IConstruct, environments: Iterable[EnvironmentSpec]) -> None:
    """Answer the CDK's AZ lookup from the environments' own data.

    With an explicit ``env=``, a VPC makes the CDK ask AWS for the account's AZs even when it
    is given them, so synth would need credentials. Call this on the App before adding stacks:
    synth stays offline and the templates use exactly the declared AZs. (The loader refuses two
    environments of one account and region with different AZ lists: one would replace the other
    here.)
    """
    for env in environments:
        key = f"availability-zones:account={env.account}:region={env.region}"
        scope.node.set_context(key, list(env.availability_zones))
