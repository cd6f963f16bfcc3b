"""How many Postgres connections a set of services can open at the worst moment, and whether
the database (through its RDS Proxy) can take them: pure arithmetic, no CDK.

The worst moment is every service at its ``max_tasks`` in the middle of a rollout: ECS then
runs up to ``max_tasks x maximumPercent / 100`` tasks of it (200 % for the library's
services: a full new set beside the old one), and each task may hold its whole pool. A
scheduled job counts with its own concurrency (1: its orchestrator never overlaps runs).
Add the connections reserved for work no service declares (a migration, an operator's
session), and the sum must fit within what the proxy may open to the database:

    sum(tasks x pool) + reserved  <=  max_connections x MaxConnectionsPercent / 100

The budget is conservative: RDS Proxy multiplexes client connections over fewer database
connections, but a pinned session (``SET``, temporary tables, advisory locks) holds its
database connection, so the budget assumes every client connection may be pinned.

``max_connections`` is RDS for PostgreSQL's default, ``LEAST({DBInstanceClassMemory/9531392},
5000)`` (https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html),
from :data:`INSTANCE_CLASS_MEMORY_GIB`, or declared (and then written into the parameter group,
so the budget and the database agree).

``DBInstanceClassMemory`` is *less* than the class's nominal memory: RDS subtracts what the
operating system and its own processes reserve, and does not publish the figure
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html#RDS_Limits.MaxConnections:
a 16 GiB instance ends up with about 95 % of it). This module reads it as
:data:`INSTANCE_CLASS_MEMORY_SHARE` (90 %) of the nominal memory, an estimate below the real
default for the classes in the table; classes under 4 GiB, where the reserved share is larger,
are not in the table: declare their ``max_connections`` (``SHOW max_connections;``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal

from stable_fargate.errors import ConfigError

ServiceKind = Literal["web", "worker", "job", "service"]

POSTGRES_CONNECTION_MEMORY_BYTES: Final = 9_531_392
"""The divisor of RDS for PostgreSQL's default ``max_connections`` formula."""

POSTGRES_MAX_CONNECTIONS_CAP: Final = 5000
"""The formula's ceiling: ``LEAST(..., 5000)``."""

INSTANCE_CLASS_MEMORY_SHARE: Final = 0.9
"""The share of an instance class's nominal memory read as ``DBInstanceClassMemory``. AWS
documents that the variable is smaller than the nominal memory (operating system and RDS
processes) but not by how much; its one worked example (16 GiB) leaves about 95 %. 90 % keeps
the derived ``max_connections`` at or below the real default for 4 GiB and larger classes."""

INSTANCE_CLASS_MEMORY_SOURCE: Final = (
    "Amazon RDS User Guide, 'Hardware specifications for DB instance classes' "
    "(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html), "
    "edition of 2023-06-09 as published in awsdocs/amazon-rds-user-guide, read 2026-11-27"
)
"""Where :data:`INSTANCE_CLASS_MEMORY_GIB` comes from, and when it was read."""

_GRAVITON_M = {"large": 8, "xlarge": 16, "2xlarge": 32, "4xlarge": 64, "8xlarge": 128, "12xlarge": 192, "16xlarge": 256}
_GRAVITON_R = {"large": 16, "xlarge": 32, "2xlarge": 64, "4xlarge": 128, "8xlarge": 256, "12xlarge": 384, "16xlarge": 512}

INSTANCE_CLASS_MEMORY_GIB: Final[Mapping[str, int]] = MappingProxyType({
    "db.t4g.medium": 4, "db.t4g.large": 8, "db.t4g.xlarge": 16, "db.t4g.2xlarge": 32,
    **{f"db.m6g.{size}": gib for size, gib in _GRAVITON_M.items()},
    **{f"db.m7g.{size}": gib for size, gib in _GRAVITON_M.items()},
    **{f"db.r6g.{size}": gib for size, gib in _GRAVITON_R.items()},
    **{f"db.r7g.{size}": gib for size, gib in _GRAVITON_R.items()},
})
"""Nominal memory (GiB) of the Graviton (ARM) instance classes RDS for PostgreSQL runs on,
from :data:`INSTANCE_CLASS_MEMORY_SOURCE`; 4 GiB and larger (see the module docstring)."""

JOB_CONCURRENCY: Final = 1
"""A scheduled job's tasks at the worst moment: its orchestrator never starts a run beside one
still running, and a job has no rollout surge (a run starts from the task definition of its
time)."""

