"""Drift between environments: the comparison engine, the CLI and the synth-time guard.

Three kinds of input: a hand-made drifted pair of templates (tests/fixtures/drift/drifted),
a real three-stage CDK app built with the library's task base (clean and with a key added to
staging only), and malformed input that must give exit 2 and one line, never a traceback.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Stage
from aws_cdk import aws_ecs as ecs

from stable_fargate import ServiceSizing
from stable_fargate.__main__ import main
from stable_fargate.drift_guard import DriftGuard, declarations_for
from stable_fargate.environments import AppConfig, load_app_config
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import ParameterSets
from stable_fargate.review import Declarations, compare, declarations_from_context, load_assembly, model_from_templates
from stable_fargate.review.drift import render
from tests.conftest import ROOT, TaskProbe, cdk_context

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
DRIFTED = FIXTURES / "drifted"
NO_STAGES = FIXTURES / "no-stages"
"""An app without stages: Api-dev and Workers-dev in 111111111111, Api-prod and Workers-prod
in 333333333333 (eu-west-2), as a plain ``cdk synth`` of four top-level stacks writes them."""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- the hand-made drifted pair ------------------------------------------------------------


def test_cli_marks_undeclared_drift_apart_from_declared_differences(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "drift", str(DRIFTED))
    assert code == 1
    lines = out.splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines if line[:1] in ("!", "~")]
    marks = {row[1]: row[0] for row in cells}
    assert marks["env NEW_FLAG"] == "!"
    assert marks["health check command"] == "!"
    assert marks["image tag"] == "~"
    assert "UNDECLARED DRIFT: 2 properties in portfolio-api" in out
    header = next(line for line in lines if line.strip().startswith("property"))
    assert header.split()[1:] == ["prod", "staging"]  # side by side, one column per environment


def test_cli_json_lists_every_row_with_its_status(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "drift", str(DRIFTED), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["undeclared"] == 2
    api = next(s for s in report["services"] if s["service"] == "portfolio-api")
    rows = {r["property"]: r for r in api["rows"]}
    assert rows["env NEW_FLAG"]["status"] == "undeclared"
    assert rows["env NEW_FLAG"]["values"] == {"prod": None, "staging": "1"}
    assert rows["health check command"]["status"] == "undeclared"
    assert rows["cpu"]["status"] == "declared"
    assert rows["ports"]["status"] == "same"
    # the secret ARNs differ only by the environment's account: the same secret reference
    assert rows["secret DATABASE_PASSWORD"]["status"] == "same"
    recon = next(s for s in report["services"] if s["service"] == "reconciliation")
    assert [r["property"] for r in recon["rows"] if r["status"] != "same"] == ["image tag"]


def test_cli_exits_0_when_environments_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DRIFTED / "prod.template.json", tmp_path / "prod.template.json")
    staging = json.loads((DRIFTED / "prod.template.json").read_text())
    staging["Resources"]["ApiTaskDefinition0A1B2C3D"]["Properties"]["Cpu"] = "2048"
    (tmp_path / "staging.template.json").write_text(json.dumps(staging))
    code, out, _ = run_cli(capsys, "drift", str(tmp_path))
    assert code == 0
    assert "No undeclared drift" in out and "~  cpu" in out


def test_cli_all_lists_identical_rows(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "drift", str(DRIFTED), "--all")
    assert "ReadonlyRootFilesystem" in out and "properties identical" not in out


def test_cli_reads_declarations_from_cdk_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a cdk.json beside cdk.out, a value difference counts only if the data declares it."""
    out_dir = tmp_path / "cdk.out"
    shutil.copytree(DRIFTED, out_dir)
    for name in ("staging", "prod"):
        path = out_dir / f"{name}.template.json"
        template = json.loads(path.read_text())
        template["Resources"]["ApiTaskDefinition0A1B2C3D"]["Properties"]["ContainerDefinitions"][0]["Environment"] = [
            {"Name": "LOG_LEVEL", "Value": "debug" if name == "staging" else "info"}
        ]
        path.write_text(json.dumps(template))
    block: dict[str, Any] = {"environments": {"staging": {"services": {"portfolio-api": {}}}, "prod": {"services": {"portfolio-api": {}}}},
             "parameters": {"portfolio-api": {"keys": {"LOG_LEVEL": {"type": "string", "value": "info"}}}}}
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"stable_fargate": block}}))
    _, out, _ = run_cli(capsys, "drift", str(out_dir), "--json")
    rows = {r["property"]: r for r in json.loads(out)["services"][0]["rows"]}
    assert rows["env LOG_LEVEL"]["status"] == "undeclared"  # staging changed it without an override

    block["parameters"]["portfolio-api"]["overrides"] = {"staging": {"LOG_LEVEL": "debug"}}
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"stable_fargate": block}}))
    _, out, _ = run_cli(capsys, "drift", str(out_dir), "--json")
    rows = {r["property"]: r for r in json.loads(out)["services"][0]["rows"]}
    assert rows["env LOG_LEVEL"]["status"] == "declared"

    _, out, _ = run_cli(capsys, "drift", str(out_dir), "--json", "--no-config")
    assert {r["property"]: r for r in json.loads(out)["services"][0]["rows"]}["env LOG_LEVEL"]["status"] == "declared"


