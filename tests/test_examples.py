"""The README's own-app example synthesizes, nag packs on, with the sample data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, cdk_context


def test_own_app_example_synthesizes_nag_clean(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        CDK_CONTEXT_JSON=json.dumps(cdk_context()),
        CDK_OUTDIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "own_app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    template = json.loads((tmp_path / "Payments.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::ECS::Service", "AWS::SQS::Queue", "AWS::Scheduler::Schedule", "AWS::ElasticLoadBalancingV2::LoadBalancer"} <= types
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert [v for p in report["pluginReports"] for v in p["violations"]] == []


def test_readme_shows_the_example_as_it_is() -> None:
    example = (ROOT / "examples" / "own_app.py").read_text()
    code = example[example.index("from aws_cdk import"):]
    assert f"```python\n{code}```" in (ROOT / "README.md").read_text()


def test_readme_shows_the_app_init_writes() -> None:
    scaffold = (ROOT / "stable_fargate" / "scaffold" / "app.py").read_text()
    code = scaffold[scaffold.index("from aws_cdk import"):]
    assert f"```python\n{code}```" in (ROOT / "README.md").read_text()
