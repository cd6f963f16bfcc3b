"""SF-ROLL1..3 on small L1 stacks: a compliant and a non-compliant stack per rule, and the
cases the rule reads across resources or cannot know."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_ecs as ecs

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app


def _deployment(**config: Any) -> ecs.CfnService.DeploymentConfigurationProperty:
    return ecs.CfnService.DeploymentConfigurationProperty(**config)


def _minimum(percent: int) -> ecs.CfnService.DeploymentConfigurationProperty:
    return _deployment(minimum_healthy_percent=percent)


def _breaker(enable: Any, rollback: Any) -> ecs.CfnService.DeploymentConfigurationProperty:
    return _deployment(deployment_circuit_breaker=ecs.CfnService.DeploymentCircuitBreakerProperty(enable=enable, rollback=rollback))


def roll1_compliant(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), deployment_configuration=_breaker(True, True))


def roll1_no_breaker(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack))


def roll1_breaker_without_rollback(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), deployment_configuration=_breaker(True, False))


def roll1_code_deploy(stack: Stack) -> None:
    builders.service(
        stack, task=builders.task_definition(stack),
        deployment_controller=ecs.CfnService.DeploymentControllerProperty(type="CODE_DEPLOY"),
    )


def roll1_parameter(stack: Stack) -> None:
    rollback = CfnParameter(stack, "Rollback", type="String")
    builders.service(stack, task=builders.task_definition(stack), deployment_configuration=_breaker(True, rollback.value))


def roll2_compliant(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), desired_count=3, deployment_configuration=_minimum(100))


def roll2_below_full(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), desired_count=2, deployment_configuration=_minimum(50))


def roll2_scaled_from_two(stack: Stack) -> None:
    # No DesiredCount: the scalable target's minimum says the service runs two tasks.
    svc = builders.service(stack, task=builders.task_definition(stack), deployment_configuration=_minimum(50))
    builders.scalable_target(stack, svc, min_capacity=2, max_capacity=6)


def roll2_single_task(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), desired_count=1, deployment_configuration=_minimum(0))


def roll2_ecs_default(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), desired_count=4)


def _alarms(enable: bool, rollback: bool, names: list[str]) -> ecs.CfnService.DeploymentConfigurationProperty:
    return _deployment(alarms=ecs.CfnService.DeploymentAlarmsProperty(alarm_names=names, enable=enable, rollback=rollback))


def roll3_compliant(stack: Stack) -> None:
    builders.service(
        stack, task=builders.task_definition(stack), group=builders.target_group(stack),
        deployment_configuration=_alarms(True, True, ["five-xx"]),
    )


def roll3_no_alarms(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack), group=builders.target_group(stack))


def roll3_alarms_without_rollback(stack: Stack) -> None:
    builders.service(
        stack, task=builders.task_definition(stack), group=builders.target_group(stack),
        deployment_configuration=_alarms(True, False, ["five-xx"]),
    )


def roll3_no_load_balancer(stack: Stack) -> None:
    builders.service(stack, task=builders.task_definition(stack))


CASES: list[Case] = [
    ("Roll1Compliant", "SF-ROLL1", False, roll1_compliant),
    ("Roll1NoBreaker", "SF-ROLL1", True, roll1_no_breaker),
    ("Roll1BreakerWithoutRollback", "SF-ROLL1", True, roll1_breaker_without_rollback),
    ("Roll1CodeDeploy", "SF-ROLL1", False, roll1_code_deploy),
    ("Roll1RollbackFromParameter", "SF-ROLL1", False, roll1_parameter),
    ("Roll2Compliant", "SF-ROLL2", False, roll2_compliant),
    ("Roll2BelowFull", "SF-ROLL2", True, roll2_below_full),
    ("Roll2ScaledFromTwo", "SF-ROLL2", True, roll2_scaled_from_two),
    ("Roll2SingleTask", "SF-ROLL2", False, roll2_single_task),
    ("Roll2EcsDefault", "SF-ROLL2", False, roll2_ecs_default),
    ("Roll3Compliant", "SF-ROLL3", False, roll3_compliant),
    ("Roll3NoAlarms", "SF-ROLL3", True, roll3_no_alarms),
    ("Roll3AlarmsWithoutRollback", "SF-ROLL3", True, roll3_alarms_without_rollback),
    ("Roll3NoLoadBalancer", "SF-ROLL3", False, roll3_no_load_balancer),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("rollout"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected
