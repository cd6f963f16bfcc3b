"""The job orchestrator, as synthesized, run through the States Language model: a run never
overlaps the previous one, never outlives its max runtime, and every failure is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_cdk import Duration

from tests.aws_models.step_functions import Execution, Interpreter, Outcome, definition_of

MAX_RUNTIME = 1800


@dataclass
class FakeEcs:
    """The ECS and SQS calls the orchestrator makes, against a cluster of ``running`` tasks."""

    running: list[str] = field(default_factory=list)
    run_outcomes: list[Outcome] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    def handlers(self) -> dict[str, Any]:
        return {
            "ecs:listTasks": lambda p: Outcome(result={"TaskArns": list(self.running)}),
            "ecs:runTask.sync": self._run,
            "ecs:stopTask": self._stop,
            "sqs:sendMessage": self._send,
        }

    def _run(self, params: Any) -> Outcome:
        outcome = self.run_outcomes.pop(0)
        if outcome.error is None and outcome.seconds > MAX_RUNTIME:
            # The task exists while .sync waits: a timeout finds it still running.
            self.running.append("arn:task/run")
        return outcome

    def _stop(self, params: Any) -> Outcome:
        self.stopped.append(params["Task"])
        self.running.remove(params["Task"])
        return Outcome(result={})

    def _send(self, params: Any) -> Outcome:
        self.records.append(params["MessageBody"])
        return Outcome(result={"MessageId": "m"})


def _finished(exit_code: int | None, seconds: float = 600) -> Outcome:
    container: dict[str, Any] = {"Name": "reconciliation"}
    if exit_code is not None:
        container["ExitCode"] = exit_code
    return Outcome(result={"TaskArn": "arn:task/run", "Containers": [container], "StopCode": "EssentialContainerExited"}, seconds=seconds)


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from aws_cdk import App, Environment, Stack

    from stable_fargate.services.job import ScheduledJob
    from stacks.app import load_config
    from tests.conftest import cdk_context
    from tests.test_worker import platform

    out = tmp_path_factory.mktemp("orchestrator")
    app = App(context=cdk_context(), outdir=str(out))
    stack = Stack(app, "Jobs", env=Environment(account="333333333333", region="eu-west-2"))
    ScheduledJob(
        stack, "Job", **platform(stack, ("eu-west-2a", "eu-west-2b")),
        service_name="reconciliation", environment=load_config(app).environment("prod"),
        schedule="0 2 * * ? *", time_zone="Europe/London", max_runtime=Duration.seconds(MAX_RUNTIME),
    )
    app.synth()
    return definition_of(json.loads((out / "Jobs.template.json").read_text()))


def run(definition: dict[str, Any], ecs: FakeEcs) -> Execution:
    return Interpreter(definition, ecs.handlers(), execution_id="arn:exec/nightly").run({})


def test_a_good_run_succeeds_and_records_nothing(definition: dict[str, Any]) -> None:
    ecs = FakeEcs(run_outcomes=[_finished(0)])
    execution = run(definition, ecs)
    assert execution.status == "SUCCEEDED"
    assert ecs.records == [] and ecs.stopped == []


def test_a_run_never_starts_while_the_previous_one_still_runs(definition: dict[str, Any]) -> None:
    ecs = FakeEcs(running=["arn:task/yesterday"])
    execution = run(definition, ecs)
    assert execution.calls_to("ecs:runTask.sync") == []
    assert (execution.status, execution.error) == ("FAILED", "PreviousRunStillRunning")
    assert [r["error"] for r in ecs.records] == ["PreviousRunStillRunning"]
    assert ecs.stopped == []  # the previous run is not ours to stop


def test_a_run_past_its_max_runtime_is_stopped_recorded_and_fails(definition: dict[str, Any]) -> None:
    ecs = FakeEcs(run_outcomes=[_finished(0, seconds=MAX_RUNTIME + 1)])
    execution = run(definition, ecs)
    assert ecs.stopped == ["arn:task/run"]
    assert [(r["error"], r["execution"]) for r in ecs.records] == [("States.Timeout", "arn:exec/nightly")]
    assert (execution.status, execution.error) == ("FAILED", "RunFailed")
    # It ends well inside the orchestrator's own timeout (max runtime + 15 min).
    assert execution.seconds == MAX_RUNTIME < definition["TimeoutSeconds"] == MAX_RUNTIME + 900


@pytest.mark.parametrize("exit_code", [1, 137, None])
def test_a_run_that_exits_non_zero_or_without_a_code_is_recorded_and_fails(definition: dict[str, Any], exit_code: int | None) -> None:
    ecs = FakeEcs(run_outcomes=[_finished(exit_code)])
    execution = run(definition, ecs)
    assert (execution.status, execution.error) == ("FAILED", "NonZeroExit")
    (record,) = ecs.records
    assert record["error"] == "NonZeroExit"
    assert json.loads(record["cause"])[0]["Name"] == "reconciliation"  # the exit codes, for on-call


def test_a_run_ecs_could_not_start_is_retried_three_times_then_recorded(definition: dict[str, Any]) -> None:
    no_capacity = Outcome(error="AmazonECS.Unknown", cause="RESOURCE:FARGATE")
    ecs = FakeEcs(run_outcomes=[no_capacity] * 4)
    execution = run(definition, ecs)
    assert len(execution.calls_to("ecs:runTask.sync")) == 4
    assert execution.seconds == 60 + 120 + 240  # backoff between the attempts
    assert [r["error"] for r in ecs.records] == ["AmazonECS.Unknown"]
    assert execution.error == "RunFailed"


def test_a_run_that_starts_after_a_capacity_shortage_succeeds(definition: dict[str, Any]) -> None:
    ecs = FakeEcs(run_outcomes=[Outcome(error="AmazonECS.Unknown"), _finished(0)])
    assert run(definition, ecs).status == "SUCCEEDED"


def test_a_task_that_ran_is_never_run_twice(definition: dict[str, Any]) -> None:
    """A run that failed after starting (not a start failure) is not retried."""
    ecs = FakeEcs(run_outcomes=[Outcome(error="States.TaskFailed", cause="container died")])
    execution = run(definition, ecs)
    assert len(execution.calls_to("ecs:runTask.sync")) == 1
    assert execution.error == "RunFailed"