ECS_DEFAULT_MAXIMUM_PERCENT: Final = 200
"""ECS's ``maximumPercent`` for a service that does not set it
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html)."""


def default_max_connections(instance_class: str) -> int | None:
    """RDS for PostgreSQL's default ``max_connections`` of ``instance_class`` under this
    module's reading of ``DBInstanceClassMemory``; ``None`` for a class not in the table."""
    gib = INSTANCE_CLASS_MEMORY_GIB.get(instance_class)
    if gib is None:
        return None
    memory = INSTANCE_CLASS_MEMORY_SHARE * gib * 2**30
    return min(math.floor(memory / POSTGRES_CONNECTION_MEMORY_BYTES), POSTGRES_MAX_CONNECTIONS_CAP)


def nominal_max_connections(instance_class: str) -> int | None:
    """The formula on the class's full nominal memory: an upper bound no instance reaches."""
    gib = INSTANCE_CLASS_MEMORY_GIB.get(instance_class)
    if gib is None:
        return None
    return min(gib * 2**30 // POSTGRES_CONNECTION_MEMORY_BYTES, POSTGRES_MAX_CONNECTIONS_CAP)


def proxy_limit(max_connections: int, max_connections_percent: int) -> int:
    """Connections the proxy may open to the database: ``max_connections x percent / 100``
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-managing.html#rds-proxy-connection-pooling-tuning.maxconnectionspercent),
    rounded down: AWS's example (1000 x 95 % = 950) does not say how it rounds, and down is
    the safe side."""
    return max_connections * max_connections_percent // 100


def rollout_tasks(max_tasks: int, maximum_percent: int) -> int:
    """Tasks of a service at its maximum in the middle of a rollout: ``ceil(max_tasks x
    maximumPercent / 100)`` (ECS rounds the upper limit down, so this never undercounts)."""
    return math.ceil(max_tasks * maximum_percent / 100)


@dataclass(frozen=True)
class BudgetLine:
    """One service's share of a database's connections at the worst moment."""

    service: str
    kind: ServiceKind
    pool_size: int
    max_tasks: int
    maximum_percent: int | None
    """The service's rollout surge (``maximumPercent``); ``None`` for a job (its concurrency counts)."""

    def __post_init__(self) -> None:
        if self.pool_size < 1:
            raise ConfigError(self.service, "pool_size", self.pool_size, "Give a pool of at least 1 connection per task.")
        if self.max_tasks < 1:
            raise ConfigError(self.service, "max_tasks", self.max_tasks, "A service that connects runs at least one task.")
        if self.maximum_percent is not None and self.maximum_percent < 100:
            raise ConfigError(self.service, "maximum_percent", self.maximum_percent, "ECS's maximumPercent is at least 100.")

    @property
    def tasks(self) -> int:
        """Tasks counted: the rollout surge at ``max_tasks``, or a job's concurrency."""
        if self.maximum_percent is None:
            return JOB_CONCURRENCY
        return rollout_tasks(self.max_tasks, self.maximum_percent)

    @property
    def connections(self) -> int:
        return self.tasks * self.pool_size

    @property
    def tasks_text(self) -> str:
        if self.maximum_percent is None:
            return f"{self.tasks} (one run at a time)"
        return f"{self.max_tasks} max_tasks x {self.maximum_percent} % = {self.tasks}"

    def to_json(self) -> dict[str, Any]:
        """The line as the template records it (a job has no ``maximum_percent``: CloudFormation
        drops a null, so the record leaves it out)."""
        record: dict[str, Any] = {"service": self.service, "kind": self.kind, "max_tasks": self.max_tasks}
        if self.maximum_percent is not None:
            record["maximum_percent"] = self.maximum_percent
        return record | {"tasks": self.tasks, "pool_size": self.pool_size, "connections": self.connections}


@dataclass(frozen=True)
class ConnectionBudget:
    """A database's connection budget: the services that connect, and the limit.

    :param database: the database's name (``environments.<env>.databases.<name>``).
    :param environment: the environment it runs in.
    :param max_connections: the instance's ``max_connections``.
    :param max_connections_source: how it was found (derived from the class, or declared).
    :param max_connections_percent: the proxy's ``MaxConnectionsPercent``.
    :param reserved: connections no service declares (migrations, operators).
    :param lines: one per connected service.
    :param instance_class: the class, to suggest a larger one when over budget.
    """

    database: str
    environment: str
    max_connections: int
    max_connections_source: str
    max_connections_percent: int
    reserved: int
    lines: tuple[BudgetLine, ...] = ()
    instance_class: str | None = None
    where: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """cdk.json paths to name in a refusal: ``pools``, ``max_tasks``, ``instance_class``."""

    @property
    def limit(self) -> int:
        return proxy_limit(self.max_connections, self.max_connections_percent)

    @property
    def services_total(self) -> int:
        return sum(line.connections for line in self.lines)

    @property
    def total(self) -> int:
        return self.services_total + self.reserved

    @property
    def headroom(self) -> int:
        return self.limit - self.total

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def with_line(self, line: BudgetLine) -> ConnectionBudget:
        """This budget with ``line`` added (a service connected twice is refused)."""
        if any(existing.service == line.service for existing in self.lines):
            raise ConfigError(
                line.service, f"database {self.database}", "connected twice",
                f"{line.service} already connects to {self.database}; connect each service once (its pool is counted once).",
            )
        return replace(self, lines=(*self.lines, line))

    def table(self) -> str:
        """The budget as a plain-text table: each service's contribution, reserved, total, limit."""
        rows: list[tuple[str, ...]] = [("service", "kind", "tasks counted", "pool", "connections")]
        rows += [(ln.service, ln.kind, ln.tasks_text, str(ln.pool_size), str(ln.connections)) for ln in self.lines]
        rows.append(("reserved", "", "migrations, operators", "", str(self.reserved)))
        rows.append(("total", "", "", "", str(self.total)))
        rows.append(("limit", "", f"{self.max_connections} max_connections x {self.max_connections_percent} %", "", str(self.limit)))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        numeric = {3, 4}
        return "\n".join(
            "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            for row in rows
        )

    def summary(self) -> str:
        state = f"{self.headroom} to spare" if self.fits else f"{-self.headroom} OVER"
        return f"{self.environment} / {self.database}: {self.total} of {self.limit} connections ({state})"

    def check(self) -> None:
        """Raise a ConfigError listing every contribution, the total, the limit and what to
        change, when the budget does not fit."""
        if self.fits:
            return
        larger = self.smallest_class_that_fits()
        class_fix = f"or choose a larger instance class ({self.where.get('instance_class', 'instance_class')}"
        class_fix += f": {larger} fits)" if larger else ", or declare max_connections)"
        raise ConfigError(
            f"database {self.database} in {self.environment}", "connection budget", f"{self.total} connections",
            f"At the worst moment (every service at max_tasks, in the middle of a rollout) the services could open "
            f"{self.total} connections, more than the proxy may open to the database: {self.limit} = {self.max_connections} "
            f"max_connections x MaxConnectionsPercent {self.max_connections_percent} % (max_connections: "
            f"{self.max_connections_source}).\n\n{self.table()}\n\n"
            f"Lower a pool size ({self.where.get('pools', 'pool_size')}), lower max_tasks "
            f"({self.where.get('max_tasks', 'max_tasks')}), {class_fix}.",
        )

    def smallest_class_that_fits(self) -> str | None:
        """The smallest class of the table, in this class's family when it has one, whose
        derived budget holds the total."""
        family = self.instance_class.rsplit(".", 1)[0] + "." if self.instance_class and self.instance_class.count(".") == 2 else ""
        candidates = sorted(
            (gib, name) for name, gib in INSTANCE_CLASS_MEMORY_GIB.items() if not family or name.startswith(family)
        )
        for _, name in candidates:
            derived = default_max_connections(name)
            if derived is not None and proxy_limit(derived, self.max_connections_percent) >= self.total:
                return name
        return None

    def to_json(self) -> dict[str, Any]:
        """What the template records (``Metadata.stable_fargate.connection_budget``) for the
        read side, which never imports this module."""
        return {
            "database": self.database,
            "environment": self.environment,
            "instance_class": self.instance_class,
            "max_connections": self.max_connections,
            "max_connections_source": self.max_connections_source,
            "max_connections_percent": self.max_connections_percent,
            "limit": self.limit,
            "reserved": self.reserved,
            "total": self.total,
            "headroom": self.headroom,
            "services": [line.to_json() for line in self.lines],
        }


def budget_table(budgets: Sequence[ConnectionBudget]) -> str:
    """Every budget's table under its summary line (what the sample app prints at synth)."""
    return "\n\n".join(f"{b.summary()}\n{b.table()}" for b in budgets)