# --- an app without stages: environments are deployment targets -----------------------------


def _no_stages_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    out = tmp_path / "cdk.out"
    shutil.copytree(NO_STAGES, out)
    if edit is not None:
        manifest = json.loads((out / "manifest.json").read_text())
        edit(manifest["artifacts"])
        (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_app_without_stages_groups_its_stacks_by_account_and_region(capsys: pytest.CaptureFixture[str]) -> None:
    """Several stacks per environment and no stages: each service is compared between the two
    deployment targets, not reported missing from the other stacks of its own environment."""
    code, out, _ = run_cli(capsys, "drift", str(NO_STAGES), "--no-config", "--json")
    report = json.loads(out)
    assert code == 0, [r for s in report["services"] for r in s["rows"] if r["status"] == "undeclared"]
    assert (report["environments"], report["grouping"]) == (["dev", "prod"], "account/region")
    assert [s["service"] for s in report["services"]] == ["api", "worker"]
    model = load_assembly(NO_STAGES)
    assert (model.services["worker"]["prod"].stack, model.services["worker"]["prod"].account) == ("Workers-prod", "333333333333")


def test_app_without_stages_still_reports_a_service_missing_from_an_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = _no_stages_copy(tmp_path, lambda artifacts: artifacts.pop("Workers-prod"))
    code, out, _ = run_cli(capsys, "drift", str(out_dir), "--no-config", "--json")
    assert code == 1
    worker = next(s for s in json.loads(out)["services"] if s["service"] == "worker")
    assert [(r["property"], r["values"]) for r in worker["rows"] if r["status"] == "undeclared"] == [
        ("task definition", {"dev": "present", "prod": None})
    ]


def test_app_without_stages_names_targets_without_a_common_name_by_account_and_region(tmp_path: Path) -> None:
    def rename(artifacts: dict[str, Any]) -> None:
        artifacts["Workers-dev"]["displayName"] = "Queue-consumers"
        artifacts["Api-dev"]["displayName"] = "Frontdoor"

    model = load_assembly(_no_stages_copy(tmp_path, rename))
    assert model.environments == ("111111111111/eu-west-2", "333333333333/eu-west-2")
    assert not compare(model).has_undeclared


def test_app_without_stages_or_targets_compares_stack_by_stack_without_missing_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Environment-agnostic stacks are no grouping: a service is compared across the stacks
    that hold it, a structural difference is still drift, an absence is not."""
    def agnostic(artifacts: dict[str, Any]) -> None:
        for artifact in artifacts.values():
            artifact["environment"] = "aws://unknown-account/unknown-region"

    out_dir = _no_stages_copy(tmp_path, agnostic)
    code, out, _ = run_cli(capsys, "drift", str(out_dir), "--no-config")
    assert code == 0, out
    assert "each column is a stack" in out
    report = compare(load_assembly(out_dir))
    assert report.grouping == "stack"
    assert [s.environments for s in report.services] == [("Api-dev", "Api-prod"), ("Workers-dev", "Workers-prod")]

    template = json.loads((out_dir / "Api-prod.template.json").read_text())
    template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["PortMappings"][0]["ContainerPort"] = 8080
    (out_dir / "Api-prod.template.json").write_text(json.dumps(template))
    code, out, _ = run_cli(capsys, "drift", str(out_dir), "--no-config")
    assert code == 1 and re.search(r"^!\s+ports\s+3000/tcp\s+8080/tcp$", out, re.MULTILINE)


def test_two_environments_in_one_account_and_region_are_not_merged(tmp_path: Path) -> None:
    """dev and staging sharing an account and region: grouping by target would put one service
    twice into one environment, so each stack stays its own column."""
    def share(artifacts: dict[str, Any]) -> None:
        for artifact in artifacts.values():
            artifact["environment"] = "aws://111111111111/eu-west-2"

    report = compare(load_assembly(_no_stages_copy(tmp_path, share)))
    assert report.grouping == "stack" and not report.has_undeclared
    assert [s.service for s in report.services] == ["api", "worker"]


# --- one environment: nothing compared, and it says so ---------------------------------------


def test_one_environment_says_nothing_was_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    single = DRIFTED / "prod.template.json"
    code, out, _ = run_cli(capsys, "drift", str(single), "--no-config")
    assert code == 0
    assert "Only one environment found (prod): nothing was compared" in out
    assert "No undeclared drift" not in out
    code, out, _ = run_cli(capsys, "drift", str(single), "--no-config", "--json")
    assert code == 0 and json.loads(out)["compared"] is False
    _, out, _ = run_cli(capsys, "drift", str(DRIFTED), "--no-config", "--json")
    assert json.loads(out)["compared"] is True


# --- a reader that stops early ---------------------------------------------------------------


def test_a_closed_pipe_ends_the_output_quietly() -> None:
    """``python -m stable_fargate drift cdk.out | head -1``: the reader is gone before the
    report is written; no traceback, the exit code still says drift."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before anything is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "stable_fargate", "drift", str(DRIFTED), "--no-config"],
            stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, timeout=60, check=False,
        )
    finally:
        os.close(write_end)
    assert result.stderr == b""
    assert result.returncode == 1


