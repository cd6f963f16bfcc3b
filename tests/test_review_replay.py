"""The replay engine: one test per rule of its minute (stable_fargate.review.replay), on small
workers, then the sample app and the aws_ecs_patterns fixture end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from stable_fargate.review.replay import ReplaySettings, replay
from stable_fargate.review.report import ReviewOptions, build_review
from stable_fargate.review.services import load_stability_model
from stable_fargate.review.traces import Trace, fintech_day
from tests.review_templates import alarm, insights_metric, queue_metric, step_policy, worker

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"
PATTERNS = Path(__file__).parent / "fixtures" / "patterns"


def burst(minutes: int, start: int, rate: float, length: int) -> Trace:
    return Trace("test", tuple(rate if start <= t < start + length else 0.0 for t in range(minutes)))


WAKE = {  # ExactCapacity 1 as soon as a message is visible
    "Wake": step_policy([(0, None, 1)], adjustment="ExactCapacity"),
    "WakeAlarm": alarm("Wake"),
}


def first_action(result: object) -> int:
    return result.actions[0].minute  # type: ignore[attr-defined,no-any-return]


def test_datapoints_reach_the_alarm_a_minute_late() -> None:
    service = worker(WAKE)
    trace = burst(30, 10, 5, 5)
    assert first_action(replay(service, trace, ReplaySettings(metric_lag_seconds=0))) == 10
    assert first_action(replay(service, trace, ReplaySettings(metric_lag_seconds=60))) == 11
    assert first_action(replay(service, trace, ReplaySettings(metric_lag_seconds=120))) == 12


def test_a_task_runs_after_its_start_time() -> None:
    result = replay(worker(WAKE), burst(30, 10, 5, 5), ReplaySettings(metric_lag_seconds=0, task_start_seconds=120))
    assert result.desired[10] == 1
    assert result.running[12] == 0 and result.running[13] == 1


def test_a_scaling_action_repeats_every_minute_the_alarm_stays_in_alarm() -> None:
    """"the alarm continues to invoke the action once per minute that the alarm remains in the new state"."""
    service = worker({"Add": step_policy([(0, None, 1)], cooldown=60), "AddAlarm": alarm("Add")}, maximum=20)
    result = replay(service, burst(40, 5, 1000, 30), ReplaySettings(metric_lag_seconds=0))
    steps = [a.new for a in result.actions[:5]]
    assert steps == [1, 2, 3, 4, 5]
    assert [a.minute for a in result.actions[:5]] == [5, 6, 7, 8, 9]


def test_the_same_step_adds_nothing_during_the_cooldown() -> None:
    service = worker({"Add": step_policy([(0, None, 1)], cooldown=300), "AddAlarm": alarm("Add")}, maximum=20)
    result = replay(service, burst(40, 5, 1000, 30), ReplaySettings(metric_lag_seconds=0))
    assert [(a.minute, a.new) for a in result.actions[:3]] == [(5, 1), (10, 2), (15, 3)]


def test_a_larger_step_during_the_cooldown_adds_only_the_difference() -> None:
    steps = step_policy([(0, 100, 1), (100, None, 5)], cooldown=300)
    service = worker({"Add": steps, "AddAlarm": alarm("Add")}, maximum=20)
    trace = Trace("test", (0.0, 0.0, 50.0, 0.0, 200.0) + (0.0,) * 10)
    result = replay(service, trace, ReplaySettings(metric_lag_seconds=0, task_start_seconds=600))
    # Minute 3 re-triggers the +1 step: nothing (counted). Minute 4 the +5 step: 4 more, not 5.
    assert [(a.minute, a.old, a.new) for a in result.actions[:2]] == [(2, 0, 1), (4, 1, 5)]


def test_capacity_is_clamped_to_the_scalable_target() -> None:
    service = worker({"Add": step_policy([(0, None, 50)]), "AddAlarm": alarm("Add")}, maximum=3)
    result = replay(service, burst(20, 2, 100, 10), ReplaySettings(metric_lag_seconds=0))
    assert max(result.desired) == 3


def test_nothing_published_at_zero_tasks_keeps_an_insights_alarm_from_acting() -> None:
    """Reading 2: Container Insights may publish nothing for a service that runs no task."""
    metrics = [{"Id": "running", "MetricStat": insights_metric("RunningTaskCount"), "ReturnData": False},
               {"Id": "visible", "MetricStat": queue_metric("ApproximateNumberOfMessagesVisible"), "ReturnData": False},
               {"Id": "e", "Expression": "IF(visible > 0 AND running == 0, 1, 0)", "ReturnData": True}]
    service = worker({"Wake": step_policy([(0, None, 1)], adjustment="ExactCapacity"),
                      "WakeAlarm": alarm("Wake", metrics=metrics, missing="missing")})
    trace = burst(30, 5, 5, 20)
    assert replay(service, trace, ReplaySettings(insights_at_zero=False)).actions == ()
    assert replay(service, trace, ReplaySettings(insights_at_zero=True)).actions


def test_target_tracking_cannot_leave_zero() -> None:
    """Backlog per task divides by running tasks: at zero the datapoint is dropped, and target
    tracking does nothing on missing data."""
    tracking = {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
        "PolicyType": "TargetTrackingScaling", "ScalingTargetId": {"Ref": "Target"},
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 30, "CustomizedMetricSpecification": {"Metrics": [
            {"Id": "visible", "MetricStat": queue_metric("ApproximateNumberOfMessagesVisible", "Sum"), "ReturnData": False},
            {"Id": "inflight", "MetricStat": queue_metric("ApproximateNumberOfMessagesNotVisible", "Sum"), "ReturnData": False},
            {"Id": "running", "MetricStat": insights_metric("RunningTaskCount"), "ReturnData": False},
            {"Id": "bpt", "Expression": "(visible + inflight) / running", "ReturnData": True}]}}}}
    result = replay(worker({"Tracking": tracking}), burst(60, 5, 100, 30))
    assert result.actions == () and max(result.running) == 0
    # With one task running it scales out proportionally once 3 datapoints are above target.
    result = replay(worker({"Tracking": tracking}, minimum=1), burst(60, 5, 100, 30))
    assert result.actions[0].new > 1 and result.actions[0].minute >= 5 + 3


def test_sqs_stops_publishing_for_an_idle_queue_when_asked() -> None:
    """A queue idle 6 hours stops publishing; metrics resume up to 15 minutes after it is used."""
    start = 7 * 60
    trace = burst(start + 60, start, 10, 30)
    assert first_action(replay(worker(WAKE), trace)) == start + 1
    assert first_action(replay(worker(WAKE), trace, ReplaySettings(sqs_idle_stop=True))) == start + 15 + 1


def test_a_notification_counts_once_per_transition_into_alarm() -> None:
    page = alarm(None, metric="ApproximateAgeOfOldestMessage", threshold=60, topic=True)
    service = worker({**WAKE, "Late": page}, maximum=1)
    result = replay(service, burst(120, 5, 100, 30))
    assert result.pages == 1
    assert result.max_age > 60


def test_a_scale_in_stops_tasks_still_starting_first() -> None:
    steps = {"Up": step_policy([(0, None, 5)], adjustment="ExactCapacity"), "UpAlarm": alarm("Up", threshold=10),
             "Down": step_policy([(None, 0, 0)], adjustment="ExactCapacity"),
             "DownAlarm": alarm("Down", metric="NumberOfMessagesSent", stat="Sum", comparison="LessThanOrEqualToThreshold")}
    result = replay(worker(steps), Trace("t", (0.0, 50.0) + (0.0,) * 20), ReplaySettings(metric_lag_seconds=0, task_start_seconds=600))
    # The two alarms pull against each other every minute; each scale-in cancels the starts.
    assert [(a.minute, a.old, a.new) for a in result.actions[:2]] == [(1, 0, 5), (2, 5, 0)]
    assert max(result.running) == 0 and max(result.billed_tasks) == 5


def test_a_scheduled_minimum_starts_tasks_at_its_minute_and_is_restored() -> None:
    scheduled = [
        {"ScheduledActionName": "WarmStart", "Schedule": "cron(30 1 * * ? *)", "Timezone": "Europe/London",
         "ScalableTargetAction": {"MinCapacity": 4}},
        {"ScheduledActionName": "WarmEnd", "Schedule": "cron(0 2 * * ? *)", "Timezone": "Europe/London",
         "ScalableTargetAction": {"MinCapacity": 1}},
        {"ScheduledActionName": "Odd", "Schedule": "rate(5 minutes)", "ScalableTargetAction": {"MinCapacity": 2}},
    ]
    service = worker({}, minimum=1, maximum=10, scheduled=scheduled)
    assert [(a.name, a.minute_of_day, a.min_capacity) for a in service.scaling.scheduled] == [  # type: ignore[union-attr]
        ("WarmStart", 90, 4), ("WarmEnd", 120, 1),
    ]
    result = replay(service, Trace("quiet", (0.0,) * 180), ReplaySettings(processing_seconds=2, task_start_seconds=60))
    assert [(a.minute, a.policy, a.old, a.new) for a in result.actions] == [(90, "WarmStart", 1, 4)]
    assert result.running[91] == 1 and result.running[92] == 4  # a task start later
    assert any("Odd" in note for note in result.notes)  # what is not a daily cron is said, not guessed


def test_an_unsupported_expression_is_reported_not_replayed() -> None:
    metrics = [{"Id": "e", "Expression": "SEARCH('{AWS/SQS}', 'Sum')", "ReturnData": True}]
    result = replay(worker({"P": step_policy([(0, None, 1)]), "A": alarm("P", metrics=metrics)}), burst(10, 1, 5, 5))
    assert result.actions == ()
    assert any("not replayed" in n for n in result.notes)


# --- The sample app and aws_ecs_patterns, end to end ---------------------------------------------------


@pytest.fixture(scope="module")
def sample_review() -> object:
    options = ReviewOptions(processing={"portfolio-import": 2.0}, latency={"portfolio-import": 60.0})
    return build_review(SNAPSHOTS, options)


@pytest.fixture(scope="module")
def patterns_review() -> object:
    return build_review(PATTERNS, ReviewOptions(processing={"*": 2.0}, latency={"*": 60.0}))


def test_the_latency_verdict_is_whether_the_oldest_message_alarm_would_page(sample_review: object) -> None:
    prod = sample_review.worker("prod", "portfolio-import")  # type: ignore[attr-defined]
    assert prod is not None and prod.page_threshold is not None
    assert prod.keeps_latency is (prod.result.pages == 0)
    assert (prod.result.pages == 0) is (prod.result.max_age <= prod.page_threshold)


def test_portfolio_import_keeps_its_latency_on_a_steady_day() -> None:
    """The sample's Prod worker through the day's trickle alone (no batch, no import burst)."""
    service = load_stability_model(SNAPSHOTS).environment("prod").service("portfolio-import")  # type: ignore[union-attr]
    assert service is not None
    day = fintech_day()
    steady = Trace("trickle", tuple(a if a < 30 else 0.0 for a in day.arrivals), warm_up_minutes=day.warm_up_minutes)
    result = replay(service, steady, ReplaySettings(processing_seconds=2))
    assert result.max_age <= 60 and result.pages == 0


def test_aws_ecs_patterns_reacts_later_on_the_same_day(sample_review: object, patterns_review: object) -> None:
    ours = sample_review.worker("prod", "portfolio-import")  # type: ignore[attr-defined]
    theirs = patterns_review.workers[0]  # type: ignore[attr-defined]
    for name, minute in ours.result.events:
        # Five minutes into each event, at least as many tasks run (ours are warmed before the
        # known bursts, and scale on one-minute data otherwise).
        assert ours.result.running[minute + 5] >= theirs.result.running[minute + 5], name
    assert theirs.result.max_age > ours.result.max_age
    assert theirs.result.minutes_over(60) > ours.result.minutes_over(60)


def test_prod_portfolio_import_keeps_its_latency_through_the_built_in_day(sample_review: object) -> None:
    """Issue 13's criterion: warm windows for the two known bursts, tasks-needed tracking while
    they last, the wake and burst policies for the rest."""
    prod = sample_review.worker("prod", "portfolio-import")  # type: ignore[attr-defined]
    assert prod.keeps_latency and prod.result.pages == 0
    assert prod.result.max_age <= 60


def test_the_replay_is_deterministic() -> None:
    service = load_stability_model(PATTERNS).environments[0].service("patterns-import")
    assert service is not None
    settings = ReplaySettings(processing_seconds=2)
    assert replay(service, fintech_day(), settings) == replay(service, fintech_day(), settings)


# --- Fast-forward through quiet stretches changes nothing ---------------------------------------------


def _workers() -> list[object]:
    found = [s for source in (SNAPSHOTS, PATTERNS) for env in load_stability_model(source).environments for s in env.services
             if s.kind == "worker"]
    page = alarm(None, metric="ApproximateAgeOfOldestMessage", threshold=60, topic=True)
    return [*found, worker({**WAKE, "Late": page}, maximum=3)]


@pytest.mark.parametrize("settings", [
    ReplaySettings(processing_seconds=2),
    ReplaySettings(processing_seconds=2, sqs_idle_stop=True),
    ReplaySettings(processing_seconds=1, insights_at_zero=True, metric_lag_seconds=0),
    ReplaySettings(processing_seconds=3, metric_lag_seconds=120, task_start_seconds=180),
], ids=["default", "sqs-idle", "insights-at-zero", "slow"])
def test_fast_forward_gives_the_minute_by_minute_result(settings: ReplaySettings) -> None:
    import dataclasses

    sparse = Trace("sparse", tuple(float((t * 7919) % 13 == 0 and (t // 300) % 3 == 0) * 40 for t in range(3 * 1440)))
    for trace in (fintech_day(), sparse):
        for service in _workers():
            quick = replay(service, trace, settings)  # type: ignore[arg-type]
            slow = replay(service, trace, dataclasses.replace(settings, fast_forward=False))  # type: ignore[arg-type]
            assert quick == slow, (service, trace.name)  # type: ignore[attr-defined]


def test_fast_forward_after_a_scheduled_scale_in_writes_the_new_count() -> None:
    """A lowered MaxCapacity stops tasks after the minute's outputs are written: the quiet
    stretch that follows starts from the new count, not a copy of the minute before."""
    scheduled = [
        {"ScheduledActionName": "WarmStart", "Schedule": "cron(30 1 * * ? *)", "Timezone": "Europe/London",
         "ScalableTargetAction": {"MinCapacity": 3}},
        {"ScheduledActionName": "WarmEnd", "Schedule": "cron(0 3 * * ? *)", "Timezone": "Europe/London",
         "ScalableTargetAction": {"MinCapacity": 0}},
        {"ScheduledActionName": "Cap", "Schedule": "cron(0 9 * * ? *)", "Timezone": "Europe/London",
         "ScalableTargetAction": {"MaxCapacity": 1}},
    ]
    service = worker({}, maximum=10, scheduled=scheduled)
    quiet = Trace("quiet", (0.0,) * 1440)
    settings = ReplaySettings(processing_seconds=2)
    result = replay(service, quiet, settings)
    assert result.running[540] == 3 and result.running[541] == 1
    assert result == replay(service, quiet, ReplaySettings(processing_seconds=2, fast_forward=False))


def test_fast_forward_ages_waiting_messages_bit_for_bit() -> None:
    """Messages left waiting with no task (a partly served minute's cohort): their age in a
    fast-forwarded stretch is the minute-by-minute formula's, to the last bit."""
    stop = [{"ScheduledActionName": "Stop", "Schedule": "cron(0 9 * * ? *)", "Timezone": "Europe/London",
             "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0}}]
    service = worker({}, minimum=1, maximum=1, scheduled=stop, processing=7)
    trace = Trace("stopped", tuple(32.93 if 420 <= t < 540 else 0.0 for t in range(1440)))
    quick = replay(service, trace)
    assert quick.running[541] == 0 and quick.max_age > 8000
    assert quick == replay(service, trace, ReplaySettings(fast_forward=False))
