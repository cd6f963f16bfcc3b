"""The review as Markdown (a pull-request comment) and as JSON (for machines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stable_fargate.review.alarms import EXTRA_EVALUATION_RANGE
from stable_fargate.review.diff import ServiceDiff
from stable_fargate.review.report import Review, WorkerReview
from stable_fargate.review.rollout import FAILING_PERCENT, REQUESTS_PER_MINUTE, Rollout

MAX_DRIFT_ROWS = 40
"""Rows of the environments table shown in the comment (the JSON keeps all of them)."""


def _clock(minute: int) -> str:
    return f"{(minute // 60) % 24:02d}:{minute % 60:02d}"


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.0f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def readings(review: Review) -> list[str]:
    settings = review.options.settings
    return [
        f"- Datapoints reach alarms {settings.metric_lag_seconds} s late (`--metric-lag`).",
        "- Container Insights publishes "
        + ("0 for a service that runs no task" if settings.insights_at_zero else "nothing for a service that runs no task")
        + " (`--insights-at-zero`).",
        "- SQS " + ("stops publishing for a queue idle 6 h and resumes 15 min after it is used" if settings.sqs_idle_stop
                    else "publishes every minute, even for a queue idle 6 h (`--sqs-idle-stop` models AWS's inactive-queue rule)") + ".",
        f"- A task runs {settings.task_start_seconds} s after it is asked for (`--task-start`).",
    ]


def render_markdown(review: Review, *, charts: Mapping[str, str] | None = None, diff: Sequence[ServiceDiff] | None = None,
                    base: str | None = None) -> str:
    charts = charts or {}
    out = ["# Stability review", "", f"Input: `{review.source}`" + (f", compared with `{base}`" if base else "") + "."]
    findings = review.findings
    out += ["", "## Findings", ""]
    out += [f"- {f}" for f in findings] if findings else ["- None: no undeclared drift, every replayed worker keeps its latency goal, "
                                                          "no maximum cost above a declared budget, no database over its "
                                                          "connection budget."]
    if diff is not None:
        out += ["", "## What this change does", ""]
        out += [f"- {d.line}" for d in diff] if diff else ["- No change in rollout, scaling, queues or cost."]
    out += _environments(review)
    out += _rollouts(review.rollouts, charts.get("rollout"))
    out += _replays(review, charts)
    out += _costs(review, charts.get("cost"))
    out += _budgets(review)
    tracking = review.options.settings.tracking
    out += ["", "## Readings and assumptions", "", *readings(review)]
    out += [
        f"- Alarms: evaluated every minute on an evaluation range of Evaluation Periods + {EXTRA_EVALUATION_RANGE} datapoints; "
        "scaling actions repeat every minute in ALARM, notifications once per transition.",
        f"- Target tracking's alarms: {tracking.scale_out_datapoints} of {tracking.scale_out_datapoints} one-minute datapoints "
        f"above the target to scale out, {tracking.scale_in_datapoints} of {tracking.scale_in_datapoints} below "
        f"{tracking.scale_in_fraction:.0%} of it to scale in.",
        "- Queue: a fluid first-in-first-out model at one-minute resolution; one message per task at a time.",
        f"- Prices: {review.options.prices.source}, read {review.options.prices.read_on}; Fargate compute only "
        "(no load balancer, NAT, logs or data transfer); 730 hours a month.",
    ]
    return "\n".join(out) + "\n"


def _environments(review: Review) -> list[str]:
    report = review.drift
    out = ["", "## Environments side by side", ""]
    if not report.compared:
        return [*out, "Only one environment: nothing to compare."]
    rows = []
    for service in report.services:
        for row in service.rows:
            if row.status == "same":
                continue
            mark = "**undeclared**" if row.status == "undeclared" else "declared"
            rows.append([service.service, row.property, mark, *[row.values.get(env) or "(absent)" for env in report.environments]])
    if not rows:
        return [*out, "Every service (task definition, deployment, scaling, queue, schedule) is identical across "
                + ", ".join(report.environments) + "."]
    shown = rows[:MAX_DRIFT_ROWS]
    out += _table(["service", "property", "difference", *report.environments], [[_short(c) for c in r] for r in shown])
    if len(rows) > len(shown):
        out.append(f"\n{len(rows) - len(shown)} more rows in the JSON report.")
    return out


def _short(value: Any, limit: int = 48) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rollouts(rollouts: Sequence[Rollout], chart: str | None) -> list[str]:
    out = ["", "## Rollout timeline", ""]
    if not rollouts:
        return [*out, "No load-balanced service."]
    out += ["One batch = task start (assumed) + warm-up (container start period) + healthy threshold x interval + "
            "deregistration delay; the stop timeout is the worst case after SIGTERM.", ""]
    rows = [[
        r.environment, r.service, f"{r.task_start} s", f"{r.warm_up} s" + ("" if r.warm_up_declared else " (none declared)"),
        f"{r.to_healthy} s (({r.healthy_threshold} + 1) x {r.interval} s + timeout)", f"{r.drain} s", f"{r.stop} s",
        f"{r.grace} s" + ("" if r.grace_declared else " (unset)"), f"**{r.batch} s**",
        f"{r.minimum_healthy_percent}/{r.maximum_percent} %",
        f"{r.batches_high} x {r.batch} s = {r.total_high} s" if r.total_high is not None else "stuck",
        ("rollback" if r.rollback else "on") if r.circuit_breaker else "off",
    ] for r in rollouts]
    out += _table(["env", "service", "start", "warm-up", "to healthy", "drain", "stop", "grace", "batch", "min/max %",
                   "rollout at max tasks", "circuit breaker"], rows)
    warnings = [f"- {r.environment} {r.service}: {w}" for r in rollouts for w in r.warnings]
    if warnings:
        out += ["", *warnings]
    if chart:
        out += ["", f"![rollout timeline]({chart})"]
    return out + _releases(rollouts)


def _releases(rollouts: Sequence[Rollout]) -> list[str]:
    out = ["", "### What a release costs", "",
           f"A bad release fails {FAILING_PERCENT:g} % of its requests at {REQUESTS_PER_MINUTE:g} requests a minute; the "
           "template's deployment alarms are evaluated on it minute by minute. Exposure: its share of traffic x minutes "
           "until every request is back on the old release.", ""]
    rows = [[
        r.environment, r.service, r.strategy.lower(), "yes" if r.smoke_check else "-",
        _duration(r.full_traffic), _duration(r.old_tasks_stop),
        "never" if r.detected is None else f"{_duration(r.detected)} ({r.detecting_alarm})",
        f"{r.largest_share:g} %" if r.largest_share is not None else "-",
        "unbounded" if r.exposure is None else f"**{r.exposure:g} %·min**",
    ] for r in rollouts]
    return out + _table(["env", "service", "strategy", "smoke check", "full traffic", "old tasks stop", "alarm acts at",
                         "most traffic", "exposure"], rows)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _replays(review: Review, charts: Mapping[str, str]) -> list[str]:
    out = ["", "## Scaling replay", ""]
    if not review.workers:
        return [*out, "No queue worker."]
    trace = review.options.trace
    out += [f"Trace: **{trace.name}** ({trace.description or f'{trace.minutes} minutes'}), {trace.total_messages:,.0f} messages.", ""]
    rows = []
    for worker in review.workers:
        result = worker.result
        keeps = {True: "yes", False: "**no**", None: "n/a"}[worker.keeps_latency]
        rows.append([
            result.environment, result.service, f"{result.processing_seconds:g} s ({result.processing_source})",
            f"{worker.goal:g} s ({worker.goal_source})" if worker.goal is not None else "not declared",
            f"{result.max_age:,.0f} s", result.minutes_over(worker.goal) if worker.goal is not None else "n/a",
            f"{result.backlog_peak:,.0f}", result.peak_tasks, f"{result.task_hours:.1f}", len(result.reported_actions),
            result.pages, keeps,
        ])
    out += _table(["env", "worker", "processing", "latency goal", "oldest message", "minutes over goal", "peak backlog",
                   "peak tasks", "task-hours", "scaling actions", "pages", "keeps goal"], rows)
    reactions = [[w.result.environment, w.result.service, r.event, _minutes(r.scale_out_after), _minutes(r.capacity_after)]
                 for w in review.workers for r in w.reactions]
    if reactions:
        out += ["", "How fast each worker reacts (from the start of each event of the trace):", ""]
        out += _table(["env", "worker", "event", "first scale-out", "first new task running"], reactions)
    notes = [f"- {w.result.environment} {w.result.service}: {n}" for w in review.workers for n in w.result.notes]
    if notes:
        out += ["", "Notes:", "", *notes]
    for worker in review.workers:
        key = f"replay:{worker.result.environment}:{worker.result.service}"
        if key in charts:
            out += ["", f"![{worker.result.environment} {worker.result.service} replay]({charts[key]})"]
    return out


def _minutes(value: int | None) -> str:
    return "none within 3 h" if value is None else f"{value} min"


def _costs(review: Review, chart: str | None) -> list[str]:
    out = ["", "## Cost per environment", ""]
    rows = []
    for cost in review.costs:
        share = cost.budget_share_at_max
        if cost.budget is None:
            budget = "no budget declared"
        else:
            budget = _money(cost.budget) + (f" ({share:.0%} at max)" if share is not None else "")
        rows.append([cost.environment, cost.region or "?", _money(cost.monthly_min), _money(cost.monthly_typical),
                     _money(cost.monthly_max), budget])
    out += _table(["env", "region", "minimum", "typical", "maximum", "monthly budget"], rows)
    detail = [[c.environment, s.service, f"{s.tasks_min:g}", f"{s.tasks_typical:.1f} ({s.typical_source})", f"{s.tasks_max:g}",
               f"{s.spot_share:.0%}", _money(s.monthly_min), _money(s.monthly_typical), _money(s.monthly_max)]
              for c in review.costs for s in c.services]
    if detail:
        out += ["", *_table(["env", "service", "min tasks", "typical tasks", "max tasks", "Spot share above base", "minimum",
                             "typical", "maximum"], detail)]
    notes = [f"- {c.environment} {s.service}: {s.note}" for c in review.costs for s in c.services if s.note]
    if notes:
        out += ["", *notes]
    if chart:
        out += ["", f"![cost per environment]({chart})"]
    return out


def _budgets(review: Review) -> list[str]:
    out = ["", "## Postgres connection budgets", ""]
    if not review.budgets:
        return [*out, "No RDS DB instance."]
    out += ["At the worst moment, every service at its maximum tasks in the middle of a rollout (a scheduled job: one run), "
            "each task holding its whole pool; the total (plus reserved connections) must fit within max_connections x the "
            "proxy's MaxConnectionsPercent. Recomputed from the parts the template records.", ""]
    rows: list[list[Any]] = []
    for budget in review.budgets:
        if not budget.recorded:
            rows.append([budget.environment, budget.database, "(no budget recorded)", "", "", "", ""])
            continue
        for share in budget.shares:
            surge = f"{share.max_tasks} x {share.maximum_percent} % = {share.tasks}" if share.maximum_percent else f"{share.tasks} (job)"
            rows.append([budget.environment, budget.database, share.service, surge, share.pool_size, share.connections, ""])
        rows.append([budget.environment, budget.database, "reserved", "", "", budget.reserved, ""])
        limit = "n/a" if budget.limit is None else (
            f"{budget.limit} ({budget.max_connections} x {budget.max_connections_percent} %, {budget.instance_class or '?'})"
        )
        if budget.fits is None:
            verdict = "n/a"
        else:
            verdict = f"fits, {budget.headroom} to spare" if budget.fits else f"**over by {-(budget.headroom or 0)}**"
        rows.append([budget.environment, budget.database, "**total**", "", "", f"**{budget.total}**", f"{limit}: {verdict}"])
    out += _table(["env", "database", "service", "tasks counted", "pool", "connections", "limit"], rows)
    return out


def to_json(review: Review, *, diff: Sequence[ServiceDiff] | None = None, charts: Mapping[str, str] | None = None) -> dict[str, Any]:
    settings = review.options.settings
    return {
        "source": review.source,
        "findings": list(review.findings),
        "readings": {
            "metric_lag_seconds": settings.metric_lag_seconds,
            "insights_at_zero": settings.insights_at_zero,
            "sqs_idle_stop": settings.sqs_idle_stop,
            "task_start_seconds": settings.task_start_seconds,
        },
        "drift": review.drift.to_json(),
        "rollouts": [r.__dict__ | {"total_low": r.total_low, "total_high": r.total_high, "warnings": list(r.warnings)}
                     for r in review.rollouts],
        "workers": [_worker_json(w) for w in review.workers],
        "costs": [{
            "environment": c.environment, "region": c.region, "budget": c.budget, "budget_name": c.budget_name,
            "monthly_min": c.monthly_min, "monthly_typical": c.monthly_typical, "monthly_max": c.monthly_max,
            "budget_share_at_max": c.budget_share_at_max,
            "services": [s.__dict__ for s in c.services],
        } for c in review.costs],
        "connection_budgets": [b.to_json() for b in review.budgets],
        "prices": {"source": review.options.prices.source, "read_on": review.options.prices.read_on},
        "diff": None if diff is None else [{"environment": d.environment, "service": d.service, "line": d.line,
                                            "changes": [c.__dict__ for c in d.changes]} for d in diff],
        "charts": dict(charts or {}),
    }


def _worker_json(worker: WorkerReview) -> dict[str, Any]:
    result = worker.result
    return {
        "environment": result.environment, "service": result.service, "trace": result.trace,
        "processing_seconds": result.processing_seconds, "processing_source": result.processing_source,
        "latency_goal": worker.goal, "latency_goal_source": worker.goal_source, "page_threshold": worker.page_threshold,
        "keeps_latency": worker.keeps_latency, "max_oldest_message_seconds": result.max_age,
        "minutes_over_goal": result.minutes_over(worker.goal) if worker.goal is not None else None,
        "peak_backlog": result.backlog_peak, "peak_tasks": result.peak_tasks, "task_hours": result.task_hours,
        "pages": result.pages,
        "actions": [{"time": _clock(a.minute - result.warm_up_minutes), "minute": a.minute - result.warm_up_minutes,
                     "policy": a.policy, "from": a.old, "to": a.new} for a in result.reported_actions],
        "reactions": [r.__dict__ for r in worker.reactions],
        "notes": list(result.notes),
    }
