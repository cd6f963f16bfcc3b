"""Keeping data: CloudWatch Logs retention from a named number of days
(defaults.*_RETENTION_DAYS), and the removal policy of stateful resources."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from stable_fargate.errors import ConfigError

_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS, 120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS, 731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}


def log_retention(days: int, *, subject: str = "log group") -> logs.RetentionDays:
    """The RetentionDays member for ``days``; CloudWatch Logs accepts only these values."""
    if days not in _BY_DAYS:
        raise ConfigError(subject, "retention_days", days, f"CloudWatch Logs keeps logs for one of {sorted(_BY_DAYS)} days.")
    return _BY_DAYS[days]


def removal_policy(retain: bool) -> RemovalPolicy:
    """Keep data that must outlive its stack (staging, prod, registries), else DESTROY.

    Kept data is ``RETAIN_ON_UPDATE_OR_DELETE`` (CloudFormation ``DeletionPolicy:
    RetainExceptOnCreate``), not ``RETAIN``: a plain Retain also keeps a resource whose very
    first create rolled back, and a resource with a fixed name (a repository, the WAF log
    group) then makes the retried deploy fail with "already exists". Data that was ever
    created successfully is kept exactly as before.
    """
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if retain else RemovalPolicy.DESTROY
