"""Schedules in one dialect: EventBridge Scheduler / Application Auto Scaling cron of six
fields (minutes hours day-of-month month day-of-week year) read in an IANA time zone.

Shared by ScheduledJob (when a run starts) and QueueWorker's warm windows (when capacity is
raised before a known burst). Nothing here imports the CDK.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from stable_fargate.errors import ConfigError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for 1.., extra tokens allowed alone)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_TZ_NAME = re.compile(r"^(?:[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)+|UTC|Etc/[A-Za-z0-9+-]+)$")


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    upper = token.upper()
    if upper in names:
        return names.index(upper) + 1
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    return None


def _check_cron_item(item: str, index: int) -> bool:
    _name, low, high, names = _CRON_FIELDS[index]
    if item == "*":
        return True
    if index == 2 and (item in {"L", "LW"} or re.fullmatch(r"(?:[1-9]|[12]\d|3[01])W", item)):
        return True
    if index == 4:
        if item == "L" or re.fullmatch(r"[1-7]L", item):
            return True
        hashed = re.fullmatch(r"([1-7]|[A-Za-z]{3})#([1-5])", item)
        if hashed:
            return _value(hashed.group(1), low, high, names) is not None
    base, _, step = item.partition("/")
    if step and (not step.isdigit() or int(step) < 1):
        return False
    if base == "*":
        return bool(step)
    start, dash, end = base.partition("-")
    first = _value(start, low, high, names)
    if first is None:
        return False
    if dash:
        last = _value(end, low, high, names)
        return last is not None and first <= last
    return True


def parse_cron(service: str, expression: str) -> tuple[str, str, str, str, str, str]:
    """Check an EventBridge Scheduler cron (six fields: minutes hours day-of-month month
    day-of-week year, e.g. ``0 2 * * ? *``) and return its fields; refuse anything else."""
    fix_example = "Use six fields: minutes hours day-of-month month day-of-week year, e.g. '0 2 * * ? *' (02:00 daily)."
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1].strip()
    fields = text.split()
    if len(fields) != 6:
        raise ConfigError(service, "schedule", expression, fix_example)
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ConfigError(
            service, "schedule", expression,
            "Exactly one of day-of-month and day-of-week must be '?', e.g. '0 2 * * ? *' or '0 2 ? * MON-FRI *'.",
        )
    for index, field in enumerate(fields):
        if field == "?" and index in (2, 4):
            continue
        if not all(_check_cron_item(item, index) for item in field.split(",")):
            name, low, high, _ = _CRON_FIELDS[index]
            raise ConfigError(
                service, "schedule", expression,
                f"The {name} field '{field}' is not valid: use *, a value or range within {low}-{high}, lists with ',' "
                f"and steps with '/'. {fix_example}",
            )
    minute, hour, day, month, week_day, year = fields
    return minute, hour, day, month, week_day, year


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(service: str, time_zone: str) -> str:
    """Refuse a time zone that is not an IANA name (``Europe/London``, not ``GMT+1`` or ``BST``)."""
    known = _known_time_zones()
    # Without a tz database on this machine, fall back to the shape of an IANA name.
    valid = time_zone in known if known else bool(_TZ_NAME.match(time_zone))
    if not valid:
        raise ConfigError(
            service, "time_zone", time_zone,
            "Give an IANA time zone such as 'Europe/London' or 'America/New_York': the schedule then follows "
            "daylight saving time. Use 'Etc/UTC' for a schedule that never shifts.",
        )
    return time_zone