# --- malformed input: exit 2, one line, no traceback -------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _manifest(stack_file: str = "S.template.json", **extra: Any) -> str:
    artifact = {"type": "aws:cloudformation:stack", "properties": {"templateFile": stack_file}, **extra}
    return json.dumps({"version": "48.0.0", "artifacts": {"S": artifact}})


def _nested(directory: str) -> str:
    return json.dumps({"artifacts": {"A": {"type": "cdk:cloud-assembly", "properties": {"directoryName": directory}}}})


MALFORMED: dict[str, Callable[[Path], Any]] = {
    "missing directory": lambda d: d / "nope",
    "empty directory": lambda d: d,
    "template not JSON": lambda d: _write(d / "a.template.json", "{not json"),
    "template not an object": lambda d: _write(d / "a.template.json", "[1, 2]"),
    "resources not an object": lambda d: _write(d / "a.template.json", '{"Resources": []}'),
    "task definition without properties": lambda d: _write(
        d / "a.template.json", '{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": 3}}}'
    ),
    "containers not a list": lambda d: _write(
        d / "a.template.json",
        '{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": {"Name": "x"}}}}}',
    ),
    "manifest not JSON": lambda d: _write(d / "manifest.json", "{").parent,
    "manifest artifacts not an object": lambda d: _write(d / "manifest.json", '{"artifacts": []}').parent,
    "manifest names a missing template": lambda d: _write(d / "manifest.json", _manifest()).parent,
    "stack without templateFile": lambda d: _write(
        d / "manifest.json", json.dumps({"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {}}}})
    ).parent,
    "nested assembly without directory": lambda d: _write(
        d / "manifest.json", json.dumps({"artifacts": {"A": {"type": "cdk:cloud-assembly", "properties": {}}}})
    ).parent,
    "binary template": lambda d: (d / "a.template.json").write_bytes(b"\xff\xfe\x00") and d,
    "nested assembly pointing at itself": lambda d: _write(d / "manifest.json", _nested(".")).parent,
    "nested assemblies in a cycle": lambda d: (
        _write(d / "manifest.json", _nested("a")), _write(d / "a" / "manifest.json", _nested("..")),
    ) and d,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_input_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = MALFORMED[case](tmp_path)
    code, out, err = run_cli(capsys, "drift", str(target), "--no-config")
    assert code == 2, out
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("config", "message"),
    [("{", "not valid JSON"), ('{"context": {}}', "no context.stable_fargate"), (None, "cannot read")],
)
def test_bad_config_is_one_line_and_exit_2(
    config: str | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cdk.json"
    if config is not None:
        path.write_text(config)
    code, _, err = run_cli(capsys, "drift", str(DRIFTED), "--config", str(path))
    assert code == 2 and message in err and err.count("\n") == 1


# --- the engine ----------------------------------------------------------------------------


def test_render_reads_intrinsics() -> None:
    assert render({"Ref": "AWS::Region"}) == "${AWS::Region}"
    assert render({"Fn::GetAtt": ["Role", "Arn"]}) == "${Role.Arn}"
    assert render({"Fn::Join": ["", ["a", {"Ref": "B"}, "c"]]}) == "a${B}c"
    assert render({"Fn::ImportValue": "Prod-Platform:Out"}) == "${Import:Prod-Platform:Out}"
    assert render({"Fn::Select": [0, ["x"]]}) == '${Select:[0, ["x"]]}'
    assert render([True, None, 3]) == "[true, null, 3]"


def test_render_keeps_the_variables_of_a_sub() -> None:
    """Two substitutions that differ only in their variables map must not read the same."""
    dev = {"Fn::Sub": ["arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Queue}", {"Queue": "orders"}]}
    prod = {"Fn::Sub": ["arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Queue}", {"Queue": "payments"}]}
    assert render(dev) != render(prod)
    assert render(dev) == 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Queue} where {"Queue": "orders"}'
    assert render({"Fn::Sub": "plain ${AWS::Region}"}) == render({"Fn::Sub": ["plain ${AWS::Region}"]}) == "plain ${AWS::Region}"
    model = model_from_templates({
        env: {"S": {"Resources": {"T": _task("svc", env={"QUEUE_ARN": value})}}} for env, value in (("dev", dev), ("prod", prod))
    })
    row = {r.property: r for r in compare(model, Declarations(properties={"svc": {}})).services[0].rows}["env QUEUE_ARN"]
    assert row.status == "undeclared"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (["a, b"], ["a", "b"]),
        (["true"], [True]),
        (["1"], [1]),
        (["null"], [None]),
        ([{"Ref": "X"}, "y"], ["${X}, y"]),
        ({"k": "a, l: b"}, {"k": "a", "l": "b"}),
    ],
)
def test_render_keeps_lists_and_objects_unambiguous(one: Any, other: Any) -> None:
    assert render(one) != render(other)


