"""PNG charts for the review (matplotlib, Agg backend: no display needed).

matplotlib is imported only when a chart is drawn, so the rest of the read side stays quick
to import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stable_fargate.review.cost import EnvironmentCost
from stable_fargate.review.report import WorkerReview
from stable_fargate.review.rollout import Rollout

DPI = 110
"""Readable in a PR comment without making the PNG large."""


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _hours(result: Any) -> list[float]:
    return [(t - result.warm_up_minutes) / 60 for t in range(result.warm_up_minutes, result.minutes)]


def replay_chart(workers: Sequence[WorkerReview], path: Path, *, labels: Sequence[str] | None = None, title: str | None = None) -> Path:
    """Queue depth, tasks and oldest-message age over the reported window, one line per worker."""
    plt = _pyplot()
    figure, (arrivals_axis, tasks_axis, age_axis) = plt.subplots(3, 1, figsize=(10, 7.5), sharex=True)
    names = labels or [f"{w.result.environment} {w.result.service}" for w in workers]
    first = workers[0].result
    hours = _hours(first)
    arrivals_axis.plot(hours, first.window(first.arrivals), color="0.6", linewidth=0.8, label="messages sent / min")
    for worker, name in zip(workers, names, strict=True):
        result = worker.result
        arrivals_axis.plot(hours, result.window(result.visible), linewidth=1.2, label=f"{name}: visible")
        tasks_axis.step(hours, result.reported(result.running), where="post", linewidth=1.2, label=f"{name}: running")
        ages = [max(a, 1.0) for a in result.window(result.oldest_age)]
        age_axis.plot(hours, ages, linewidth=1.2, label=name)
    goals = {w.goal for w in workers if w.goal is not None} | {w.page_threshold for w in workers if w.page_threshold is not None}
    for goal in sorted(goals):
        age_axis.axhline(goal, color="crimson", linestyle="--", linewidth=0.8)
        age_axis.annotate(f"{goal:g} s", (0, goal), xytext=(2, 2), textcoords="offset points", color="crimson", fontsize=8)
    for name, minute in first.events:
        x = (minute - first.warm_up_minutes) / 60
        for axis in (arrivals_axis, tasks_axis, age_axis):
            axis.axvline(x, color="0.75", linestyle=":", linewidth=0.8)
        arrivals_axis.annotate(name, (x, 0), xytext=(2, 10), textcoords="offset points", fontsize=7, rotation=90, color="0.35")
    arrivals_axis.set_ylabel("messages")
    tasks_axis.set_ylabel("running tasks")
    age_axis.set_ylabel("oldest message (s)")
    age_axis.set_yscale("log")
    age_axis.set_xlabel("hour of the replayed day" if first.minutes - first.warm_up_minutes <= 1440 else "hours")
    age_axis.set_xlim(0, max(hours[-1] if hours else 24, 1))
    for axis in (arrivals_axis, tasks_axis, age_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper right")
    figure.suptitle(title or f"Scaling replay: {first.trace}", fontsize=11)
    return _save(plt, figure, path)


def cost_chart(costs: Sequence[EnvironmentCost], path: Path, *, title: str = "Monthly Fargate cost per environment") -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 4))
    names = [c.environment for c in costs]
    width = 0.25
    for offset, (label, values) in enumerate((
        ("minimum", [c.monthly_min for c in costs]),
        ("typical", [c.monthly_typical for c in costs]),
        ("maximum", [c.monthly_max for c in costs]),
    )):
        xs = [i + (offset - 1) * width for i in range(len(costs))]
        axis.bar(xs, [v or 0.0 for v in values], width, label=label)
    for i, cost in enumerate(costs):
        if cost.budget is not None:
            axis.hlines(cost.budget, i - 1.6 * width, i + 1.6 * width, colors="crimson", linestyles="--", linewidth=1.2)
            axis.annotate(f"budget ${cost.budget:,.0f}", (i, cost.budget), xytext=(0, 3), textcoords="offset points",
                          ha="center", fontsize=8, color="crimson")
    axis.set_xticks(range(len(costs)), names)
    axis.set_ylabel("USD / month (Fargate compute)")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(title, fontsize=11)
    return _save(plt, figure, path)


def rollout_chart(rollouts: Sequence[Rollout], path: Path, *, title: str = "One rollout batch") -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 0.7 * len(rollouts) + 1.6))
    phases = (("task start", "task_start", "0.6"), ("warm-up", "warm_up", "tab:orange"),
              ("to healthy", "to_healthy", "tab:green"), ("drain", "drain", "tab:blue"), ("stop (worst)", "stop", "tab:red"))
    labels = []
    for row, item in enumerate(rollouts):
        left = 0.0
        for name, attribute, color in phases:
            width = float(getattr(item, attribute))
            axis.barh(row, width, left=left, color=color, hatch="//" if attribute == "stop" else None,
                      alpha=0.6 if attribute == "stop" else 0.9, label=name if row == 0 else None)
            left += width
        axis.annotate(f"batch {item.batch} s", (item.batch, row), xytext=(4, -3), textcoords="offset points", fontsize=8)
        labels.append(f"{item.environment} {item.service}")
    axis.set_yticks(range(len(rollouts)), labels)
    axis.invert_yaxis()
    axis.set_xlabel("seconds")
    axis.grid(axis="x", alpha=0.3)
    axis.legend(fontsize=7, loc="lower right", ncol=math.ceil(len(phases) / 2))
    axis.set_title(title, fontsize=11)
    return _save(plt, figure, path)


def _save(plt: Any, figure: Any, path: Path) -> Path:
    """Lay out, write ``path`` (its folder made) and free the figure (pyplot keeps it otherwise)."""
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
