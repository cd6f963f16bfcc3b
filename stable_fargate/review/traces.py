"""Queue arrivals to replay: the built-in fintech day and CSV traces.

A :class:`Trace` is messages sent to the queue per minute. The built-in day
(:func:`fintech_day`) is a named, documented profile; its Poisson draws use a fixed seed,
so every run replays the same messages.

The **fintech day** (London time; minute 0 is midnight):

* **nightly reconciliation batch**, 02:00-02:45: after the ledger's end-of-day close the
  reconciliation job walks every account and enqueues a check per account at
  :data:`NIGHTLY_BATCH_RATE` messages a minute (about 10,800), ramping up over 2 minutes;
* **steady trickle**, 07:00-19:00: clients and advisers update portfolios all day,
  :data:`TRICKLE_RATE` messages a minute on average, ramping up from 07:00 and down to 19:00;
* **morning import burst**, 08:30-09:00: partners deliver the overnight portfolio files; the
  import fans out to :data:`MORNING_PEAK_RATE` messages a minute, ramping up over 5 minutes,
  holding 15 and ramping down over 5 (about 7,200 messages).

The replay runs the day twice and reports the second (:attr:`Trace.warm_up_minutes`), so the
night starts from the state the previous evening left (capacity, an idle queue).

**CSV traces** (``--trace FILE``): a header line, then one line per minute:

    minute,messages            or   time,messages
    0,12                            2025-03-03T08:00,12
    1,15                            2025-03-03T08:01,15

``minute`` counts from 0; ``time`` is an ISO 8601 date and time on whole minutes. Lines must
go forward in time; minutes not listed get 0 messages; ``messages`` is a number >= 0. At most
:data:`MAX_TRACE_MINUTES` minutes. Any other content is refused with a one-line
:class:`TraceError` naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

MINUTES_PER_DAY = 1440

TRICKLE_RATE = 6.0
"""Messages a minute during the business day (07:00-19:00)."""
MORNING_PEAK_RATE = 360.0
"""Messages a minute at the morning import's peak: 12 tasks' worth at 2 s a message."""
NIGHTLY_BATCH_RATE = 240.0
"""Messages a minute while the nightly reconciliation enqueues its checks."""
FINTECH_DAY_SEED = 13
"""The Poisson draws' seed: every run replays the same day."""

MAX_TRACE_MINUTES = 31 * MINUTES_PER_DAY
"""A month at one-minute resolution: longer traces are refused rather than slowly replayed."""


class TraceError(ValueError):
    """A trace that cannot be read; the message is one line."""


@dataclass(frozen=True)
class TraceEvent:
    name: str
    minute: int


@dataclass(frozen=True)
class Trace:
    name: str
    arrivals: tuple[float, ...]
    events: tuple[TraceEvent, ...] = ()
    warm_up_minutes: int = 0
    """Minutes replayed before the reported window (the state they leave carries over)."""
    description: str = ""

    @property
    def minutes(self) -> int:
        return len(self.arrivals)

    @property
    def reported_minutes(self) -> int:
        return self.minutes - self.warm_up_minutes

    @property
    def total_messages(self) -> float:
        return float(sum(self.arrivals[self.warm_up_minutes:]))


def _ramp(minute: float, start: float, rise: float, hold: float, fall: float) -> float:
    """1 on the plateau, linear on the ramps, 0 outside [start, start + rise + hold + fall)."""
    t = minute - start
    if t < 0 or t >= rise + hold + fall:
        return 0.0
    if t < rise:
        return (t + 1) / (rise + 1)
    if t < rise + hold:
        return 1.0
    return max(0.0, 1 - (t - rise - hold + 1) / (fall + 1))


def fintech_day_rates() -> list[float]:
    """The day's expected messages per minute (the Poisson means)."""
    rates = []
    for minute in range(MINUTES_PER_DAY):
        rate = NIGHTLY_BATCH_RATE * _ramp(minute, 2 * 60, 2, 43, 0)
        rate += TRICKLE_RATE * _ramp(minute, 7 * 60, 60, 600, 60)
        rate += MORNING_PEAK_RATE * _ramp(minute, 8 * 60 + 30, 5, 15, 5)
        rates.append(rate)
    return rates


FINTECH_DAY_EVENTS = (
    TraceEvent("nightly reconciliation batch", 2 * 60),
    TraceEvent("steady trickle", 7 * 60),
    TraceEvent("morning import burst", 8 * 60 + 30),
)


