"""StableWebService: an ALB-fronted Fargate service whose health checks respect warm-up and
whose rollouts are fast and heal themselves.

Every timing is derived from two inputs the owner of the app knows: how long the app needs
before it can answer its health check (``warm_up``) and how long its longest request takes
(``longest_request``):

* container health check start period = warm-up (ECS caps it at 300 s; beyond that the
  check's interval is stretched so that start period + retries x interval >= warm-up);
* ECS health-check grace period = warm-up + a start allowance + the target group's worst-case
  time to healthy ((healthy threshold + 1) x interval + timeout), so neither check replaces a
  task that is still warming up or about to pass;
* deregistration delay = longest request; stop timeout = longest request + a margin;
* the unhealthy-hosts deployment alarm needs more one-minute datapoints than the grace
  period lasts, so warming tasks never trip it.

A rollout batch (task start + time to healthy + drain) is exposed as
:attr:`StableWebService.rollout_batch_seconds` and compared with aws_ecs_patterns'
ApplicationLoadBalancedFargateService by :func:`rollout_batch_seconds`.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnOutput,
    Duration,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stable_fargate import _cdk_values as cdk
from stable_fargate import defaults
from stable_fargate._retention import log_retention, removal_policy
from stable_fargate._typecheck import checked_inputs
from stable_fargate.config.models import EnvironmentSpec
from stable_fargate.config.rules import is_secret_looking
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import ResolvedParameters
from stable_fargate.services._acks import acknowledge
from stable_fargate.services._base import ClusterLike, KeyLike, TopicLike, _StableService, whole_seconds
from stable_fargate.services._release import SmokeCheckHook

# --- aws_ecs_patterns' ApplicationLoadBalancedFargateService, for comparison ---------------

PATTERNS_HEALTH_CHECK_INTERVAL_SECONDS = 30
"""ELB's default target-group interval, which aws_ecs_patterns leaves in place."""

PATTERNS_HEALTHY_THRESHOLD = 5
"""ELB's default healthy threshold: 5 x 30 s = 150 s before a new task takes traffic."""

PATTERNS_HEALTH_CHECK_TIMEOUT_SECONDS = 5
"""ELB's default timeout for an HTTP target-group check, which aws_ecs_patterns leaves in place."""

PATTERNS_DEREGISTRATION_DELAY_SECONDS = 300
"""ELB's default deregistration delay: every stopped task drains for five minutes."""

PATTERNS_GRACE_PERIOD_SECONDS = 60
"""aws_ecs_patterns' grace period, whatever the app's warm-up."""

ECS_EXEC_AGENT_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")
"""Where the ECS Exec (SSM) agent writes; mounted as volumes when ECS Exec is asked for, as
the agent cannot start on a read-only root filesystem otherwise."""

RELEASE_TRAFFIC_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
"""The AWS managed policy of the role ECS moves load balancer traffic with during blue/green,
canary and linear deployments."""

MAX_GRACE_SECONDS = 2_147_483_647
"""ECS's ceiling for healthCheckGracePeriodSeconds."""

_ELB_MIN_INTERVAL_SECONDS = 5
_ELB_MAX_INTERVAL_SECONDS = 300
_CONTAINER_MAX_INTERVAL_SECONDS = 300

# Duration defaults as module-level values (immutable), so signatures show the constant.
_TARGET_INTERVAL = cdk.seconds(defaults.TARGET_HEALTH_CHECK_INTERVAL_SECONDS)
_TARGET_TIMEOUT = cdk.seconds(defaults.TARGET_HEALTH_CHECK_TIMEOUT_SECONDS)
_LONGEST_REQUEST = cdk.seconds(defaults.WEB_LONGEST_REQUEST_SECONDS)
_SCALE_OUT_COOLDOWN = cdk.seconds(defaults.SCALE_OUT_COOLDOWN_SECONDS)
_SCALE_IN_COOLDOWN = cdk.seconds(defaults.SCALE_IN_COOLDOWN_SECONDS)


def time_to_healthy_seconds(*, interval_seconds: float, healthy_threshold: int, timeout_seconds: float) -> float:
    """Worst case from "the app answers" to "the target group counts it healthy":
    ``(healthy_threshold + 1) x interval + timeout``.

    The target is registered and waits up to one interval for its first check (the + 1),
    then needs ``healthy_threshold`` consecutive successes an interval apart, and the last
    answer may take up to the timeout to arrive.
    """
    return (healthy_threshold + 1) * interval_seconds + timeout_seconds


def grace_period_seconds(
    *,
    warm_up_seconds: float,
    interval_seconds: float,
    healthy_threshold: int,
    timeout_seconds: float,
    start_allowance_seconds: float = defaults.GRACE_START_ALLOWANCE_SECONDS,
) -> int:
    """The ECS health-check grace period: ``warm-up + start allowance + (healthy threshold +
    1) x interval + timeout``, so that a good release is never stopped seconds before its
    targets pass (45 s warm-up: 45 + 30 + 3 x 10 + 5 = 110 s)."""
    return math.ceil(
        warm_up_seconds
        + start_allowance_seconds
        + time_to_healthy_seconds(
            interval_seconds=interval_seconds, healthy_threshold=healthy_threshold, timeout_seconds=timeout_seconds
        )
    )


def rollout_batch_seconds(
    *,
    health_check_interval_seconds: float,
    healthy_threshold: int,
    health_check_timeout_seconds: float,
    deregistration_delay_seconds: float,
    warm_up_seconds: float = 0,
    task_start_seconds: float = defaults.ROLLOUT_TASK_START_SECONDS,
) -> int:
    """Seconds one rollout batch takes at worst: new tasks start, warm up and pass the target
    group's checks (:func:`time_to_healthy_seconds`), then the old tasks drain.

    With 100 / 200 % every task is replaced in one batch, so this is the rollout's length
    when the app shuts down promptly on SIGTERM (the stop timeout is the worst case on top).
    """
    return math.ceil(
        task_start_seconds
        + warm_up_seconds
        + time_to_healthy_seconds(
            interval_seconds=health_check_interval_seconds,
            healthy_threshold=healthy_threshold,
            timeout_seconds=health_check_timeout_seconds,
        )
        + deregistration_delay_seconds
    )


PATTERNS_ROLLOUT_BATCH_SECONDS = rollout_batch_seconds(
    health_check_interval_seconds=PATTERNS_HEALTH_CHECK_INTERVAL_SECONDS,
    healthy_threshold=PATTERNS_HEALTHY_THRESHOLD,
    health_check_timeout_seconds=PATTERNS_HEALTH_CHECK_TIMEOUT_SECONDS,
    deregistration_delay_seconds=PATTERNS_DEREGISTRATION_DELAY_SECONDS,
)
"""aws_ecs_patterns' batch before the app's warm-up: 60 + (6 x 30 + 5) + 300 = 545 s."""


# --- What a release costs: time to full traffic, time until the old tasks stop, exposure ------

Scope = Literal["release", "load_balancer"]


@dataclass(frozen=True)
class RateAlarm:
    """A 5xx-rate deployment alarm as the arithmetic needs it. ``scope``: ``release`` reads the
    new release's own target group (it sees the release's failure rate at any share of
    traffic); ``load_balancer`` reads all traffic (it sees the failure rate times the share)."""

    scope: Scope
    threshold_percent: float = defaults.WEB_5XX_RATE_PERCENT
    min_requests: int = defaults.WEB_5XX_MIN_REQUESTS
    datapoints: int = defaults.WEB_5XX_DATAPOINTS
    period_seconds: int = defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS

    def sees(self, share_percent: float, *, failing_percent: float, requests_per_minute: float) -> bool:
        """Whether a minute with the new release at ``share_percent`` of traffic breaches."""
        if self.scope == "release":
            requests, rate = requests_per_minute * share_percent / 100, failing_percent
        else:
            requests, rate = requests_per_minute, failing_percent * share_percent / 100
        per_period = requests * self.period_seconds / 60
        return per_period >= self.min_requests and rate > self.threshold_percent

    @property
    def detection_seconds(self) -> int:
        """Worst case from the first breaching traffic to ECS acting on the alarm: a partial
        first period, the breaching datapoints, CloudWatch's lag and ECS's reaction."""
        return alarm_detection_seconds(datapoints=self.datapoints, period_seconds=self.period_seconds)


def alarm_detection_seconds(
    *,
    datapoints: int = defaults.WEB_5XX_DATAPOINTS,
    period_seconds: int = defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS,
    lag_seconds: int = defaults.ALARM_DATA_LAG_SECONDS,
    reaction_seconds: int = defaults.ECS_ALARM_REACTION_SECONDS,
) -> int:
    """period (a partial first one) + datapoints x period + lag + ECS's reaction: 300 s for two
    one-minute datapoints (``defaults.RELEASE_ALARM_DETECTION_SECONDS``)."""
    return period_seconds + datapoints * period_seconds + lag_seconds + reaction_seconds


