"""Replay speed: a 7-day trace at one-minute resolution for 50 queue workers (`make bench-review`).

The workers are the queue workers of the sample app's snapshots (Dev, Staging and Prod
portfolio-import) and of the aws_ecs_patterns fixture, taken in turn, each replaying its own
7 days of the built-in fintech day (a different Poisson seed per worker). Prints the best of
three runs; asserts nothing (shared machines are noisy).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from stable_fargate.review.replay import ReplaySettings, replay
from stable_fargate.review.services import Service, load_stability_model
from stable_fargate.review.traces import MINUTES_PER_DAY, Trace, fintech_day

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 50
DAYS = 7
RUNS = 3


def workers() -> list[Service]:
    found = []
    for source in (ROOT / "tests" / "__snapshots__" / "test_snapshots", ROOT / "tests" / "fixtures" / "patterns"):
        found += [s for env in load_stability_model(source).environments for s in env.services if s.kind == "worker"]
    return found


def main() -> None:
    kinds = workers()
    traces = []
    for i in range(WORKERS):
        days = fintech_day(DAYS, seed=1000 + i)
        traces.append(Trace(f"seed {1000 + i}", days.arrivals[MINUTES_PER_DAY:]))  # 7 days, no warm-up
    settings = ReplaySettings(processing_seconds=2.0)
    best = best_cpu = float("inf")
    for _ in range(RUNS):
        start, start_cpu = time.perf_counter(), time.process_time()
        for i, trace in enumerate(traces):
            replay(kinds[i % len(kinds)], trace, settings)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    minutes = WORKERS * DAYS * MINUTES_PER_DAY
    print(f"replay: {WORKERS} workers x {DAYS} days at one-minute resolution ({minutes:,} worker-minutes): "
          f"{best:.2f} s wall, {best_cpu:.2f} s CPU (best of {RUNS}), {best / minutes * 1e6:.1f} us per worker-minute")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} (other processes inflate the wall time)")
    print("workers: " + ", ".join(f"{s.environment} {s.name}" for s in kinds))


if __name__ == "__main__":
    main()
