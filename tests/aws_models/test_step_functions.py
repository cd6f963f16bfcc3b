"""The Amazon States Language model: each rule it follows, on a worked example."""

from __future__ import annotations

from typing import Any

from tests.aws_models.step_functions import Interpreter, Outcome, StatesError, resource_name


def _task(resource: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", **extra}


def test_resource_names() -> None:
    assert resource_name("arn:aws:states:::aws-sdk:ecs:listTasks") == "ecs:listTasks"
    assert resource_name("arn:TOKEN:states:::ecs:runTask.sync") == "ecs:runTask.sync"


def test_result_path_and_selector_and_context() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": _task(
                "x:a",
                Parameters={"Id.$": "$$.Execution.Id", "Fixed": 1, "From.$": "$.input"},
                ResultSelector={"arns.$": "$.TaskArns"},
                ResultPath="$.found",
                Next="B",
            ),
            "B": _task("x:b", ResultPath=None, End=True),
        },
    }
    seen: list[Any] = []

    def a(params: Any) -> Outcome:
        seen.append(params)
        return Outcome(result={"TaskArns": ["t1"]})

    execution = Interpreter(definition, {"x:a": a, "x:b": lambda p: Outcome(result="dropped")}, execution_id="e").run({"input": 7})
    assert seen == [{"Id": "e", "Fixed": 1, "From": 7}]
    # ResultPath null passes the input on unchanged.
    assert execution.output == {"input": 7, "found": {"arns": ["t1"]}}
    assert execution.status == "SUCCEEDED"


def test_timeout_is_a_states_timeout_that_a_catcher_gets() -> None:
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": _task(
                "ecs:runTask.sync", TimeoutSeconds=60, End=True,
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            ),
            "Failed": {"Type": "Fail", "Error": "RunFailed"},
        },
    }
    execution = Interpreter(definition, {"ecs:runTask.sync": lambda p: Outcome(seconds=61)}).run()
    assert (execution.status, execution.error, execution.seconds) == ("FAILED", "RunFailed", 60)


def test_retry_applies_the_first_matching_retrier_with_backoff_then_catches() -> None:
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": _task(
                "ecs:runTask.sync", End=True,
                Retry=[{"ErrorEquals": ["AmazonECS.Unknown"], "MaxAttempts": 2, "IntervalSeconds": 10, "BackoffRate": 2}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            ),
            "Failed": {"Type": "Fail", "Error": "RunFailed"},
        },
    }
    execution = Interpreter(definition, {"ecs:runTask.sync": lambda p: Outcome(error="AmazonECS.Unknown")}).run()
    assert len(execution.calls) == 3  # the first attempt and two retries
    assert execution.seconds == 10 + 20
    assert execution.error == "RunFailed"


def test_states_all_does_not_catch_a_runtime_error() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": _task("x:a", Parameters={"v.$": "$.missing"}, End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "C"}]),
            "C": {"Type": "Succeed"},
        },
    }
    try:
        execution = Interpreter(definition, {"x:a": lambda p: Outcome()}).run({})
    except StatesError:  # pragma: no cover - the interpreter reports, it does not raise
        raise AssertionError("the execution should fail, not raise") from None
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")


def test_choice_and_map() -> None:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"And": [{"Variable": "$.code", "IsPresent": True}, {"Variable": "$.code", "NumericEquals": 0}], "Next": "Ok"},
                ],
                "Default": "Each",
            },
            "Each": {
                "Type": "Map", "ItemsPath": "$.items", "ResultPath": None, "Next": "Bad",
                "ItemProcessor": {"StartAt": "Stop", "States": {"Stop": _task("ecs:stopTask", Parameters={"Task.$": "$"}, End=True)}},
            },
            "Bad": {"Type": "Fail", "Error": "E"},
            "Ok": {"Type": "Succeed"},
        },
    }
    handlers = {"ecs:stopTask": lambda p: Outcome(result={})}
    assert Interpreter(definition, handlers).run({"code": 0, "items": []}).status == "SUCCEEDED"
    failed = Interpreter(definition, handlers).run({"code": 1, "items": ["t1", "t2"]})
    assert failed.error == "E"
    assert [c.parameters for c in failed.calls] == [{"Task": "t1"}, {"Task": "t2"}]
    # A missing code is not 0: IsPresent guards the NumericEquals.
    assert Interpreter(definition, handlers).run({"items": []}).error == "E"


def test_json_to_string_intrinsic() -> None:
    definition = {"StartAt": "A", "States": {"A": _task("x:a", Parameters={"c.$": "States.JsonToString($.c)"}, End=True)}}
    seen: list[Any] = []
    def record(params: Any) -> Outcome:
        seen.append(params)
        return Outcome()

    Interpreter(definition, {"x:a": record}).run({"c": [{"ExitCode": 1}]})
    assert seen == [{"c": '[{"ExitCode":1}]'}]


def test_state_machine_timeout_ends_the_execution_timed_out() -> None:
    definition = {"StartAt": "A", "TimeoutSeconds": 100, "States": {"A": _task("x:a", End=True)}}
    assert Interpreter(definition, {"x:a": lambda p: Outcome(seconds=150)}).run().status == "TIMED_OUT"
