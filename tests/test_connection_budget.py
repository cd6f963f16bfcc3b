"""ConnectionBudget: pure arithmetic, checked against worked examples computed by hand here
(no CDK is loaded: the budget is decided before any construct exists)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from stable_fargate import ConfigError
from stable_fargate.connection_budget import (
    INSTANCE_CLASS_MEMORY_GIB,
    INSTANCE_CLASS_MEMORY_SHARE,
    BudgetLine,
    ConnectionBudget,
    budget_table,
    default_max_connections,
    nominal_max_connections,
    proxy_limit,
    rollout_tasks,
)

GIB = 1_073_741_824


def budget(*lines: BudgetLine, max_connections: int = 811, percent: int = 80, reserved: int = 5,
           instance_class: str | None = "db.m7g.large") -> ConnectionBudget:
    return ConnectionBudget(
        database="portfolio", environment="prod", max_connections=max_connections, max_connections_source="derived",
        max_connections_percent=percent, reserved=reserved, lines=lines, instance_class=instance_class,
        where={"pools": "environments.prod.databases.portfolio.pools.<service>",
               "max_tasks": "environments.prod.services.<service>.max_tasks",
               "instance_class": "environments.prod.databases.portfolio.instance_class"},
    )


API = BudgetLine("portfolio-api", "web", pool_size=10, max_tasks=12, maximum_percent=200)
IMPORT = BudgetLine("portfolio-import", "worker", pool_size=5, max_tasks=20, maximum_percent=200)
RECONCILIATION = BudgetLine("reconciliation", "job", pool_size=4, max_tasks=2, maximum_percent=None)


def test_the_module_loads_no_cdk() -> None:
    source = Path(__file__).resolve().parent.parent / "stable_fargate" / "connection_budget.py"
    imported = {n.module for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.split(".")[0] in {"aws_cdk", "constructs", "jsii", "cdk_nag"}}


@pytest.mark.parametrize(
    ("instance_class", "expected", "nominal"),
    [
        # 0.9 x 4 GiB = 3,865,470,566 bytes / 9,531,392 = 405.6 -> 405 (nominal: 4,294,967,296 / 9,531,392 = 450.6 -> 450)
        ("db.t4g.medium", 405, 450),
        # 0.9 x 8 GiB = 7,730,941,132 / 9,531,392 = 811.1 -> 811 (nominal 901)
        ("db.m7g.large", 811, 901),
        # 0.9 x 16 GiB = 15,461,882,265 / 9,531,392 = 1622.2 -> 1622 (nominal 1802)
        ("db.r7g.large", 1622, 1802),
        # 0.9 x 64 GiB / 9,531,392 = 6488 -> LEAST(.., 5000)
        ("db.r7g.2xlarge", 5000, 5000),
    ],
)
def test_max_connections_from_the_instance_class(instance_class: str, expected: int, nominal: int) -> None:
    assert default_max_connections(instance_class) == expected
    assert nominal_max_connections(instance_class) == nominal


def test_the_reading_and_the_table() -> None:
    assert INSTANCE_CLASS_MEMORY_SHARE == 0.9
    assert INSTANCE_CLASS_MEMORY_GIB["db.m7g.large"] == 8 and INSTANCE_CLASS_MEMORY_GIB["db.r6g.16xlarge"] == 512
    assert min(INSTANCE_CLASS_MEMORY_GIB.values()) == 4  # classes under 4 GiB must declare max_connections
    assert default_max_connections("db.t4g.micro") is None and default_max_connections("db.x2g.large") is None


def test_proxy_limit_and_rollout_surge() -> None:
    assert proxy_limit(1000, 95) == 950  # AWS's own example
    assert proxy_limit(811, 80) == 648  # 648.8, rounded down
    assert rollout_tasks(12, 200) == 24
    assert rollout_tasks(5, 150) == 8  # 7.5 tasks: count 8
    assert rollout_tasks(3, 100) == 3


def test_the_sample_prod_budget_by_hand() -> None:
    # portfolio-api 12 x 200 % = 24 tasks x 10 = 240; portfolio-import 20 x 200 % = 40 x 5 = 200;
    # reconciliation one run x 4 = 4; reserved 5: 449 <= 811 x 80 % = 648.
    prod = budget(API, IMPORT, RECONCILIATION)
    assert [line.connections for line in prod.lines] == [240, 200, 4]
    assert (prod.services_total, prod.total, prod.limit, prod.headroom, prod.fits) == (444, 449, 648, 199, True)
    prod.check()  # fits: nothing raised


def test_a_job_counts_one_run_whatever_its_max_tasks() -> None:
    job = BudgetLine("reconciliation", "job", pool_size=4, max_tasks=50, maximum_percent=None)
    assert (job.tasks, job.connections, job.tasks_text) == (1, 4, "1 (one run at a time)")


def test_over_budget_lists_every_contribution_the_total_the_limit_and_the_fix() -> None:
    # portfolio-import at 40 tasks: 40 x 200 % = 80 x 5 = 400; 240 + 400 + 4 + 5 = 649 > 648.
    wide_import = BudgetLine("portfolio-import", "worker", pool_size=5, max_tasks=40, maximum_percent=200)
    over = budget(API, wide_import, RECONCILIATION)
    assert (over.total, over.limit, over.fits) == (649, 648, False)
    with pytest.raises(ConfigError) as info:
        over.check()
    error = info.value
    assert (error.subject, error.field, error.value) == ("database portfolio in prod", "connection budget", "649 connections")
    message = str(error)
    for row in (
        "portfolio-api     web     12 max_tasks x 200 % = 24     10          240",
        "portfolio-import  worker  40 max_tasks x 200 % = 80      5          400",
        "reconciliation    job     1 (one run at a time)          4            4",
        "reserved                  migrations, operators                       5",
        "total                                                               649",
        "limit                     811 max_connections x 80 %                648",
    ):
        assert row in message, message
    assert "environments.prod.databases.portfolio.pools.<service>" in message
    assert "environments.prod.services.<service>.max_tasks" in message
    # The smallest class of the family that holds 649: db.m7g.xlarge (1622 x 80 % = 1297).
    assert "environments.prod.databases.portfolio.instance_class: db.m7g.xlarge fits" in message


def test_no_class_of_the_table_fits_says_declare() -> None:
    huge = BudgetLine("batch", "worker", pool_size=1000, max_tasks=5000, maximum_percent=200)
    over = budget(huge)
    assert over.smallest_class_that_fits() is None
    with pytest.raises(ConfigError, match="or declare max_connections"):
        over.check()


def test_reserved_alone_must_fit() -> None:
    with pytest.raises(ConfigError, match="connection budget"):
        budget(max_connections=10, percent=10, reserved=5).check()  # limit 1


@pytest.mark.parametrize(
    ("line", "field", "fix"),
    [
        (lambda: BudgetLine("api", "web", pool_size=0, max_tasks=2, maximum_percent=200), "pool_size", "at least 1"),
        (lambda: BudgetLine("api", "web", pool_size=-3, max_tasks=2, maximum_percent=200), "pool_size", "at least 1"),
        (lambda: BudgetLine("api", "web", pool_size=5, max_tasks=0, maximum_percent=200), "max_tasks", "at least one task"),
        (lambda: BudgetLine("api", "web", pool_size=5, max_tasks=2, maximum_percent=50), "maximum_percent", "at least 100"),
    ],
)
def test_bad_lines_are_refused(line: object, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        line()  # type: ignore[operator]
    assert info.value.field == field and fix in info.value.fix


def test_a_service_counted_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="connect each service once"):
        budget(API).with_line(API)


def test_the_table_and_the_record() -> None:
    prod = budget(API, IMPORT, RECONCILIATION)
    assert prod.summary() == "prod / portfolio: 449 of 648 connections (199 to spare)"
    assert budget_table([prod]).splitlines()[0] == prod.summary()
    record = prod.to_json()
    assert (record["limit"], record["total"], record["headroom"], record["max_connections_percent"]) == (648, 449, 199, 80)
    assert record["services"][0] == {
        "service": "portfolio-api", "kind": "web", "max_tasks": 12, "maximum_percent": 200, "tasks": 24, "pool_size": 10,
        "connections": 240,
    }
    assert "maximum_percent" not in record["services"][2] and record["services"][2]["tasks"] == 1
    assert GIB == 2**30