def test_a_command_that_differs_only_in_its_list_structure_is_drift() -> None:
    def template(command: list[str]) -> dict[str, Any]:
        task = _task("svc")
        task["Properties"]["ContainerDefinitions"][0]["HealthCheck"] = {"Command": command}
        return {"Resources": {"T": task}}

    model = model_from_templates({
        "dev": {"S": template(["CMD-SHELL", "curl a, b"])},
        "prod": {"S": template(["CMD-SHELL", "curl a", "b"])},
    })
    rows = {r.property: r for r in compare(model).services[0].rows}
    assert rows["health check command"].status == "undeclared"


def _task(name: Any, *, env: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    container = {"Name": name, "Image": "repo/app:v1", "Environment": [{"Name": k, "Value": v} for k, v in (env or {}).items()]}
    return {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [container], **props}}


def test_environment_name_and_import_of_own_stage_compare_equal() -> None:
    model = model_from_templates({
        "Staging": {"S": {"Resources": {"T": _task("svc", env={"BUS": {"Fn::ImportValue": "Staging-Platform:Bus"}})}}},
        "Prod": {"S": {"Resources": {"T": _task("svc", env={"BUS": {"Fn::ImportValue": "Prod-Platform:Bus"}})}}},
    })
    rows = {r.property: r for r in compare(model, Declarations(properties={"svc": {}})).services[0].rows}
    assert rows["env BUS"].status == "same"


def test_service_identity_falls_back_to_the_logical_id() -> None:
    tokens = {"Ref": "Name"}
    model = model_from_templates({"a": {"S": {"Resources": {"MyTask": _task(tokens)}}}})
    assert list(model.services) == ["MyTask"]


def test_two_task_definitions_of_one_service_in_one_environment_are_kept_apart() -> None:
    model = model_from_templates({"a": {"S": {"Resources": {"T1": _task("svc"), "T2": _task("svc")}}}})
    assert sorted(model.services) == ["svc (T1)", "svc (T2)"]


def test_a_service_missing_from_an_environment_is_drift_unless_declared() -> None:
    model = model_from_templates({
        "staging": {"S": {"Resources": {"T": _task("svc"), "U": _task("other")}}},
        "prod": {"S": {"Resources": {"U": _task("other")}}},
    })
    svc = next(s for s in compare(model).services if s.service == "svc")
    assert [(r.property, r.status) for r in svc.undeclared] == [("task definition", "undeclared")]
    declared = Declarations(environments={"svc": frozenset({"staging"})})
    svc = next(s for s in compare(model, declared).services if s.service == "svc")
    assert not svc.undeclared and svc.declared[0].property == "task definition"


