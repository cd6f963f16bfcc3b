"""Property-based: generated environments and parameter data, valid and broken.

Valid data loads, resolves every key in every environment and synthesizes a task
definition; broken data raises ConfigError, never another exception. The same holds for the
environments block (``load_app_config`` / ``load_environment``): accounts, regions, AZ lists,
CIDRs, NAT counts, sizing and images, valid, broken on purpose and replaced by any JSON.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

from aws_cdk import App, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs import Construct
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stable_fargate import defaults
from stable_fargate.environments import KNOWN_REGIONS, AccountRegion, load_app_config, load_environment
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
            for env in environments:
                if draw(st.booleans()):  # an environment names its own secret (always the object form)
                    overrides[env][name] = {"name": f"/app/{env}" if source == "ssm" else f"app/{env}"}
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
                type_ = pset["keys"][name].get("type")
                if type_ == "integer":
                    assert resolved.plain[name] == str(value)
                if type_ == "boolean":
                    assert resolved.plain[name] == ("true" if value else "false")
                if pset["keys"][name].get("kind") == "secret":
                    assert resolved.secrets[name].name == value["name"]


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


SECRET_LOOKING_SUFFIXES = ("PASSWORD", "TOKEN", "SECRET", "API_KEY", "PRIVATE_KEY", "PASS")


def _break_plain_secret(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    part = draw(st.sampled_from(SECRET_LOOKING_SUFFIXES))
    raw[service]["keys"][f"DB_{part}"] = {"type": "string", "value": "hunter2"}


def _break_secret_override_as_string(raw: dict[str, Any], env: str, service: str, draw: Draw) -> None:
    raw[service]["keys"]["DB_PASSWORD"] = {"kind": "secret", "source": "secretsmanager", "name": "app/db"}
    raw[service].setdefault("overrides", {}).setdefault(env, {})["DB_PASSWORD"] = draw(safe_text)


def test_the_secret_looking_suffixes_are_secret_looking() -> None:
    assert all(is_secret_looking(f"DB_{part}") for part in SECRET_LOOKING_SUFFIXES)


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


BREAKERS = [
    _break_unknown_override, _break_missing_value, _break_wrong_type, _break_plain_secret, _break_undeclared_environment,
    _break_secret_override_as_string,
]


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


# --- environments: valid, broken, garbage -------------------------------------------------------

ENVIRONMENT_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGIONS = sorted(KNOWN_REGIONS)
environment_names = st.from_regex(r"[a-z][a-z0-9-]{1,12}", fullmatch=True)
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
PRIVATE_RANGES = [ipaddress.IPv4Network("10.0.0.0/8"), ipaddress.IPv4Network("172.16.0.0/12"), ipaddress.IPv4Network("192.168.0.0/16")]


@st.composite
def private_cidr(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(16, 20))
    private = draw(st.sampled_from(PRIVATE_RANGES))
    offset = draw(st.integers(0, private.num_addresses - 1))
    return str(ipaddress.IPv4Network((int(private.network_address) + offset, prefix), strict=False))


@st.composite
def sizing(draw: st.DrawFn) -> dict[str, Any]:
    """A valid sizing; any field may be left to its default (the task counts go together,
    since the default max_tasks is 2)."""
    entry: dict[str, Any] = {}
    if draw(st.booleans()):
        entry["cpu"] = draw(st.sampled_from([256, 512, 1024, 2048, 4096]))
    if draw(st.booleans()):
        entry["memory_mib"] = draw(st.sampled_from([512, 1024, 2048, 8192]))
    high = 2
    if draw(st.booleans()):
        low, high = sorted((draw(st.integers(0, 50)), draw(st.integers(0, 50))))
        entry |= {"min_tasks": low, "max_tasks": high}
    if draw(st.booleans()):
        entry["on_demand_base"] = draw(st.none() | st.integers(0, high))
    return entry


@st.composite
def valid_environment(draw: st.DrawFn, name: str) -> dict[str, Any]:
    region = draw(st.sampled_from(REGIONS))
    production = draw(st.booleans())
    needed = defaults.MIN_AZS_PRODUCTION if production else defaults.MIN_AZS
    azs = [f"{region}{letter}" for letter in draw(st.lists(st.sampled_from("abcdef"), min_size=needed, max_size=6, unique=True))]
    account = draw(accounts)
    data: dict[str, Any] = {
        "account": account, "region": region, "availability_zones": azs, "vpc_cidr": draw(private_cidr()),
        "nat_gateways": draw(st.integers(0, len(azs))), "production": production,
    }
    services = draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), max_size=3, unique=True))
    if services or draw(st.booleans()):
        data["services"] = {svc: draw(sizing()) for svc in services}
        release = st.builds("v{}.{}.{}".format, st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)) | st.builds(
            lambda n: f"sha256:{n:064x}", st.integers(0, 2**256 - 1)
        )
        data["images"] = {svc: draw(release) for svc in services}
    if draw(st.booleans()):
        data["retain_data"] = draw(st.booleans())
    if draw(st.booleans()):
        data["certificate_arn"] = f"arn:aws:acm:{region}:{account}:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    return data


@st.composite
def valid_app(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(environment_names, min_size=1, max_size=3, unique=True))
    return {"stable_fargate": {
        "tooling": {"account": draw(accounts), "region": draw(st.sampled_from(REGIONS))},
        "environments": {name: draw(valid_environment(name)) for name in names},
    }}


@ENVIRONMENT_SETTINGS
@given(valid_app())
def test_valid_environments_load_as_given(context: dict[str, Any]) -> None:
    config = load_app_config(context)
    raw = context["stable_fargate"]["environments"]
    assert [env.name for env in config.environments] == list(raw)
    for env in config.environments:
        data = raw[env.name]
        assert (env.account, env.region, list(env.availability_zones)) == (data["account"], data["region"], data["availability_zones"])
        assert (env.vpc_cidr, env.nat_gateways, env.production) == (data["vpc_cidr"], data["nat_gateways"], data["production"])
        for service, size in data.get("services", {}).items():
            assert env.sizing(service).min_tasks <= env.sizing(service).max_tasks
            assert all(getattr(env.sizing(service), field) == value for field, value in size.items())
        assert dict(env.images) == data.get("images", {})


not_a_string = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.lists(st.text(max_size=3), max_size=2)

BROKEN_FIELDS: dict[str, Callable[[dict[str, Any]], st.SearchStrategy[Any]]] = {
    "account": lambda d: not_a_string | st.sampled_from(["", "12345", "1234567890123", "12345678901a", " 123456789012"]),
    "region": lambda d: not_a_string | st.sampled_from(["", "eu-west-9", "EU-WEST-2", "eu-west-2 ", "global"]),
    "availability_zones": lambda d: not_a_string | st.sampled_from([
        [], [d["region"] + "a"], [d["region"] + "a", d["region"] + "a", d["region"] + "b"],
        [d["region"] + "a", "xx-east-1b", d["region"] + "c"], [d["region"] + "a", 1, d["region"] + "c"],
        [d["region"] + "a", None, d["region"] + "c"], [d["region"] + "1", d["region"] + "2", d["region"] + "3"],
    ]),
    "vpc_cidr": lambda d: not_a_string | st.sampled_from([
        "", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/16", "8.8.0.0/16", "10.0.0.0/33", "fd00::/48", "10.0.0.0", "10.0.0.0/ 16",
        "300.0.0.0/16",
    ]),
    "nat_gateways": lambda d: st.sampled_from([-1, len(d["availability_zones"]) + 1, True, 1.0, "1", None, [1]]),
    "production": lambda d: st.sampled_from(["true", 1, 0, None, []]),
    "retain_data": lambda d: st.sampled_from(["false", 0, None, {}]),
    "certificate_arn": lambda d: not_a_string | st.sampled_from([
        "", "arn:aws:acm:xx-east-1:111111111111:certificate/abc", f"arn:aws:acm:{d['region']}:000000000000:certificate/abc",
    ]),
    "services": lambda d: not_a_string | st.sampled_from([
        {"api": None}, {"api": "big"}, {"api": []}, {"api": {"cpu": None}}, {"api": {"cpu": "256"}}, {"api": {"cpu": -1}},
        {"api": {"cpu": 256.0}}, {"api": {"memory_mib": True}}, {"api": {"min_tasks": -1}}, {"api": {"max_tasks": None}},
        {"api": {"min_tasks": 3, "max_tasks": 2}}, {"api": {"on_demand_base": 5, "max_tasks": 2}},
        {"api": {"on_demand_base": -1}}, {"api": {"cpus": 256}},
    ]),
    "images": lambda d: not_a_string | st.sampled_from([{"api": ""}, {"api": None}, {"api": 1}, {"api": ["v1"]}]),
    "surplus": lambda d: st.just("unknown field"),
}


@ENVIRONMENT_SETTINGS
@given(valid_app(), st.sampled_from(sorted(BROKEN_FIELDS)), st.data())
def test_broken_environment_raises_config_error_naming_it(context: dict[str, Any], field: str, data: st.DataObject) -> None:
    environments = context["stable_fargate"]["environments"]
    name = data.draw(st.sampled_from(sorted(environments)))
    env = environments[name]
    env[field] = data.draw(BROKEN_FIELDS[field](env))
    try:
        load_app_config(context)
    except ConfigError as error:
        assert error.subject == f"environment {name}"
    else:
        raise AssertionError(f"environments.{name}.{field} = {env[field]!r} was not refused")


def test_production_refuses_a_pre_release_image() -> None:
    data = {
        "account": "333333333333", "region": "eu-west-2", "vpc_cidr": "10.30.0.0/16", "production": True,
        "availability_zones": ["eu-west-2a", "eu-west-2b", "eu-west-2c"], "images": {"api": "v1.9.0-rc.1"},
    }
    try:
        load_environment("prod", data)
    except ConfigError as error:
        assert error.field == "images.api"
    else:
        raise AssertionError("a pre-release image in production was not refused")


json_garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
ENVIRONMENT_FIELDS = ["account", "region", "availability_zones", "vpc_cidr", "nat_gateways", "production", "retain_data",
                      "certificate_arn", "services", "images"]


@ENVIRONMENT_SETTINGS
@given(valid_app(), st.data())
def test_any_json_anywhere_in_an_environment_is_config_error_or_loads(context: dict[str, Any], data: st.DataObject) -> None:
    block = context["stable_fargate"]
    where = data.draw(st.sampled_from(["environment", "field", "sizing", "tooling", "block", "environments"]))
    garbage = data.draw(json_garbage)
    name = data.draw(st.sampled_from(sorted(block["environments"])))
    if where == "environment":
        block["environments"][name] = garbage
    elif where == "field":
        block["environments"][name][data.draw(st.sampled_from(ENVIRONMENT_FIELDS))] = garbage
    elif where == "sizing":
        field = data.draw(st.sampled_from(["cpu", "memory_mib", "min_tasks", "max_tasks", "on_demand_base"]))
        block["environments"][name].setdefault("services", {}).setdefault("api", {})[field] = garbage
    elif where == "tooling":
        block["tooling"][data.draw(st.sampled_from(["account", "region"]))] = garbage
    elif where == "environments":
        block["environments"] = garbage
    else:
        context["stable_fargate"] = garbage
    before = copy.deepcopy(context)
    try:
        config = load_app_config(context)
    except ConfigError:
        return
    assert context == before  # loading never changes its input
    for env in config.environments:
        assert isinstance(env.account, str) and isinstance(env.region, str) and len(env.availability_zones) >= defaults.MIN_AZS
        assert all(isinstance(v, int) for s in env.services.values() for v in (s.cpu, s.memory_mib, s.min_tasks, s.max_tasks))
