"""What a release costs: time to full traffic, time until the old tasks stop, and the exposure of
a bad release before rollback, by the library's arithmetic, by CloudWatch's minute-by-minute
model of the synthesized alarms (tests/aws_models/cloudwatch.py), and by the read side from the
templates alone; the sample's three environments against aws_ecs_patterns' rolling 50/200."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from stable_fargate import defaults
from stable_fargate.config.rules import linear_steps
from stable_fargate.review.report import build_review
from stable_fargate.review.rollout import Rollout
from stable_fargate.services.web import (
    PATTERNS_RELEASE_COST,
    WEB_RELEASE_RATE_ALARMS,
    RateAlarm,
    StableWebService,
    TrafficStep,
    alarm_detection_seconds,
    release_cost,
    traffic_schedule,
)
from tests.aws_models.cloudwatch import Alarm, Series, evaluate, expression_of
from tests.conftest import SampleApp, template_json
from tests.fixtures.patterns_app import DEFAULT_OUT as PATTERNS_OUT

READY = 140
"""portfolio-api's new tasks: 60 s start + 45 s warm-up + (2 + 1) x 10 s + 5 s to healthy."""


# --- The schedule of each strategy ----------------------------------------------------------------


def test_schedules() -> None:
    assert traffic_schedule("rolling", ready_seconds=READY) == (TrafficStep(140, 100),)
    # Blue/green, canary and linear pass the smoke check (30 s) before production traffic moves.
    assert traffic_schedule("blue_green", ready_seconds=READY) == (TrafficStep(170, 100),)
    assert traffic_schedule("canary", ready_seconds=READY, canary_percent=10, canary_bake_minutes=6) == (
        TrafficStep(170, 10), TrafficStep(530, 100),
    )
    assert traffic_schedule("linear", ready_seconds=READY, linear_step_percent=25, linear_step_bake_minutes=5) == (
        TrafficStep(170, 25), TrafficStep(470, 50), TrafficStep(770, 75), TrafficStep(1070, 100),
    )


@pytest.mark.parametrize("step", [3.0, 3.3, 10.0, 11.0, 25.0, 33.3, 50.0, 99.9, 100.0])
def test_linear_bakes_as_cloudformation_counts_them(step: float) -> None:
    """CloudFormation: 100 / step - 1 bakes when the step divides 100, else floor(100 / step)."""
    shifts = traffic_schedule("linear", ready_seconds=0, hook_seconds=0, linear_step_percent=step, linear_step_bake_minutes=1)
    assert len(shifts) - 1 == linear_steps(step)
    assert shifts[-1].percent == 100
    assert all(a.percent < b.percent for a, b in itertools.pairwise(shifts))


def test_detection_is_five_minutes_with_two_one_minute_datapoints() -> None:
    # a partial minute + 2 datapoints + CloudWatch's lag + ECS's reaction
    assert alarm_detection_seconds() == 60 + 2 * 60 + 60 + 60 == defaults.RELEASE_ALARM_DETECTION_SECONDS == 300
    # The defaults bake at least that long, so an alarm always acts inside the bake.
    assert defaults.CANARY_BAKE_MINUTES * 60 > 300
    assert defaults.LINEAR_STEP_BAKE_MINUTES * 60 >= 300
    assert defaults.RELEASE_BAKE_MINUTES * 60 >= 2 * 300


# --- What each alarm sees -------------------------------------------------------------------------


def test_the_load_balancers_alarm_cannot_see_a_failing_canary() -> None:
    """10 % of traffic failing 10 %: 1 % of all requests, below the 5 % threshold."""
    assert not RateAlarm("load_balancer").sees(10, failing_percent=10, requests_per_minute=1000)
    assert RateAlarm("release").sees(10, failing_percent=10, requests_per_minute=1000)
    # At full traffic both see it.
    assert RateAlarm("load_balancer").sees(100, failing_percent=10, requests_per_minute=1000)


def test_a_canary_needs_traffic_to_be_judged() -> None:
    """At 100 requests a minute a 10 % canary sees 10, below the 20 its rate needs."""
    assert not RateAlarm("release").sees(10, failing_percent=10, requests_per_minute=100)
    cost = release_cost(
        traffic_schedule("canary", ready_seconds=READY), strategy="canary", ready_seconds=READY, drain_seconds=30,
        bake_minutes=10, alarms=WEB_RELEASE_RATE_ALARMS, requests_per_minute=100,
    )
    # Caught only once the rest of the traffic moves, and still inside the final bake.
    assert cost.largest_share_percent == 100
    assert cost.detected_seconds == 530 + 300
    assert cost.rolled_back_seconds == cost.detected_seconds  # a traffic shift back: the old tasks still run