def fintech_day(days: int = 1, *, seed: int = FINTECH_DAY_SEED) -> Trace:
    """The built-in day, ``days`` times in a row after one warm-up day."""
    rng = np.random.default_rng(seed)
    rates = fintech_day_rates() * (days + 1)
    arrivals = tuple(float(x) for x in rng.poisson(rates))
    events = tuple(TraceEvent(e.name, e.minute + MINUTES_PER_DAY * (d + 1)) for d in range(days) for e in FINTECH_DAY_EVENTS)
    return Trace(
        name="fintech day" if days == 1 else f"fintech day x{days}",
        arrivals=arrivals,
        events=events,
        warm_up_minutes=MINUTES_PER_DAY,
        description=(
            f"nightly reconciliation 02:00-02:45 at {NIGHTLY_BATCH_RATE:.0f}/min, trickle 07:00-19:00 at "
            f"{TRICKLE_RATE:.0f}/min, morning import 08:30-09:00 peaking at {MORNING_PEAK_RATE:.0f}/min "
            f"(Poisson, seed {seed}); replayed after one warm-up day"
        ),
    )


def read_csv_trace(path: str | Path) -> Trace:
    """A CSV trace (see the module docstring)."""
    source = Path(path)
    shown = str(source).encode("unicode_escape").decode("ascii")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise TraceError(f"{shown}: cannot read the trace ({getattr(error, 'strerror', None) or error})") from None
    return parse_csv_trace(text, name=source.name, shown=shown)


def parse_csv_trace(text: str, *, name: str = "trace", shown: str = "trace") -> Trace:
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise TraceError(f"{shown}: the trace is empty; give a header line (minute,messages) and one line per minute")
    header = [c.strip().lower() for c in rows[0]]
    if header not in (["minute", "messages"], ["time", "messages"]):
        raise TraceError(f"{shown} line 1: the header must be 'minute,messages' or 'time,messages', got {','.join(rows[0])!r}")
    by_time = header[0] == "time"
    points: list[tuple[int, float]] = []
    start: datetime | None = None
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2:
            raise TraceError(f"{shown} line {number}: expected 2 values (minute and messages), got {len(row)}")
        when, count = row[0].strip(), row[1].strip()
        if by_time:
            try:
                moment = datetime.fromisoformat(when)
            except ValueError:
                raise TraceError(f"{shown} line {number}: {when!r} is not an ISO 8601 time such as 2025-03-03T08:00") from None
            if moment.second or moment.microsecond:
                raise TraceError(f"{shown} line {number}: {when!r} is not on a whole minute")
            if start is None:
                start = moment
            if (moment.tzinfo is None) != (start.tzinfo is None):
                raise TraceError(f"{shown} line {number}: {when!r} mixes times with and without a time zone")
            minute = int((moment - start).total_seconds() // 60)
        else:
            try:
                minute = int(when)
            except ValueError:
                raise TraceError(f"{shown} line {number}: minute must be a whole number >= 0, got {when!r}") from None
        try:
            messages = float(count)
        except ValueError:
            raise TraceError(f"{shown} line {number}: messages must be a number >= 0, got {count!r}") from None
        if minute < 0:
            raise TraceError(f"{shown} line {number}: minute must be >= 0, got {when!r}")
        if not messages >= 0 or messages == float("inf"):
            raise TraceError(f"{shown} line {number}: messages must be a number >= 0, got {count!r}")
        if points and minute <= points[-1][0]:
            raise TraceError(f"{shown} line {number}: time must go forward ({when!r} is not after the line before)")
        if minute >= MAX_TRACE_MINUTES:
            raise TraceError(f"{shown} line {number}: the trace is longer than {MAX_TRACE_MINUTES} minutes (31 days)")
        points.append((minute, messages))
    if not points:
        raise TraceError(f"{shown}: the trace has a header but no minutes")
    arrivals = [0.0] * (points[-1][0] + 1)
    for minute, messages in points:
        arrivals[minute] = messages
    return Trace(name=name, arrivals=tuple(arrivals), description=f"CSV trace {name}, {len(arrivals)} minutes")


def repeat(trace: Trace, times: int) -> Trace:
    """``trace`` ``times`` times in a row (for benchmarks over several days)."""
    arrivals: Sequence[float] = trace.arrivals * times
    return Trace(name=f"{trace.name} x{times}", arrivals=tuple(arrivals), events=trace.events, warm_up_minutes=trace.warm_up_minutes)
