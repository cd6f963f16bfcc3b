"""The review command end to end, its inputs (model, traces, prices, rollout, cost, diff) and
its refusals: unreadable input gives exit 2 and one line, never a traceback."""

from __future__ import annotations

import ast
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stable_fargate.__main__ import main
from stable_fargate.review.cost import environment_cost, split
from stable_fargate.review.pricing import BUILT_IN, PriceError, load_prices
from stable_fargate.review.rollout import batch_seconds, tasks_per_batch
from stable_fargate.review.services import load_stability_model
from stable_fargate.review.traces import MINUTES_PER_DAY, TraceError, fintech_day, fintech_day_rates, parse_csv_trace
from tests.conftest import ROOT

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"
PATTERNS = Path(__file__).parent / "fixtures" / "patterns"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- The model read from templates -------------------------------------------------------------


def _resource(stack: str, resource_type: str, logical_id: str | None = None) -> dict[str, Any]:
    template = json.loads((SNAPSHOTS / f"test_every_stack_matches_its_snapshot[{stack}].json").read_text())
    return next(r["Properties"] for k, r in template["Resources"].items()
                if r["Type"] == resource_type and logical_id in (None, k))


def test_model_reads_the_sample_snapshots() -> None:
    """Each fact as the template states it (the constructs may change; the reading must follow)."""
    model = load_stability_model(SNAPSHOTS)
    assert [e.name for e in model.environments] == ["dev", "prod", "staging"] and model.grouping == "snapshot"
    prod = model.environment("Prod")
    assert prod is not None
    api, worker = prod.service("portfolio-api"), prod.service("portfolio-import")
    assert api is not None and api.kind == "web"
    assert api.grace_period == _resource("prod-Api", "AWS::ECS::Service")["HealthCheckGracePeriodSeconds"]
    group = _resource("prod-Api", "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert api.target_groups[0].healthy_threshold == group["HealthyThresholdCount"]
    assert api.task is not None and api.task.architecture == "ARM64"
    assert api.task.warm_up == _resource("prod-Api", "AWS::ECS::TaskDefinition")["ContainerDefinitions"][0]["HealthCheck"]["StartPeriod"]
    assert worker is not None and worker.kind == "worker" and worker.queue is not None
    queue = _resource("prod-Workers", "AWS::SQS::Queue", worker.queue.logical_id)
    assert worker.queue.receive_wait == queue.get("ReceiveMessageWaitTimeSeconds", 0)
    dead_letter = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert worker.dead_letter_queue is not None and worker.dead_letter_queue.logical_id == dead_letter
    target = _resource("prod-Workers", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert worker.scaling is not None and (worker.scaling.min_capacity, worker.scaling.max_capacity) == (
        target["MinCapacity"], target["MaxCapacity"])
    strategy = _resource("prod-Workers", "AWS::ECS::Service")["CapacityProviderStrategy"]
    weights = {p["CapacityProvider"]: p.get("Weight", 0) for p in strategy}
    assert worker.spot_share == weights["FARGATE_SPOT"] / sum(weights.values())
    assert worker.scaling.step_policies and all(p.alarms for p in worker.scaling.step_policies)
    assert worker.scaling.target_tracking and worker.scaling.target_tracking[0].queries[-1].expression is not None


def test_model_reads_aws_ecs_patterns_with_aws_defaults() -> None:
    env = load_stability_model(PATTERNS).environments[0]
    api, worker = env.service("patterns-api"), env.service("patterns-import")
    assert api is not None and api.target_groups[0].interval == 30 and api.target_groups[0].healthy_threshold == 5
    assert api.target_groups[0].deregistration_delay == 300 and api.deployment.minimum_healthy_percent == 50
    assert worker is not None and worker.queue is not None and worker.dead_letter_queue is not None
    assert worker.scaling is not None
    assert [p.cooldown for p in worker.scaling.step_policies] == [300, 300]  # none set: AWS's default
    assert worker.scaling.target_tracking[0].predefined == "ECSServiceAverageCPUUtilization"


def test_budget_is_read_from_a_budgets_resource(tmp_path: Path) -> None:
    template = json.loads((PATTERNS / "Patterns.template.json").read_text())
    template["Resources"]["Budget"] = {"Type": "AWS::Budgets::Budget", "Properties": {"Budget": {
        "BudgetType": "COST", "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": 250, "Unit": "USD"}}}}
    (tmp_path / "Patterns.template.json").write_text(json.dumps(template))
    env = load_stability_model(tmp_path / "Patterns.template.json").environments[0]
    assert env.monthly_budget is not None and env.monthly_budget.amount == 250
    cost = environment_cost(env, BUILT_IN, region="eu-west-2")
    assert cost.budget == 250 and cost.budget_share_at_max is not None


# --- Rollout and cost arithmetic ------------------------------------------------------------------


def test_rollout_batch_is_the_librarys_formula() -> None:
    # The library's arithmetic: start + warm-up + (threshold + 1) x interval + timeout + drain.
    assert batch_seconds(task_start=60, warm_up=45, healthy_threshold=2, interval=10, timeout=5, drain=30) == 170
    assert batch_seconds(task_start=60, warm_up=0, healthy_threshold=5, interval=30, timeout=5, drain=300) == 545


@pytest.mark.parametrize(("tasks", "minimum", "maximum", "per_batch"), [
    (3, 100, 200, 3), (4, 50, 200, 6), (10, 100, 150, 5), (3, 100, 100, 0), (1, 50, 100, 0),
])
def test_tasks_per_batch(tasks: int, minimum: int, maximum: int, per_batch: int) -> None:
    assert tasks_per_batch(tasks, minimum, maximum) == per_batch


def test_cost_splits_tasks_by_the_capacity_provider_strategy() -> None:
    worker = load_stability_model(SNAPSHOTS).environment("prod").service("portfolio-import")  # type: ignore[union-attr]
    assert worker is not None
    base, spot = worker.on_demand_base, worker.spot_share
    assert split(5, worker) == pytest.approx((base + (5 - base) * (1 - spot), (5 - base) * spot))
    rate = BUILT_IN.rate("eu-west-2", "ARM64", "FARGATE")
    assert rate is not None and rate.task_hour(1, 2) == pytest.approx(0.03725 + 2 * 0.00409)


def test_price_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "prices.json"
    good.write_text(json.dumps({"source": "invoice", "read_on": "2026-01-01",
                                "prices": {"eu-west-2": {"ARM64": {"FARGATE": [0.03, 0.003]}}}}))
    table = load_prices(good)
    assert table.rate("eu-west-2", "arm64", "FARGATE") is not None and table.read_on == "2026-01-01"
    for bad in ({"prices": []}, {"prices": {"r": {"ARM64": {"FARGATE": [1]}}}}, {"prices": {"r": {"ARM64": {"FARGATE": [-1, 2]}}}}):
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(PriceError):
            load_prices(tmp_path / "bad.json")


# --- Traces ------------------------------------------------------------------------------------------


def test_fintech_day_has_its_three_named_parts() -> None:
    rates = fintech_day_rates()
    assert rates[2 * 60 + 10] > 200 and rates[8 * 60 + 40] > 300 and 0 < rates[12 * 60] < 10 and rates[23 * 60] == 0
    day = fintech_day()
    assert day.minutes == 2 * MINUTES_PER_DAY and day.warm_up_minutes == MINUTES_PER_DAY
    assert day.arrivals == fintech_day().arrivals  # the same draws every run


def test_csv_trace_by_minute_and_by_time() -> None:
    assert parse_csv_trace("minute,messages\n0,3\n2,5\n").arrivals == (3.0, 0.0, 5.0)
    by_time = parse_csv_trace("time,messages\n2025-03-03T08:00,1\n2025-03-03T08:03,2\n")
    assert by_time.arrivals == (1.0, 0.0, 0.0, 2.0)


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("min,msg\n0,1\n", "header"),
    ("minute,messages\n", "no minutes"),
    ("minute,messages\nx,1\n", "line 2: minute"),
    ("minute,messages\n0,-1\n", "line 2: messages"),
    ("minute,messages\n0,nan\n", "line 2: messages"),
    ("minute,messages\n0,1,2\n", "line 2: expected 2"),
    ("minute,messages\n3,1\n2,1\n", "line 3: time must go forward"),
    ("time,messages\nyesterday,1\n", "ISO 8601"),
    ("time,messages\n2025-03-03T08:00:30,1\n", "whole minute"),
    (f"minute,messages\n{50_000},1\n", "longer than"),
])
def test_malformed_traces_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(TraceError, match=message) as info:
        parse_csv_trace(text)
    assert "\n" not in str(info.value)


