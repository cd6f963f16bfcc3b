"""SF-SCALE1..4 on small stacks: cooldowns, maxima, Fargate sizes and Spot capacity."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_applicationautoscaling as aas
from aws_cdk import aws_ecs as ecs

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app


def _tracking(**cooldowns: Any) -> Any:
    def build(stack: Stack) -> None:
        target = builders.scalable_target(stack, builders.service(stack, task=builders.task_definition(stack)))
        builders.target_tracking(stack, target, **cooldowns)

    return build


def scale1_not_ecs(stack: Stack) -> None:
    target = aas.CfnScalableTarget(
        stack, "TableTarget", service_namespace="dynamodb", scalable_dimension="dynamodb:table:ReadCapacityUnits",
        resource_id="table/example", min_capacity=5, max_capacity=50,
    )
    builders.target_tracking(
        stack, target, predefined_metric_specification=aas.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
            predefined_metric_type="DynamoDBReadCapacityUtilization"
        ),
    )


def _maximum(maximum: int) -> Any:
    def build(stack: Stack) -> None:
        builders.scalable_target(stack, builders.service(stack, task=builders.task_definition(stack)), max_capacity=maximum)

    return build


def _size(cpu: str, memory: str) -> Any:
    return lambda stack: builders.task_definition(stack, cpu=cpu, memory=memory)


def _strategy(*entries: tuple[str, int, int]) -> list[ecs.CfnService.CapacityProviderStrategyItemProperty]:
    return [ecs.CfnService.CapacityProviderStrategyItemProperty(capacity_provider=p, base=b, weight=w) for p, b, w in entries]


def _on(*entries: tuple[str, int, int]) -> Any:
    def build(stack: Stack) -> None:
        task = builders.task_definition(stack)
        ecs.CfnService(stack, "Service", task_definition=task.ref, capacity_provider_strategy=_strategy(*entries))

    return build


def scale4_cluster_default_spot(stack: Stack) -> None:
    cluster = ecs.CfnCluster(stack, "Cluster", capacity_providers=["FARGATE", "FARGATE_SPOT"])
    ecs.CfnClusterCapacityProviderAssociations(
        stack, "Providers", cluster=cluster.ref, capacity_providers=["FARGATE", "FARGATE_SPOT"],
        default_capacity_provider_strategy=[
            ecs.CfnClusterCapacityProviderAssociations.CapacityProviderStrategyProperty(capacity_provider="FARGATE_SPOT", weight=1)
        ],
    )
    ecs.CfnService(stack, "Service", cluster=cluster.ref, task_definition=builders.task_definition(stack).ref)


CASES: list[Case] = [
    # SF-SCALE1: target tracking on ECS: in >= 300 s, out <= 120 s (AAS default 300 s both).
    ("Scale1Damped", "SF-SCALE1", False, _tracking(scale_in_cooldown=300, scale_out_cooldown=60)),
    ("Scale1Defaults", "SF-SCALE1", True, _tracking()),
    ("Scale1FastScaleIn", "SF-SCALE1", True, _tracking(scale_in_cooldown=60, scale_out_cooldown=60)),
    ("Scale1SlowScaleOut", "SF-SCALE1", True, _tracking(scale_in_cooldown=300, scale_out_cooldown=180)),
    ("Scale1ScaleInDisabled", "SF-SCALE1", False, _tracking(scale_in_cooldown=0, scale_out_cooldown=60, disable_scale_in=True)),
    ("Scale1NotEcs", "SF-SCALE1", False, scale1_not_ecs),
    # SF-SCALE2: a maximum below ECS's 5,000 tasks-per-service quota.
    ("Scale2Bounded", "SF-SCALE2", False, _maximum(20)),
    ("Scale2JustBelowQuota", "SF-SCALE2", False, _maximum(4999)),
    ("Scale2Unbounded", "SF-SCALE2", True, _maximum(10000)),
    # SF-SCALE3: Fargate's CPU/memory table, units or vCPU/GB.
    ("Scale3Valid", "SF-SCALE3", False, _size("256", "512")),
    ("Scale3ValidUnits", "SF-SCALE3", False, _size("1 vCPU", "2 GB")),
    ("Scale3MemoryTooLarge", "SF-SCALE3", True, _size("256", "4096")),
    ("Scale3MemoryTooSmall", "SF-SCALE3", True, _size("0.5 vCPU", "512")),
    ("Scale3NotACpuSize", "SF-SCALE3", True, _size("384", "1024")),
    # SF-SCALE4: Spot beside an on-demand base or weight.
    ("Scale4SpotWithBase", "SF-SCALE4", False, _on(("FARGATE", 1, 0), ("FARGATE_SPOT", 0, 1))),
    ("Scale4SpotWithWeight", "SF-SCALE4", False, _on(("FARGATE", 0, 1), ("FARGATE_SPOT", 0, 3))),
    ("Scale4SpotOnly", "SF-SCALE4", True, _on(("FARGATE_SPOT", 0, 1))),
    ("Scale4OnDemandZero", "SF-SCALE4", True, _on(("FARGATE", 0, 0), ("FARGATE_SPOT", 0, 1))),
    ("Scale4OnDemandOnly", "SF-SCALE4", False, _on(("FARGATE", 0, 1))),
    ("Scale4ClusterDefaultSpot", "SF-SCALE4", True, scale4_cluster_default_spot),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("scaling"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected
