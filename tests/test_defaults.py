"""Every constant in stable_fargate/defaults.py, pinned to its documented value.

This is the floor under the fine-grained template tests: each value is written here as a
literal beside the rule it comes from, so changing a default means changing this table in the
same pull request, on purpose. Where a value lands in a template it is asserted there too
(test_web_service.py, test_worker.py, test_job.py, test_network.py, test_images.py,
test_task_base.py), again as a literal. A constant added to defaults.py without a row here
fails ``test_every_constant_is_guarded``.
"""

from __future__ import annotations

import types
from typing import Any

import pytest

from stable_fargate import defaults

GUARDS: dict[str, tuple[Any, str]] = {
    # name: (documented value, the rule it comes from)
    # --- environments
    "MIN_AZS": (2, "one AZ outage must not stop a service"),
    "MIN_AZS_PRODUCTION": (3, "losing one AZ still leaves two"),
    "RETAIN_DATA_ENVIRONMENTS": (frozenset({"staging", "prod"}), "dev is disposable"),
    # --- images
    "RELEASE_IMAGE_RETENTION_DAYS": (365, "a year of releases to roll back to, by age"),
    "UNTAGGED_IMAGE_EXPIRY_DAYS": (7, "failed pushes go after a week"),
    "RELEASE_TAG_PREFIX": ("v", "releases are v<semver>"),
    "KEEP_PRERELEASE_IMAGES": (20, "candidates kept by count"),
    "PRERELEASE_TAG_PATTERN": ("v*-*", "a v tag with a '-'"),
    "PROTECTED_TAG_COUNT": (1, "an immutable tag names one image"),
    "MOVING_TAGS": (
        frozenset({
            "latest", "main", "master", "stable", "prod", "production", "staging", "dev", "develop", "development",
            "edge", "nightly", "current", "release", "head", "trunk", "test", "qa", "canary", "beta", "alpha",
            "snapshot", "next",
        }),
        "branch and channel names move between builds",
    ),
    "ECR_PUBLIC_CACHE_PREFIX": ("ecr-public", "pull-through cache namespace"),
    "KEEP_CACHED_IMAGES": (50, "the cache refills itself"),
    # --- network
    "PUBLIC_SUBNET_MASK": (24, "load balancers only"),
    "PRIVATE_SUBNET_MASK": (20, "room for a scale-out plus a 200 % rollout"),
    "INTERFACE_ENDPOINT_SERVICES": (
        ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sqs", "monitoring"), "what a task needs without NAT",
    ),
    "FLOW_LOG_RETENTION_DAYS": (365, "PCI DSS 10.7: a year of audit trail"),
    "CONTAINER_INSIGHTS": ("enhanced", "RunningTaskCount for the workers"),
    "LOG_RETENTION_DAYS": (365, "PCI DSS 10.7"),
    "BUDGET_ACTUAL_ALERT_PERCENT": (80.0, "time to act before the month ends"),
    "BUDGET_FORECAST_ALERT_PERCENT": (100.0, "AWS forecasts the month above budget"),
    # --- tasks
    "FARGATE_MEMORY_MIB": (
        {
            # AWS's table: 0.25 vCPU: 0.5, 1, 2 GB; 0.5 vCPU: 1-4 GB; 1 vCPU: 2-8 GB; 2 vCPU: 4-16 GB;
            # 4 vCPU: 8-30 GB, all in 1 GB steps; 8 vCPU: 16-60 GB in 4 GB steps; 16 vCPU: 32-120 GB in 8 GB steps.
            256: (512, 1024, 2048),
            512: tuple(range(1024, 4096 + 1, 1024)),
            1024: tuple(range(2048, 8192 + 1, 1024)),
            2048: tuple(range(4096, 16384 + 1, 1024)),
            4096: tuple(range(8192, 30720 + 1, 1024)),
            8192: tuple(range(16384, 61440 + 1, 4096)),
            16384: tuple(range(32768, 122880 + 1, 8192)),
        },
        "Fargate's valid CPU/memory pairs",
    ),
    "DEFAULT_CPU": (512, "half a vCPU warms a Node.js or JVM service"),
    "DEFAULT_MEMORY_MIB": (1024, "the smallest memory for 512 CPU units"),
    "DEFAULT_MIN_TASKS": (1, "an unsized service answers at once"),
    "DEFAULT_MAX_TASKS": (2, "one more than the minimum, not an open-ended bill"),
    "CPU_ARCHITECTURE": ("ARM64", "Graviton, about 20 % cheaper"),
    "CONTAINER_USER": ("1000:1000", "never root"),
    "TMP_VOLUME_PATH": ("/tmp", "the one writable path"),
    "MAX_STOP_TIMEOUT_SECONDS": (120, "Fargate's ceiling"),
    "SECRET_LOOKING_WORDS": (("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY"), "secrets by reference"),
    "SECRET_LOOKING_SEGMENTS": (frozenset({"KEY", "PWD", "PASS", "APIKEY"}), "whole parts only: MONKEY_MODE stays plain"),
    # --- scaling
    "SCALE_OUT_COOLDOWN_SECONDS": (60, "load does not wait"),
    "SCALE_IN_COOLDOWN_SECONDS": (300, "no saw-tooth of launches"),
    # --- workers and jobs
    "QUEUE_RECEIVE_WAIT_SECONDS": (20, "long polling at SQS's maximum"),
    "QUEUE_MAX_RECEIVE_COUNT": (5, "rides out a deploy, not a poison message"),
    "QUEUE_RETENTION_DAYS": (4, "SQS's default"),
    "DLQ_RETENTION_DAYS": (14, "SQS's maximum, longer than the source"),
    "VISIBILITY_TIMEOUT_FACTOR": (2, "no second worker on a slow message"),
    "WORKER_STOP_MARGIN_SECONDS": (10, "delete the message, flush logs"),
    "WORKER_ON_DEMAND_BASE": (1, "ECS does not fall back from Spot"),
    "ON_DEMAND_WEIGHT": (1, "one task in five on demand"),
    "SPOT_WEIGHT": (4, "four in five on Spot"),
    "SCALING_PERIOD_SECONDS": (60, "SQS's one-minute resolution"),
    "BACKLOG_LATENCY_SHARE": (0.5, "half the latency for the queue, half for scaling"),
    "WORKER_TARGET_UTILIZATION": (0.8, "Little's law with headroom"),
    "TASKS_NEEDED_TARGET": (1.0, "as many tasks as the queue needs"),
    "BURST_COOLDOWN_SECONDS": (180, "period 60 + lag 60 + margin 60"),
    "MAX_STEP_ADJUSTMENTS": (20, "Application Auto Scaling's quota"),
    "WORKER_COLD_START_SECONDS": (180, "datapoint, lag, step, task start"),
    "SQS_METRICS_RESUME_SECONDS": (900, "SQS resumes metrics within 15 minutes"),
    "ALARM_PERIOD_SECONDS": (60, "one-minute datapoints"),
    "ALARM_EVALUATION_PERIODS": (1, "the threshold is already the budget"),
    "ARRIVALS_EVALUATION_PERIODS": (2, "DIFF needs the preceding datapoint"),
    "JOB_RETRY_ATTEMPTS": (3, "capacity shortages pass"),
    "JOB_MAX_EVENT_AGE_SECONDS": (3600, "a nightly job does not start at lunchtime"),
    "JOB_RETRY_INTERVAL_SECONDS": (60, "first retry after a minute"),
    "JOB_RETRY_BACKOFF_RATE": (2, "then two and four minutes"),
    "JOB_ORCHESTRATION_MARGIN_SECONDS": (900, "retries, overlap check, stop, record"),
    "JOB_STOP_TIMEOUT_SECONDS": (120, "the longest time to checkpoint"),
    "FAILED_RUN_RETENTION_DAYS": (14, "past a long weekend"),
    "WORKER_MIN_TASKS_PRODUCTION": (1, "a polling task keeps the queue's metrics alive"),
    "WORKER_MIN_HEALTHY_PERCENT": (100, "the backlog keeps draining"),
    "WORKER_MAX_HEALTHY_PERCENT": (200, "a full new set beside the old"),
    "JOB_CAPACITY_PROVIDER": ("FARGATE", "no Spot reclaim mid-run"),
    # --- web services
    "WEB_MAX_WARM_UP_SECONDS": (1200, "twenty minutes"),
    "CONTAINER_HEALTH_CHECK_MAX_START_PERIOD_SECONDS": (300, "ECS's ceiling"),
    "CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS": (10, "a hung process found in 30 s"),
    "CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS": (5, "ECS's default"),
    "CONTAINER_HEALTH_CHECK_RETRIES": (3, "three failures after the start period"),
    "TARGET_HEALTH_CHECK_INTERVAL_SECONDS": (10, "patterns: 30 s"),
    "TARGET_HEALTHY_THRESHOLD": (2, "traffic 20 s after it can answer"),
    "TARGET_UNHEALTHY_THRESHOLD": (3, "one slow answer is not enough"),
    "TARGET_HEALTH_CHECK_TIMEOUT_SECONDS": (5, "below the interval, as ELB requires"),
    "TARGET_HEALTHY_HTTP_CODES": ("200-399", "a redirect still serves"),
    "WEB_LONGEST_REQUEST_SECONDS": (30, "drain as long as a request takes"),
    "WEB_STOP_MARGIN_SECONDS": (10, "the last request finishes after SIGTERM"),
    "WEB_MIN_HEALTHY_PERCENT": (100, "never below capacity during a rollout"),
    "WEB_MAX_HEALTHY_PERCENT": (200, "one batch per rollout"),
    "WEB_PRODUCTION_MIN_TASKS": (2, "one AZ or task failure never stops production"),
    "WEB_REQUESTS_PER_TARGET": (1000, "about 17 requests a second per task"),
    "WEB_CPU_TARGET_PERCENT": (60, "40 % headroom while scaling out"),
    "DEPLOYMENT_ALARM_PERIOD_SECONDS": (60, "a bad release rolls back in minutes"),
    "WEB_5XX_RATE_PERCENT": (5, "roll back above 5 % errors"),
    "WEB_5XX_MIN_REQUESTS": (20, "one failure of two is not a rate"),
    "WEB_5XX_DATAPOINTS": (2, "one blip does not roll back"),
    "WEB_UNHEALTHY_HOSTS_THRESHOLD": (1, "any target that stays unhealthy"),
    "WEB_ACCESS_LOG_RETENTION_DAYS": (365, "PCI DSS 10.7"),
    "WEB_ACCESS_LOG_NONCURRENT_DAYS": (30, "overwritten logs recoverable"),
    "WEB_TLS_POLICY": ("TLS13_12_RES_PQ", "TLS 1.2/1.3, no CBC, post-quantum"),
    "WEB_IDLE_TIMEOUT_SECONDS": (60, "the ALB's default"),
    "WEB_ENABLE_EXECUTE_COMMAND": (False, "no shell into production"),
    "WEB_ACL_MANAGED_RULE_GROUPS": (
        ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"),
        "PCI DSS 6.6",
    ),
    "WAF_LOG_RETENTION_DAYS": (365, "a year, like every audit log"),
    "WAF_REDACTED_HEADERS": (("authorization", "cookie", "proxy-authorization", "x-api-key"), "credentials stay out of logs"),
    "HEALTH_PROBE_ABORT_MARGIN_SECONDS": (1, "a just-in-time answer counts"),
    "ROLLOUT_TASK_START_SECONDS": (60, "ENI and image pull, for both sides"),
    "GRACE_START_ALLOWANCE_SECONDS": (30, "start, registration, a slow first answer"),
    # --- Postgres (HardenedPostgres, ConnectionBudget)
    "POSTGRES_ENGINE_VERSION": ("17.7", "an engine upgrade is a reviewed change"),
    "POSTGRES_MAJOR_VERSION": ("17", "the parameter group family"),
    "DATABASE_AUTO_MINOR_VERSION_UPGRADE": (False, "prod runs the version its template names"),
    "DATABASE_INSTANCE_PORT": (5433, "not the default port a scan looks for"),
    "PROXY_PORT": (5432, "clients connect to the proxy on PostgreSQL's port"),
    "PROXY_MAX_CONNECTIONS_PERCENT": (80, "headroom below max_connections"),
    "DATABASE_RESERVED_CONNECTIONS": (5, "connections no service declares"),
    "DATABASE_ALLOCATED_STORAGE_GIB": (20, "gp3's smallest volume"),
    "DATABASE_MAX_STORAGE_FACTOR": (2, "autoscaling up to twice the allocation"),
    "DATABASE_STORAGE_TYPE": ("gp3", "IOPS independent of size"),
    "DATABASE_BACKUP_RETENTION_DAYS": (35, "RDS's maximum where data is kept"),
    "DATABASE_BACKUP_RETENTION_DAYS_DISPOSABLE": (7, "undo a bad migration in dev"),
    "DATABASE_DELETION_PROTECTION": (True, "no stack change drops a database"),
    "DATABASE_MONITORING_INTERVAL_SECONDS": (60, "OS metrics every minute"),
    "DATABASE_LOG_EXPORTS": (("postgresql", "upgrade"), "server and upgrade logs in CloudWatch"),
    "DATABASE_PARAMETERS": (
        {"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"}, "TLS only, connections logged",
    ),
    "DATABASE_CA_CERTIFICATE": ("rds-ca-rsa2048-g1", "a CA RDS rotates itself"),
    "DATABASE_MASTER_USERNAME": ("dbadmin", "the password lives in Secrets Manager"),
    "DATABASE_CONNECT_VIA_PROXY": (True, "pooling, failover without reconnect storms"),
    "DATABASE_SSL_MODE": ("verify-full", "chain and host name verified"),
    "RDS_CA_BUNDLE_PATH": ("/etc/ssl/certs/rds-global-bundle.pem", "RDS's CA bundle for direct connections"),
    "SYSTEM_CA_BUNDLE_PATH": ("/etc/ssl/certs/ca-certificates.crt", "the proxy chains to public roots"),
    "DATABASE_CPU_ALARM_PERCENT": (80, "a saturated instance pages"),
    "DATABASE_ALARM_EVALUATION_PERIODS": (5, "five minutes: a busy minute does not page"),
    "DATABASE_FREE_STORAGE_ALARM_PERCENT": (10, "autoscaling acts at the same point"),
    "DATABASE_CONNECTIONS_ALARM_PERCENT": (90, "the budget's assumptions no longer hold"),
    # --- the app
    # --- releases (environments.<env>.release)
    "RELEASE_STRATEGY": ("rolling", "what every service can run; the default without release data"),
    "RELEASE_BAKE_MINUTES": (10, "old tasks kept twice the release alarms' 5-minute detection"),
    "CANARY_PERCENT": (10.0, "a 10 % canary failing 10 % is 1 % of all requests"),
    "CANARY_BAKE_MINUTES": (6, "one minute more than the alarms' worst-case detection"),
    "LINEAR_STEP_PERCENT": (25.0, "four steps, full traffic within a quarter of an hour"),
    "LINEAR_STEP_BAKE_MINUTES": (5, "each step as long as the alarms' detection"),
    "RELEASE_ALARM_ALIGNMENT_SECONDS": (60, "a partial first minute"),
    "ALARM_DATA_LAG_SECONDS": (60, "a one-minute datapoint arrives about a minute late"),
    "ECS_ALARM_REACTION_SECONDS": (60, "undocumented by AWS: a minute assumed"),
    "RELEASE_ALARM_DETECTION_SECONDS": (300, "60 + 2 x 60 + 60 + 60"),
    "RELEASE_HOOK_SECONDS": (30, "cold start and one request per load balancer node"),
    "WEB_TEST_LISTENER_PORT": (9443, "the test listener's HTTPS port, VPC only"),
    "WEB_RELEASE_ALARMS": (("5xx", "latency"), "each target group's own 5xx rate and latency"),
    "WEB_RELEASE_LATENCY_STATISTIC": ("p95", "one request in twenty"),
    "WEB_RELEASE_LATENCY_SECONDS": (2, "slower than 2 s breaks an API a payment flow waits on"),
    "SMOKE_CHECK_EXPECTED_STATUS": (200, "a good release answers 200"),
    "SMOKE_CHECK_REQUEST_TIMEOUT_SECONDS": (5, "a smoke path slower than 5 s is a finding"),
    "SMOKE_CHECK_FUNCTION_TIMEOUT_SECONDS": (60, "a hook that never answers rolls back"),
    "SMOKE_CHECK_MEMORY_MIB": (256, "boto3 and a few requests; CPU in proportion"),
    "EXPECTED_FEATURE_FLAGS": (
        {
            "@aws-cdk/core:defaultCrossStackReferences": "weak",
            "@aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy": True,
            "@aws-cdk/aws-iam:minimizePolicies": True,
        },
        "flags whose absence changes what the stacks may do (values only; each carries its reason)",
    ),
}

PROJECTIONS: dict[str, Any] = {
    "EXPECTED_FEATURE_FLAGS": lambda flags: {flag: value for flag, (value, _) in flags.items()},
}
"""Constants whose rows pin a part of the value (the flags' reasons are prose, not values)."""

IMPORTED_NAMES = {"annotations", "Mapping", "MappingProxyType", "Final"}
"""The module's imports: everything else it defines publicly is a default."""


def _public_names() -> set[str]:
    return {name for name in vars(defaults) if not name.startswith("_") and not isinstance(vars(defaults)[name], types.ModuleType)}


def test_every_constant_is_guarded() -> None:
    """A default added to defaults.py needs a row above (and, where it lands in a template, a
    template assertion) before the suite passes."""
    constants = _public_names() - IMPORTED_NAMES
    assert constants == set(GUARDS), {
        "unguarded (add a row to GUARDS)": sorted(constants - set(GUARDS)),
        "guarded but gone from defaults.py": sorted(set(GUARDS) - constants),
    }


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_default_has_its_documented_value(name: str) -> None:
    expected, reason = GUARDS[name]
    actual = PROJECTIONS.get(name, lambda value: value)(getattr(defaults, name))
    if isinstance(expected, dict):
        actual = dict(actual)
    assert type(actual) is type(expected), f"{name}: {type(actual).__name__}, expected {type(expected).__name__} ({reason})"
    assert actual == expected, f"{name} = {actual!r}, documented {expected!r} ({reason})"


def test_every_reason_says_something() -> None:
    assert all(len(reason.split()) >= 1 and reason[0].isalnum() for _, reason in GUARDS.values())


def test_the_fargate_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        defaults.FARGATE_MEMORY_MIB[256] = (512,)  # type: ignore[index]


def test_the_defaults_agree_with_each_other() -> None:
    """Relations README relies on, each computed by hand from the values above."""
    # A web service's stop timeout, 30 + 10 = 40 s, fits Fargate's 120 s.
    assert defaults.WEB_LONGEST_REQUEST_SECONDS + defaults.WEB_STOP_MARGIN_SECONDS == 40
    # The target-group timeout (5 s) is below its interval (10 s), as ELB requires.
    assert defaults.TARGET_HEALTH_CHECK_TIMEOUT_SECONDS < defaults.TARGET_HEALTH_CHECK_INTERVAL_SECONDS
    # One task in five on demand: 1 / (1 + 4) = 20 %.
    assert defaults.ON_DEMAND_WEIGHT / (defaults.ON_DEMAND_WEIGHT + defaults.SPOT_WEIGHT) == 0.2
    # The DLQ keeps messages longer than the source queue (14 d > 4 d), or they vanish on arrival.
    assert defaults.DLQ_RETENTION_DAYS > defaults.QUEUE_RETENTION_DAYS
    # The default size is a pair Fargate accepts: 512 CPU units with 1024 MiB.
    assert defaults.DEFAULT_MEMORY_MIB in defaults.FARGATE_MEMORY_MIB[defaults.DEFAULT_CPU]