# --- The command ----------------------------------------------------------------------------------


def test_review_command_writes_markdown_json_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "review", str(PATTERNS), "--out", str(tmp_path), "--processing-time", "2")
    assert code == 0 and err == ""
    assert out.startswith("# Stability review") and "## Rollout timeline" in out and "no budget declared" in out
    assert {p.name for p in tmp_path.iterdir()} >= {"report.md", "report.json", "rollout.png", "cost.png",
                                                    "replay-Patterns-patterns-import.png"}
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["workers"][0]["service"] == "patterns-import" and data["prices"]["source"].startswith("https://aws.amazon.com/")
    assert (tmp_path / "rollout.png").read_bytes()[:4] == b"\x89PNG"


def test_review_json_strict_and_a_csv_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text("minute,messages\n" + "".join(f"{m},{500 if 10 <= m < 40 else 0}\n" for m in range(120)))
    code, out, _ = run(capsys, "review", str(PATTERNS), "--out", str(tmp_path / "o"), "--no-charts", "--json",
                       "--trace", str(trace), "--processing-time", "2", "--acceptable-latency", "60", "--strict")
    data = json.loads(out)
    assert data["workers"][0]["trace"] == "trace.csv"
    assert code == (1 if data["findings"] else 0)


def test_review_with_base_reports_what_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = tmp_path / "head"
    shutil.copytree(PATTERNS, head)
    template = json.loads((head / "Patterns.template.json").read_text())
    template["Resources"]["ApiServiceD5B4A50A"]["Properties"]["HealthCheckGracePeriodSeconds"] = 110
    template["Resources"]["ImportQueueProcessingFargateServiceTaskCountTarget7C2D186D"]["Properties"]["MaxCapacity"] = 30
    (head / "Patterns.template.json").write_text(json.dumps(template))
    code, out, _ = run(capsys, "review", str(head), "--base", str(PATTERNS), "--out", str(tmp_path / "o"), "--no-charts",
                       "--processing-time", "2")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("- Patterns ")]
    assert any("patterns-api: grace 60 s -> 110 s" in line for line in lines)
    assert any("patterns-import:" in line and "capacity 0-20 -> 0-30" in line and "max monthly cost $" in line and "(+50%)" in line
               for line in lines)


