"""A dated Fargate price table: USD per vCPU-hour and per GB-hour, Linux.

Source: AWS Fargate pricing, https://aws.amazon.com/fargate/pricing/ ("Pricing is based on
requested vCPU, memory, Operating Systems, CPU Architecture, and storage resources", billed
per second). Read on :data:`READ_ON` through the search tool's stored copy of that page: the
stored copy carries the page's text but not its per-region rates, which the page renders
from a data file. The rates below are therefore AWS's published rates as transcribed
elsewhere, each with where it was read:

* **On-demand x86**: eu-west-2 $0.04656 / $0.00511, eu-west-1 and us-east-1 $0.04048 /
  $0.004445 per vCPU-hour / GB-hour (the fgcalc calculator's transcription of the AWS page,
  github.com/theuves/fgcalc src/utils/data.js, January 2021). The us-east-1 figures match
  the AWS ECS pricing page's example ($0.000011244 per vCPU-second = $0.04048 per hour) and
  2026 write-ups of the page (vantage.sh, wring.co, March 2026): unchanged since.
* **On-demand ARM**: us-east-1 $0.03238 / $0.00356 (vantage.sh's copy of the page), exactly
  20 % below x86, AWS's ARM discount; eu-west-1 and eu-west-2 ARM are their x86 rates x 0.8
  rounded to the 5 decimals AWS quotes (eu-west-2: $0.03725 / $0.00409), marked ``derived``
  in :data:`PRICES`.
* **Spot x86**: the page's Spot table as transcribed by fgcalc (January 2021). Fargate Spot
  prices move with spare capacity (up to 70 % off): treat them as an estimate and give
  current ones with ``--prices FILE`` for a decision.
* **Spot ARM**: Spot x86 x 0.8 (derived, as for on-demand ARM).

A ``--prices`` file is JSON: ``{"source": "...", "read_on": "YYYY-MM-DD", "prices":
{"eu-west-2": {"X86_64": {"FARGATE": [vcpu_hour, gb_hour], "FARGATE_SPOT": [...]}, "ARM64":
{...}}}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

SOURCE_URL = "https://aws.amazon.com/fargate/pricing/"
READ_ON = "2026-11-26"
HOURS_PER_MONTH = 730
"""AWS's own month for monthly estimates (365 x 24 / 12)."""


class PriceError(ValueError):
    """A price file that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Rate:
    vcpu_hour: float
    gb_hour: float
    derived: bool = False

    def task_hour(self, vcpu: float, gb: float) -> float:
        return vcpu * self.vcpu_hour + gb * self.gb_hour


def _rates(x86_on_demand: tuple[float, float], x86_spot: tuple[float, float], arm_on_demand: tuple[float, float] | None = None,
           ) -> Mapping[str, Mapping[str, Rate]]:
    arm = arm_on_demand or (round(x86_on_demand[0] * 0.8, 5), round(x86_on_demand[1] * 0.8, 5))
    return MappingProxyType({
        "X86_64": MappingProxyType({"FARGATE": Rate(*x86_on_demand), "FARGATE_SPOT": Rate(*x86_spot)}),
        "ARM64": MappingProxyType({
            "FARGATE": Rate(*arm, derived=arm_on_demand is None),
            "FARGATE_SPOT": Rate(round(x86_spot[0] * 0.8, 8), round(x86_spot[1] * 0.8, 8), derived=True),
        }),
    })


PRICES: Mapping[str, Mapping[str, Mapping[str, Rate]]] = MappingProxyType({
    "eu-west-2": _rates((0.04656, 0.00511), (0.013968, 0.001533)),
    "eu-west-1": _rates((0.04048, 0.004445), (0.01257825, 0.00138118)),
    "us-east-1": _rates((0.04048, 0.004445), (0.01264355, 0.00138835), (0.03238, 0.00356)),
})
"""region -> architecture -> capacity provider -> rate."""


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, Mapping[str, Mapping[str, Rate]]]
    source: str
    read_on: str

    def rate(self, region: str | None, architecture: str, provider: str) -> Rate | None:
        by_arch = self.prices.get(region or "", {}).get(architecture.upper())
        return by_arch.get(provider) if by_arch else None

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.prices)


BUILT_IN = PriceTable(PRICES, SOURCE_URL, READ_ON)


def load_prices(path: str | Path) -> PriceTable:
    """A price table from a JSON file (see the module docstring)."""
    shown = str(path).encode("unicode_escape").decode("ascii")
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise PriceError(f"{shown}: cannot read the price file ({getattr(error, 'strerror', None) or error})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("prices"), Mapping):
        raise PriceError(f"{shown}: expected an object with a 'prices' object")
    prices: dict[str, dict[str, dict[str, Rate]]] = {}
    for region, archs in data["prices"].items():
        if not isinstance(archs, Mapping):
            raise PriceError(f"{shown}: prices.{region} must be an object of architectures")
        for arch, providers in archs.items():
            if not isinstance(providers, Mapping):
                raise PriceError(f"{shown}: prices.{region}.{arch} must be an object of capacity providers")
            for provider, pair in providers.items():
                if (not isinstance(pair, list) or len(pair) != 2
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in pair)):
                    raise PriceError(f"{shown}: prices.{region}.{arch}.{provider} must be [vcpu_hour, gb_hour], two numbers >= 0")
                rate = Rate(float(pair[0]), float(pair[1]))
                prices.setdefault(region, {}).setdefault(str(arch).upper(), {})[str(provider).upper()] = rate
    return PriceTable(prices, str(data.get("source") or shown), str(data.get("read_on") or "not stated"))
