"""The semantic diff of two reviews: what a pull request changes in stability and cost.

Each service (matched by environment, case-insensitively, and by name) is reduced to a set
of named facts (grace period, rollout batch, health-check timing, capacity, scaling
policies, queue settings, configuration keys, the replay's outcome, monthly cost); the diff
lists the facts that changed, one line per service:

    Prod portfolio-api: grace 65 s -> 110 s; rollout batch 155 s -> 200 s; max monthly cost +14 %
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stable_fargate.review.report import Review
from stable_fargate.review.services import Service


@dataclass(frozen=True)
class Change:
    environment: str
    service: str
    fact: str
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        if self.old is None:
            return f"{self.fact} added ({self.new})" if self.new not in (None, "") else f"{self.fact} added"
        if self.new is None:
            return f"{self.fact} removed"
        return f"{self.fact} {self.old} -> {self.new}"


@dataclass(frozen=True)
class ServiceDiff:
    environment: str
    service: str
    changes: tuple[Change, ...]

    @property
    def line(self) -> str:
        return f"{self.environment} {self.service}: " + "; ".join(c.text for c in self.changes)


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:g} s"


def _money(value: float | None) -> str | None:
    return None if value is None else f"${value:,.0f}"


def facts(service: Service, review: Review) -> dict[str, str | None]:
    """The named facts of one service in one review."""
    found: dict[str, str | None] = {"kind": service.kind}
    task = service.task
    if task is not None:
        found["cpu"] = None if task.cpu is None else str(task.cpu)
        found["memory"] = None if task.memory_mib is None else f"{task.memory_mib} MiB"
        found["architecture"] = task.architecture
        found["stop timeout"] = _seconds(task.stop_timeout)
        found["warm-up"] = _seconds(task.warm_up)
        found["image"] = ", ".join(c.image for c in task.containers)
        found["environment keys"] = ", ".join(sorted({k for c in task.containers for k in c.environment_keys}))
        found["secret keys"] = ", ".join(sorted({k for c in task.containers for k in c.secret_keys}))
    found["grace"] = _seconds(service.grace_period) if service.target_groups or service.grace_period_declared else None
    deployment = service.deployment
    found["min/max healthy"] = f"{deployment.minimum_healthy_percent}/{deployment.maximum_percent} %"
    found["circuit breaker"] = ("on, rollback" if deployment.rollback else "on") if deployment.circuit_breaker else "off"
    found["deployment alarms"] = str(len(deployment.alarms)) if deployment.alarms else None
    found["capacity providers"] = ", ".join(f"{p.provider} base {p.base} weight {p.weight}" for p in service.capacity_providers) or None
    for group in service.target_groups[:1]:
        found["health check"] = f"{group.healthy_threshold} x {group.interval} s"
        found["deregistration delay"] = _seconds(group.deregistration_delay)
    rollout = review.rollout(service.environment, service.name)
    if rollout is not None:
        found["rollout batch"] = _seconds(rollout.batch)
        found["rollout at max"] = _seconds(rollout.total_high)
    if service.scaling is not None:
        scaling = service.scaling
        found["capacity"] = f"{scaling.min_capacity}-{scaling.max_capacity}"
        for step in scaling.step_policies:
            name = f"step {_short(step.logical_id)}"
            found[f"{name} steps"] = f"{step.adjustment_type} x {len(step.steps)}"
            found[f"{name} cooldown"] = _seconds(step.cooldown)
            for alarm in step.alarms:
                signal = alarm.expression.expression or (alarm.expression.metric.name if alarm.expression.metric else "?")
                found[f"{name} alarm"] = (f"{signal} {alarm.comparison} {alarm.threshold:g}, "
                                          f"{alarm.datapoints_to_alarm}/{alarm.evaluation_periods} x {alarm.period} s")
        for tracking in scaling.target_tracking:
            metric = next((q.expression for q in tracking.queries if q.expression), None) or tracking.predefined or (
                tracking.queries[0].metric.name if tracking.queries and tracking.queries[0].metric else "?")
            name = f"target tracking {_short(tracking.logical_id)}"
            found[name] = f"{tracking.target:g} on {metric}"
            found[f"{name} cooldowns"] = f"{tracking.scale_out_cooldown}/{tracking.scale_in_cooldown} s"
    if service.queue is not None:
        queue = service.queue
        found["queue"] = (f"visibility {queue.visibility_timeout} s, retention {queue.retention} s, wait {queue.receive_wait} s, "
                          f"DLQ after {queue.max_receive_count}" if queue.max_receive_count else
                          f"visibility {queue.visibility_timeout} s, retention {queue.retention} s, wait {queue.receive_wait} s, no DLQ")
    worker = review.worker(service.environment, service.name)
    if worker is not None:
        found["oldest message (replay)"] = _seconds(round(worker.result.max_age))
        found["task-hours (replay)"] = f"{worker.result.task_hours:.1f}"
        found["scaling actions (replay)"] = str(len(worker.result.reported_actions))
    cost = review.cost(service.environment)
    own = next((c for c in cost.services if c.service == service.name), None) if cost else None
    if own is not None:
        found["max monthly cost"] = _money(own.monthly_max)
        found["typical monthly cost"] = _money(own.monthly_typical)
    return found


def _short(logical_id: str) -> str:
    """A logical id without CDK's 8-character hash suffix."""
    suffix = logical_id[-8:]
    return logical_id[:-8] if len(logical_id) > 8 and suffix.isalnum() and suffix.upper() == suffix else logical_id


MONEY_FACTS = frozenset({"max monthly cost", "typical monthly cost"})


def _change_text(fact: str, old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Money changes read as a percentage ("+14 %"), as a reviewer compares them."""
    if fact in MONEY_FACTS and old and new:
        before, after = float(old.strip("$").replace(",", "")), float(new.strip("$").replace(",", ""))
        if before:
            return old, f"{new} ({(after - before) / before:+.0%})"
    return old, new


def compare_reviews(base: Review, head: Review) -> tuple[ServiceDiff, ...]:
    """Every service whose facts differ between ``base`` and ``head``."""
    diffs: list[ServiceDiff] = []
    base_envs = {e.name.lower(): e for e in base.model.environments}
    head_envs = {e.name.lower(): e for e in head.model.environments}
    for key in dict.fromkeys([*head_envs, *base_envs]):
        old_env, new_env = base_envs.get(key), head_envs.get(key)
        name = (new_env or old_env).name  # type: ignore[union-attr]
        old_services: Mapping[str, Service] = {s.name: s for s in old_env.services} if old_env else {}
        new_services: Mapping[str, Service] = {s.name: s for s in new_env.services} if new_env else {}
        for service in dict.fromkeys([*new_services, *old_services]):
            if service not in old_services:
                diffs.append(ServiceDiff(name, service, (Change(name, service, "service", None, "new"),)))
                continue
            if service not in new_services:
                diffs.append(ServiceDiff(name, service, (Change(name, service, "service", "present", None),)))
                continue
            old_facts, new_facts = facts(old_services[service], base), facts(new_services[service], head)
            changes = []
            for fact in dict.fromkeys([*new_facts, *old_facts]):
                old, new = old_facts.get(fact), new_facts.get(fact)
                if old != new:
                    old, new = _change_text(fact, old, new)
                    changes.append(Change(name, service, fact, old, new))
            if changes:
                diffs.append(ServiceDiff(name, service, tuple(changes)))
    return tuple(diffs)
