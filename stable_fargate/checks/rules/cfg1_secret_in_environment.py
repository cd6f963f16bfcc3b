"""SF-CFG1: a plain environment variable whose name looks like a secret.

Every container's Environment names are judged by the library's own rule
(:func:`stable_fargate.config.rules.is_secret_looking`: PASSWORD, SECRET, TOKEN,
CREDENTIAL, PRIVATE_KEY anywhere in the name; KEY, PWD, PASS, APIKEY as a ``_``-separated
part, so MONKEY_MODE stays plain). The value is not read: a secret in a task definition is
readable by anyone who may describe it, and its rotation needs a redeploy in every
environment, so one of them always runs the old value. Names are literals in templates;
nothing here is unknowable.
"""

from __future__ import annotations

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource
from stable_fargate.config.rules import is_secret_looking

RESOURCE_TYPES = (ecs.TASK_DEFINITION,)


def secret_looking_names(task_definition: Resource) -> list[str]:
    return [
        name
        for container in ecs.containers(task_definition)
        for variable in values.as_list(container.get("Environment"))
        if isinstance(name := values.dig(variable, "Name"), str) and is_secret_looking(name)
    ]


def check(task_definition: Resource) -> NagRuleCompliance:
    return NagRuleCompliance.NON_COMPLIANT if secret_looking_names(task_definition) else NagRuleCompliance.COMPLIANT