WEB_RELEASE_RATE_ALARMS = (RateAlarm("load_balancer"), RateAlarm("release"))
"""The 5xx-rate alarms StableWebService gives a traffic-shifting release (rolling has only the
load balancer's)."""


@dataclass(frozen=True)
class TrafficStep:
    """From ``start_seconds`` after the deployment starts, the new release takes ``percent``
    of production traffic."""

    start_seconds: float
    percent: float


def traffic_schedule(
    strategy: str,
    *,
    ready_seconds: float,
    hook_seconds: float = defaults.RELEASE_HOOK_SECONDS,
    canary_percent: float = defaults.CANARY_PERCENT,
    canary_bake_minutes: int = defaults.CANARY_BAKE_MINUTES,
    linear_step_percent: float = defaults.LINEAR_STEP_PERCENT,
    linear_step_bake_minutes: int = defaults.LINEAR_STEP_BAKE_MINUTES,
) -> tuple[TrafficStep, ...]:
    """The new release's share of production traffic over a deployment.

    ``ready_seconds``: new tasks start, warm up and pass the target group's checks. Rolling then
    sends them all traffic (100/200: one batch). The others first pass the test-listener hook
    (``hook_seconds``), then move traffic: blue/green all of it, canary ``canary_percent`` for
    ``canary_bake_minutes`` then the rest, linear ``linear_step_percent`` more each
    ``linear_step_bake_minutes`` (no bake after the last shift, as CloudFormation counts it).
    """
    if strategy == "rolling":
        return (TrafficStep(ready_seconds, 100.0),)
    start = ready_seconds + hook_seconds
    if strategy == "blue_green":
        return (TrafficStep(start, 100.0),)
    if strategy == "canary":
        return (TrafficStep(start, float(canary_percent)), TrafficStep(start + canary_bake_minutes * 60, 100.0))
    if strategy == "linear":
        shifts = math.ceil(round(1000 / round(linear_step_percent * 10), 9))
        return tuple(
            TrafficStep(start + index * linear_step_bake_minutes * 60, min(100.0, round((index + 1) * linear_step_percent, 1)))
            for index in range(shifts)
        )
    raise ValueError(f"unknown release strategy {strategy!r}")


@dataclass(frozen=True)
class ReleaseCost:
    """What one release costs in time, and what a bad one costs in exposure.

    ``exposure_percent_minutes``: the new release's share of production traffic integrated
    over the time it serves before a rollback has put every request back on the old release
    (10 % for 5 minutes = 50); ``None``: no alarm rolls it back. ``largest_share_percent``:
    the most traffic it served meanwhile. ``detected_seconds``: from the deployment's start
    to ECS acting on the first alarm that sees it (``None``: none does)."""

    strategy: str
    time_to_full_traffic_seconds: int
    time_until_old_tasks_stop_seconds: int
    detected_seconds: int | None
    rolled_back_seconds: int | None
    exposure_percent_minutes: float | None
    largest_share_percent: float

    @property
    def exposure_full_traffic_minutes(self) -> float | None:
        """Exposure as minutes of all traffic (50 %·min = half a minute of all traffic)."""
        return None if self.exposure_percent_minutes is None else self.exposure_percent_minutes / 100


def release_cost(
    schedule: Sequence[TrafficStep],
    *,
    strategy: str,
    ready_seconds: float,
    drain_seconds: float,
    bake_minutes: int = 0,
    alarms: Sequence[RateAlarm] = (),
    failing_percent: float = 10.0,
    requests_per_minute: float = 1000.0,
) -> ReleaseCost:
    """The cost of a release on ``schedule`` (:func:`traffic_schedule`), and of a bad one that
    fails ``failing_percent`` of its requests at ``requests_per_minute`` of production traffic.

    The old tasks stop ``drain_seconds`` after the new ones take all traffic (rolling), or
    after the final bake (the others). A rollback before they stop is a traffic shift back
    (counted as instant); after, the old release needs a new set of tasks (``ready_seconds``).
    """
    full = schedule[-1].start_seconds
    old_stop = full + drain_seconds if strategy == "rolling" else full + bake_minutes * 60 + drain_seconds
    detected: float | None = None
    for alarm in alarms:
        seen = next((step.start_seconds for step in schedule
                     if alarm.sees(step.percent, failing_percent=failing_percent, requests_per_minute=requests_per_minute)), None)
        if seen is not None:
            at = seen + alarm.detection_seconds
            detected = at if detected is None else min(detected, at)
    if detected is None:
        return ReleaseCost(strategy, math.ceil(full), math.ceil(old_stop), None, None, None, 100.0)
    warm_old = strategy != "rolling" and detected <= full + bake_minutes * 60
    ended = detected if warm_old else detected + ready_seconds
    exposure, largest = 0.0, 0.0
    for index, step in enumerate(schedule):
        until = schedule[index + 1].start_seconds if index + 1 < len(schedule) else math.inf
        served = max(0.0, min(until, ended) - step.start_seconds)
        if served > 0:
            exposure += step.percent * served / 60
            largest = max(largest, step.percent)
    return ReleaseCost(strategy, math.ceil(full), math.ceil(old_stop), math.ceil(detected), math.ceil(ended),
                       round(exposure, 1), largest)


PATTERNS_RELEASE_COST = release_cost(
    traffic_schedule("rolling", ready_seconds=PATTERNS_ROLLOUT_BATCH_SECONDS - PATTERNS_DEREGISTRATION_DELAY_SECONDS),
    strategy="rolling",
    ready_seconds=PATTERNS_ROLLOUT_BATCH_SECONDS - PATTERNS_DEREGISTRATION_DELAY_SECONDS,
    drain_seconds=PATTERNS_DEREGISTRATION_DELAY_SECONDS,
)
"""aws_ecs_patterns' rolling 50/200 before the app's warm-up: no deployment alarm, so a release
that passes its health checks and fails 10 % of its requests is never rolled back."""


def container_health_timing(warm_up_seconds: int) -> tuple[int, int]:
    """(start period, interval) of the container health check for ``warm_up_seconds``.

    The start period is the warm-up, up to ECS's 300 s ceiling. Beyond it the interval grows
    so that the retries still outlast the warm-up: a container inside its warm-up is never
    marked unhealthy.
    """
    cap = defaults.CONTAINER_HEALTH_CHECK_MAX_START_PERIOD_SECONDS
    start = min(warm_up_seconds, cap)
    rest = warm_up_seconds - start
    interval = max(
        defaults.CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS,
        math.ceil(rest / defaults.CONTAINER_HEALTH_CHECK_RETRIES),
    )
    return start, min(interval, _CONTAINER_MAX_INTERVAL_SECONDS)


def _port_text(port: int | float) -> str:
    # A number token must be stringified by the CDK, or it renders as a huge float.
    return Token.as_string(port) if cdk.is_unresolved(port) else str(int(port))


HEALTH_CHECK_PATH = re.compile(r"/[A-Za-z0-9._~/-]{0,1000}(?:\?[A-Za-z0-9._~=&%-]{0,200})?")
"""A health-check path: ``/`` and URL-safe characters, an optional plain query. Nothing that a
shell or a JavaScript string would read as syntax (quotes, ``;``, ``|``, spaces, ``$``), so
the same path is safe in the target group, the shell check and the Node.js probe."""

HTTP_CODES = re.compile(r"(?:[2-4][0-9]{2}(?:-[2-4][0-9]{2})?)(?:,[2-4][0-9]{2}(?:-[2-4][0-9]{2})?)*")
"""ELB success codes for an ALB target group: codes or ranges from 200 to 499, comma-separated."""

MANAGED_RULE_GROUP = re.compile(r"AWSManagedRules[A-Za-z0-9]{1,100}")
"""The name of an AWS managed WAF rule group."""


def health_check_url(container_port: int, health_check_path: str) -> str:
    return f"http://127.0.0.1:{_port_text(container_port)}{health_check_path}"


def shell_health_command(container_port: int, health_check_path: str) -> list[str]:
    """The default container health check: the health path over loopback with whichever of
    ``wget`` (busybox/Alpine) or ``curl`` the image has. It needs a shell; for a distroless
    image pass an exec-form command instead (e.g. :func:`node_health_command`). The URL is
    quoted: ``?a=1&b=2`` must not put a command in the background and report healthy."""
    url = shlex.quote(health_check_url(container_port, health_check_path))
    return ["CMD-SHELL", f"wget -q -O /dev/null {url} || curl -fsS -o /dev/null {url} || exit 1"]


