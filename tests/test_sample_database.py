"""The sample app's databases, asked of the synthesized templates: every client verifies the
server fully, the proxy admits exactly the services that connect, the budget fits and is
recorded, and raising portfolio-import's max tasks past it fails synth with the itemised message."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stable_fargate import ConfigError
from stable_fargate.app import StableApp
from stable_fargate.review.budgets import connection_budgets
from stable_fargate.review.model import read_assembly
from stacks.app import build_app
from tests.conftest import ROOT, SampleApp, cdk_context, template_json

CONNECTED = ("portfolio-api", "portfolio-import", "reconciliation")


def _templates(sample_app: SampleApp, env: str) -> dict[str, dict[str, Any]]:
    return {stack.node.id: template_json(stack) for name, stack in sample_app.stacks() if name == env}


def test_no_client_is_told_less_than_verify_full(sample_app: SampleApp) -> None:
    """Every container of every synthesized task definition: a PG* connection is verify-full,
    with the system trust store through the proxy."""
    connected = []
    for env, stack in sample_app.stacks():
        for resource in template_json(stack)["Resources"].values():
            if resource["Type"] != "AWS::ECS::TaskDefinition":
                continue
            for container in resource["Properties"]["ContainerDefinitions"]:
                environment = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
                if not any(key.startswith("PG") for key in environment):
                    continue
                connected.append((env, container["Name"]))
                assert environment["PGSSLMODE"] == "verify-full", (env, container["Name"])
                assert environment["PGSSLROOTCERT"] == "system" and environment["PGPORT"] == "5432"
                assert "PGPASSWORD" not in environment  # IAM authentication: no password anywhere
                assert all(s["Name"] != "PGPASSWORD" for s in container.get("Secrets", []))
    assert sorted(connected) == sorted((env, service) for env in ("dev", "staging", "prod") for service in CONNECTED)


def _output_of(value: Any) -> str | None:
    """The output a weak cross-stack reference reads (``Fn::GetStackOutput``)."""
    return value.get("Fn::GetStackOutput", {}).get("OutputName") if isinstance(value, dict) else None


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_proxy_admits_exactly_the_connected_services_and_the_instance_only_the_proxy(sample_app: SampleApp, env: str) -> None:
    templates = _templates(sample_app, env)
    data = templates["Data"]
    groups = {lid for lid, r in data["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"}
    (proxy,) = (r for r in data["Resources"].values() if r["Type"] == "AWS::RDS::DBProxy")
    (proxy_group,) = [g["Fn::GetAtt"][0] for g in proxy["Properties"]["VpcSecurityGroupIds"]]
    (instance_group,) = groups - {proxy_group}
    outputs = {name: o["Value"] for name, o in data.get("Outputs", {}).items()}
    proxy_group_outputs = {name for name, value in outputs.items() if value == {"Fn::GetAtt": [proxy_group, "GroupId"]}}

    admitted: dict[str, list[tuple[str, Any]]] = {proxy_group: [], instance_group: []}
    for stack_name, template in templates.items():
        resources = template["Resources"]
        for group_id, group in resources.items():
            if group["Type"] == "AWS::EC2::SecurityGroup" and group_id in admitted and stack_name == "Data":
                assert "SecurityGroupIngress" not in group["Properties"]  # no inline rule: only the rules counted below
        for rule in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"):
            target = rule["GroupId"]
            if stack_name == "Data" and target in ({"Fn::GetAtt": [proxy_group, "GroupId"]}, {"Fn::GetAtt": [instance_group, "GroupId"]}):
                admitted[target["Fn::GetAtt"][0]].append((stack_name, rule))
            elif _output_of(target) in proxy_group_outputs:
                admitted[proxy_group].append((stack_name, rule))
    # The instance: its proxy only, on the instance's port.
    [(_, instance_rule)] = admitted[instance_group]
    assert instance_rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [proxy_group, "GroupId"]}
    assert (instance_rule["FromPort"], instance_rule["ToPort"]) == (5433, 5433) and "CidrIp" not in instance_rule
    # The proxy: each connected service's own task group, on 5432, and nothing else.
    sources = []
    for stack_name, rule in admitted[proxy_group]:
        assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (5432, 5432, "tcp") and "CidrIp" not in rule
        sources.append((stack_name, _services_using(templates[stack_name], rule["SourceSecurityGroupId"]["Fn::GetAtt"][0])))
    assert sorted(sources) == [("Api", ("portfolio-api",)), ("Workers", ("portfolio-import",)), ("Workers", ("reconciliation",))]


def _services_using(template: dict[str, Any], group_id: str) -> tuple[str, ...]:
    """The containers whose tasks run in ``group_id``: an ECS service's network configuration, or a
    job orchestrator's RunTask (both name the group and the task definition)."""
    resources = template["Resources"]
    tasks = {lid for lid, r in resources.items() if r["Type"] == "AWS::ECS::TaskDefinition"}
    users = [r["Properties"] for r in resources.values() if r["Type"] in ("AWS::ECS::Service", "AWS::StepFunctions::StateMachine")]
    named: set[str] = set()
    for properties in users:
        text = json.dumps(properties)
        if f'"{group_id}"' in text:
            named |= {
                c["Name"] for lid in tasks
                if f'"{lid}"' in text or resources[lid]["Properties"]["Family"] in text  # by Ref, or a job by its family
                for c in resources[lid]["Properties"]["ContainerDefinitions"]
            }
    return tuple(sorted(named))


@pytest.mark.parametrize(("env", "total", "limit", "multi_az"), [("dev", 39, 324, False), ("staging", 139, 324, False),
                                                                 ("prod", 449, 648, True)])
def test_every_environment_fits_its_budget_and_records_it(sample_app: SampleApp, env: str, total: int, limit: int,
                                                          multi_az: bool) -> None:
    stage = sample_app.stages[env]
    budget = stage.data.database.budget
    assert [line.service for line in budget.lines] == list(CONNECTED)
    assert (budget.total, budget.limit, budget.fits) == (total, limit, True)
    (instance,) = (r for r in template_json(stage.data)["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")
    assert instance["Properties"]["MultiAZ"] is multi_az
    assert instance["Metadata"]["stable_fargate"]["connection_budget"] == budget.to_json()


def test_the_app_lists_every_databases_budget_for_synth_to_print(sample_app: SampleApp) -> None:
    budgets = sample_app.app.connection_budgets()  # type: ignore[attr-defined]
    assert [(b.environment, b.total, b.limit) for b in budgets] == [("dev", 39, 324), ("staging", 139, 324), ("prod", 449, 648)]


def test_the_read_side_finds_the_budgets_in_the_assembly(sample_app: SampleApp) -> None:
    found = {(b.environment, b.database): (b.total, b.limit, b.fits) for b in connection_budgets(read_assembly(sample_app.outdir))}
    assert found == {("Dev", "portfolio"): (39, 324, True), ("Staging", "portfolio"): (139, 324, True),
                     ("Prod", "portfolio"): (449, 648, True)}


def _with_import_max_tasks(max_tasks: int) -> dict[str, Any]:
    context = copy.deepcopy(cdk_context())
    context["stable_fargate"]["environments"]["prod"]["services"]["portfolio-import"]["max_tasks"] = max_tasks
    return context


def test_raising_portfolio_imports_max_tasks_past_the_budget_fails_synth_itemised(tmp_path: Path) -> None:
    # 40 tasks x 200 % = 80 x 5 = 400; with portfolio-api's 240, reconciliation's 4 and 5 reserved: 649 > 648.
    app = StableApp(context=_with_import_max_tasks(40), outdir=str(tmp_path))
    with pytest.raises(ConfigError) as info:
        build_app(app)
    message = str(info.value)
    assert message.startswith("database portfolio in prod: connection budget='649 connections' is refused.")
    for row in (
        "portfolio-api     web     12 max_tasks x 200 % = 24     10          240",
        "portfolio-import  worker  40 max_tasks x 200 % = 80      5          400",
        "reconciliation    job     1 (one run at a time)          4            4",
        "reserved                  migrations, operators                       5",
        "total                                                               649",
        "limit                     811 max_connections x 80 %                648",
    ):
        assert row in message, message
    assert "environments.prod.services.<service>.max_tasks" in message and "db.m7g.xlarge fits" in message


def test_cdk_synth_prints_the_refusal_in_one_message(tmp_path: Path) -> None:
    """app.py as the CDK CLI runs it: exit 1 with the itemised budget, no traceback."""
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps(_with_import_max_tasks(40)), CDK_OUTDIR=str(tmp_path))
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert "stable_fargate: database portfolio in prod: connection budget='649 connections' is refused." in result.stderr
    assert "portfolio-import  worker  40 max_tasks x 200 % = 80      5          400" in result.stderr
    assert "Traceback" not in result.stderr
