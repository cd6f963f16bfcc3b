"""The CDK feature flags the library expects: in this repository's cdk.json, in the app `init`
writes, and warned about at synth when an app leaves one out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stable_fargate import defaults
from stable_fargate.app import StableApp
from tests.conftest import ROOT, cdk_context


def test_the_expected_flags_are_the_measured_ones() -> None:
    values = {flag: value for flag, (value, _) in defaults.EXPECTED_FEATURE_FLAGS.items()}
    assert values == {
        "@aws-cdk/core:defaultCrossStackReferences": "weak",
        "@aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy": True,
        "@aws-cdk/aws-iam:minimizePolicies": True,
    }


@pytest.mark.parametrize("cdk_json", ["cdk.json", "stable_fargate/scaffold/cdk.json"])
def test_cdk_json_sets_every_expected_flag(cdk_json: str) -> None:
    context = json.loads((ROOT / cdk_json).read_text())["context"]
    for flag, (value, _) in defaults.EXPECTED_FEATURE_FLAGS.items():
        assert context.get(flag) == value, flag


def test_no_warning_with_the_flags_and_one_per_missing_flag(tmp_path: Path) -> None:
    assert StableApp(context=cdk_context(), outdir=str(tmp_path / "a"), packs=()).feature_flag_warnings() == []
    context = {k: v for k, v in cdk_context().items() if k != "@aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy"}
    context["@aws-cdk/core:defaultCrossStackReferences"] = "strong"
    (missing, different) = sorted(StableApp(context=context, outdir=str(tmp_path / "b"), packs=()).feature_flag_warnings())
    assert missing == (
        "cdk.json leaves out @aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy; this library expects true: a job's "
        "orchestrator may run only the task definition revision it was deployed with, not any revision of its family."
    )
    assert different.startswith('cdk.json sets @aws-cdk/core:defaultCrossStackReferences to "strong"; this library expects "weak"')
