"""Postgres connection budgets, read from the templates alone.

``HardenedPostgres`` records its budget on the DB instance:
``Metadata.stable_fargate.connection_budget`` (database, instance class, ``max_connections``
and where it came from, the proxy's ``MaxConnectionsPercent``, reserved connections, and per
connected service its kind, max tasks, rollout surge, tasks counted, pool size and
connections). This module reads it leniently (any CDK app, any edit): the total and the limit
are recomputed from their parts rather than trusted, so a hand-edited total cannot hide an
over-commitment. A database without the metadata is listed as "no budget recorded".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stable_fargate.review import cfn
from stable_fargate.review.model import AssemblySources

DB_INSTANCE_TYPE = "AWS::RDS::DBInstance"


@dataclass(frozen=True)
class BudgetShare:
    """One service's recorded share: ``tasks x pool_size`` connections."""

    service: str
    kind: str
    tasks: int
    pool_size: int
    max_tasks: int | None
    maximum_percent: int | None

    @property
    def connections(self) -> int:
        return self.tasks * self.pool_size


@dataclass(frozen=True)
class DatabaseBudget:
    """A database's connection budget as its template records it."""

    environment: str
    stack: str
    logical_id: str
    database: str
    instance_class: str | None
    max_connections: int | None
    max_connections_source: str | None
    max_connections_percent: int | None
    reserved: int
    shares: tuple[BudgetShare, ...]
    recorded: bool = True

    @property
    def limit(self) -> int | None:
        if self.max_connections is None or self.max_connections_percent is None:
            return None
        return self.max_connections * self.max_connections_percent // 100

    @property
    def total(self) -> int:
        return sum(share.connections for share in self.shares) + self.reserved

    @property
    def headroom(self) -> int | None:
        return None if self.limit is None else self.limit - self.total

    @property
    def fits(self) -> bool | None:
        return None if self.limit is None else self.total <= self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment, "stack": self.stack, "logical_id": self.logical_id, "database": self.database,
            "recorded": self.recorded, "instance_class": self.instance_class, "max_connections": self.max_connections,
            "max_connections_source": self.max_connections_source, "max_connections_percent": self.max_connections_percent,
            "limit": self.limit, "reserved": self.reserved, "total": self.total, "headroom": self.headroom, "fits": self.fits,
            "services": [
                {"service": s.service, "kind": s.kind, "max_tasks": s.max_tasks, "maximum_percent": s.maximum_percent,
                 "tasks": s.tasks, "pool_size": s.pool_size, "connections": s.connections}
                for s in self.shares
            ],
        }


def connection_budgets(read: AssemblySources) -> tuple[DatabaseBudget, ...]:
    """Every DB instance of the input, with the budget its metadata records (if any)."""
    found: list[DatabaseBudget] = []
    for source in read.sources:
        for logical_id, resource in cfn.resources(source.template).items():
            if resource.get("Type") != DB_INSTANCE_TYPE:
                continue
            props = cfn.mapping(resource.get("Properties"))
            record = cfn.mapping(cfn.mapping(cfn.mapping(resource.get("Metadata")).get("stable_fargate")).get("connection_budget"))
            found.append(_budget(source.environment, source.stack, logical_id, props, record))
    return tuple(found)


def _budget(environment: str, stack: str, logical_id: str, props: Mapping[str, Any], record: Mapping[str, Any]) -> DatabaseBudget:
    shares = []
    for item in cfn.items(record.get("services")):
        entry = cfn.mapping(item)
        tasks, pool = cfn.integer(entry.get("tasks")), cfn.integer(entry.get("pool_size"))
        if tasks is None or pool is None:
            continue
        shares.append(BudgetShare(
            service=cfn.text(entry.get("service")) or "?",
            kind=cfn.text(entry.get("kind")) or "?",
            tasks=tasks,
            pool_size=pool,
            max_tasks=cfn.integer(entry.get("max_tasks")),
            maximum_percent=cfn.integer(entry.get("maximum_percent")),
        ))
    return DatabaseBudget(
        environment=environment,
        stack=stack,
        logical_id=logical_id,
        database=cfn.text(record.get("database")) or cfn.text(props.get("DBName")) or logical_id,
        instance_class=cfn.text(record.get("instance_class")) or cfn.text(props.get("DBInstanceClass")),
        max_connections=cfn.integer(record.get("max_connections")),
        max_connections_source=cfn.text(record.get("max_connections_source")),
        max_connections_percent=cfn.integer(record.get("max_connections_percent")),
        reserved=cfn.integer(record.get("reserved")) or 0,
        shares=tuple(shares),
        recorded=bool(record),
    )
