"""``python -m stable_fargate review``: options in, report files out.

Writes ``report.md``, ``report.json`` and the PNG charts into ``--out`` (default
``review-out/``) and returns the text to print (Markdown, or JSON with ``--json``). Chart
links in the Markdown are relative to the output directory, so the directory can be
attached to a pull request as it is.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace
from pathlib import Path

from stable_fargate.review.diff import compare_reviews
from stable_fargate.review.model import ReadError
from stable_fargate.review.pricing import BUILT_IN, load_prices
from stable_fargate.review.render import render_markdown, to_json
from stable_fargate.review.replay import ReplaySettings
from stable_fargate.review.report import Review, ReviewOptions, build_review
from stable_fargate.review.traces import fintech_day, read_csv_trace

MAX_DAYS = 31
"""The built-in day repeated at most a month (as CSV traces are)."""


def options_from(args: argparse.Namespace) -> ReviewOptions:
    if not 1 <= args.days <= MAX_DAYS:
        raise ReadError(f"--days must be between 1 and {MAX_DAYS}, got {args.days}")
    trace = read_csv_trace(args.trace) if args.trace is not None else fintech_day(args.days)
    settings = ReplaySettings(
        metric_lag_seconds=args.metric_lag,
        insights_at_zero=args.insights_at_zero,
        sqs_idle_stop=args.sqs_idle_stop,
        task_start_seconds=args.task_start,
    )
    return ReviewOptions(
        trace=trace, settings=settings,
        prices=load_prices(args.prices) if args.prices is not None else BUILT_IN,
        processing=dict(args.processing_time), latency=dict(args.acceptable_latency), region=args.region,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "chart"


def write_charts(review: Review, out: Path) -> dict[str, str]:
    """Draw every chart into ``out``; returns chart key -> file name (relative to ``out``)."""
    try:
        from stable_fargate.review import charts
        charts._pyplot()
    except ModuleNotFoundError as error:
        raise ReadError(f"charts need {error.name}: pip install \"stable-fargate[review]\", or pass --no-charts") from None

    written: dict[str, str] = {}
    if review.rollouts:
        written["rollout"] = charts.rollout_chart(review.rollouts, out / "rollout.png").name
    if review.costs:
        written["cost"] = charts.cost_chart(review.costs, out / "cost.png").name
    for worker in review.workers:
        name = f"replay-{_slug(worker.result.environment)}-{_slug(worker.result.service)}.png"
        charts.replay_chart([worker], out / name, title=f"{worker.result.environment} {worker.result.service}: {worker.result.trace}")
        written[f"replay:{worker.result.environment}:{worker.result.service}"] = name
    return written


def run_review(args: argparse.Namespace) -> tuple[str, tuple[str, ...]]:
    options = options_from(args)
    review = build_review(args.assembly, options)
    diff = None
    if args.base is not None:
        base = build_review(args.base, replace(options))
        diff = compare_reviews(base, review)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    charts = {} if args.no_charts else write_charts(review, out)
    markdown = render_markdown(review, charts=charts, diff=diff, base=str(args.base) if args.base else None)
    data = to_json(review, diff=diff, charts=charts)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    text = json.dumps(data, indent=2, default=str)
    (out / "report.json").write_text(text + "\n", encoding="utf-8")
    return (text if args.json else markdown), review.findings
