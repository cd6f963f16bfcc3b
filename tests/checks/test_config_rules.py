"""SF-CFG1..2 on small stacks: what a task definition's environment says."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack

from tests.checks import builders
from tests.checks.harness import Case, Findings, build_cases, case_ids, run_pack
from tests.conftest import make_app

SECRET_ARN = "arn:aws:secretsmanager:eu-west-2:111111111111:secret:db-AbCdEf"


def _environment(environment: dict[str, str], secrets: dict[str, str] | None = None) -> Any:
    def build(stack: Stack) -> None:
        builders.task_definition(stack, containers=[builders.container(environment=environment, secrets=secrets)])

    return build


CASES: list[Case] = [
    # SF-CFG1: the library's own test of a secret-looking name.
    ("Cfg1PlainValues", "SF-CFG1", False, _environment({"LOG_LEVEL": "info", "MONKEY_MODE": "on", "PORT": "3000"})),
    ("Cfg1Password", "SF-CFG1", True, _environment({"DATABASE_PASSWORD": "hunter2"})),
    ("Cfg1ApiKeyPart", "SF-CFG1", True, _environment({"PAYMENTS_API_KEY": "k"})),
    ("Cfg1SecretByReference", "SF-CFG1", False, _environment({"LOG_LEVEL": "info"}, {"DATABASE_PASSWORD": SECRET_ARN})),
    # SF-CFG2: a Postgres client verifies the server.
    ("Cfg2VerifyFull", "SF-CFG2", False, _environment({"PGHOST": "db.internal", "PGSSLMODE": "verify-full"})),
    ("Cfg2NoSslMode", "SF-CFG2", True, _environment({"PGHOST": "db.internal", "PGDATABASE": "portfolio"})),
    ("Cfg2Require", "SF-CFG2", True, _environment({"PGHOST": "db.internal", "PGSSLMODE": "require"})),
    ("Cfg2ModeOnly", "SF-CFG2", True, _environment({"PGSSLMODE": "prefer"})),
    ("Cfg2ModeFromSecret", "SF-CFG2", False, _environment({"PGHOST": "db.internal"}, {"PGSSLMODE": SECRET_ARN})),
    ("Cfg2NotPostgres", "SF-CFG2", False, _environment({"REDIS_HOST": "cache.internal"})),
]


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    app = make_app(tmp_path_factory.mktemp("config"), context={})
    build_cases(app, CASES)
    return run_pack(app)


@pytest.mark.parametrize(("stack", "rule", "expected", "build"), CASES, ids=case_ids(CASES))
def test_rule(findings: Findings, stack: str, rule: str, expected: bool, build: object) -> None:
    assert (rule in findings.rules_in(stack)) is expected
