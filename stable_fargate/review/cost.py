"""Monthly Fargate cost per service and per environment, against the declared budget.

A task's hourly price is its vCPU x the vCPU-hour rate + its memory in GB x the GB-hour rate
(:mod:`stable_fargate.review.pricing`), by CPU architecture and capacity provider. With a
capacity provider strategy, the first ``base`` tasks run on the base's provider and the rest
are shared by weight (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-capacity-providers.html);
without one, every task runs on Fargate on-demand. A month is 730 hours.

Three capacities per service: **minimum** (the scalable target's MinCapacity, else the
declared desired count), **typical** (a replayed worker's average tasks over the replayed
day; otherwise the minimum) and **maximum** (MaxCapacity). Only Fargate compute is counted:
load balancers, NAT, logs, queues and data transfer are not (stated in the report).

The environment's budget is the ``AWS::Budgets::Budget`` in its templates with a monthly
limit in USD; without one the report says "no budget declared".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stable_fargate.review.pricing import HOURS_PER_MONTH, PriceTable
from stable_fargate.review.services import Environment, Service


@dataclass(frozen=True)
class ServiceCost:
    service: str
    tasks_min: float
    tasks_typical: float
    tasks_max: float
    typical_source: str
    hourly_per_task: float | None
    """On-demand hourly price of one task (None: no price for the region or architecture)."""
    monthly_min: float | None
    monthly_typical: float | None
    monthly_max: float | None
    spot_share: float
    note: str = ""


@dataclass(frozen=True)
class EnvironmentCost:
    environment: str
    region: str | None
    services: tuple[ServiceCost, ...]
    budget: float | None
    budget_name: str | None

    def _total(self, field: str) -> float | None:
        values = [getattr(s, field) for s in self.services]
        return None if any(v is None for v in values) else float(sum(values))

    @property
    def monthly_min(self) -> float | None:
        return self._total("monthly_min")

    @property
    def monthly_typical(self) -> float | None:
        return self._total("monthly_typical")

    @property
    def monthly_max(self) -> float | None:
        return self._total("monthly_max")

    @property
    def budget_share_at_max(self) -> float | None:
        maximum = self.monthly_max
        return None if self.budget in (None, 0) or maximum is None else maximum / float(self.budget or 1)


def split(tasks: float, service: Service) -> tuple[float, float]:
    """(on-demand, Spot) tasks for ``tasks`` under the service's capacity provider strategy."""
    if not service.capacity_providers:
        return tasks, 0.0
    base = min(tasks, service.on_demand_base)
    rest = tasks - base
    spot = rest * service.spot_share
    return tasks - spot, spot


def monthly(tasks: float, service: Service, prices: PriceTable, region: str | None) -> float | None:
    task = service.task
    if task is None or task.cpu is None or task.memory_mib is None:
        return None
    vcpu, gb = task.cpu / 1024, task.memory_mib / 1024
    on_demand = prices.rate(region, task.architecture, "FARGATE")
    spot = prices.rate(region, task.architecture, "FARGATE_SPOT")
    regular, spare = split(tasks, service)
    if on_demand is None or (spare and spot is None):
        return None
    hourly = regular * on_demand.task_hour(vcpu, gb) + (spare * spot.task_hour(vcpu, gb) if spot and spare else 0.0)
    return hourly * HOURS_PER_MONTH


def service_cost(service: Service, prices: PriceTable, region: str | None, typical_tasks: float | None = None) -> ServiceCost:
    scaling = service.scaling
    declared = float(service.desired_count if service.desired_count is not None else 1)
    low = float(scaling.min_capacity) if scaling else declared
    high = float(scaling.max_capacity) if scaling else declared
    typical, source = (typical_tasks, "replay") if typical_tasks is not None else (low, "minimum")
    task = service.task
    rate = prices.rate(region, task.architecture, "FARGATE") if task else None
    hourly = rate.task_hour(task.cpu / 1024, task.memory_mib / 1024) if rate and task and task.cpu and task.memory_mib else None
    note = "" if hourly is not None else f"no Fargate price for {region or 'an unknown region'} / {task.architecture if task else '?'}"
    return ServiceCost(
        service=service.name, tasks_min=low, tasks_typical=typical, tasks_max=high, typical_source=source,
        hourly_per_task=hourly,
        monthly_min=monthly(low, service, prices, region),
        monthly_typical=monthly(typical, service, prices, region),
        monthly_max=monthly(high, service, prices, region),
        spot_share=service.spot_share, note=note,
    )


def environment_cost(environment: Environment, prices: PriceTable, typical: Mapping[str, float] | None = None,
                     region: str | None = None) -> EnvironmentCost:
    where = environment.region or region
    budget = environment.monthly_budget
    return EnvironmentCost(
        environment=environment.name, region=where,
        services=tuple(service_cost(s, prices, where, (typical or {}).get(s.name)) for s in environment.services),
        budget=budget.amount if budget else None,
        budget_name=(budget.name or budget.logical_id) if budget else None,
    )
