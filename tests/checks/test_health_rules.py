"""SF-HEALTH1..5 on small L1 stacks: the service, its task definition and its target group
are separate resources, and the rules read them together."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app


def _fast_group(stack: Stack, **props: Any) -> elbv2.CfnTargetGroup:
    """The library's target group: 10 s x 2 to healthy, 5 s timeout, 30 s drain."""
    settings: dict[str, Any] = {
        "health_check_interval_seconds": 10, "healthy_threshold_count": 2, "health_check_timeout_seconds": 5,
        "target_group_attributes": _drain("30"),
    }
    settings.update(props)
    return builders.target_group(stack, **settings)


def _web(stack: Stack, *, start_period: int | None, grace: int | None, group: elbv2.CfnTargetGroup | None = None) -> None:
    task = builders.task_definition(stack, containers=[builders.container(start_period=start_period)])
    builders.service(stack, task=task, group=group or _fast_group(stack), health_check_grace_period_seconds=grace)


def _drain(seconds: str) -> list[elbv2.CfnTargetGroup.TargetGroupAttributeProperty]:
    return [elbv2.CfnTargetGroup.TargetGroupAttributeProperty(key="deregistration_delay.timeout_seconds", value=seconds)]


CASES: list[Case] = [
    # SF-HEALTH1: the load-balanced container declares its warm-up.
    ("Health1Compliant", "SF-HEALTH1", False, lambda s: _web(s, start_period=45, grace=120)),
    ("Health1NoHealthCheck", "SF-HEALTH1", True, lambda s: _web(s, start_period=None, grace=120)),
    ("Health1ExplicitZero", "SF-HEALTH1", False, lambda s: _web(s, start_period=0, grace=120)),
    (
        "Health1NotLoadBalanced", "SF-HEALTH1", False,
        lambda s: builders.service(s, task=builders.task_definition(s)),
    ),
    # SF-HEALTH2: the grace period (ECS default 0) covers the start period.
    ("Health2Compliant", "SF-HEALTH2", False, lambda s: _web(s, start_period=45, grace=120)),
    ("Health2Below", "SF-HEALTH2", True, lambda s: _web(s, start_period=45, grace=30)),
    ("Health2DefaultGrace", "SF-HEALTH2", True, lambda s: _web(s, start_period=45, grace=None)),
    ("Health2NoStartPeriod", "SF-HEALTH2", False, lambda s: _web(s, start_period=None, grace=None)),
    # SF-HEALTH3: healthy threshold x interval, ELB defaults 5 x 30 s.
    ("Health3Compliant", "SF-HEALTH3", False, lambda s: _fast_group(s)),
    ("Health3ElbDefaults", "SF-HEALTH3", True, lambda s: builders.target_group(s)),
    ("Health3ExactlyAMinute", "SF-HEALTH3", False, lambda s: _fast_group(s, health_check_interval_seconds=30, healthy_threshold_count=2)),
    ("Health3InstanceTargets", "SF-HEALTH3", False, lambda s: builders.target_group(s, target_type="instance")),
    # SF-HEALTH4: deregistration delay, ELB default 300 s.
    ("Health4Compliant", "SF-HEALTH4", False, lambda s: _fast_group(s)),
    ("Health4ElbDefault", "SF-HEALTH4", True, lambda s: builders.target_group(s)),
    ("Health4Long", "SF-HEALTH4", True, lambda s: _fast_group(s, target_group_attributes=_drain("180"))),
    ("Health4AtFargateCeiling", "SF-HEALTH4", False, lambda s: _fast_group(s, target_group_attributes=_drain("120"))),
    # SF-HEALTH5: grace >= start + (threshold + 1) x interval + timeout = 45 + 3 x 10 + 5 = 80.
    ("Health5Compliant", "SF-HEALTH5", False, lambda s: _web(s, start_period=45, grace=80)),
    ("Health5WarmUpPlusChecksOnly", "SF-HEALTH5", True, lambda s: _web(s, start_period=45, grace=65)),
    (
        "Health5PatternsDefaults", "SF-HEALTH5", True,  # 0 + 6 x 30 + 5 = 185 > 60
        lambda s: _web(s, start_period=None, grace=60, group=builders.target_group(s)),
    ),
    ("Health5NotLoadBalanced", "SF-HEALTH5", False, lambda s: builders.service(s, task=builders.task_definition(s))),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("health"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected
