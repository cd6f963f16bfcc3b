"""The review's connection-budget section: read from the DB instances' metadata in the
committed snapshots, recomputed from its parts, a finding when over, and lenient with any
other template."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from stable_fargate.__main__ import main
from stable_fargate.review.budgets import connection_budgets
from stable_fargate.review.model import read_assembly

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"
PROD_DATA = SNAPSHOTS / "test_every_stack_matches_its_snapshot[prod-Data].json"


def test_the_committed_snapshots_carry_each_environments_budget() -> None:
    budgets = {b.environment: b for b in connection_budgets(read_assembly(SNAPSHOTS))}
    assert set(budgets) == {"dev", "staging", "prod"}
    prod = budgets["prod"]
    assert (prod.database, prod.instance_class) == ("portfolio", "db.m7g.large")
    assert (prod.max_connections, prod.max_connections_percent) == (811, 80)
    assert [(s.service, s.tasks, s.pool_size, s.connections) for s in prod.shares] == [
        ("portfolio-api", 24, 10, 240), ("portfolio-import", 40, 5, 200), ("reconciliation", 1, 4, 4),
    ]
    assert (prod.reserved, prod.total, prod.limit, prod.headroom, prod.fits) == (5, 449, 648, 199, True)
    assert (budgets["dev"].total, budgets["staging"].total) == (39, 139)


def _data_template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PROD_DATA.read_text())
    return data


def _instance(template: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")


def test_a_hand_edited_total_cannot_hide_an_over_commitment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = copy.deepcopy(_data_template())
    record = _instance(template)["Metadata"]["stable_fargate"]["connection_budget"]
    record["services"][1]["tasks"] = 90  # 90 x 5 = 450 connections; the recorded total still says 449
    (tmp_path / "prod.template.json").write_text(json.dumps(template))
    (budget,) = connection_budgets(read_assembly(tmp_path))
    assert (budget.total, budget.limit, budget.fits) == (699, 648, False)
    code = main(["review", str(tmp_path), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "- prod portfolio: services could open 699 Postgres connections, over the proxy's limit of 648" in out
    assert "| prod | portfolio | **total** |  |  | **699** | 648 (811 x 80 %, db.m7g.large): **over by 51** |" in out
    assert main(["review", str(tmp_path), "--out", str(tmp_path / "out"), "--strict"]) == 1
    capsys.readouterr()


def test_an_instance_without_a_record_and_a_broken_record_read_leniently(tmp_path: Path) -> None:
    template = copy.deepcopy(_data_template())
    instance = _instance(template)
    del instance["Metadata"]
    (tmp_path / "plain.template.json").write_text(json.dumps(template))
    (plain,) = connection_budgets(read_assembly(tmp_path / "plain.template.json"))
    assert (plain.recorded, plain.database, plain.instance_class, plain.fits) == (False, "portfolio", "db.m7g.large", None)
    instance["Metadata"] = {"stable_fargate": {"connection_budget": {"services": [{"tasks": "x"}, 7], "max_connections": "many"}}}
    (tmp_path / "plain.template.json").write_text(json.dumps(template))
    (broken,) = connection_budgets(read_assembly(tmp_path / "plain.template.json"))
    assert (broken.recorded, broken.shares, broken.limit, broken.total) == (True, (), None, 0)


def test_the_json_report_carries_the_budgets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "prod.template.json").write_text(PROD_DATA.read_text())
    assert main(["review", str(tmp_path), "--out", str(tmp_path / "out"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (budget,) = report["connection_budgets"]
    assert (budget["database"], budget["total"], budget["limit"], budget["fits"]) == ("portfolio", 449, 648, True)
    assert [s["connections"] for s in budget["services"]] == [240, 200, 4]
