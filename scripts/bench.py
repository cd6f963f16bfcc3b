#!/usr/bin/env python3
"""Benchmark: wall time and peak memory of synthesizing the sample app and of the suite.

Prints figures; it asserts nothing (machines here are shared and noisy, so a timed test
would be flaky). Run with `make bench`. Each command runs --runs times; the median wall
time and the largest peak RSS of any single child process are reported.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB of the largest child process) of one run."""
    start = time.perf_counter()
    # A fresh interpreter per run so that ru_maxrss covers this command's children only.
    probe = (
        "import resource, subprocess, sys\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, *command], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(command)}")
    return wall, int(result.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_VERSION_CHECK="true")
    outdir = Path(tempfile.mkdtemp(prefix="bench-cdk-out-"))
    cases = {
        "synth (cdk synth, Registry + Dev/Staging/Prod, nag packs)": [
            str(BIN / "npx"), "--no-install", "cdk", "synth", "--quiet", "--output", str(outdir),
        ],
        "test suite (pytest)": [str(BIN / "pytest"), "-q"],
    }
    print(f"{'case':60} {'median wall s':>14} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
    try:
        for name, command in cases.items():
            walls, peaks = [], []
            for _ in range(args.runs):
                wall, peak = measure(command, env)
                walls.append(wall)
                peaks.append(peak)
            print(f"{name:60} {statistics.median(walls):14.1f} {min(walls):7.1f} {max(walls):7.1f} {max(peaks):13.0f}")
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    print(f"(runs per case: {args.runs}; cores: {os.cpu_count()}; peak RSS is the largest single process, "
          f"ru_maxrss={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB for this script)")


if __name__ == "__main__":
    main()