def test_an_expected_environment_without_any_task_definition_is_drift() -> None:
    model = model_from_templates({"Staging": {"S": {"Resources": {"T": _task("svc")}}}, "Prod": {"S": {"Resources": {}}}})
    report = compare(model, Declarations(environments={"svc": frozenset({"staging", "prod"})}))
    assert report.environments == ("Staging", "prod")
    assert [(r.property, dict(r.values)) for r in report.services[0].undeclared] == [
        ("task definition", {"Staging": "present", "prod": None})
    ]


def test_data_for_other_environments_adds_no_phantom_column() -> None:
    """A one-stack app whose cdk.json names an environment the assembly does not use."""
    model = model_from_templates({"Payments": {"Payments": {"Resources": {"T": _task("svc")}}}})
    report = compare(model, Declarations(environments={"svc": frozenset({"prod"})}))
    assert report.environments == ("Payments",)
    assert not report.has_undeclared


def test_value_difference_is_drift_when_the_service_has_data_that_does_not_declare_it() -> None:
    model = model_from_templates({
        "dev": {"S": {"Resources": {"T": _task("svc", env={"LOG_LEVEL": "debug"})}}},
        "prod": {"S": {"Resources": {"T": _task("svc", env={"LOG_LEVEL": "info"})}}},
    })
    assert compare(model).services[0].declared[0].property == "env LOG_LEVEL"  # no data: values may differ
    undeclared = compare(model, Declarations(properties={"svc": {"dev": frozenset({"cpu"})}}))
    assert undeclared.services[0].undeclared[0].property == "env LOG_LEVEL"
    declared = compare(model, Declarations(properties={"svc": {"Dev": frozenset({"env:LOG_LEVEL"})}}))
    assert not declared.has_undeclared


# --- the real thing: a three-stage CDK app built with the library's task base ----------------


def synth_sample_tasks(outdir: Path, *, staging_extra: dict[str, str] | None = None) -> tuple[AppConfig, ParameterSets, str]:
    context = cdk_context()
    config = load_app_config(context)
    parameters = config.parameters
    app = App(context=context, outdir=str(outdir))
    for env in config.environments:
        stage = Stage(app, env.stage_name, env=Environment(account=env.account, region=env.region))
        stack = Stack(stage, "Services")
        for service in parameters.services:
            sizing = env.sizing(service)
            port = 3000 if service == "portfolio-api" else None
            task = TaskProbe(
                stack, service, service=service, environment=env, parameters=parameters.resolve(service, env.name),
                sizing=ServiceSizing(cpu=sizing.cpu, memory_mib=sizing.memory_mib),
                image=ImageRef.release(service, env.image_tag(service), registry=config.tooling), port=port,
                health_check=ecs.HealthCheck(command=["CMD-SHELL", f"curl -fsS http://localhost:{port}/health"]) if port else None,
            )
            if env.name == "staging" and service == "portfolio-api":
                for key, value in (staging_extra or {}).items():
                    task.container.add_environment(key, value)
    return config, parameters, app.synth().directory