def node_health_command(
    container_port: int,
    health_check_path: str,
    timeout_seconds: int = defaults.CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS,
) -> list[str]:
    """An exec-form health check for Node.js 18+ images: uses the runtime's own ``fetch``, so
    it needs neither a shell nor curl (works on distroless Node images).

    The probe gives up ``defaults.HEALTH_PROBE_ABORT_MARGIN_SECONDS`` before the container
    check's own ``timeout_seconds``: an answer that comes just in time then still counts,
    instead of ECS killing the probe and counting a slow-but-good answer as a failure."""
    check_health_check_path("node_health_command", health_check_path)
    url = health_check_url(container_port, health_check_path)
    abort_ms = max(1, timeout_seconds - defaults.HEALTH_PROBE_ABORT_MARGIN_SECONDS) * 1000
    script = (
        f"fetch('{url}',{{signal:AbortSignal.timeout({abort_ms})}})"
        ".then(r=>process.exit(r.status<400?0:1),()=>process.exit(1))"
    )
    return ["CMD", "node", "-e", script]


def check_health_check_path(service: str, path: str) -> None:
    if cdk.is_unresolved(path):
        return
    if not HEALTH_CHECK_PATH.fullmatch(path):
        raise ConfigError(
            service, "health_check_path", path,
            "Give a URL path starting with '/', of letters, digits and . _ ~ / - (and an optional ?query of "
            "name=value&...), e.g. '/healthz': anything else could be read as shell or script syntax.",
        )


HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
"""An HTTP header name (an RFC 9110 token), at most 64 characters."""

HEADER_VALUE = re.compile(r"[\x20-\x7e]{0,256}")
"""A header value: printable ASCII, at most 256 characters (no CR or LF to split a request)."""

CREDENTIAL_HEADERS = frozenset({*defaults.WAF_REDACTED_HEADERS, "x-amz-security-token"})
"""Headers that carry credentials: the smoke check's header sits in the function's
configuration, readable by anyone who may read the template."""


@dataclass(frozen=True)
class SmokeCheck:
    """What a blue/green, canary or linear release must answer through the test listener before
    it takes production traffic (the lifecycle hook at POST_TEST_TRAFFIC_SHIFT).

    It describes the app, like ``health_check_path``, so it is a construct argument and the
    same in every environment; whether an environment runs it follows from its release strategy.

    :param path: a plain URL path (the health-check path rule: ``/``, URL-safe characters, an
        optional plain query), e.g. ``/smoke`` or ``/v1/quotes?symbol=TEST``.
    :param expected_status: Default: ``defaults.SMOKE_CHECK_EXPECTED_STATUS`` (200).
    :param header: one request header ``(name, value)``, e.g. ``("X-Smoke-Test", "1")``; never a
        credential (refused: it would sit in the template). Default: none.
    """

    path: str
    expected_status: int = defaults.SMOKE_CHECK_EXPECTED_STATUS
    header: tuple[str, str] | None = None


def check_smoke_check(service: str, smoke: SmokeCheck) -> None:
    """Refuse what the hook could not send, or should not carry."""
    if not isinstance(smoke.path, str) or not (cdk.is_unresolved(smoke.path) or HEALTH_CHECK_PATH.fullmatch(smoke.path)):
        raise ConfigError(
            service, "smoke_check.path", smoke.path,
            "Give a plain URL path starting with '/', of letters, digits and . _ ~ / - (and an optional ?query of "
            "name=value&...), e.g. '/smoke': the hook requests it as given.",
        )
    status = smoke.expected_status
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 499:
        raise ConfigError(service, "smoke_check.expected_status", status, "Give the HTTP status a good release answers, 200 to 499.")
    if smoke.header is None:
        return
    header = smoke.header
    if not isinstance(header, tuple) or len(header) != 2 or not all(isinstance(part, str) for part in header):
        raise ConfigError(service, "smoke_check.header", header, 'Give one header as a (name, value) tuple, e.g. ("X-Smoke-Test", "1").')
    name, value = header
    if cdk.is_unresolved(name) or not HEADER_NAME.fullmatch(name):
        raise ConfigError(
            service, "smoke_check.header", name, "Give a header name of letters, digits and - (an HTTP token), e.g. X-Smoke-Test."
        )
    if name.lower() in CREDENTIAL_HEADERS or is_secret_looking(name.replace("-", "_")):
        raise ConfigError(
            service, "smoke_check.header", name,
            "A credential must not sit in the function's configuration (anyone who may read the template reads it): "
            "make the smoke path answer without one, or mark smoke requests with a harmless header such as X-Smoke-Test.",
        )
    if cdk.is_unresolved(value) or not HEADER_VALUE.fullmatch(value):
        raise ConfigError(service, "smoke_check.header", "<value>", "Give a literal value of printable ASCII, at most 256 characters.")


def _seconds(value: Duration) -> int | None:
    """Whole seconds of ``value``, or None when it is a token (checks are then skipped)."""
    seconds = cdk.duration_seconds(value)
    # Sub-second values round up: 500 ms of warm-up is still a warm-up.
    return None if seconds is None else math.ceil(seconds)


@dataclass(frozen=True)
class WebTimings:
    """Every timing of a web service, derived from warm-up and the longest request."""

    warm_up_seconds: int
    interval_seconds: int
    timeout_seconds: int
    time_to_healthy_seconds: float
    grace: Duration
    deregistration_delay: Duration
    longest_request_seconds: int
    stop_timeout: Duration
    start_period_seconds: int
    container_interval_seconds: int
    rollout_batch_seconds: int
    ready_seconds: int
    health_check_interval: Duration
    health_check_timeout: Duration
    scale_out_cooldown: Duration
    scale_in_cooldown: Duration


