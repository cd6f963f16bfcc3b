"""Property-based: generated environments and parameter data, valid and broken.

Valid data loads, resolves every key in every environment and synthesizes a task
definition; broken data raises ConfigError, never another exception.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs import Construct
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stable_fargate.environments import AccountRegion
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import DURATION_UNITS, ParameterSets, ResolvedParameters, load_parameter_sets
from stable_fargate.services._base import _StableFargateBase, is_secret_looking

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

env_names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{1,8}", fullmatch=True), min_size=1, max_size=4, unique=True)
key_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)
plain_names = key_names.filter(lambda k: not is_secret_looking(k) and not k.startswith(("AWS_", "ECS_")))
safe_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){1,2}", fullmatch=True)
UNITS = list(DURATION_UNITS)
Draw = Callable[[st.SearchStrategy[Any]], Any]


@st.composite
def plain_key(draw: st.DrawFn) -> tuple[dict[str, Any], st.SearchStrategy[Any]]:
    """A plain key declaration and a strategy for its valid values."""
    kind = draw(st.sampled_from(["string", "integer", "boolean", "url", "duration"]))
    if kind == "string":
        allowed = draw(st.none() | st.lists(safe_text, min_size=1, max_size=3, unique=True))
        decl: dict[str, Any] = {"type": "string"} | ({"allowed": allowed} if allowed else {})
        return decl, (st.sampled_from(allowed) if allowed else safe_text)
    if kind == "integer":
        low = draw(st.integers(-1000, 1000))
        return {"type": "integer", "min": low, "max": low + 5000}, st.integers(low, low + 5000)
    if kind == "boolean":
        return {"type": "boolean"}, st.booleans()
    if kind == "url":
        return {"type": "url"}, st.builds(lambda s, h: f"{s}://{h}", st.sampled_from(["https", "http"]), hosts)
    unit_index = draw(st.integers(0, len(UNITS) - 1))
    # A value in the key's unit or a larger one is always a whole number of the key's unit.
    values = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10_000), st.sampled_from(UNITS[unit_index:]))
    return {"type": "duration", "unit": UNITS[unit_index]}, values


@st.composite
def valid_data(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    environments = draw(env_names)
    services = draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), min_size=1, max_size=2, unique=True))
    raw: dict[str, Any] = {}
    for service in services:
        keys: dict[str, Any] = {}
        overrides: dict[str, dict[str, Any]] = {env: {} for env in environments}
        for name in draw(st.lists(plain_names, min_size=1, max_size=5, unique=True)):
            decl, values = draw(plain_key())
            shared = draw(st.booleans())
            if shared:
                decl["value"] = draw(values)
            for env in environments:
                # Without a shared value every environment must give one (the key is required).
                if not shared or draw(st.booleans()):
                    overrides[env][name] = draw(values)
            keys[name] = decl
        for name in draw(st.lists(key_names.map(lambda k: k + "_SECRET"), max_size=2, unique=True)):
            if name in keys or name.startswith(("AWS_", "ECS_")):
                continue
            source = draw(st.sampled_from(["secretsmanager", "ssm"]))
            keys[name] = {"kind": "secret", "source": source, "name": "/app/x" if source == "ssm" else "app/x"}
        raw[service] = {"keys": keys, "overrides": {env: o for env, o in overrides.items() if o}}
    return environments, raw


@SETTINGS
@given(valid_data())
def test_valid_data_loads_and_resolves_every_key_everywhere(data: tuple[list[str], dict[str, Any]]) -> None:
    environments, raw = data
    sets = load_parameter_sets(raw, environments)
    for service, pset in raw.items():
        expected = set(pset["keys"])
        for env in environments:
            resolved = sets.resolve(service, env)
            assert set(resolved.plain) | set(resolved.secrets) == expected
            assert all(isinstance(v, str) for v in resolved.plain.values())
            for name, value in pset.get("overrides", {}).get(env, {}).items():
                if pset["keys"][name]["type"] == "integer":
                    assert resolved.plain[name] == str(value)
                if pset["keys"][name]["type"] == "boolean":
                    assert resolved.plain[name] == ("true" if value else "false")


def _break_unknown_override(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    name = draw(plain_names.filter(lambda k: k not in raw[service]["keys"]))
    raw[service].setdefault("overrides", {}).setdefault(env, {})[name] = "x"


def _break_missing_value(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    name = draw(plain_names.filter(lambda k: k not in raw[service]["keys"]))
    raw[service]["keys"][name] = {"type": "string"}  # no shared value, no override in any environment


def _break_wrong_type(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    name = draw(st.sampled_from(sorted(k for k, d in raw[service]["keys"].items() if d.get("kind") != "secret")))
    wrong = {"string": 1, "integer": "1", "boolean": "true", "url": "no scheme", "duration": 30}
    raw[service].setdefault("overrides", {}).setdefault(env, {})[name] = wrong[raw[service]["keys"][name]["type"]]


def _break_plain_secret(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    part = draw(st.sampled_from(["PASSWORD", "TOKEN", "SECRET", "API_KEY", "PRIVATE_CERT"]))
    raw[service]["keys"][f"DB_{part}"] = {"type": "string", "value": "hunter2"}


def _break_undeclared_environment(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    raw[service].setdefault("overrides", {})["undeclared-env"] = {}


def _break_garbage(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    garbage = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    )
    name = draw(st.sampled_from(sorted(raw[service]["keys"])))
    field = draw(st.sampled_from(["type", "kind", "source", "name", "required", "allowed", "min", "unit", "json_field"]))
    value = draw(garbage)
    raw[service]["keys"][name][field] = value


BREAKERS = [_break_unknown_override, _break_missing_value, _break_wrong_type, _break_plain_secret, _break_undeclared_environment]


@SETTINGS
@given(valid_data(), st.sampled_from(BREAKERS), st.data())
def test_broken_data_raises_config_error(data: tuple[list[str], dict[str, Any]], breaker: Any, draw: st.DataObject) -> None:
    environments, raw = data
    service = draw.draw(st.sampled_from(sorted(raw)))
    env = draw.draw(st.sampled_from(environments))
    breaker(raw, env, service, draw.draw)
    try:
        load_parameter_sets(raw, environments)
    except ConfigError as error:
        assert error.subject == service
    else:
        raise AssertionError(f"{breaker.__name__} was not refused")


@SETTINGS
@given(valid_data(), st.data())
def test_garbage_anywhere_is_config_error_or_loads_never_another_exception(
    data: tuple[list[str], dict[str, Any]], draw: st.DataObject
) -> None:
    environments, raw = data
    service = draw.draw(st.sampled_from(sorted(raw)))
    _break_garbage(raw, environments[0], service, draw.draw)
    try:
        sets = load_parameter_sets(raw, environments)
    except ConfigError:
        return
    _assert_resolves_everywhere(sets, environments)


def _assert_resolves_everywhere(sets: ParameterSets, environments: list[str]) -> None:
    for service in sets.services:
        keys = {env: set(sets.resolve(service, env).plain) | set(sets.resolve(service, env).secrets) for env in environments}
        assert all(k == keys[environments[0]] for k in keys.values())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(json_values, env_names)
def test_arbitrary_json_is_config_error_or_loads(raw: Any, environments: list[str]) -> None:
    try:
        sets = load_parameter_sets(raw, environments)
    except ConfigError:
        return
    _assert_resolves_everywhere(sets, environments)


class _Task(_StableFargateBase):
    def __init__(self, scope: Construct, construct_id: str, *, parameters: ResolvedParameters) -> None:
        super().__init__(scope, construct_id, service_name=parameters.service)
        self._build_task(
            image=ImageRef.release("app", "v1.0.0", registry=AccountRegion("100000000000", "eu-west-2")),
            parameters=parameters, cpu=256, memory_mib=512, log_key=kms.Key(self, "Key", enable_key_rotation=True),
            stop_timeout=Duration.seconds(30), retain_logs=False,
        )


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_data())
def test_valid_data_synthesizes(data: tuple[list[str], dict[str, Any]]) -> None:
    environments, raw = data
    sets = load_parameter_sets(raw, environments)
    service = sorted(raw)[0]
    resolved = sets.resolve(service, environments[-1])
    stack = Stack(App(), "Test")
    _Task(stack, "Task", parameters=resolved)
    task = next(iter(Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()))
    container = task["Properties"]["ContainerDefinitions"][0]
    assert {e["Name"]: e["Value"] for e in container.get("Environment", [])} == dict(resolved.plain)
    assert {s["Name"] for s in container.get("Secrets", [])} == set(resolved.secrets)