@pytest.fixture(scope="module")
def clean_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[AppConfig, ParameterSets, str]:
    return synth_sample_tasks(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def drifted_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[AppConfig, ParameterSets, str]:
    return synth_sample_tasks(tmp_path_factory.mktemp("drifted"), staging_extra={"NEW_FLAG": "1"})


def test_guard_passes_the_sample_data_and_reports_its_declared_differences(clean_app: tuple[AppConfig, ParameterSets, str]) -> None:
    config, parameters, directory = clean_app
    report = DriftGuard(config=config, parameters=parameters).check(directory)
    assert report.environments == ("Dev", "Staging", "Prod")
    assert {s.service for s in report.services} == {"portfolio-api", "portfolio-import", "reconciliation"}
    api = next(s for s in report.services if s.service == "portfolio-api")
    assert {r.property for r in api.declared} >= {"cpu", "memory", "image tag", "env LOG_LEVEL", "env REFERENCE_DATA_URL"}
    assert not report.has_undeclared


def test_guard_refuses_a_key_added_to_staging_only_naming_it(drifted_app: tuple[AppConfig, ParameterSets, str]) -> None:
    config, parameters, directory = drifted_app
    with pytest.raises(ConfigError) as info:
        DriftGuard(config=config, parameters=parameters).check(directory)
    error = info.value
    assert error.subject == "portfolio-api" and error.value == ["env NEW_FLAG"]
    row = [line for line in str(error).splitlines() if "env NEW_FLAG" in line][-1]
    assert row.split() == ["portfolio-api", "env", "NEW_FLAG", "(absent)", "1", "(absent)"]
    assert "service" in str(error) and "Staging" in str(error)


def test_guard_refuses_a_value_changed_without_an_override(clean_app: tuple[AppConfig, ParameterSets, str]) -> None:
    config, parameters, directory = clean_app
    templates = {
        env: {p.name: json.loads(p.read_text()) for p in Path(directory, f"assembly-{env}").glob("*.template.json")}
        for env in ("Staging", "Prod")
    }
    task = next(
        r for t in templates["Prod"].values() for r in t["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition" and r["Properties"]["ContainerDefinitions"][0]["Name"] == "portfolio-api"
    )
    port = next(e for e in task["Properties"]["ContainerDefinitions"][0]["Environment"] if e["Name"] == "PORT")
    port["Value"] = "8080"  # PORT has one shared value: no environment declares a difference
    with pytest.raises(ConfigError, match="env PORT"):
        DriftGuard(config=config, parameters=parameters).check_templates(templates)


def test_cli_on_the_synthesized_assembly(
    clean_app: tuple[AppConfig, ParameterSets, str], drifted_app: tuple[AppConfig, ParameterSets, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "drift", clean_app[2], "--config", str(ROOT / "cdk.json"))
    assert code == 0, out
    assert "~  env LOG_LEVEL" in out
    code, out, _ = run_cli(capsys, "drift", drifted_app[2])
    assert code == 1
    assert next(line for line in out.splitlines() if "NEW_FLAG" in line).split() == ["!", "env", "NEW_FLAG", "(absent)", "1", "(absent)"]


def test_cli_and_guard_read_the_same_declarations_from_cdk_json() -> None:
    context = cdk_context()
    config = load_app_config(context)
    typed = declarations_for(config=config, parameters=config.parameters)
    lenient = declarations_from_context(context["stable_fargate"])
    assert typed == lenient


def test_guard_reports_an_unreadable_assembly_as_config_error(tmp_path: Path) -> None:
    context = cdk_context()
    config = load_app_config(context)
    guard = DriftGuard(config=config, parameters=config.parameters)
    with pytest.raises(ConfigError, match="Synthesize the app first"):
        guard.check(tmp_path)


def test_load_assembly_reads_nested_stage_assemblies(clean_app: tuple[AppConfig, ParameterSets, str]) -> None:
    model = load_assembly(clean_app[2])
    task = model.services["portfolio-api"]["Prod"]
    assert (task.account, task.region, task.stack) == ("333333333333", "eu-west-2", "Prod/Services")


# --- the seam: the read side never imports the constructs ------------------------------------

def test_the_drift_guard_imports_no_constructs() -> None:
    """The synth-time drift guard reads templates like the review (whose modules and
    ``__main__`` tests/test_review_cli.py checks): it loads no CDK and no construct module."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "stable_fargate" / "drift_guard.py").read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    forbidden = {m for m in imported if m.split(".")[0] in {"aws_cdk", "constructs", "cdk_nag", "jsii"}
                 or m.startswith(("stable_fargate.services", "stable_fargate.images", "stable_fargate.network"))}
    assert imported and not forbidden


# --- the sample app --------------------------------------------------------------------------


def test_drift_command_on_the_sample_app(sample_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole sample app (Registry + Dev, Staging, Prod, nag packs on) has no undeclared
    drift, and every service of the parameter sets is compared in every environment."""
    model = load_assembly(sample_app.outdir)
    assert model.services, "the sample app builds services; the drift command must see them"
    code, out, _ = run_cli(capsys, "drift", str(sample_app.outdir), "--config", str(ROOT / "cdk.json"), "--json")
    report = json.loads(out)
    assert code == 0, [r for s in report["services"] for r in s["rows"] if r["status"] == "undeclared"]
    assert report["environments"] == ["Dev", "Staging", "Prod"]
    assert {s["service"] for s in report["services"]} == set(cdk_context()["stable_fargate"]["parameters"])