def test_review_against_the_committed_snapshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "review", str(SNAPSHOTS), "--base", str(SNAPSHOTS), "--out", str(tmp_path), "--no-charts",
                       "--days", "1", "--processing-time", "portfolio-import=2")
    assert code == 0 and "No change in rollout, scaling, queues or cost." in out


def _deep(path: Path) -> Path:
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


BAD_INPUT: dict[str, Callable[[Path], list[str]]] = {
    "missing assembly": lambda d: [str(d / "nope")],
    "NUL byte in the assembly path": lambda d: [str(d) + "/a\0b"],
    "NUL byte in a manifest's template file name": lambda d: [str(_manifest_with(d, "S\u0000.template.json"))],
    "deeply nested template": lambda d: [str(_deep(d / "deep.template.json"))],
    "deeply nested manifest": lambda d: [str(_deep(d / "manifest.json").parent)],
    "malformed trace": lambda d: [str(PATTERNS), "--trace", str(_write(d / "t.csv", "minute,messages\n0,lots\n"))],
    "missing trace": lambda d: [str(PATTERNS), "--trace", str(d / "none.csv")],
    "NUL byte in the trace path": lambda d: [str(PATTERNS), "--trace", "t\0.csv"],
    "malformed price file": lambda d: [str(PATTERNS), "--prices", str(_write(d / "p.json", "{"))],
    "missing base": lambda d: [str(PATTERNS), "--base", str(d / "old")],
    "days out of range": lambda d: [str(PATTERNS), "--days", "90"],
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _manifest_with(directory: Path, template_file: str) -> Path:
    manifest = {"version": "48.0.0", "artifacts": {"S": {"type": "aws:cloudformation:stack",
                                                         "properties": {"templateFile": template_file}}}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_unreadable_input_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = BAD_INPUT[case](tmp_path)
    code, _, err = run(capsys, "review", *args, "--out", str(tmp_path / "out"), "--no-charts")
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err and "\0" not in err


@pytest.mark.parametrize("case", ["NUL byte in the assembly path", "NUL byte in a manifest's template file name",
                                  "deeply nested template", "deeply nested manifest"])
def test_drift_refuses_the_same_inputs_in_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "drift", *BAD_INPUT[case](tmp_path), "--no-config")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "\0" not in err


# --- The seam: nothing on the read side imports the CDK or the constructs -----------------------------


READ_SIDE_MODULES = ("stable_fargate.review", "stable_fargate.scaffold")
"""What the read side may import of the library: the scaffold writes files and loads no CDK either
(tests/test_package.py checks at run time that neither loads it)."""

READ_SIDE = [*sorted((ROOT / "stable_fargate" / "review").glob("*.py")), ROOT / "stable_fargate" / "__main__.py"]


@pytest.mark.parametrize("path", READ_SIDE, ids=lambda p: p.name)
def test_read_side_imports_no_cdk(path: Path) -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    forbidden = {m for m in imported if m.split(".")[0] in {"aws_cdk", "constructs", "cdk_nag", "jsii"}
                 or (m.startswith("stable_fargate.") and not m.startswith(READ_SIDE_MODULES))}
    assert not forbidden