class StableWebService(_StableService):
    """A hardened Fargate service behind an HTTPS Application Load Balancer.

    Shared inputs (``service_name``, ``environment``, ``cluster``, ``key``, ``alarm_topic``,
    ``image``, ``parameters``, ``subnets``, ``security_group``, ``command``) are described in
    :mod:`stable_fargate.services._base`. The environment gives this service its sizing
    (cpu, memory, min/max tasks), production (deletion protection, at least
    ``defaults.WEB_PRODUCTION_MIN_TASKS`` tasks), retain_data and the ACM certificate.

    Required: ``container_port``, ``health_check_path``, ``warm_up`` (how long the app needs
    before it can answer its health check, 0-20 min).

    :param health_check_grace_period: Default: :func:`grace_period_seconds` (warm-up + start
        allowance + (healthy threshold + 1) x interval + timeout). Below warm-up + (healthy
        threshold + 1) x interval + timeout is refused.
    :param health_check_interval: target-group check interval.
        Default: ``defaults.TARGET_HEALTH_CHECK_INTERVAL_SECONDS``.
    :param healthy_threshold: Default: ``defaults.TARGET_HEALTHY_THRESHOLD``.
    :param unhealthy_threshold: Default: ``defaults.TARGET_UNHEALTHY_THRESHOLD``.
    :param health_check_timeout: Default: ``defaults.TARGET_HEALTH_CHECK_TIMEOUT_SECONDS``.
    :param healthy_http_codes: Default: ``defaults.TARGET_HEALTHY_HTTP_CODES``.
    :param container_health_command: the container health check's command. Default:
        :func:`shell_health_command` (wget or curl through a shell).
    :param longest_request: the longest request the service expects; sets the deregistration
        delay and the stop timeout. Default: ``defaults.WEB_LONGEST_REQUEST_SECONDS``.
    :param stop_timeout: SIGTERM-to-SIGKILL window. Default: longest request +
        ``defaults.WEB_STOP_MARGIN_SECONDS``.
    :param requests_per_target: scaling target, requests per task per minute.
        Default: ``defaults.WEB_REQUESTS_PER_TARGET``.
    :param cpu_target_percent: Default: ``defaults.WEB_CPU_TARGET_PERCENT``.
    :param scale_out_cooldown: Default: ``defaults.SCALE_OUT_COOLDOWN_SECONDS``.
    :param scale_in_cooldown: Default: ``defaults.SCALE_IN_COOLDOWN_SECONDS``.
    :param enable_execute_command: ECS Exec. Default: ``defaults.WEB_ENABLE_EXECUTE_COMMAND``.
    :param web_acl_rule_groups: AWS managed WAF rule groups in front of the load balancer;
        empty for no web ACL. Default: ``defaults.WEB_ACL_MANAGED_RULE_GROUPS``.
    :param load_balancer_subnets: Default: the VPC's public subnets.

    **Releases.** The environment's ``release`` (cdk.json ``environments.<env>.release``)
    chooses the deployment strategy. Rolling: one batch, circuit breaker, alarm rollback.
    Blue/green, canary and linear (ECS's native strategies) add an alternate target group, a
    production listener rule whose weights ECS moves, an HTTPS test listener on
    ``defaults.WEB_TEST_LISTENER_PORT`` that admits only the VPC, a smoke check through it before
    any production traffic (a Lambda lifecycle hook at POST_TEST_TRAFFIC_SHIFT) and release
    alarms on each target group's own traffic, which see a canary's failures undiluted.

    :param smoke_check: what the hook requests through the test listener (:class:`SmokeCheck`).
        Default: ``health_check_path``, expecting ``defaults.SMOKE_CHECK_EXPECTED_STATUS``.
    :param release_alarms: which release alarms roll a traffic-shifting release back, of
        ``"5xx"`` and ``"latency"``; none is refused (the load balancer's alarms see a 10 %
        canary's failures diluted tenfold). Default: ``defaults.WEB_RELEASE_ALARMS``.
    :param release_latency_threshold: the release latency alarm's threshold on each target
        group's ``defaults.WEB_RELEASE_LATENCY_STATISTIC`` response time, up to the longest
        request. Default: ``defaults.WEB_RELEASE_LATENCY_SECONDS``, or the longest request if shorter.

    Attributes (beside the shared ones): ``service`` (ecs.FargateService),
    ``load_balancer``, ``load_balancer_security_group``, ``target_group``,
    ``https_listener``, ``http_listener``, ``access_log_bucket``, ``web_acl`` (or None),
    ``five_xx_alarm``, ``unhealthy_hosts_alarm``, ``deployment_alarms`` (every alarm that rolls
    a deployment back), ``scaling``, ``timings`` (:class:`WebTimings`),
    ``health_check_grace_period``, ``deregistration_delay``, ``stop_timeout``,
    ``rollout_batch_seconds``, ``warm_up``, ``release`` (the environment's
    :class:`~stable_fargate.config.models.Release`), ``traffic_schedule``, ``release_cost``
    (:class:`ReleaseCost` at 1000 requests a minute; :meth:`release_cost_at` for others).
    Traffic-shifting releases also: ``alternate_target_group``, ``production_rule``,
    ``test_listener``, ``test_rule``, ``release_traffic_role``, ``release_alarms`` (alarm kind
    -> one alarm per target group), ``smoke_check`` and ``smoke_check_hook``
    (:class:`~stable_fargate.services._release.SmokeCheckHook`); otherwise these are None or empty.
    """

    @checked_inputs
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        environment: EnvironmentSpec,
        cluster: ClusterLike,
        key: KeyLike,
        alarm_topic: TopicLike,
        container_port: int,
        health_check_path: str,
        warm_up: Duration,
        image: ImageRef | None = None,
        parameters: ResolvedParameters | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        command: Sequence[str] | None = None,
        load_balancer_subnets: ec2.SubnetSelection | None = None,
        health_check_grace_period: Duration | None = None,
        health_check_interval: Duration = _TARGET_INTERVAL,
        healthy_threshold: int = defaults.TARGET_HEALTHY_THRESHOLD,
        unhealthy_threshold: int = defaults.TARGET_UNHEALTHY_THRESHOLD,
        health_check_timeout: Duration = _TARGET_TIMEOUT,
        healthy_http_codes: str = defaults.TARGET_HEALTHY_HTTP_CODES,
        container_health_command: Sequence[str] | None = None,
        longest_request: Duration = _LONGEST_REQUEST,
        stop_timeout: Duration | None = None,
        requests_per_target: int = defaults.WEB_REQUESTS_PER_TARGET,
        cpu_target_percent: int = defaults.WEB_CPU_TARGET_PERCENT,
        scale_out_cooldown: Duration = _SCALE_OUT_COOLDOWN,
        scale_in_cooldown: Duration = _SCALE_IN_COOLDOWN,
        enable_execute_command: bool = defaults.WEB_ENABLE_EXECUTE_COMMAND,
        web_acl_rule_groups: Sequence[str] = defaults.WEB_ACL_MANAGED_RULE_GROUPS,
        smoke_check: SmokeCheck | None = None,
        release_alarms: Sequence[str] = defaults.WEB_RELEASE_ALARMS,
        release_latency_threshold: Duration | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, service_name=service_name, environment=environment, cluster=cluster, key=key,
            alarm_topic=alarm_topic, image=image, parameters=parameters, subnets=subnets,
        )
        self.timings = self._check_inputs(
            container_port=container_port, health_check_path=health_check_path, warm_up=warm_up,
            health_check_grace_period=health_check_grace_period, health_check_interval=health_check_interval,
            healthy_threshold=healthy_threshold, unhealthy_threshold=unhealthy_threshold,
            health_check_timeout=health_check_timeout, healthy_http_codes=healthy_http_codes,
            longest_request=longest_request, stop_timeout=stop_timeout, requests_per_target=requests_per_target,
            cpu_target_percent=cpu_target_percent, scale_out_cooldown=scale_out_cooldown,
            scale_in_cooldown=scale_in_cooldown, web_acl_rule_groups=web_acl_rule_groups,
        )
        self.warm_up = warm_up
        self.health_check_grace_period = self.timings.grace
        self.deregistration_delay = self.timings.deregistration_delay
        self.stop_timeout = self.timings.stop_timeout
        self.rollout_batch_seconds = self.timings.rollout_batch_seconds
        self.release = self.environment.release
        self.smoke_check = self._check_release(
            smoke_check or SmokeCheck(health_check_path), tuple(release_alarms), release_latency_threshold
        )
        self.traffic_schedule = traffic_schedule(
            self.release.strategy, ready_seconds=self.timings.ready_seconds,
            canary_percent=self.release.canary_percent, canary_bake_minutes=self.release.canary_bake_minutes,
            linear_step_percent=self.release.linear_step_percent, linear_step_bake_minutes=self.release.linear_step_bake_minutes,
        )
        self.release_cost = self.release_cost_at()

        self._build_web_task(container_port, health_check_path, container_health_command, command, enable_execute_command)
        self._build_traffic(
            container_port=container_port, health_check_path=health_check_path, load_balancer_subnets=load_balancer_subnets,
            health_check_interval=health_check_interval, health_check_timeout=health_check_timeout,
            healthy_threshold=healthy_threshold, unhealthy_threshold=unhealthy_threshold,
            healthy_http_codes=healthy_http_codes, web_acl_rule_groups=web_acl_rule_groups,
        )
        self._build_alarms(self._release_alarm_kinds, self._release_latency_seconds)
        self._build_service(security_group, enable_execute_command, container_port)
        self._build_release_hook()
        self._build_scaling(
            requests_per_target=requests_per_target, cpu_target_percent=cpu_target_percent,
            scale_out_cooldown=self.timings.scale_out_cooldown, scale_in_cooldown=self.timings.scale_in_cooldown,
        )

    def release_cost_at(self, requests_per_minute: float = 1000.0, failing_percent: float = 10.0) -> ReleaseCost:
        """What a release costs here, and a bad one failing ``failing_percent`` of its requests at
        ``requests_per_minute`` of production traffic (:func:`release_cost`)."""
        alarms = WEB_RELEASE_RATE_ALARMS if self.release.shifts_traffic and "5xx" in self._release_alarm_kinds else (
            RateAlarm("load_balancer"),
        )
        return release_cost(
            self.traffic_schedule, strategy=self.release.strategy, ready_seconds=self.timings.ready_seconds,
            drain_seconds=self.timings.longest_request_seconds,
            bake_minutes=self.release.bake_minutes if self.release.shifts_traffic else 0,
            alarms=alarms, failing_percent=failing_percent, requests_per_minute=requests_per_minute,
        )

    # --- Inputs ---------------------------------------------------------------------------

    def _check_inputs(
        self,
        *,
        container_port: int,
        health_check_path: str,
        warm_up: Duration,
        health_check_grace_period: Duration | None,
        health_check_interval: Duration,
        healthy_threshold: int,
        unhealthy_threshold: int,
        health_check_timeout: Duration,
        healthy_http_codes: str,
        longest_request: Duration,
        stop_timeout: Duration | None,
        requests_per_target: int,
        cpu_target_percent: int,
        scale_out_cooldown: Duration,
        scale_in_cooldown: Duration,
        web_acl_rule_groups: Sequence[str],
    ) -> WebTimings:
        """Every refusal names the field, the value and what to change; returns the timings."""
        svc = self.service_name
        # Timings are derived at synth: the inputs they come from must be literals.
        for name, value in (
            ("warm_up", warm_up), ("health_check_interval", health_check_interval),
            ("health_check_timeout", health_check_timeout), ("longest_request", longest_request),
            ("health_check_grace_period", health_check_grace_period), ("stop_timeout", stop_timeout),
            ("healthy_threshold", healthy_threshold),
        ):
            if value is not None and (cdk.duration_seconds(value) is None if isinstance(value, Duration) else cdk.is_unresolved(value)):
                raise ConfigError(
                    svc, name, "<token>", "Give a literal value: the grace period and the rollout timing are derived from it at synth."
                )
        warm = _seconds(warm_up)
        if warm is not None and not 0 <= warm <= defaults.WEB_MAX_WARM_UP_SECONDS:
            raise ConfigError(
                svc, "warm_up", f"{warm}s",
                f"Give a warm-up from 0 to {defaults.WEB_MAX_WARM_UP_SECONDS} s (20 minutes); an app that needs "
                "longer should answer its health check early and finish warming in the background.",
            )
        check_health_check_path(svc, health_check_path)
        if not cdk.is_unresolved(container_port) and not 1 <= container_port <= 65535:
            raise ConfigError(svc, "container_port", container_port, "Give the port the app listens on, 1 to 65535.")
        interval = _seconds(health_check_interval)
        timeout = _seconds(health_check_timeout)
        if interval is not None and not _ELB_MIN_INTERVAL_SECONDS <= interval <= _ELB_MAX_INTERVAL_SECONDS:
            raise ConfigError(svc, "health_check_interval", f"{interval}s", "ELB accepts an interval of 5 to 300 s.")
        if timeout is not None and not 2 <= timeout <= 120:
            raise ConfigError(svc, "health_check_timeout", f"{timeout}s", "ELB accepts a timeout of 2 to 120 s.")
        if interval is not None and timeout is not None and timeout >= interval:
            raise ConfigError(
                svc, "health_check_timeout", f"{timeout}s", f"Give a timeout of at least 2 s and below the interval ({interval}s)."
            )
        for name, value in (("healthy_threshold", healthy_threshold), ("unhealthy_threshold", unhealthy_threshold)):
            if not cdk.is_unresolved(value) and not 2 <= value <= 10:
                raise ConfigError(svc, name, value, "ELB accepts a threshold of 2 to 10 checks.")
        if not cdk.is_unresolved(healthy_http_codes) and not HTTP_CODES.fullmatch(healthy_http_codes):
            raise ConfigError(
                svc, "healthy_http_codes", healthy_http_codes, "Give codes or ranges from 200 to 499, e.g. '200-399' or '200,204'."
            )
        if not cdk.is_unresolved(requests_per_target) and not 1 <= requests_per_target <= 1_000_000:
            raise ConfigError(svc, "requests_per_target", requests_per_target, "Give requests per task per minute, 1 to 1000000.")
        if not cdk.is_unresolved(cpu_target_percent) and not 1 <= cpu_target_percent <= 100:
            raise ConfigError(svc, "cpu_target_percent", cpu_target_percent, "Give a CPU target from 1 to 100 %.")
        # Whole seconds everywhere a duration reaches CloudFormation (sub-second values round up).
        cooldowns = [
            whole_seconds(svc, name, cooldown, minimum=0, maximum=3600)
            for name, cooldown in (("scale_out_cooldown", scale_out_cooldown), ("scale_in_cooldown", scale_in_cooldown))
        ]
        given_cooldowns = (scale_out_cooldown, scale_in_cooldown)
        out_cooldown, in_cooldown = (
            cdk.seconds(c) if c is not None else given for c, given in zip(cooldowns, given_cooldowns, strict=True)
        )
        for group in web_acl_rule_groups:
            if not MANAGED_RULE_GROUP.fullmatch(group):
                raise ConfigError(
                    svc, "web_acl_rule_groups", group, "Name AWS managed rule groups, e.g. 'AWSManagedRulesCommonRuleSet'."
                )
        sizing = self.sizing
        if sizing.min_tasks < 1:
            raise ConfigError(
                svc, f"environments.{self.environment.name}.services.{svc}.min_tasks", sizing.min_tasks,
                "A web service behind a load balancer needs at least one task.",
            )
        if self.environment.production and sizing.min_tasks < defaults.WEB_PRODUCTION_MIN_TASKS:
            raise ConfigError(
                svc, f"environments.{self.environment.name}.services.{svc}.min_tasks", sizing.min_tasks,
                f"Production keeps at least {defaults.WEB_PRODUCTION_MIN_TASKS} tasks, in different AZs, so that one "
                f"AZ or task failure never stops the service; raise min_tasks to {defaults.WEB_PRODUCTION_MIN_TASKS}.",
            )
        longest = _seconds(longest_request)
        margin = defaults.WEB_STOP_MARGIN_SECONDS
        max_longest = defaults.MAX_STOP_TIMEOUT_SECONDS - margin
        if longest is not None and not 1 <= longest <= max_longest:
            raise ConfigError(
                svc, "longest_request", f"{longest}s",
                f"Give 1 to {max_longest} s: the stop timeout (longest request + {margin} s) must fit Fargate's "
                f"{defaults.MAX_STOP_TIMEOUT_SECONDS} s. Move longer work to a QueueWorker.",
            )
        given_stop = None if stop_timeout is None else _seconds(stop_timeout)
        if given_stop is not None and longest is not None and given_stop < longest:
            raise ConfigError(
                svc, "stop_timeout", f"{given_stop}s",
                f"Give at least the longest request ({longest}s), or leave it out to derive it (longest request + {margin}s): "
                "a shorter stop timeout kills requests in flight when a task stops.",
            )
        interval_s = interval or defaults.TARGET_HEALTH_CHECK_INTERVAL_SECONDS
        timeout_s = timeout or defaults.TARGET_HEALTH_CHECK_TIMEOUT_SECONDS
        to_healthy = time_to_healthy_seconds(interval_seconds=interval_s, healthy_threshold=healthy_threshold, timeout_seconds=timeout_s)
        if health_check_grace_period is None:
            grace = cdk.seconds(
                grace_period_seconds(
                    warm_up_seconds=warm or 0, interval_seconds=interval_s, healthy_threshold=healthy_threshold,
                    timeout_seconds=timeout_s,
                )
            )
        else:
            given = _seconds(health_check_grace_period)
            grace = cdk.seconds(given) if given is not None else health_check_grace_period
            floor = math.ceil((warm or 0) + to_healthy)
            if given is not None and given > MAX_GRACE_SECONDS:
                raise ConfigError(svc, "health_check_grace_period", f"{given}s", f"ECS accepts at most {MAX_GRACE_SECONDS} s.")
            if given is not None and warm is not None and given < floor:
                raise ConfigError(
                    svc, "health_check_grace_period", f"{given}s",
                    f"Give at least the warm-up plus the target group's worst-case time to healthy ({warm}s + "
                    f"{to_healthy:g}s = {floor}s), or leave it out to derive it with a start allowance "
                    f"({defaults.GRACE_START_ALLOWANCE_SECONDS}s more): a shorter grace replaces tasks that are still "
                    "warming up and rolls a good release back.",
                )
        longest_s = longest or defaults.WEB_LONGEST_REQUEST_SECONDS
        start_period, container_interval = container_health_timing(warm or 0)
        return WebTimings(
            warm_up_seconds=warm or 0,
            interval_seconds=interval_s,
            timeout_seconds=timeout_s,
            time_to_healthy_seconds=to_healthy,
            grace=grace,
            deregistration_delay=cdk.seconds(longest_s),
            longest_request_seconds=longest_s,
            stop_timeout=cdk.seconds(given_stop if given_stop is not None else longest_s + margin),
            start_period_seconds=start_period,
            container_interval_seconds=container_interval,
            rollout_batch_seconds=rollout_batch_seconds(
                health_check_interval_seconds=interval_s, healthy_threshold=healthy_threshold,
                health_check_timeout_seconds=timeout_s, deregistration_delay_seconds=longest_s, warm_up_seconds=warm or 0,
            ),  # task start + warm-up + time to healthy + drain
            ready_seconds=math.ceil(defaults.ROLLOUT_TASK_START_SECONDS + (warm or 0) + to_healthy),
            health_check_interval=cdk.seconds(interval_s),
            health_check_timeout=cdk.seconds(timeout_s),
            scale_out_cooldown=out_cooldown,
            scale_in_cooldown=in_cooldown,
        )

    def _check_release(self, smoke: SmokeCheck, alarm_kinds: tuple[str, ...], latency: Duration | None) -> SmokeCheck | None:
        """The environment's release against what this service can do; returns the smoke check
        a traffic-shifting release runs (None for rolling)."""
        svc, release = self.service_name, self.release
        where = f"environments.{self.environment.name}.release"
        unknown = [kind for kind in alarm_kinds if kind not in defaults.WEB_RELEASE_ALARMS]
        if unknown:
            raise ConfigError(svc, "release_alarms", unknown[0], f"Name release alarms of {', '.join(defaults.WEB_RELEASE_ALARMS)}.")
        self._release_alarm_kinds = tuple(dict.fromkeys(alarm_kinds))
        longest = self.timings.longest_request_seconds
        if latency is None:
            threshold: float | None = min(defaults.WEB_RELEASE_LATENCY_SECONDS, longest)
        else:
            threshold = cdk.duration_seconds(latency)
        if threshold is None or not 0 < threshold <= longest:
            raise ConfigError(
                svc, "release_latency_threshold", f"{threshold:g}s" if threshold is not None else "<token>",
                f"Give a literal duration above 0 and at most the longest request ({self.timings.longest_request_seconds}s).",
            )
        self._release_latency_seconds = threshold
        if not release.shifts_traffic:
            return None
        if not self._release_alarm_kinds:
            raise ConfigError(
                svc, "release_alarms", [],
                f"A {release.strategy} release needs an alarm that watches the new release itself: the load balancer's "
                "alarms see a 10 % canary failing 10 % of its requests as 1 % of all requests, below their "
                f"{defaults.WEB_5XX_RATE_PERCENT} % threshold. Keep \"5xx\" (and \"latency\").",
            )
        detection = defaults.RELEASE_ALARM_DETECTION_SECONDS
        bakes = [("bake_minutes", release.bake_minutes)]
        if release.strategy == "canary":
            bakes.append(("canary_bake_minutes", release.canary_bake_minutes))
        if release.strategy == "linear":
            bakes.append(("linear_step_bake_minutes", release.linear_step_bake_minutes))
        for field, minutes in bakes:
            if minutes * 60 < detection:
                raise ConfigError(
                    svc, f"{where}.{field}", minutes,
                    f"Bake at least {math.ceil(detection / 60)} minutes: the release alarms need up to {detection} s "
                    "(a partial minute, two one-minute datapoints, CloudWatch's lag, ECS's reaction) to roll a bad release "
                    "back, and a shorter bake moves more traffic, or stops the old tasks, before they can.",
                )
        check_smoke_check(svc, smoke)
        return smoke

    # --- Task: the shared hardened definition, with a warm-up-aware container check --------

    def _build_web_task(
        self,
        container_port: int,
        health_check_path: str,
        container_health_command: Sequence[str] | None,
        command: Sequence[str] | None,
        execute_command: bool,
    ) -> None:
        if container_health_command is not None and not container_health_command:
            raise ConfigError(self.service_name, "container_health_command", [], "Give a command, e.g. node_health_command(port, path).")
        health = list(container_health_command or shell_health_command(container_port, health_check_path))
        self._build_task(
            stop_timeout=self.timings.stop_timeout,
            container_port=container_port,
            command=command,
            health_check=ecs.HealthCheck(
                command=health,
                start_period=cdk.seconds(self.timings.start_period_seconds),
                interval=cdk.seconds(self.timings.container_interval_seconds),
                retries=defaults.CONTAINER_HEALTH_CHECK_RETRIES,
                timeout=cdk.seconds(defaults.CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS),
            ),
        )
        if execute_command:
            self._writable_agent_paths()
        self._acknowledge_task_findings(execute_command)

    # --- Traffic: HTTPS-only ALB, redirect, target group, WAF, access logs ----------------

    def _build_traffic(
        self,
        *,
        container_port: int,
        health_check_path: str,
        load_balancer_subnets: ec2.SubnetSelection | None,
        health_check_interval: Duration,
        health_check_timeout: Duration,
        healthy_threshold: int,
        unhealthy_threshold: int,
        healthy_http_codes: str,
        web_acl_rule_groups: Sequence[str],
    ) -> None:
        svc, vpc, retain = self.service_name, self.vpc, self.environment.retain_data
        self.load_balancer_security_group = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc,
            description=f"{svc} load balancer: HTTPS, and HTTP only to redirect", allow_all_outbound=False,
        )
        self.load_balancer_security_group.add_ingress_rule(cdk.any_ipv4(), cdk.tcp(443), "HTTPS from clients")
        self.load_balancer_security_group.add_ingress_rule(cdk.any_ipv4(), cdk.tcp(80), "HTTP, redirected to HTTPS")
        Validations.of(self.load_balancer_security_group).acknowledge(
            Acknowledgment(
                id="AwsSolutions-EC23",
                reason="The internet-facing load balancer of a public API admits clients from anywhere on 443 and 80 "
                "(80 only redirects to 443); WAF filters requests and tasks admit only this group.",
            )
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer", vpc=vpc, internet_facing=True,
            vpc_subnets=load_balancer_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.load_balancer_security_group,
            drop_invalid_header_fields=True,
            deletion_protection=self.environment.production,
            idle_timeout=cdk.seconds(max(defaults.WEB_IDLE_TIMEOUT_SECONDS, self.timings.longest_request_seconds + 5)),
        )
        self.access_log_bucket = self._access_log_bucket(retain)
        self.load_balancer.log_access_logs(self.access_log_bucket, prefix=svc)

        health_check = elbv2.HealthCheck(
            path=health_check_path,
            interval=self.timings.health_check_interval,
            timeout=self.timings.health_check_timeout,
            healthy_threshold_count=healthy_threshold,
            unhealthy_threshold_count=unhealthy_threshold,
            healthy_http_codes=healthy_http_codes,
        )
        self.target_group = self._target_group("TargetGroup", container_port, health_check)
        self.https_listener = self._https_listener("Https", 443)
        self.http_listener = self.load_balancer.add_listener(
            "HttpRedirect", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False,
            default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
        )
        Validations.of(self.http_listener).acknowledge(
            Acknowledgment(
                id="PCI.DSS.321-ELBv2ACMCertificateRequired",
                reason="Port 80 only answers with a permanent redirect to the HTTPS listener, which has the ACM "
                "certificate; no content is ever served over HTTP.",
            )
        )
        self.web_acl = self._web_acl(web_acl_rule_groups, self.key, retain) if web_acl_rule_groups else None
        self.alternate_target_group: elbv2.ApplicationTargetGroup | None = None
        self.production_rule: elbv2.ApplicationListenerRule | None = None
        self.test_listener: elbv2.ApplicationListener | None = None
        self.test_rule: elbv2.ApplicationListenerRule | None = None
        if self.release.shifts_traffic:
            self._build_release_routes(container_port, health_check)

    def _target_group(self, construct_id: str, container_port: int, health_check: elbv2.HealthCheck) -> elbv2.ApplicationTargetGroup:
        return elbv2.ApplicationTargetGroup(
            self, construct_id, vpc=self.vpc, port=container_port, protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=self.timings.deregistration_delay,
            health_check=health_check,
        )

    def _https_listener(self, construct_id: str, port: int) -> elbv2.ApplicationListener:
        return self.load_balancer.add_listener(
            construct_id, port=port, protocol=elbv2.ApplicationProtocol.HTTPS, open=False,
            certificates=[elbv2.ListenerCertificate.from_arn(self.environment.certificate_arn)],
            ssl_policy=elbv2.SslPolicy[defaults.WEB_TLS_POLICY],
            default_target_groups=[self.target_group],
        )

    # --- Release routes: two target groups, production and test rules ECS moves ----------

    def _build_release_routes(self, container_port: int, health_check: elbv2.HealthCheck) -> None:
        """The resources ECS's blue/green, canary and linear strategies shift traffic with
        (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html):
        an alternate target group, and on the production and test listeners a rule forwarding
        to both groups, whose weights ECS moves. Every action forwards: ECS refuses listener
        rules that mix forward with redirect or fixed-response actions."""
        self.alternate_target_group = self._target_group("AlternateTargetGroup", container_port, health_check)
        groups = (self.target_group, self.alternate_target_group)
        self.production_rule = self._release_rule("ProductionRule", self.https_listener, groups)
        port = defaults.WEB_TEST_LISTENER_PORT
        self.test_listener = self._https_listener("Test", port)
        # Test traffic reaches new releases from inside the VPC only (the VPC's declared network:
        # nag rules cannot read a security-group rule built from a token).
        self.load_balancer_security_group.add_ingress_rule(
            ec2.Peer.ipv4(self.environment.vpc_cidr), cdk.tcp(port), "Test traffic to a new release, from inside the VPC only"
        )
        self.test_rule = self._release_rule("TestRule", self.test_listener, groups)

    def _release_rule(
        self, construct_id: str, listener: elbv2.ApplicationListener, groups: tuple[elbv2.ApplicationTargetGroup, ...]
    ) -> elbv2.ApplicationListenerRule:
        blue, green = groups
        return elbv2.ApplicationListenerRule(
            self, construct_id, listener=listener, priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
            action=elbv2.ListenerAction.weighted_forward([
                elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                elbv2.WeightedTargetGroup(target_group=green, weight=0),
            ]),
        )

    # --- Alarms: what a deployment rolls back on, and who hears of it ---------------------

    def _build_alarms(self, kinds: tuple[str, ...], latency_seconds: float) -> None:
        # A traffic-shifting release moves production between two target groups, so the
        # "whole traffic" alarm reads the load balancer, and each group gets its own alarms.
        shifting = self.alternate_target_group is not None
        self.five_xx_alarm, self.unhealthy_hosts_alarm = self._deployment_alarms(self.timings.grace, load_balancer_wide=shifting)
        alarms = [self.five_xx_alarm, self.unhealthy_hosts_alarm]
        self.release_alarms: dict[str, tuple[cloudwatch.Alarm, ...]] = {}
        if self.alternate_target_group is not None:
            groups = (("TargetGroup", self.target_group), ("AlternateTargetGroup", self.alternate_target_group))
            alarms.append(self._unhealthy_hosts_alarm("AlternateTargetGroupUnhealthyHostsAlarm", self.alternate_target_group))
            if "5xx" in kinds:
                self.release_alarms["5xx"] = tuple(self._release_5xx_alarm(f"{name}Release5xxAlarm", group) for name, group in groups)
            if "latency" in kinds:
                self.release_alarms["latency"] = tuple(
                    self._release_latency_alarm(f"{name}ReleaseLatencyAlarm", group, latency_seconds) for name, group in groups
                )
            alarms += [alarm for pair in self.release_alarms.values() for alarm in pair]
        notify = cdk.sns_action(self.alarm_topic)
        for alarm in alarms:
            alarm.add_alarm_action(notify)
            # OK too: the on-call engineer learns when it is over, and the alarm can page again.
            alarm.add_ok_action(notify)
        self.deployment_alarms = tuple(alarms)

    # --- Service: 100/200, circuit breaker and alarms that roll back -----------------------

    def _build_service(self, security_group: ec2.ISecurityGroup | None, execute_command: bool, container_port: int) -> None:
        self.security_group = self._security_group(
            "TaskSecurityGroup", security_group,
            description=f"{self.service_name} tasks: only the load balancer, on the container port",
        )
        self.task_security_group = self.security_group
        self.service = ecs.FargateService(
            self, "Service", cluster=self.cluster, task_definition=self.task_definition,
            # No DesiredCount: CloudFormation would reset a scaled-out service to it on every
            # deploy. The scalable target's minimum brings a new service up to min_tasks.
            min_healthy_percent=defaults.WEB_MIN_HEALTHY_PERCENT,
            max_healthy_percent=defaults.WEB_MAX_HEALTHY_PERCENT,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_alarms=ecs.DeploymentAlarmConfig(
                alarm_names=[alarm.alarm_name for alarm in self.deployment_alarms],
                behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            ),
            health_check_grace_period=self.timings.grace,
            security_groups=[self.security_group],
            vpc_subnets=self.subnets,
            assign_public_ip=False,
            enable_execute_command=execute_command,
            availability_zone_rebalancing=ecs.AvailabilityZoneRebalancing.ENABLED,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            **self._strategy(),
        )
        CfnOutput(
            self, "LoadBalancerDnsName", value=self.load_balancer.load_balancer_dns_name,
            description=f"{self.service_name}: point the service's DNS name (alias) here",
        )
        self.release_traffic_role: iam.Role | None = None
        if self.alternate_target_group is None or self.production_rule is None or self.test_rule is None:
            # Registering the service adds the only ingress rule of the task group: LB -> port.
            self.target_group.add_target(self.service)
            return
        self.release_traffic_role = self._release_traffic_role()
        self.target_group.add_target(self.service.load_balancer_target(
            container_name=self.container.container_name, container_port=container_port,
            alternate_target=ecs.AlternateTarget(
                "Release", alternate_target_group=self.alternate_target_group, role=self.release_traffic_role,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.production_rule),
                test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.test_rule),
            ),
        ))
        # ECS checks the rules and both groups when it creates the service: they come first.
        self.service.node.add_dependency(self.production_rule, self.test_rule)

    def _strategy(self) -> dict[str, Any]:
        """The FargateService properties of the environment's release strategy (none for rolling)."""
        release = self.release
        if not release.shifts_traffic:
            return {}
        props: dict[str, Any] = {
            "deployment_strategy": {"blue_green": ecs.DeploymentStrategy.BLUE_GREEN, "canary": ecs.DeploymentStrategy.CANARY,
                                    "linear": ecs.DeploymentStrategy.LINEAR}[release.strategy],
            "bake_time": Duration.minutes(release.bake_minutes),
        }
        if release.strategy == "canary":
            props["canary_configuration"] = ecs.TrafficShiftConfig(
                step_percent=release.canary_percent, step_bake_time=Duration.minutes(release.canary_bake_minutes)
            )
        if release.strategy == "linear":
            props["linear_configuration"] = ecs.TrafficShiftConfig(
                step_percent=release.linear_step_percent, step_bake_time=Duration.minutes(release.linear_step_bake_minutes)
            )
        return props

    def _release_traffic_role(self) -> iam.Role:
        role = iam.Role(
            self, "ReleaseTrafficRole", assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            description=f"{self.service_name}: lets ECS move traffic between the release target groups",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(RELEASE_TRAFFIC_POLICY)],
        )
        acknowledge(
            role, f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{RELEASE_TRAFFIC_POLICY}]",
            "The policy AWS documents for the ECS infrastructure role of blue/green, canary and linear deployments "
            "(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html); "
            "AWS keeps it current as ECS's traffic shifting needs new calls, where a hand-written copy would fail a "
            "release silently. Only ECS may assume the role, and only this service uses it.",
        )
        return role

    def _build_release_hook(self) -> None:
        self.smoke_check_hook: SmokeCheckHook | None = None
        if self.smoke_check is None:
            return
        self.smoke_check_hook = SmokeCheckHook(
            self, "SmokeCheck", service_name=self.service_name, vpc=self.vpc, subnets=self.subnets, key=self.key,
            retain=self.environment.retain_data, load_balancer=self.load_balancer,
            load_balancer_security_group=self.load_balancer_security_group, test_port=defaults.WEB_TEST_LISTENER_PORT,
            path=self.smoke_check.path, expected_status=self.smoke_check.expected_status, header=self.smoke_check.header,
        )
        self.service.add_lifecycle_hook(self.smoke_check_hook.target)
        # ECS invokes the function with this role: the grant exists before the service does.
        self.service.node.add_dependency(self.smoke_check_hook.invoke_policy)

    # --- Scaling: requests per target and CPU, damped cooldowns ---------------------------

    def _build_scaling(
        self, *, requests_per_target: int, cpu_target_percent: int, scale_out_cooldown: Duration, scale_in_cooldown: Duration
    ) -> None:
        self.scaling = self.service.auto_scale_task_count(min_capacity=self.sizing.min_tasks, max_capacity=self.sizing.max_tasks)
        self.scaling.scale_on_request_count(
            "RequestsPerTarget", requests_per_target=requests_per_target, target_group=self.target_group,
            scale_out_cooldown=scale_out_cooldown, scale_in_cooldown=scale_in_cooldown,
        )
        self.scaling.scale_on_cpu_utilization(
            "Cpu", target_utilization_percent=cpu_target_percent,
            scale_out_cooldown=scale_out_cooldown, scale_in_cooldown=scale_in_cooldown,
        )

    # --- Parts ------------------------------------------------------------------------------

    def _writable_agent_paths(self) -> None:
        for index, path in enumerate(ECS_EXEC_AGENT_PATHS):
            name = f"ecs-exec-{index}"
            self.task_definition.add_volume(name=name)
            self.container.add_mount_points(ecs.MountPoint(container_path=path, source_volume=name, read_only=False))

    def _acknowledge_task_findings(self, execute_command: bool) -> None:
        # The base acknowledges what every hardened task has; ECS Exec adds its own policy.
        if execute_command:
            Validations.of(self.task_role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM5[Resource::*]",
                    reason="ECS Exec's ssmmessages channel actions have no resource-level permissions.",
                ),
                Acknowledgment(
                    id="PCI.DSS.321-IAMNoInlinePolicy",
                    reason="The task role's ECS Exec policy is generated by CDK for this service alone.",
                ),
            )

    def _access_log_bucket(self, retain: bool) -> s3.Bucket:
        bucket = s3.Bucket(
            self, "AccessLogs",
            # ALB log delivery writes only to SSE-S3 buckets; a customer KMS key breaks delivery.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=cdk.block_all(),
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=cdk.days(defaults.WEB_ACCESS_LOG_RETENTION_DAYS),
                    noncurrent_version_expiration=cdk.days(defaults.WEB_ACCESS_LOG_NONCURRENT_DAYS),
                    abort_incomplete_multipart_upload_after=cdk.days(1),
                )
            ],
            removal_policy=removal_policy(retain),
        )
        Validations.of(bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This bucket is the load balancer's access-log destination; logging its access into another "
                "bucket would only record the log deliveries.",
            ),
            Acknowledgment(
                id="PCI.DSS.321-S3BucketLoggingEnabled",
                reason="This bucket is the load balancer's access-log destination; logging its access into another "
                "bucket would only record the log deliveries.",
            ),
            Acknowledgment(
                id="PCI.DSS.321-S3DefaultEncryptionKMS",
                reason="Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3.",
            ),
            Acknowledgment(
                id="PCI.DSS.321-S3BucketReplicationEnabled",
                reason="Access logs are kept a year in this versioned bucket; copying them to a log-archive account "
                "is an organisation-level choice, not one service's.",
            ),
        )
        return bucket

    def _web_acl(self, rule_groups: Sequence[str], log_key: kms.IKey, retain: bool) -> wafv2.CfnWebACL:
        metric = f"{self.service_name}-waf"
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=index,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(vendor_name="AWS", name=group)
                ),
                visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                    cloud_watch_metrics_enabled=True, metric_name=f"{metric}-{group}", sampled_requests_enabled=True
                ),
            )
            for index, group in enumerate(rule_groups)
        ]
        acl = wafv2.CfnWebACL(
            self, "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            ),
        )
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=self.load_balancer.load_balancer_arn, web_acl_arn=acl.attr_arn
        )
        # WAF logs only to log groups named aws-waf-logs-*, given by ARN without the ':*'.
        stack = Stack.of(self)
        name = f"aws-waf-logs-{stack.stack_name}-{self.service_name}"
        log_group = logs.LogGroup(
            self, "WafLogs", log_group_name=name, encryption_key=log_key,
            retention=log_retention(defaults.WAF_LOG_RETENTION_DAYS),
            removal_policy=removal_policy(retain),
        )
        logging = wafv2.CfnLoggingConfiguration(
            self, "WafLogging", resource_arn=acl.attr_arn,
            # Credentials in headers would otherwise sit in the logs for a year.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in defaults.WAF_REDACTED_HEADERS
            ],
            log_destination_configs=[
                stack.format_arn(service="logs", resource="log-group", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME)
            ],
        )
        logging.node.add_dependency(log_group)
        return acl

    def _deployment_alarms(self, grace: Duration, *, load_balancer_wide: bool) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        period = cdk.seconds(defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS)
        lb_metrics = self.load_balancer.metrics
        if load_balancer_wide:
            # Two target groups take turns: the load balancer's own counts cover both.
            errors = lb_metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum")
            requests = lb_metrics.request_count(period=period, statistic="Sum")
        else:
            errors = self.target_group.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum")
            requests = self.target_group.metrics.request_count(period=period, statistic="Sum")
        # A release that crashes or hangs shows up as the load balancer's own 502 and 504
        # (bad gateway, timeout), which the targets never count: both belong in the rate.
        bad_gateway = lb_metrics.custom("HTTPCode_ELB_502_Count", period=period, statistic="Sum")
        gateway_timeout = lb_metrics.custom("HTTPCode_ELB_504_Count", period=period, statistic="Sum")
        rate = cloudwatch.MathExpression(
            expression=(
                f"IF(requests >= {defaults.WEB_5XX_MIN_REQUESTS}, "
                "100 * (FILL(errors, 0) + FILL(badgateway, 0) + FILL(timeouts, 0)) / requests, 0)"
            ),
            using_metrics={"errors": errors, "badgateway": bad_gateway, "timeouts": gateway_timeout, "requests": requests},
            period=period,
            label=f"{self.service_name} 5xx % (targets + load balancer 502/504)",
        )
        five_xx = rate.create_alarm(
            self, "Target5xxRateAlarm",
            alarm_description=f"{self.service_name}: more than {defaults.WEB_5XX_RATE_PERCENT} % of requests answer 5xx; "
            "rolls a deployment back.",
            threshold=defaults.WEB_5XX_RATE_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=defaults.WEB_5XX_DATAPOINTS,
            datapoints_to_alarm=defaults.WEB_5XX_DATAPOINTS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return five_xx, self._unhealthy_hosts_alarm("UnhealthyHostsAlarm", self.target_group)

    def _unhealthy_hosts_alarm(self, construct_id: str, group: elbv2.ApplicationTargetGroup) -> cloudwatch.Alarm:
        period = cdk.seconds(defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS)
        grace_seconds = _seconds(self.timings.grace) or 0
        datapoints = math.ceil(grace_seconds / defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS) + 1
        return group.metrics.unhealthy_host_count(period=period, statistic="Maximum").create_alarm(
            self, construct_id,
            alarm_description=f"{self.service_name}: a target stays unhealthy past warm-up and its health checks; "
            "rolls a deployment back.",
            threshold=defaults.WEB_UNHEALTHY_HOSTS_THRESHOLD,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=datapoints,
            datapoints_to_alarm=datapoints,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _release_5xx_alarm(self, construct_id: str, group: elbv2.ApplicationTargetGroup) -> cloudwatch.Alarm:
        """The 5xx rate of one target group's own requests. ECS starts each new release in the
        group that is not serving production, so the two groups take turns holding it: one such
        alarm per group watches every release, at its own rate however small its share (a 10 %
        canary failing 10 % of its requests is 10 % here, 1 % at the load balancer)."""
        period = cdk.seconds(defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS)
        errors = group.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum")
        return self._release_alarm(
            construct_id, group, value="100 * FILL(errors, 0) / requests", using={"errors": errors},
            label=f"{self.service_name} 5xx % of one target group's requests",
            description=f"{self.service_name}: more than {defaults.WEB_5XX_RATE_PERCENT} % of the requests one target "
            "group (a release's own traffic) serves answer 5xx; rolls a deployment back.",
            threshold=defaults.WEB_5XX_RATE_PERCENT,
        )

    def _release_latency_alarm(self, construct_id: str, group: elbv2.ApplicationTargetGroup, threshold: float) -> cloudwatch.Alarm:
        """One target group's response time (``defaults.WEB_RELEASE_LATENCY_STATISTIC``), in
        minutes with enough requests for a percentile to mean something."""
        statistic = defaults.WEB_RELEASE_LATENCY_STATISTIC
        latency = group.metrics.target_response_time(period=cdk.seconds(defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS), statistic=statistic)
        return self._release_alarm(
            construct_id, group, value="latency", using={"latency": latency},
            label=f"{self.service_name} {statistic} response time of one target group (s)",
            description=f"{self.service_name}: the {statistic} response time of one target group (a release's own "
            f"traffic) is above {threshold:g} s; rolls a deployment back.",
            threshold=threshold,
        )

    def _release_alarm(
        self, construct_id: str, group: elbv2.ApplicationTargetGroup, *, value: str, using: dict[str, cloudwatch.IMetric],
        label: str, description: str, threshold: float,
    ) -> cloudwatch.Alarm:
        """An alarm on one target group's own traffic that rolls a deployment back: ``value``
        (over the metrics ``using``) in minutes with at least ``WEB_5XX_MIN_REQUESTS`` requests,
        0 in quieter ones (too few requests to judge a release by)."""
        period = cdk.seconds(defaults.DEPLOYMENT_ALARM_PERIOD_SECONDS)
        signal = cloudwatch.MathExpression(
            expression=f"IF(requests >= {defaults.WEB_5XX_MIN_REQUESTS}, {value}, 0)",
            using_metrics={**using, "requests": group.metrics.request_count(period=period, statistic="Sum")},
            period=period,
            label=label,
        )
        return signal.create_alarm(
            self, construct_id,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=defaults.WEB_5XX_DATAPOINTS,
            datapoints_to_alarm=defaults.WEB_5XX_DATAPOINTS,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
