"""What the worker's alarms and scaling policies do in AWS, minute by minute, on the documented
model of CloudWatch and Application Auto Scaling (tests/aws_models/cloudwatch.py), read from
the synthesized template: no double scale-out from a lagging metric, waking from zero on the
queue's own metrics, a dead-letter alarm that pages for every arrival."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Environment, Stack

from stable_fargate.services.worker import QueueWorker
from stacks.app import load_config
from tests.aws_models.cloudwatch import (
    Alarm,
    StepPolicy,
    alarm_properties,
    evaluate,
    expression_of,
    notifications,
    scaling_policy,
)
from tests.conftest import cdk_context, with_overrides
from tests.test_worker import platform

TARGET = 15  # ceil(0.5 x 60 s acceptable latency / 2 s per message)
MAX_TASKS = 20


def _worker_template(tmp: Path, *, production: bool, min_tasks: int) -> dict[str, Any]:
    app = App(context=cdk_context(), outdir=str(tmp))
    stack = Stack(app, "Workers", env=Environment(account="333333333333", region="eu-west-2"))
    environment, _ = with_overrides(
        load_config(app).environment("prod" if production else "dev"), "portfolio-import",
        {"min_tasks": min_tasks, "max_tasks": MAX_TASKS},
    )
    QueueWorker(
        stack, "Worker", **platform(stack, ("eu-west-2a", "eu-west-2b")),
        service_name="portfolio-import", environment=environment,
        average_processing_time=Duration.seconds(2), longest_processing_time=Duration.seconds(20),
        acceptable_latency=Duration.seconds(60),
    )
    app.synth()
    data: dict[str, Any] = json.loads((tmp / "Workers.template.json").read_text())
    return data


@pytest.fixture(scope="module")
def prod_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _worker_template(tmp_path_factory.mktemp("prod"), production=True, min_tasks=1)


@pytest.fixture(scope="module")
def dev_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _worker_template(tmp_path_factory.mktemp("dev"), production=False, min_tasks=0)


def _simulate_burst(template: dict[str, Any], *, visible: int, start: int, lag: int, minutes: int = 12) -> list[int]:
    """Desired capacity per minute while ``visible`` messages wait and the running tasks consume.

    The action taken at the end of minute t sets the capacity from minute t + 1; the
    DesiredTaskCount datapoint of minute m holds the capacity of minute m; the alarm at minute
    t sees datapoints up to minute t - lag and invokes the policy every minute it is in ALARM.
    """
    alarm_props = alarm_properties(template, "- desired")
    alarm, expression = Alarm.from_template(alarm_props), expression_of(alarm_props)
    policy = StepPolicy.from_template(scaling_policy(template, "ChangeInCapacity"), alarm_props, min_capacity=1, max_capacity=MAX_TASKS)
    capacity = [start]
    for t in range(minutes):
        n = t + 1
        series = {
            "visible": [float(visible)] * n,
            "inflight": [float(TARGET)] * n,  # the running tasks hold messages: they consume
            "received": [float(TARGET)] * n,
            "empty": [0.0] * n,
            "desired": [float(c) for c in capacity[:n]],
        }
        values = evaluate(expression, series, n)
        seen = values[: max(0, n - lag)]
        current = capacity[t]
        if seen and alarm.state(seen) == "ALARM" and seen[-1] is not None:
            current = policy.invoke(t, current, seen[-1])
        capacity.append(current)
    return capacity


@pytest.mark.parametrize("lag", [1, 2])
def test_the_burst_adds_the_shortfall_once_under_a_lagging_metric(prod_template: dict[str, Any], lag: int) -> None:
    """150 messages at 15 per task need 10 tasks; 2 run. The stale DesiredTaskCount still says 2
    for `lag` more evaluations; the 180 s cooldown makes those re-invocations add nothing."""
    capacity = _simulate_burst(prod_template, visible=150, start=2, lag=lag)
    assert max(capacity) == 10
    assert capacity[-1] == 10


def test_without_the_cooldown_the_lag_would_double_the_burst(prod_template: dict[str, Any]) -> None:
    """The defect the cooldown fixes, reproduced on the same template with a 60 s cooldown."""
    broken = json.loads(json.dumps(prod_template))
    for resource in broken["Resources"].values():
        config = resource.get("Properties", {}).get("StepScalingPolicyConfiguration")
        if config and config["AdjustmentType"] == "ChangeInCapacity":
            config["Cooldown"] = 60
    assert max(_simulate_burst(broken, visible=150, start=2, lag=1)) > 10


def _simulate_wake(template: dict[str, Any], *, arrivals: list[int], lag: int = 1, task_start: int = 1) -> tuple[list[int], int | None]:
    """From zero tasks: messages arrive, nothing consumes until a task has started.

    Container Insights publishes nothing while no task runs (its series stay empty), so only
    the queue's metrics exist. Returns the capacity per minute and the first minute a task polls.
    """
    wake_props = alarm_properties(template, "CEIL(visible / 15), 0)")
    burst_props = alarm_properties(template, "- desired")
    wake = StepPolicy.from_template(scaling_policy(template, "ExactCapacity"), wake_props, min_capacity=0, max_capacity=MAX_TASKS)
    capacity, polling_from, visible = [0], None, 0.0
    queue: dict[str, list[float | None]] = {"visible": [], "inflight": [], "received": [], "empty": [], "desired": []}
    for t, arriving in enumerate(arrivals):
        started = [c for i, c in enumerate(capacity) if i <= t - task_start]
        running = started[-1] if started else 0
        visible += arriving
        if running and polling_from is None:
            polling_from = t
        queue["visible"].append(visible)
        queue["inflight"].append(0.0)
        queue["received"].append(float(running))  # a running task long-polls
        queue["empty"].append(float(running))
        queue["desired"].append(float(capacity[t]) if running else None)  # nothing published at zero
        n = t + 1
        burst = evaluate(expression_of(burst_props), queue, n)
        assert all(v in (None, 0.0) for v in burst[: max(0, n - lag)] if not running), "the burst must not act at zero"
        values = evaluate(expression_of(wake_props), queue, n)[: max(0, n - lag)]
        current = capacity[t]
        if values and Alarm.from_template(wake_props).state(values) == "ALARM" and values[-1] is not None:
            current = wake.invoke(t, current, values[-1])
        capacity.append(current)
    return capacity, polling_from


def test_a_worker_at_zero_wakes_on_queue_metrics_alone_with_the_exact_capacity(dev_template: dict[str, Any]) -> None:
    """100 messages, then 20 more each minute: the wake policy is invoked every minute while
    the tasks start and sets ceil(visible / 15) each time, never adding it twice."""
    capacity, polling_from = _simulate_wake(dev_template, arrivals=[100] + [20] * 5)
    assert capacity[:2] == [0, 0]  # the first datapoint reaches the alarm a minute late
    assert capacity[2] == math.ceil(100 / TARGET) == 7  # the first minute's 100 messages, seen a minute late
    assert max(capacity) <= math.ceil((100 + 5 * 20) / TARGET)  # never the sum of the invocations
    # From the first message to a polling task: one minute of lag, one of task start, one to run.
    assert polling_from == 3


def test_the_worker_never_reads_container_insights_to_wake(dev_template: dict[str, Any]) -> None:
    wake = alarm_properties(dev_template, "CEIL(visible / 15), 0)")
    assert {m["MetricStat"]["Metric"]["Namespace"] for m in wake["Metrics"] if "MetricStat" in m} == {"AWS/SQS"}


def test_the_dead_letter_alarm_pages_for_every_arrival(prod_template: dict[str, Any]) -> None:
    props = alarm_properties(prod_template, "DIFF(")
    alarm, expression = Alarm.from_template(props), expression_of(props)
    # Quiet (SQS published nothing for the empty DLQ), a poison message at 5, another at 20;
    # nobody empties the DLQ in between.
    dlq: list[float | None] = [None] * 5 + [1.0] * 15 + [2.0] * 10
    values = evaluate(expression, {"visible": dlq}, len(dlq))
    states = alarm.states(values)
    assert notifications(states) == [5, 20]
    assert states[10] == "OK"  # and said so in between: OK actions notify that too
    # The old "visible >= 1" alarm paged once and stayed in ALARM.
    old = Alarm(threshold=1, comparison="GreaterThanOrEqualToThreshold")
    assert notifications(old.states(dlq)) == [5]
