"""SF-SCALE3: a Fargate task definition asks for a CPU/memory pair Fargate refuses.

Reads Cpu and Memory of a task definition whose RequiresCompatibilities include FARGATE
(units or ``"1 vCPU"`` / ``"2 GB"`` forms) and checks the pair against the library's table
(:data:`stable_fargate.services._base.FARGATE_MEMORY_MIB`). An invalid pair fails the
deploy minutes in, and only where that environment's size is used. Not applicable to
non-Fargate task definitions and when Cpu or Memory is absent or an intrinsic.
"""

from __future__ import annotations

import re
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource
from stable_fargate.services._base import FARGATE_MEMORY_MIB

RESOURCE_TYPES = (ecs.TASK_DEFINITION,)

CPU_UNITS_PER_VCPU = 1024
MIB_PER_GB = 1024
_WITH_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)\s*$", re.IGNORECASE)


def _amount(value: Any, unit: str, scale: int) -> float | None:
    """``"512"``, ``512`` or ``"0.5 vCPU"`` / ``"1 GB"`` as units or MiB."""
    if isinstance(value, str):
        match = _WITH_UNIT.match(value)
        if match:
            return float(match[1]) * scale if match[2].lower() == unit else None
    return values.number(value)


def check(task_definition: Resource) -> NagRuleCompliance:
    if "FARGATE" not in values.as_list(task_definition.get("RequiresCompatibilities")):
        return NagRuleCompliance.NOT_APPLICABLE
    cpu = _amount(task_definition.get("Cpu"), "vcpu", CPU_UNITS_PER_VCPU)
    memory = _amount(task_definition.get("Memory"), "gb", MIB_PER_GB)
    if cpu is None or memory is None:
        return NagRuleCompliance.NOT_APPLICABLE
    valid = cpu.is_integer() and memory.is_integer() and int(memory) in FARGATE_MEMORY_MIB.get(int(cpu), ())
    return NagRuleCompliance.COMPLIANT if valid else NagRuleCompliance.NON_COMPLIANT
