"""Rollout timeline of a load-balanced service, from its template alone.

One rollout batch: new tasks start (an assumption, :data:`DEFAULT_TASK_START_SECONDS`), the
app warms up (the container health check's start period: the template's only record of it),
the target group counts it healthy (worst case: up to an interval for the first check after
registration, then the healthy threshold's consecutive passes, the last of which may take the
timeout: (healthy threshold + 1) x interval + timeout), then the old tasks drain
(deregistration delay) and stop (up to the stop timeout after SIGTERM). The arithmetic is in
:func:`batch_seconds`, the same formula as the library's ``rollout_batch_seconds``; the
grace period is read from the template, never recomputed.

How many batches: ECS may start ``floor(N x maximumPercent / 100) - N`` new tasks before
stopping any and may stop ``N - ceil(N x minimumHealthyPercent / 100)`` first, so each batch
replaces their sum (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stable_fargate.review.services import Service

DEFAULT_TASK_START_SECONDS = 60
"""Assumed time from ECS placing a task to its container running (ENI, image pull): the
library's ``ROLLOUT_TASK_START_SECONDS``, so figures compare like for like."""


def time_to_healthy(*, healthy_threshold: int, interval: float, timeout: float) -> float:
    """Worst case from "the app answers" to "healthy": (healthy threshold + 1) x interval + timeout."""
    return (healthy_threshold + 1) * interval + timeout


def batch_seconds(*, task_start: float, warm_up: float, healthy_threshold: int, interval: float, timeout: float, drain: float) -> int:
    """One batch: start + warm-up + worst-case time to healthy + drain (stop not included: an app
    that exits on SIGTERM takes none of it; the stop timeout is the worst case on top)."""
    healthy = time_to_healthy(healthy_threshold=healthy_threshold, interval=interval, timeout=timeout)
    return math.ceil(task_start + warm_up + healthy + drain)


def tasks_per_batch(tasks: int, minimum_healthy_percent: int, maximum_percent: int) -> int:
    """Tasks one batch replaces (0: the deployment cannot make progress)."""
    if tasks <= 0:
        return 0
    extra = math.floor(tasks * maximum_percent / 100) - tasks
    stoppable = tasks - math.ceil(tasks * minimum_healthy_percent / 100)
    return max(0, extra) + max(0, stoppable)


@dataclass(frozen=True)
class Rollout:
    service: str
    environment: str
    task_start: int
    warm_up: int
    warm_up_declared: bool
    to_healthy: int
    healthy_threshold: int
    interval: int
    drain: int
    stop: int
    grace: int
    grace_declared: bool
    batch: int
    minimum_healthy_percent: int
    maximum_percent: int
    circuit_breaker: bool
    rollback: bool
    alarms: int
    tasks_low: int
    tasks_high: int
    batches_low: int | None
    batches_high: int | None
    warnings: tuple[str, ...]

    @property
    def total_low(self) -> int | None:
        return None if self.batches_low is None else self.batches_low * self.batch

    @property
    def total_high(self) -> int | None:
        return None if self.batches_high is None else self.batches_high * self.batch


def rollout(service: Service, *, task_start_seconds: int = DEFAULT_TASK_START_SECONDS) -> Rollout | None:
    """The timeline of ``service``'s rollout, or None if it has no target group."""
    if not service.target_groups or service.task is None:
        return None
    group = service.target_groups[0]
    task = service.task
    warm_up = task.warm_up
    declared = any(c.health_check is not None and c.health_check.start_period > 0 for c in task.containers)
    deployment = service.deployment
    low = service.scaling.min_capacity if service.scaling else (service.desired_count or 1)
    high = service.scaling.max_capacity if service.scaling else (service.desired_count or 1)
    per_low = tasks_per_batch(low, deployment.minimum_healthy_percent, deployment.maximum_percent)
    per_high = tasks_per_batch(high, deployment.minimum_healthy_percent, deployment.maximum_percent)
    warnings = []
    if not declared:
        warnings.append("no container health check start period: the app's warm-up is not in the template (counted as 0 s)")
    unhealthy_after = group.unhealthy_threshold * group.interval
    if declared and service.grace_period < warm_up and warm_up > unhealthy_after:
        warnings.append(
            f"grace period {service.grace_period} s is shorter than the warm-up {warm_up} s: a task still warming up is "
            f"marked unhealthy after {unhealthy_after} s and replaced"
        )
    if per_low == 0 or per_high == 0:
        warnings.append("minimum healthy 100 % and maximum 100 %: a rolling deployment cannot replace any task")
    if not deployment.circuit_breaker:
        warnings.append("no deployment circuit breaker: a release that never becomes healthy keeps retrying")
    return Rollout(
        service=service.name, environment=service.environment,
        task_start=task_start_seconds, warm_up=warm_up, warm_up_declared=declared,
        to_healthy=math.ceil(time_to_healthy(healthy_threshold=group.healthy_threshold, interval=group.interval, timeout=group.timeout)),
        healthy_threshold=group.healthy_threshold, interval=group.interval,
        drain=group.deregistration_delay, stop=task.stop_timeout,
        grace=service.grace_period, grace_declared=service.grace_period_declared,
        batch=batch_seconds(task_start=task_start_seconds, warm_up=warm_up, healthy_threshold=group.healthy_threshold,
                            interval=group.interval, timeout=group.timeout, drain=group.deregistration_delay),
        minimum_healthy_percent=deployment.minimum_healthy_percent, maximum_percent=deployment.maximum_percent,
        circuit_breaker=deployment.circuit_breaker, rollback=deployment.rollback, alarms=len(deployment.alarms),
        tasks_low=low, tasks_high=high,
        batches_low=math.ceil(low / per_low) if per_low else None,
        batches_high=math.ceil(high / per_high) if per_high else None,
        warnings=tuple(warnings),
    )
