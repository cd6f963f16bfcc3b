"""Drift beyond task definitions: what surrounds each service, compared across environments.

The fixture pair (tests/fixtures/drift/services: staging and prod, hand-made in the shape CDK
writes) holds a web service (ECS service, target group, HTTPS listener, load balancer, CPU
target tracking), a queue worker (queue and DLQ, capacity providers, a scalable target with
a warm window, a step policy with its alarm, target tracking on metric math) and a nightly
job (EventBridge Scheduler -> Step Functions -> ECS). The two environments differ only where
their data says so: sizing (cpu, memory, min/max tasks, and the warm window and steps that
follow min/max) and production (the load balancer's deletion protection). Each test changes
one setting and expects drift (or a declared difference) exactly there.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stable_fargate.__main__ import main
from stable_fargate.drift_guard import DriftGuard
from stable_fargate.errors import ConfigError
from stable_fargate.review import Declarations, DriftReport, Row, compare, declarations_from_context, model_from_templates
from stable_fargate.review.properties import Bounds, Property, follow_bounds
from tests.conftest import ROOT, SampleApp

FIXTURE = Path(__file__).parent / "fixtures" / "drift" / "services"
PATTERNS = Path(__file__).parent / "fixtures" / "patterns" / "Patterns.template.json"

SIZING = {
    "staging": {"api": {"cpu": 512, "min_tasks": 2, "max_tasks": 4}, "import": {"cpu": 512, "min_tasks": 0, "max_tasks": 5},
                "recon": {"cpu": 512}},
    "prod": {"api": {"cpu": 1024, "min_tasks": 3, "max_tasks": 12}, "import": {"cpu": 1024, "min_tasks": 1, "max_tasks": 20},
             "recon": {"cpu": 1024}},
}


def block(**environments: dict[str, Any]) -> dict[str, Any]:
    """A cdk.json ``stable_fargate`` block for the fixture: sizing in both environments (prod is
    production by its name), plus what each test adds per environment."""
    return {"environments": {env: {"services": SIZING[env], **environments.get(env, {})} for env in ("staging", "prod")}}


DATA = declarations_from_context(block())

Templates = dict[str, dict[str, Any]]


def fixture() -> Templates:
    return {env: json.loads((FIXTURE / f"{env}.template.json").read_text()) for env in ("staging", "prod")}


def resource(templates: Templates, env: str, logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = templates[env]["Resources"][logical_id]["Properties"]
    return found


def drift(templates: Templates, declarations: Declarations | None = DATA) -> DriftReport:
    return compare(model_from_templates({env: {"Services": t} for env, t in templates.items()}), declarations)


def rows(report: DriftReport, service: str) -> dict[str, Row]:
    return {r.property: r for s in report.services if s.service == service for r in s.rows}


def undeclared(report: DriftReport) -> dict[str, list[str]]:
    return {s.service: [r.property for r in s.undeclared] for s in report.services if s.undeclared}


def changed(edit: Callable[[Templates], None]) -> Templates:
    templates = fixture()
    edit(templates)
    return templates


# --- the pair as it is: only declared differences ----------------------------------------------


def test_the_pair_differs_only_where_its_data_declares() -> None:
    report = drift(fixture())
    assert not report.has_undeclared, undeclared(report)
    declared = {s.service: sorted(r.property for r in s.declared) for s in report.services}
    assert declared == {
        "api": ["cpu", "load balancer deletion protection", "memory", "scaling max tasks", "scaling min tasks"],
        "import": ["cpu", "memory", "scaling max tasks", "scaling min tasks", "scaling schedule WarmEnd min tasks",
                   "scaling schedule WarmStart min tasks", "step ImportBurst steps"],
        "recon": ["cpu", "memory"],
    }
    api, worker, job = rows(report, "api"), rows(report, "import"), rows(report, "recon")
    assert api["scaling max tasks"].declaration == "max_tasks"
    assert api["load balancer deletion protection"].declaration == "production"
    assert worker["step ImportBurst steps"].values["staging"] == "[0, 2): +1; [2, 3): +2; [3, 4): +3; [4, 5): +4; [5, ∞): +5"
    # Every family of settings is read, and the same in both environments.
    for found, name, value in [
        (api, "deployment alarms", "on, rollback: 1 (ApiErrorsAlarm)"),
        (api, "grace period", "75"),
        (api, "target group health check path", "/health"),
        (api, "target group deregistration delay", "30"),
        (api, "listener 443/HTTPS TLS policy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
        (api, "target tracking Cpu scale-out cooldown", "60"),
        (worker, "capacity providers", "FARGATE weight 1, FARGATE_SPOT weight 4"),
        (worker, "capacity provider base", "FARGATE 1"),
        (worker, "step ImportBurst cooldown", "180"),
        (worker, "step ImportBurst alarm", "GreaterThanThreshold 0, 1 of 1 periods, missing data notBreaching"),
        (worker, "target tracking ImportBacklog metric", None),
        (worker, "queue visibility timeout", "40"),
        (worker, "queue max receives", "5"),
        (worker, "dead-letter queue retention", "1209600"),
        (job, "schedule time zone", "Europe/London"),
        (job, "schedule retry attempts", "3"),
        (job, "orchestrator timeout", "4500"),
        (job, "orchestrator Run timeout", "3600"),
    ]:
        assert found[name].status == "same", name
        if value is not None:
            assert found[name].values["prod"] == value, name


# --- the four cases of the issue ----------------------------------------------------------------


def test_a_cooldown_that_differs_is_drift() -> None:
    def cooldown(t: Templates) -> None:
        resource(t, "prod", "ImportBurst0A1B2C3D")["StepScalingPolicyConfiguration"]["Cooldown"] = 60

    report = drift(changed(cooldown))
    assert undeclared(report) == {"import": ["step ImportBurst cooldown"]}
    assert dict(rows(report, "import")["step ImportBurst cooldown"].values) == {"staging": "180", "prod": "60"}
    # without any data too: a cooldown is nobody's to choose per environment
    assert undeclared(drift(changed(cooldown), None)) == {"import": ["step ImportBurst cooldown"]}


def test_max_tasks_that_differs_with_sizing_declared_is_declared() -> None:
    """Both environments as prod, but staging runs at most 8 tasks: declared by its sizing."""
    templates = fixture()
    templates["staging"] = copy.deepcopy(templates["prod"])
    resource(templates, "staging", "ImportScalingTarget6C7D8E9F")["MaxCapacity"] = 8
    report = drift(templates)
    assert not report.has_undeclared, undeclared(report)
    assert [r.property for r in report.services[1].declared] == ["scaling max tasks"]
    # The same difference where no environment sizes the worker's task count is drift.
    unsized = Declarations(properties={"import": {"staging": frozenset({"cpu", "memory"})}})
    assert undeclared(drift(templates, unsized)) == {"import": ["scaling max tasks"]}


def test_queue_visibility_that_differs_is_drift() -> None:
    def visibility(t: Templates) -> None:
        resource(t, "staging", "ImportQueue4C5D6E7F")["VisibilityTimeout"] = 30

    assert undeclared(drift(changed(visibility))) == {"import": ["queue visibility timeout"]}


def test_a_schedule_time_zone_that_differs_is_drift() -> None:
    def time_zone(t: Templates) -> None:
        resource(t, "prod", "ReconSchedule8E9F0A1B")["ScheduleExpressionTimezone"] = "UTC"

    report = drift(changed(time_zone))
    assert undeclared(report) == {"recon": ["schedule time zone"]}
    assert dict(rows(report, "recon")["schedule time zone"].values) == {"staging": "Europe/London", "prod": "UTC"}


# --- more settings that no data declares --------------------------------------------------------

EDITS: dict[str, tuple[str, Callable[[Templates], None], list[str]]] = {
    "health check path": ("api", lambda t: resource(t, "prod", "ApiTargetGroup9C0D1E2F").update(HealthCheckPath="/"),
                          ["target group health check path"]),
    "deregistration delay left to its default (300 s)": (
        "api", lambda t: resource(t, "prod", "ApiTargetGroup9C0D1E2F").pop("TargetGroupAttributes"), ["target group deregistration delay"]),
    "TLS policy": ("api", lambda t: resource(t, "staging", "ApiHttpsListener3A4B5C6D").update(SslPolicy="ELBSecurityPolicy-2016-08"),
                   ["listener 443/HTTPS TLS policy"]),
    "grace period": ("api", lambda t: resource(t, "staging", "ApiService7E8F9A0B").update(HealthCheckGracePeriodSeconds=30),
                     ["grace period"]),
    "circuit breaker": ("api", lambda t: resource(t, "staging", "ApiService7E8F9A0B")["DeploymentConfiguration"].pop(
        "DeploymentCircuitBreaker"), ["circuit breaker"]),
    "deployment alarms": ("api", lambda t: resource(t, "staging", "ApiService7E8F9A0B")["DeploymentConfiguration"].pop("Alarms"),
                          ["deployment alarms"]),
    "ECS Exec": ("api", lambda t: resource(t, "staging", "ApiService7E8F9A0B").update(EnableExecuteCommand=True), ["ECS Exec"]),
    "target value": ("api", lambda t: resource(t, "prod", "ApiScalingTargetCpu6A7B8C9D")[
        "TargetTrackingScalingPolicyConfiguration"].update(TargetValue=70), ["target tracking Cpu target"]),
    "Spot weight": ("import", lambda t: resource(t, "prod", "ImportService2E3F4A5B")["CapacityProviderStrategy"][1].update(Weight=1),
                    ["capacity providers"]),
    "metric math": ("import", lambda t: resource(t, "prod", "ImportBacklog8C9D0E1F")["TargetTrackingScalingPolicyConfiguration"][
        "CustomizedMetricSpecification"]["Metrics"][2].update(Expression="visible / 30 / running"),
        ["target tracking ImportBacklog metric"]),
    "alarm threshold": ("import", lambda t: resource(t, "staging", "ImportBurstAlarm4E5F6A7B").update(Threshold=1),
                        ["step ImportBurst alarm"]),
    "a policy in one environment only": ("import", lambda t: t["prod"]["Resources"].pop("ImportBacklog8C9D0E1F"), [
        "scaling policies", "target tracking ImportBacklog target", "target tracking ImportBacklog metric",
        "target tracking ImportBacklog scale-out cooldown", "target tracking ImportBacklog scale-in cooldown",
        "target tracking ImportBacklog scale-in"]),
    "DLQ max receives": ("import", lambda t: resource(t, "prod", "ImportQueue4C5D6E7F")["RedrivePolicy"].update(maxReceiveCount=3),
                         ["queue max receives"]),
    "queue retention": ("import", lambda t: resource(t, "prod", "ImportQueue4C5D6E7F").update(MessageRetentionPeriod=86400),
                        ["queue retention"]),
    "queue encryption": ("import", lambda t: resource(t, "prod", "ImportQueue4C5D6E7F").pop("KmsMasterKeyId"), ["queue encryption"]),
    "warm window time": ("import", lambda t: resource(t, "prod", "ImportScalingTarget6C7D8E9F")["ScheduledActions"][0].update(
        Schedule="cron(30 8 * * ? *)"), ["scaling schedule WarmStart"]),
    "flexible window": ("recon", lambda t: resource(t, "prod", "ReconSchedule8E9F0A1B").update(
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}), ["schedule flexible window"]),
    "retry policy": ("recon", lambda t: resource(t, "prod", "ReconSchedule8E9F0A1B")["Target"].pop("RetryPolicy"),
                     ["schedule retry attempts", "schedule max event age"]),
    "orchestrator timeout": ("recon", lambda t: _set_state_timeout(t, "staging", 1800), ["orchestrator Run timeout"]),
}


def _set_state_timeout(templates: Templates, env: str, seconds: int) -> None:
    parts = resource(templates, env, "ReconOrchestrator6E7F8A9B")["DefinitionString"]["Fn::Join"][1]
    parts[0] = parts[0].replace('"TimeoutSeconds":3600', f'"TimeoutSeconds":{seconds}')


@pytest.mark.parametrize("case", sorted(EDITS))
def test_a_setting_that_differs_without_data_declaring_it_is_drift(case: str) -> None:
    service, edit, expected = EDITS[case]
    assert undeclared(drift(changed(edit))) == {service: expected}


# --- values that follow the scaling bounds ------------------------------------------------------


def test_a_warm_window_must_be_one_value_clamped_into_each_environment() -> None:
    """Staging warms to 5 (its maximum) and prod to 8: one window of 8, clamped. Staging
    warming to 3, under its maximum, is another window: drift."""
    def warm(t: Templates) -> None:
        resource(t, "staging", "ImportScalingTarget6C7D8E9F")["ScheduledActions"][0]["ScalableTargetAction"]["MinCapacity"] = 3

    assert rows(drift(fixture()), "import")["scaling schedule WarmStart min tasks"].status == "declared"
    assert undeclared(drift(changed(warm))) == {"import": ["scaling schedule WarmStart min tasks"]}


def test_steps_may_differ_only_beyond_an_environment_maximum() -> None:
    def steeper(t: Templates) -> None:
        resource(t, "staging", "ImportBurst0A1B2C3D")["StepScalingPolicyConfiguration"]["StepAdjustments"][1]["ScalingAdjustment"] = 3

    assert undeclared(drift(changed(steeper))) == {"import": ["step ImportBurst steps"]}


def bounded(kind: Any, value: Any, low: int, high: int) -> Property:
    return Property(str(value), "min_tasks", bounds=Bounds(kind, value, low, high))


@pytest.mark.parametrize(
    ("cells", "follows"),
    [
        ([(2, 0, 2), (5, 0, 5), (10, 1, 20)], True),    # one window of 10 (or more), clamped
        ([(0, 0, 2), (0, 0, 5), (1, 1, 20)], True),     # back to each minimum
        ([(3, 0, 5), (8, 1, 20)], False),               # 3 is under staging's maximum: another window
        ([(5, 0, 5), (4, 1, 20)], False),
        ([(4, 4, 4), (9, 1, 20)], True),                # a fixed-size environment fits any window
    ],
)
def test_follow_bounds_for_capacities(cells: list[tuple[int, int, int]], follows: bool) -> None:
    assert follow_bounds([bounded("capacity", v, lo, hi) for v, lo, hi in cells]) is follows


def test_follow_bounds_for_steps() -> None:
    def steps(top: int, adjustment: str = "ChangeInCapacity") -> tuple[str, tuple[tuple[float | None, float | None, float], ...]]:
        found: list[tuple[float | None, float | None, float]] = [(0.0, 2.0, 1.0)]
        found += [(float(n), float(n + 1), float(n)) for n in range(2, top)]
        return adjustment, (*found, (float(top), None, float(top)))

    assert follow_bounds([bounded("steps", steps(2), 0, 2), bounded("steps", steps(20), 1, 20)])
    assert follow_bounds([bounded("steps", steps(2, "ExactCapacity"), 0, 2), bounded("steps", steps(20, "ExactCapacity"), 1, 20)])
    assert not follow_bounds([bounded("steps", steps(3), 0, 2), bounded("steps", steps(20, "ExactCapacity"), 1, 20)])
    percent = ("PercentChangeInCapacity", ((0.0, None, 50.0),))
    assert not follow_bounds([bounded("steps", percent, 0, 2), bounded("steps", ("PercentChangeInCapacity", ((0.0, None, 100.0),)), 0, 20)])


# --- environment-wide declarations: release and production --------------------------------------


def blue_green(t: Templates) -> None:
    config = resource(t, "prod", "ApiService7E8F9A0B")["DeploymentConfiguration"]
    config.update(Strategy="BLUE_GREEN", BakeTimeInMinutes=10)


def test_a_release_strategy_differs_where_release_data_declares_it() -> None:
    templates = changed(blue_green)
    assert undeclared(drift(templates)) == {"api": ["deployment strategy", "deployment bake time (min)"]}
    declared = drift(templates, declarations_from_context(block(prod={"release": {"strategy": "blue_green", "bake_minutes": 10}})))
    assert not declared.has_undeclared
    api = rows(declared, "api")
    assert (api["deployment strategy"].status, dict(api["deployment bake time (min)"].values)) == (
        "declared", {"staging": None, "prod": "10"})
    # An app without data presumes a release strategy its own, as it presumes sizes.
    assert not drift(templates, None).has_undeclared


def test_release_data_does_not_declare_the_circuit_breaker() -> None:
    def breaker(t: Templates) -> None:
        blue_green(t)
        resource(t, "prod", "ApiService7E8F9A0B")["DeploymentConfiguration"]["DeploymentCircuitBreaker"]["Rollback"] = False

    report = drift(changed(breaker), declarations_from_context(block(prod={"release": {"strategy": "blue_green"}})))
    assert undeclared(report) == {"api": ["circuit breaker"]}


def test_deletion_protection_is_declared_by_production_only() -> None:
    report = drift(fixture(), declarations_from_context(block(prod={"production": False})))
    assert undeclared(report) == {"api": ["load balancer deletion protection"]}
    assert not drift(fixture(), declarations_from_context(block(staging={"production": True}, prod={"production": False}))).has_undeclared


def test_environment_wide_declarations_read_from_cdk_json() -> None:
    read = declarations_from_context(block(staging={"release": {"strategy": "rolling"}}))
    assert read.environment_wide == {"staging": frozenset({"release"}), "prod": frozenset({"production"})}
    assert declarations_from_context(block()).environment_wide == {"staging": frozenset(), "prod": frozenset({"production"})}


def test_a_database_pool_declares_the_pool_key() -> None:
    def pool(t: Templates) -> None:
        for env, size in (("staging", 5), ("prod", 10)):
            task = resource(t, env, "ApiTaskDefinition1A2B3C4D")
            task["ContainerDefinitions"][0]["Environment"] = [{"Name": "DB_POOL_MAX", "Value": str(size)}]

    templates = changed(pool)
    assert undeclared(drift(templates)) == {"api": ["env DB_POOL_MAX"]}
    pools = {env: {"databases": {"portfolio": {"instance_class": "db.t4g.medium", "pools": {"api": n}}}} for env, n in
             (("staging", 5), ("prod", 10))}
    assert not drift(templates, declarations_from_context(block(**pools))).has_undeclared


# --- the command line ----------------------------------------------------------------------------


def write_pair(directory: Path, templates: Templates, data: dict[str, Any]) -> Path:
    out = directory / "cdk.out"
    out.mkdir()
    for env, template in templates.items():
        (out / f"{env}.template.json").write_text(json.dumps(template))
    (directory / "cdk.json").write_text(json.dumps({"context": {"stable_fargate": data}}))
    return out


def test_cli_json_includes_the_new_properties(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = write_pair(tmp_path, fixture(), block())
    assert main(["drift", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    found = {s["service"]: {r["property"]: r for r in s["rows"]} for s in report["services"]}
    assert found["api"]["scaling max tasks"] == {
        "property": "scaling max tasks", "category": "value", "status": "declared", "declaration": "max_tasks",
        "values": {"prod": "12", "staging": "4"}, "notes": {},
    }
    assert found["api"]["target group health check interval"]["status"] == "same"
    assert found["import"]["step ImportBurst cooldown"]["category"] == "structural"
    assert found["import"]["queue visibility timeout"]["values"] == {"prod": "40", "staging": "40"}
    assert found["recon"]["schedule time zone"]["values"] == {"prod": "Europe/London", "staging": "Europe/London"}
    assert found["api"]["load balancer deletion protection"]["declaration"] == "production"


def test_cli_marks_a_cooldown_that_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    templates = fixture()
    resource(templates, "staging", "ApiScalingTargetCpu6A7B8C9D")["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] = 60
    out = write_pair(tmp_path, templates, block())
    assert main(["drift", str(out)]) == 1
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if "scale-in cooldown" in line)
    assert line.split() == ["!", "target", "tracking", "Cpu", "scale-in", "cooldown", "300", "60"]
    assert "UNDECLARED DRIFT: 1 properties in api (marked !)." in text


# --- any CDK app: aws_ecs_patterns ---------------------------------------------------------------


def test_patterns_services_are_compared_too() -> None:
    """The aws_ecs_patterns fixture as two environments: its queue worker's CPU target tracking
    cooldown changed in one is drift; a larger maximum is a declared size (no data: presumed)."""
    template = json.loads(PATTERNS.read_text())
    prod = copy.deepcopy(template)
    for logical_id, found in prod["Resources"].items():
        if found["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget":
            found["Properties"]["MaxCapacity"] = 40
        if found["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy" and "CpuScaling" in logical_id:
            found["Properties"]["TargetTrackingScalingPolicyConfiguration"]["ScaleOutCooldown"] = 60
    report = drift({"dev": template, "prod": prod}, None)
    assert undeclared(report) == {"patterns-import": ["target tracking CpuScaling scale-out cooldown"]}
    worker = rows(report, "patterns-import")
    assert worker["scaling max tasks"].status == "declared"
    assert worker["queue max receives"].values["dev"] == "3"
    assert rows(report, "patterns-api")["target group deregistration delay"].values["dev"] == "300"


# --- the synth-time guard on the sample app ------------------------------------------------------


def test_the_sample_app_compares_what_surrounds_its_services(sample_app: SampleApp, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["drift", str(sample_app.outdir), "--config", str(ROOT / "cdk.json"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, [r for s in report["services"] for r in s["rows"] if r["status"] == "undeclared"]
    found = {s["service"]: {r["property"]: r["status"] for r in s["rows"]} for s in report["services"]}
    assert found["portfolio-api"]["scaling max tasks"] == "declared"
    assert found["portfolio-api"]["load balancer deletion protection"] == "declared"
    assert found["portfolio-api"]["target group health check path"] == "same"
    assert found["portfolio-import"]["scaling schedule Warm0Start min tasks"] == "declared"
    assert found["portfolio-import"]["step PortfolioImportBurst steps"] == "declared"
    assert found["portfolio-import"]["step PortfolioImportBurst cooldown"] == "same"
    assert found["portfolio-import"]["queue visibility timeout"] == "same"
    assert found["reconciliation"]["schedule time zone"] == "same"
    assert found["reconciliation"]["orchestrator Run timeout"] == "same"


def test_the_guard_refuses_a_cooldown_changed_in_one_environment(sample_app: SampleApp) -> None:
    templates = {
        env: {p.name: json.loads(p.read_text()) for p in (sample_app.outdir / f"assembly-{env}").glob("*.template.json")}
        for env in ("Dev", "Staging", "Prod")
    }
    policy = next(
        r for t in templates["Prod"].values() for lid, r in t["Resources"].items() if lid.startswith("PortfolioImportBurst")
        and r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
    )
    policy["Properties"]["StepScalingPolicyConfiguration"]["Cooldown"] = 60
    config = sample_app.config
    with pytest.raises(ConfigError) as info:
        DriftGuard(config=config, parameters=config.parameters).check_templates(templates)
    assert (info.value.subject, info.value.value) == ("portfolio-import", ["step PortfolioImportBurst cooldown"])
    row = [line for line in str(info.value).splitlines() if "cooldown" in line][-1]
    assert row.split() == ["portfolio-import", "step", "PortfolioImportBurst", "cooldown", "180", "180", "60"]
    assert "Cooldowns, health checks, queue and schedule settings" in str(info.value)



# --- any template: a value of any type anywhere reads, it never raises ------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


PROD_PATHS = [p for p in _paths(fixture()["prod"]) if len(p) > 3 and "TaskDefinition" not in p[1]]
"""Every setting of every resource around the task definitions (whose own reading is tested in
test_drift.py: a malformed one is unreadable input)."""
ODD_VALUES = st.sampled_from([
    None, 0, -1, 2.5, True, "", "x", [], {}, [1, "a"], {"Ref": "Nowhere"}, {"Fn::GetAtt": 3},
    {"Fn::Join": ["", [{"Ref": "ImportQueue4C5D6E7F"}]]}, {"Fn::Join": 7}, {"a": {"b": []}},
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PROD_PATHS), value=ODD_VALUES)
def test_any_value_anywhere_around_a_service_reads_without_error(path: tuple[Any, ...], value: Any) -> None:
    """Templates come from any app: an unexpected type in any setting around a service reads as
    text (and usually as drift), never as an exception."""
    templates = fixture()
    target: Any = templates["prod"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    report = drift(templates)
    assert {s.service for s in report.services} == {"api", "import", "recon"}