# --- The sample's environments and aws_ecs_patterns ------------------------------------------------


def _web(sample_app: SampleApp, env: str) -> StableWebService:
    web = sample_app.stages[env].api.web
    assert isinstance(web, StableWebService)
    return web


EXPECTED = {
    # env: (strategy, full traffic s, old tasks stopped s, exposure %·min, largest share %)
    "dev": ("rolling", 140, 170, 733.3, 100.0),
    "staging": ("blue_green", 170, 800, 500.0, 100.0),
    "prod": ("canary", 530, 1160, 50.0, 10.0),
}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_sample_environments(sample_app: SampleApp, env: str) -> None:
    cost = _web(sample_app, env).release_cost
    assert (cost.strategy, cost.time_to_full_traffic_seconds, cost.time_until_old_tasks_stop_seconds,
            cost.exposure_percent_minutes, cost.largest_share_percent) == EXPECTED[env]


def test_the_production_goal(sample_app: SampleApp) -> None:
    """A release failing 10 % of its requests is rolled back having served at most 10 % of
    traffic, for at most the canary bake plus the alarm time; full traffic within 15 minutes."""
    web = _web(sample_app, "prod")
    cost = web.release_cost
    first_traffic = web.traffic_schedule[0].start_seconds
    assert cost.largest_share_percent <= 10
    assert cost.rolled_back_seconds is not None
    served = cost.rolled_back_seconds - first_traffic
    assert served <= web.release.canary_bake_minutes * 60 + defaults.RELEASE_ALARM_DETECTION_SECONDS
    assert served == 300  # five minutes at 10 %: 50 %·min, half a minute of all traffic
    assert cost.time_to_full_traffic_seconds < 15 * 60


def test_aws_ecs_patterns_never_rolls_a_bad_release_back() -> None:
    """Rolling 50/200, no deployment alarm (the circuit breaker sees only tasks that fail to
    start or fail health checks): a release that answers health checks serves everyone."""
    assert PATTERNS_RELEASE_COST.exposure_percent_minutes is None
    assert PATTERNS_RELEASE_COST.largest_share_percent == 100
    assert (PATTERNS_RELEASE_COST.time_to_full_traffic_seconds, PATTERNS_RELEASE_COST.time_until_old_tasks_stop_seconds) == (245, 545)


# --- The synthesized alarms on CloudWatch's minute-by-minute model -----------------------------


def _prod_api(sample_app: SampleApp) -> dict[str, Any]:
    (stack,) = [s for e, s in sample_app.stacks() if e == "prod" and s.node.id == "Api"]
    return template_json(stack)


def _alarm(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    (found,) = [r["Properties"] for lid, r in template["Resources"].items()
                if lid.startswith(prefix) and r["Type"] == "AWS::CloudWatch::Alarm"]
    return dict(found)


def _first_alarm(properties: dict[str, Any], series: dict[str, Series], minutes: int) -> int | None:
    """The first minute at whose end the alarm is in ALARM, seeing each datapoint a minute late."""
    values = evaluate(expression_of(properties), series, minutes)
    states = Alarm.from_template(properties).states(values, lag=1)
    return next((m for m, state in enumerate(states) if state == "ALARM"), None)


MINUTES = 10
CANARY_REQUESTS = [6.0] + [100.0] * (MINUTES - 1)
"""The canary's requests a minute (10 % of 1000): minute 0 is the partial minute the traffic
shift happens in (the last ~4 s of it), the worst case for alignment."""


def test_the_release_alarm_trips_inside_the_canary_bake(sample_app: SampleApp) -> None:
    template = _prod_api(sample_app)
    alarm = _alarm(template, "PortfolioApiAlternateTargetGroupRelease5xxAlarm")
    series: dict[str, Series] = {
        "requests": list(CANARY_REQUESTS),
        "errors": [r * 0.10 for r in CANARY_REQUESTS],  # 10 % fail
    }
    minute = _first_alarm(alarm, series, MINUTES)
    assert minute is not None
    # From the shift (4 s before minute 1) to the end of that minute, plus ECS's reaction.
    seconds = 4 + minute * 60 + defaults.ECS_ALARM_REACTION_SECONDS
    assert seconds <= defaults.RELEASE_ALARM_DETECTION_SECONDS
    assert seconds < sample_app.config.environment("prod").release.canary_bake_minutes * 60


def test_the_load_balancers_alarm_stays_ok_on_the_same_canary(sample_app: SampleApp) -> None:
    template = _prod_api(sample_app)
    alarm = _alarm(template, "PortfolioApiTarget5xxRateAlarm")
    total = [60.0] + [1000.0] * (MINUTES - 1)
    series: dict[str, Series] = {
        "requests": total,
        "errors": [r * 0.10 for r in CANARY_REQUESTS],
        "badgateway": [None] * MINUTES,
        "timeouts": [None] * MINUTES,
    }
    assert _first_alarm(alarm, series, MINUTES) is None


def test_the_release_alarm_is_blind_below_twenty_requests_a_minute(sample_app: SampleApp) -> None:
    alarm = _alarm(_prod_api(sample_app), "PortfolioApiAlternateTargetGroupRelease5xxAlarm")
    series: dict[str, Series] = {"requests": [10.0] * MINUTES, "errors": [5.0] * MINUTES}
    assert _first_alarm(alarm, series, MINUTES) is None


def test_a_slow_canary_trips_the_latency_alarm(sample_app: SampleApp) -> None:
    alarm = _alarm(_prod_api(sample_app), "PortfolioApiAlternateTargetGroupReleaseLatencyAlarm")
    series: dict[str, Series] = {"requests": list(CANARY_REQUESTS), "latency": [3.0] * MINUTES}
    minute = _first_alarm(alarm, series, MINUTES)
    assert minute is not None and 4 + minute * 60 + defaults.ECS_ALARM_REACTION_SECONDS <= defaults.RELEASE_ALARM_DETECTION_SECONDS
    healthy: dict[str, Series] = {"requests": list(CANARY_REQUESTS), "latency": [0.4] * MINUTES}
    assert _first_alarm(alarm, healthy, MINUTES) is None


def test_a_blip_does_not_roll_back(sample_app: SampleApp) -> None:
    """One bad minute (a dependency's hiccup) is not two: the release stays."""
    alarm = _alarm(_prod_api(sample_app), "PortfolioApiAlternateTargetGroupRelease5xxAlarm")
    errors: Series = [0.0] * MINUTES
    errors[3] = 30.0
    assert _first_alarm(alarm, {"requests": [100.0] * MINUTES, "errors": errors}, MINUTES) is None


# --- The read side, from the templates alone ------------------------------------------------------


def _rollouts(path: Any) -> dict[tuple[str, str], Rollout]:
    return {(r.environment.lower(), r.service): r for r in build_review(path).rollouts}


def test_the_read_side_reads_each_strategy_from_the_templates(sample_app: SampleApp) -> None:
    rollouts = _rollouts(sample_app.outdir)
    for env, strategy, smoke in (("dev", "ROLLING", False), ("staging", "BLUE_GREEN", True), ("prod", "CANARY", True)):
        rollout = rollouts[(env, "portfolio-api")]
        assert (rollout.strategy, rollout.smoke_check) == (strategy, smoke)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_read_side_agrees_with_the_library(sample_app: SampleApp, env: str) -> None:
    """Same arithmetic, one computed from the construct's settings, one from the template's
    (the read side evaluates the named alarms' own metric math)."""
    rollout = _rollouts(sample_app.outdir)[(env, "portfolio-api")]
    cost = _web(sample_app, env).release_cost
    assert (rollout.full_traffic, rollout.old_tasks_stop, rollout.detected, rollout.rolled_back, rollout.exposure,
            rollout.largest_share) == (cost.time_to_full_traffic_seconds, cost.time_until_old_tasks_stop_seconds,
                                       cost.detected_seconds, cost.rolled_back_seconds, cost.exposure_percent_minutes,
                                       cost.largest_share_percent)
    # Prod's canary is caught by the alternate group's own alarm, the others by the load balancer's.
    assert rollout.detecting_alarm is not None
    assert ("AlternateTargetGroupRelease5xx" in rollout.detecting_alarm) == (env == "prod")


def test_the_read_side_finds_no_rollback_in_aws_ecs_patterns() -> None:
    ((_, rollout),) = _rollouts(PATTERNS_OUT).items()
    assert rollout.strategy == "ROLLING"
    assert rollout.exposure is None and rollout.detected is None and rollout.largest_share == 100


def test_the_readme_table_shows_these_figures() -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for figure in ("| 733 %·min (7.3 min of all traffic) |", "| 500 %·min (5 min) |", "| **50 %·min (0.5 min)** |",
                   "| 2 min 20 s | 2 min 50 s | **8 min 50 s** | 4 min 50 s |", "| 2 min 50 s | 13 min 20 s | 19 min 20 s | 9 min 50 s |"):
        assert figure in readme, figure
    assert EXPECTED["prod"][1] == 8 * 60 + 50 and EXPECTED["staging"][2] == 13 * 60 + 20
