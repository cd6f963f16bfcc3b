"""The synth gate: a validation finding in any stage fails synth, not only in top-level stacks."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Stage, Validations
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks

from stable_fargate import ConfigError
from stable_fargate.gate import check_validation_report, validation_findings


def test_a_finding_inside_a_stage_fails_the_gate(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stage = Stage(app, "Prod")
    sns.Topic(Stack(stage, "Platform"), "BareTopic")  # no TLS policy, no KMS: AwsSolutions-SNS2/3
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # In-process synth raises too; under the CDK CLI it does not, hence the gate.
    with contextlib.suppress(Exception):
        app.synth()
    findings = validation_findings(tmp_path)
    assert {f.construct_path for f in findings} == {"Prod/Platform/BareTopic/Resource"}
    with pytest.raises(ConfigError) as error:
        check_validation_report(tmp_path)
    assert "AwsSolutions-SNS3 at Prod/Platform/BareTopic/Resource" in str(error.value)


def test_a_clean_report_or_no_report_passes(tmp_path: Path) -> None:
    check_validation_report(tmp_path)  # no plugin ran: nothing was found
    (tmp_path / "validation-report.json").write_text(json.dumps({"pluginReports": [{"pluginName": "AwsSolutions", "violations": []}]}))
    assert validation_findings(tmp_path) == []


def test_an_unreadable_report_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "validation-report.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"validation-report\.json"):
        check_validation_report(tmp_path)


def test_the_entry_point_fails_on_a_finding_inside_a_stage_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stable_fargate.app import StableApp, run
    from tests.conftest import cdk_context

    def build(app: StableApp) -> None:
        stage = app.environment_stage("prod")
        sns.Topic(Stack(stage, "Platform"), "BareTopic")

    with pytest.raises(SystemExit) as exit_:
        run(build, app=StableApp(context=cdk_context(), outdir=str(tmp_path)))
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("stable_fargate: synth gate: validation findings=")
    assert "AwsSolutions-SNS3 at Prod/Platform/BareTopic/Resource" in err
    assert "Traceback" not in err
