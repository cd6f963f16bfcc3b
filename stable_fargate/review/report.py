"""The stability review of a synthesized app: every section, as data.

:func:`build_review` reads an input once (cdk.out, a snapshot directory, a template) and
assembles the sections the issue asks for: environments side by side (the drift engine),
the rollout timeline of every load-balanced service, the scaling replay of every queue
worker against a trace, the monthly cost of every environment against its budget, every
database's connection budget (:mod:`stable_fargate.review.budgets`), and,
given an older input, the semantic diff (:mod:`stable_fargate.review.diff`). Rendering is
elsewhere (:mod:`stable_fargate.review.render`, :mod:`stable_fargate.review.charts`).

A worker's latency goal is the first of: its template metadata
(``acceptable_latency_seconds``), the command line, the threshold of its oldest-message
alarm. It keeps the goal when its oldest-message alarm would not fire during the replay
(no page), or, without such an alarm, when the oldest message never waits longer than the goal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stable_fargate.review.budgets import DatabaseBudget, connection_budgets
from stable_fargate.review.cost import EnvironmentCost, environment_cost
from stable_fargate.review.drift import DriftReport, compare
from stable_fargate.review.model import AssemblySources, model_from_sources, read_assembly
from stable_fargate.review.pricing import BUILT_IN, PriceTable
from stable_fargate.review.replay import ReplayResult, ReplaySettings, replay
from stable_fargate.review.rollout import DEFAULT_TASK_START_SECONDS, Rollout, rollout
from stable_fargate.review.services import Service, StabilityModel, stability_model
from stable_fargate.review.traces import Trace, fintech_day


@dataclass(frozen=True)
class ReviewOptions:
    trace: Trace = field(default_factory=fintech_day)
    settings: ReplaySettings = field(default_factory=ReplaySettings)
    prices: PriceTable = BUILT_IN
    processing: Mapping[str, float] = field(default_factory=dict)
    """Average processing seconds per service name ("*" for every worker)."""
    latency: Mapping[str, float] = field(default_factory=dict)
    """Acceptable latency seconds per service name ("*" for every worker)."""
    region: str | None = None
    """The region of environments whose templates do not name one."""


@dataclass(frozen=True)
class Reaction:
    event: str
    scale_out_after: int | None
    capacity_after: int | None


@dataclass(frozen=True)
class WorkerReview:
    result: ReplayResult
    goal: float | None
    goal_source: str
    page_threshold: float | None

    @property
    def keeps_latency(self) -> bool | None:
        if self.page_threshold is not None:
            return self.result.pages == 0
        if self.goal is None:
            return None
        return self.result.max_age <= self.goal

    @property
    def reactions(self) -> tuple[Reaction, ...]:
        return tuple(
            Reaction(name, self.result.first_scale_out_after(minute), self.result.first_capacity_after(minute))
            for name, minute in self.result.events
        )


@dataclass(frozen=True)
class Review:
    source: str
    model: StabilityModel
    drift: DriftReport
    rollouts: tuple[Rollout, ...]
    workers: tuple[WorkerReview, ...]
    costs: tuple[EnvironmentCost, ...]
    options: ReviewOptions
    budgets: tuple[DatabaseBudget, ...] = ()
    """Postgres connection budgets recorded on the DB instances (``HardenedPostgres``)."""

    def worker(self, environment: str, service: str) -> WorkerReview | None:
        return next((w for w in self.workers if w.result.environment.lower() == environment.lower() and w.result.service == service), None)

    def rollout(self, environment: str, service: str) -> Rollout | None:
        return next((r for r in self.rollouts if r.environment.lower() == environment.lower() and r.service == service), None)

    def cost(self, environment: str) -> EnvironmentCost | None:
        return next((c for c in self.costs if c.environment.lower() == environment.lower()), None)

    @property
    def findings(self) -> tuple[str, ...]:
        """What a reviewer must look at: undeclared drift, a missed latency goal, a maximum
        cost above the budget, a database whose connections could exceed its proxy's limit."""
        found = []
        for service in self.drift.services:
            if service.undeclared:
                found.append(f"{service.service}: undeclared drift in {', '.join(r.property for r in service.undeclared)}")
        for worker in self.workers:
            if worker.keeps_latency is False:
                found.append(f"{worker.result.environment} {worker.result.service}: misses its latency goal on {worker.result.trace}")
        for cost in self.costs:
            share = cost.budget_share_at_max
            if share is not None and share > 1:
                found.append(f"{cost.environment}: maximum monthly Fargate cost is {share:.0%} of the budget")
        for budget in self.budgets:
            if budget.fits is False:
                found.append(
                    f"{budget.environment} {budget.database}: services could open {budget.total} Postgres connections, "
                    f"over the proxy's limit of {budget.limit}"
                )
        return tuple(found)


def _lookup(values: Mapping[str, float], name: str) -> float | None:
    return values.get(name, values.get("*"))


def review_worker(service: Service, options: ReviewOptions) -> WorkerReview:
    processing = _lookup(options.processing, service.name)
    settings = options.settings if processing is None else _with_processing(options.settings, processing)
    result = replay(service, options.trace, settings)
    threshold = next((a.threshold for a in service.latency_alarms if a.comparison.startswith("Greater")), None)
    given = _lookup(options.latency, service.name)
    if service.hints.acceptable_latency_seconds is not None:
        goal, source = service.hints.acceptable_latency_seconds, "template metadata"
    elif given is not None:
        goal, source = given, "command line"
    elif threshold is not None:
        goal, source = threshold, "oldest-message alarm threshold"
    else:
        goal, source = None, "not declared"
    return WorkerReview(result=result, goal=goal, goal_source=source, page_threshold=threshold)


def _with_processing(settings: ReplaySettings, seconds: float) -> ReplaySettings:
    from dataclasses import replace
    return replace(settings, processing_seconds=seconds)


def build_review(path: Any, options: ReviewOptions | None = None) -> Review:
    """Read ``path`` and assemble every section."""
    return review_of(read_assembly(path), str(path), options or ReviewOptions())


def review_of(read: AssemblySources, source: str, options: ReviewOptions) -> Review:
    model = stability_model(read)
    drift = compare(model_from_sources(list(read.sources), grouping=read.grouping))
    rollouts = tuple(
        r for env in model.environments for s in env.services
        if (r := rollout(s, task_start_seconds=options.settings.task_start_seconds or DEFAULT_TASK_START_SECONDS)) is not None
    )
    workers = tuple(review_worker(s, options) for env in model.environments for s in env.services if s.kind == "worker")
    costs = []
    for env in model.environments:
        typical = {
            w.result.service: sum(w.result.reported(w.result.billed_tasks)) / max(1, w.result.minutes - w.result.warm_up_minutes)
            for w in workers if w.result.environment == env.name
        }
        costs.append(environment_cost(env, options.prices, typical, options.region))
    return Review(
        source=source, model=model, drift=drift, rollouts=rollouts, workers=workers, costs=tuple(costs), options=options,
        budgets=connection_budgets(read),
    )
