"""SF-CFG2: a Postgres client connects without verifying the server's certificate.

A container is a Postgres client when its environment sets PGHOST or PGSSLMODE (libpq reads
both). Non-compliant when PGSSLMODE is absent (libpq's default ``prefer`` falls back to
plain text and never checks the certificate) or any value other than ``verify-full``
(``require`` encrypts but accepts any server, ``verify-ca`` does not check the host name).
PGSSLMODE given as a secret or as an intrinsic: not applicable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource

RESOURCE_TYPES = (ecs.TASK_DEFINITION,)

CLIENT_KEYS = frozenset({"PGHOST", "PGSSLMODE"})
REQUIRED_SSL_MODE = "verify-full"


def _verdict(container: Mapping[str, Any]) -> NagRuleCompliance:
    environment = {
        values.dig(v, "Name"): values.dig(v, "Value") for v in values.as_list(container.get("Environment"))
    }
    secrets = {values.dig(s, "Name") for s in values.as_list(container.get("Secrets"))}
    if not CLIENT_KEYS & (set(environment) | secrets):
        return NagRuleCompliance.NOT_APPLICABLE
    if "PGSSLMODE" in secrets:
        return NagRuleCompliance.NOT_APPLICABLE
    mode = environment.get("PGSSLMODE")
    if mode is not None and not isinstance(mode, str):
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT if mode == REQUIRED_SSL_MODE else NagRuleCompliance.NON_COMPLIANT


def check(task_definition: Resource) -> NagRuleCompliance:
    verdicts = {_verdict(c) for c in ecs.containers(task_definition)}
    for verdict in (NagRuleCompliance.NON_COMPLIANT, NagRuleCompliance.COMPLIANT):
        if verdict in verdicts:
            return verdict
    return NagRuleCompliance.NOT_APPLICABLE
