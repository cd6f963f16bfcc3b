"""Property-based: generated cdk.json data, valid, broken and replaced by any JSON.

Valid data loads as given, resolves every key in every environment and synthesizes; broken
data raises ConfigError naming what it concerns; any JSON anywhere is either accepted or a
ConfigError, never another exception. The "any JSON" properties mix valid values into their
inputs, and each counts its outcomes and asserts that both branches ran often enough, so
their post-load assertions are exercised, not only their refusals.
"""

from __future__ import annotations

import copy
import ipaddress
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stable_fargate import ServiceSizing, defaults
from stable_fargate.config.rules import is_secret_looking, smallest_vpc_prefix
from stable_fargate.environments import KNOWN_REGIONS, AccountRegion, load_app_config, load_environment
from stable_fargate.errors import ConfigError
from stable_fargate.images import ImageRef
from stable_fargate.parameters import DURATION_UNITS, ParameterSets, ResolvedParameters, load_parameter_sets
from stable_fargate.services._base import FARGATE_MEMORY_MIB
from tests.conftest import TaskProbe, cdk_context

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = date(2026, 11, 26)

env_names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,7}[a-z0-9]", fullmatch=True), min_size=1, max_size=4, unique=True)
key_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True)
plain_names = key_names.filter(lambda k: not is_secret_looking(k) and not k.startswith(("AWS_", "ECS_")))
safe_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){1,2}", fullmatch=True)
service_names = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True)
UNITS = list(DURATION_UNITS)
Draw = Callable[[st.SearchStrategy[Any]], Any]

json_garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**30) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["\x00", "\ud800", "v1.2.3\n", "${Token[AWS.Region.4]}", "١٢"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def assert_both_branches(outcomes: Counter[str], *, at_least: int) -> None:
    """Both the acceptance and the refusal branch ran ``at_least`` times."""
    assert outcomes["loaded"] >= at_least and outcomes["refused"] >= at_least, dict(outcomes)


# --- parameter sets ---------------------------------------------------------------------------


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
        ports = st.none() | st.integers(1, 65535)
        return {"type": "url"}, st.builds(
            lambda s, h, p, path: f"{s}://{h}{f':{p}' if p else ''}{path}",
            st.sampled_from(["https", "http"]), hosts, ports, st.sampled_from(["", "/", "/v1/items?x=1"]),
        )
    unit_index = draw(st.integers(0, len(UNITS) - 1))
    # A value in the key's unit or a larger one is always a whole number of the key's unit.
    values = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10_000), st.sampled_from(UNITS[unit_index:]))
    return {"type": "duration", "unit": UNITS[unit_index]}, values


def expected_rendering(decl: dict[str, Any], value: Any) -> str:
    """The oracle: what the container sees for ``value`` of a plain key."""
    if decl["type"] == "boolean":
        return "true" if value else "false"
    if decl["type"] == "integer":
        return str(value)
    if decl["type"] == "duration":
        amount, unit = (value[:-2], "ms") if value.endswith("ms") else (value[:-1], value[-1])
        return str(int(amount) * DURATION_UNITS[unit] // DURATION_UNITS[decl.get("unit", "s")])
    return str(value)  # string, url: unchanged


@st.composite
def valid_data(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    environments = draw(env_names)
    services = draw(st.lists(service_names, min_size=1, max_size=2, unique=True))
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
            for name, decl in pset["keys"].items():
                given_value = pset.get("overrides", {}).get(env, {}).get(name, decl.get("value") if decl.get("kind") != "secret" else None)
                if decl.get("kind") == "secret":
                    own = pset.get("overrides", {}).get(env, {}).get(name)
                    assert resolved.secrets[name].name == (own["name"] if own else decl["name"])
                else:
                    assert resolved.plain[name] == expected_rendering(decl, given_value)


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
        assert error.field.startswith(f"parameters.{service}")
        assert "hunter2" not in str(error)
    else:
        raise AssertionError(f"{breaker.__name__} was not refused")


KEY_FIELDS = ["type", "kind", "source", "name", "required", "allowed", "min", "max", "unit", "json_field", "value"]


def field_values(decl: dict[str, Any], field: str) -> st.SearchStrategy[Any]:
    """Values of ``field`` that are valid for some declaration: mixed into the garbage so that
    a mutated declaration still loads often enough for the post-load assertions to run."""
    valid: dict[str, st.SearchStrategy[Any]] = {
        "type": st.just(decl.get("type", "string")),
        "kind": st.just(decl.get("kind", "plain")),
        "required": st.booleans(),
        "allowed": st.just(decl["allowed"]) if "allowed" in decl else st.none(),
        "min": st.just(decl["min"]) if "min" in decl else st.none(),
        "max": st.just(decl["max"]) if "max" in decl else st.none(),
        "unit": st.sampled_from(UNITS) if decl.get("type") == "duration" else st.none(),
        "value": st.just(decl["value"]) if "value" in decl else st.just(None),
    }
    return valid.get(field, st.nothing())


def test_garbage_anywhere_in_a_key_is_config_error_or_loads_never_another_exception() -> None:
    outcomes: Counter[str] = Counter()

    @SETTINGS
    @given(valid_data(), st.data())
    def run(data: tuple[list[str], dict[str, Any]], draw: st.DataObject) -> None:
        environments, raw = data
        service = draw.draw(st.sampled_from(sorted(raw)))
        name = draw.draw(st.sampled_from(sorted(raw[service]["keys"])))
        decl = raw[service]["keys"][name]
        field = draw.draw(st.sampled_from(KEY_FIELDS))
        value = draw.draw(field_values(decl, field) | json_garbage)
        if value is None and field != "value" and draw.draw(st.booleans()):
            decl.pop(field, None)  # a field left out is also a value
        else:
            decl[field] = value
        try:
            sets = load_parameter_sets(raw, environments)
        except ConfigError as error:
            outcomes["refused"] += 1
            event("refused")
            assert error.subject == service
            return
        outcomes["loaded"] += 1
        event("loaded")
        _assert_resolves_everywhere(sets, environments)

    run()
    assert_both_branches(outcomes, at_least=10)


def _assert_resolves_everywhere(sets: ParameterSets, environments: list[str]) -> None:
    for service in sets.services:
        keys = {env: set(sets.resolve(service, env).plain) | set(sets.resolve(service, env).secrets) for env in environments}
        assert all(k == keys[environments[0]] for k in keys.values())
        assert all(isinstance(v, str) and "\x00" not in v for env in environments for v in sets.resolve(service, env).plain.values())


def test_arbitrary_json_as_the_parameters_is_config_error_or_loads() -> None:
    outcomes: Counter[str] = Counter()

    # Valid sets come with the environments they were made for (with others, their overrides
    # would name undeclared environments and every one would be refused).
    garbage = st.tuples(env_names, json_garbage | st.dictionaries(service_names, json_garbage, max_size=2))

    @SETTINGS
    @given(valid_data() | garbage)
    def run(data: tuple[list[str], Any]) -> None:
        environments, raw = data
        try:
            sets = load_parameter_sets(raw, environments)
        except ConfigError:
            outcomes["refused"] += 1
            event("refused")
            return
        outcomes["loaded"] += 1
        if any(sets.get(service).keys for service in sets.services):
            outcomes["loaded with keys"] += 1
            event("loaded with keys")
        _assert_resolves_everywhere(sets, environments)

    run()
    assert_both_branches(outcomes, at_least=5)
    # Not only empty sets load: declared keys resolve in every environment.
    assert outcomes["loaded with keys"] >= 5, dict(outcomes)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_data())
def test_valid_data_synthesizes(data: tuple[list[str], dict[str, Any]]) -> None:
    environments, raw = data
    sets = load_parameter_sets(raw, environments)
    service = sorted(raw)[0]
    resolved = sets.resolve(service, environments[-1])
    stack = Stack(App(), "Test")
    # The generated set, as the sample's prod environment would carry it.
    in_prod = ResolvedParameters(resolved.service, "prod", plain=resolved.plain, secrets=resolved.secrets)
    TaskProbe(
        stack, "Task", service=resolved.service, environment=load_app_config(cdk_context()).environment("prod"),
        parameters=in_prod,
        image=ImageRef.release("app", "v1.0.0", registry=AccountRegion("100000000000", "eu-west-2")),
        sizing=ServiceSizing(cpu=256, memory_mib=512),
    )
    task = next(iter(Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()))
    container = task["Properties"]["ContainerDefinitions"][0]
    assert {e["Name"]: e["Value"] for e in container.get("Environment", [])} == dict(resolved.plain)
    assert {s["Name"] for s in container.get("Secrets", [])} == set(resolved.secrets)


# --- environments: valid, broken, garbage -------------------------------------------------------

ENVIRONMENT_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGIONS = sorted(KNOWN_REGIONS)
accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
PRIVATE_RANGES = [ipaddress.IPv4Network("10.0.0.0/8"), ipaddress.IPv4Network("172.16.0.0/12"), ipaddress.IPv4Network("192.168.0.0/16")]
releases = st.builds("v{}.{}.{}".format, st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
pre_releases = st.builds("{}-{}".format, releases, st.sampled_from(["rc.1", "beta.2", "alpha", "0.3.7"]))
digests = st.builds(lambda n: f"sha256:{n:064x}", st.integers(0, 2**256 - 1))


@st.composite
def private_cidr(draw: st.DrawFn, az_count: int) -> str:
    prefix = draw(st.integers(16, smallest_vpc_prefix(az_count)))
    private = draw(st.sampled_from(PRIVATE_RANGES))
    offset = draw(st.integers(0, private.num_addresses - 1))
    return str(ipaddress.IPv4Network((int(private.network_address) + offset, prefix), strict=False))


@st.composite
def sizing(draw: st.DrawFn) -> dict[str, Any]:
    """A valid sizing; any field may be left to its default (the task counts go together,
    since the default max_tasks is 2)."""
    entry: dict[str, Any] = {}
    if draw(st.booleans()):
        entry["cpu"] = draw(st.sampled_from(sorted(FARGATE_MEMORY_MIB)))
        entry["memory_mib"] = draw(st.sampled_from(FARGATE_MEMORY_MIB[entry["cpu"]]))
    high = 2
    if draw(st.booleans()):
        low, high = sorted((draw(st.integers(0, 50)), draw(st.integers(1, 50))))
        entry |= {"min_tasks": low, "max_tasks": high}
    if draw(st.booleans()):
        entry["on_demand_base"] = draw(st.none() | st.integers(0, high))
    return entry


@st.composite
def image(draw: st.DrawFn, production: bool) -> str:
    tag = draw(releases if production else releases | pre_releases)
    return f"{tag}@{draw(digests)}" if draw(st.booleans()) else tag


@st.composite
def valid_environment(draw: st.DrawFn, account: str) -> dict[str, Any]:
    region = draw(st.sampled_from(REGIONS))
    production = draw(st.booleans())
    needed = defaults.MIN_AZS_PRODUCTION if production else defaults.MIN_AZS
    letters = draw(st.lists(st.sampled_from("abcdef"), min_size=needed, max_size=6, unique=True))
    azs = [f"{region}{letter}" for letter in letters]
    certificate = f"arn:aws:acm:{region}:{account}:certificate/{draw(st.uuids())}"
    data: dict[str, Any] = {
        "account": account, "region": region, "availability_zones": azs, "vpc_cidr": draw(private_cidr(len(azs))),
        "nat_gateways": draw(st.integers(0, len(azs))), "production": production, "certificate_arn": certificate,
    }
    services = draw(st.lists(service_names, max_size=3, unique=True))
    if services or draw(st.booleans()):
        data["services"] = {svc: draw(sizing()) for svc in services}
        data["images"] = {svc: draw(image(production)) for svc in services}
    if draw(st.booleans()):
        data["retain_data"] = draw(st.booleans())
    if draw(st.booleans()):
        data["monthly_budget_usd"] = draw(st.integers(1, 10_000_000) | st.floats(0.01, 10_000_000))
    return data


@st.composite
def valid_app(draw: st.DrawFn, *, always_promote: bool = False) -> dict[str, Any]:
    """A valid block; ``always_promote``: every app of several environments promotes, with
    something to promote, and each way out (tested release, rollback, hotfix) equally likely."""
    names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), min_size=1, max_size=3, unique=True))
    # One account per environment: two environments of one account and region must list the same AZs.
    owners = draw(st.lists(accounts, min_size=len(names), max_size=len(names), unique=True))
    environments = {name: draw(valid_environment(account)) for name, account in zip(names, owners, strict=True)}
    if len(names) >= 2 and (always_promote or draw(st.booleans())):
        _promote(draw, environments[names[-1]], names[-2], environments[names[-2]], even=always_promote)
    return {"stable_fargate": {
        "tooling": {"account": draw(accounts), "region": draw(st.sampled_from(REGIONS))},
        "environments": environments,
    }}


def _promote(draw: st.DrawFn, env: dict[str, Any], source_name: str, source: dict[str, Any], *, even: bool = False) -> None:
    """Make ``env`` promote from ``source``: run its releases (or older ones), or declare a hotfix;
    ``even``: give the source a release to promote if it has none, each way out equally likely."""
    env["promotes_from"] = source_name
    if even and not source.get("images"):
        source["services"], source["images"] = {"api": draw(sizing())}, {"api": draw(image(source["production"]))}
    env["services"] = {svc: draw(sizing()) for svc in source.get("images", {})}
    env["images"], env["hotfixes"] = {}, {}
    for svc, source_image in source.get("images", {}).items():
        tag = source_image.partition("@")[0]
        way = draw(st.sampled_from(["tested", "rollback", "hotfix"])) if even else None
        if "-" not in tag and (way == "tested" if even else draw(st.booleans())):
            env["images"][svc] = source_image if draw(st.booleans()) else tag  # the tested release (or its tag)
        elif "-" not in tag and tag != "v0.0.0" and (way == "rollback" if even else draw(st.booleans())):
            env["images"][svc] = "v0.0.0"  # an older release: a rollback
        else:
            newer = f"v99.{draw(st.integers(0, 9))}.0"
            env["images"][svc] = newer
            env["hotfixes"][svc] = {
                "tag": newer, "reason": "CVE patch", "expires": (TODAY + timedelta(days=draw(st.integers(0, 90)))).isoformat(),
            }


def test_valid_environments_load_as_given() -> None:
    outcomes: Counter[str] = Counter()

    @ENVIRONMENT_SETTINGS
    @given(valid_app(always_promote=True))
    def run(context: dict[str, Any]) -> None:
        config = load_app_config(context, today=TODAY)
        raw = context["stable_fargate"]["environments"]
        assert [env.name for env in config.environments] == list(raw)
        for env in config.environments:
            data = raw[env.name]
            assert (env.account, env.region, list(env.availability_zones)) == (data["account"], data["region"], data["availability_zones"])
            assert (env.vpc_cidr, env.nat_gateways, env.production) == (data["vpc_cidr"], data["nat_gateways"], data["production"])
            assert env.certificate_arn == data["certificate_arn"]
            assert env.monthly_budget_usd == data.get("monthly_budget_usd")
            for service, size in data.get("services", {}).items():
                assert env.sizing(service).min_tasks <= env.sizing(service).max_tasks
                assert all(getattr(env.sizing(service), field) == value for field, value in size.items())
            assert dict(env.images) == data.get("images", {})
            for service, given_image in data.get("images", {}).items():
                tag, _, digest = given_image.partition("@")
                assert (env.image_tag(service), env.image_digest(service)) == (tag, digest or None)
            if env.promotes_from:
                outcomes["promoted"] += 1
            if env.hotfixes:
                outcomes["hotfix"] += 1
        outcomes["loaded"] += 1

    run()
    assert outcomes["loaded"] == 80 and outcomes["promoted"] >= 10 and outcomes["hotfix"] >= 5, dict(outcomes)


not_a_string = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.lists(st.text(max_size=3), max_size=2)

BROKEN_FIELDS: dict[str, Callable[[dict[str, Any]], st.SearchStrategy[Any]]] = {
    "account": lambda d: not_a_string | st.sampled_from(["", "12345", "1234567890123", "12345678901a", " 123456789012", "1" * 12 + "\n"]),
    "region": lambda d: not_a_string | st.sampled_from(["", "eu-west-9", "EU-WEST-2", "eu-west-2 ", "global", "eu-west-2\n"]),
    "availability_zones": lambda d: not_a_string | st.sampled_from([
        [], [d["region"] + "a"], [d["region"] + "a", d["region"] + "a", d["region"] + "b"],
        [d["region"] + "a", "xx-east-1b", d["region"] + "c"], [d["region"] + "a", 1, d["region"] + "c"],
        [d["region"] + "a", None, d["region"] + "c"], [d["region"] + "1", d["region"] + "2", d["region"] + "3"],
    ]),
    "vpc_cidr": lambda d: not_a_string | st.sampled_from([
        "", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/16", "8.8.0.0/16", "10.0.0.0/33", "fd00::/48", "10.0.0.0", "10.0.0.0/ 16",
        "300.0.0.0/16", "127.0.0.0/16", "169.254.0.0/16", "100.64.0.0/16", "10.0.0.0/20",
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
        {"api": {"on_demand_base": -1}}, {"api": {"cpus": 256}}, {"API": {}}, {"api": {"max_tasks": 0, "min_tasks": 0}},
    ]),
    "images": lambda d: not_a_string | st.sampled_from([
        {"api": ""}, {"api": None}, {"api": 1}, {"api": ["v1"]}, {"api": "latest"}, {"api": "sha256:" + "a" * 64},
        {"api": "1.2.3"}, {"api": "v1.2.3@sha256:abc"},
    ]),
    "monthly_budget_usd": lambda d: st.sampled_from([0, -1, "100", True, float("nan"), float("inf"), 1e300, [100]]),
    "promotes_from": lambda d: st.sampled_from(["", "Prod", 1, "nowhere-declared"]),
    "hotfixes": lambda d: st.sampled_from([{"api": {"tag": "v1.0.0"}}, {"api": "v1.0.0"}, []]),
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
        load_app_config(context, today=TODAY)
    except ConfigError as error:
        assert error.subject == f"environment {name}"
        assert error.field.startswith(f"environments.{name}")
    else:
        raise AssertionError(f"environments.{name}.{field} = {env[field]!r} was not refused")


def test_production_refuses_a_pre_release_image() -> None:
    data = {
        "account": "333333333333", "region": "eu-west-2", "vpc_cidr": "10.30.0.0/16", "production": True,
        "availability_zones": ["eu-west-2a", "eu-west-2b", "eu-west-2c"], "images": {"api": "v1.9.0-rc.1"},
        "certificate_arn": "arn:aws:acm:eu-west-2:333333333333:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    }
    try:
        load_environment("prod", data)
    except ConfigError as error:
        assert error.field == "environments.prod.images.api"
    else:
        raise AssertionError("a pre-release image in production was not refused")


ENVIRONMENT_FIELDS = ["account", "region", "availability_zones", "vpc_cidr", "nat_gateways", "production", "retain_data",
                      "certificate_arn", "services", "images", "monthly_budget_usd", "promotes_from", "hotfixes"]
SIZING_FIELDS = ["cpu", "memory_mib", "min_tasks", "max_tasks", "on_demand_base"]


def test_any_json_anywhere_in_the_block_is_config_error_or_loads() -> None:
    outcomes: Counter[str] = Counter()

    @ENVIRONMENT_SETTINGS
    @given(valid_app(), st.data())
    def run(context: dict[str, Any], data: st.DataObject) -> None:
        block = context["stable_fargate"]
        where = data.draw(st.sampled_from(["environment", "field", "field", "sizing", "tooling", "block", "environments", "parameters"]))
        name = data.draw(st.sampled_from(sorted(block["environments"])))
        env = block["environments"][name]
        # Valid values for the same place are mixed in, so that the load also succeeds.
        if where == "field":
            field = data.draw(st.sampled_from(ENVIRONMENT_FIELDS))
            env[field] = data.draw(st.one_of(st.just(copy.deepcopy(env.get(field))), json_garbage))
            if env[field] is None and field in ("monthly_budget_usd", "promotes_from", "hotfixes", "services", "images"):
                del env[field]
        elif where == "sizing" and env.get("services"):
            service = data.draw(st.sampled_from(sorted(env["services"])))
            field = data.draw(st.sampled_from(SIZING_FIELDS))
            env["services"][service][field] = data.draw(st.one_of(st.integers(1, 4), json_garbage))
        elif where == "tooling":
            block["tooling"][data.draw(st.sampled_from(["account", "region"]))] = data.draw(
                st.sampled_from(["123456789012", "eu-west-1"]) | json_garbage
            )
        elif where == "environment":
            block["environments"][name] = data.draw(json_garbage)
        elif where == "environments":
            block["environments"] = data.draw(json_garbage)
        elif where == "parameters":
            block["parameters"] = data.draw(st.one_of(st.just({}), json_garbage))
        else:
            context["stable_fargate"] = data.draw(json_garbage)
        before = copy.deepcopy(context)
        try:
            config = load_app_config(context, today=TODAY)
        except ConfigError:
            outcomes["refused"] += 1
            event("refused")
            return
        outcomes["loaded"] += 1
        event("loaded")
        assert context == before  # loading never changes its input
        for loaded in config.environments:
            assert isinstance(loaded.account, str) and isinstance(loaded.region, str)
            assert len(loaded.availability_zones) >= defaults.MIN_AZS
            assert all(isinstance(v, int) for s in loaded.services.values() for v in (s.cpu, s.memory_mib, s.min_tasks, s.max_tasks))
            assert loaded.certificate_arn.startswith(f"arn:aws:acm:{loaded.region}:{loaded.account}:")

    run()
    assert_both_branches(outcomes, at_least=15)


# --- the sample app, varied: valid data synthesizes ----------------------------------------------


@st.composite
def sample_variation(draw: st.DrawFn) -> dict[str, Any]:
    """The sample cdk.json's context with valid variations: sizing, releases (prod promoted
    from staging), budgets and parameter values."""
    context = cdk_context()
    block = context["stable_fargate"]
    environments = block["environments"]
    for name, env in environments.items():
        for service, size in env["services"].items():
            cpu = draw(st.sampled_from([512, 1024, 2048]))
            size |= {"cpu": cpu, "memory_mib": draw(st.sampled_from(FARGATE_MEMORY_MIB[cpu][:3]))}
            if "min_tasks" in size and service == "portfolio-api":
                size["min_tasks"] = draw(st.integers(2, 3))  # the web service keeps two tasks
                size["max_tasks"] = draw(st.integers(size["min_tasks"], 6))
        if name != "prod":
            env["images"] = {service: draw(releases) for service in env["images"]}
        env["monthly_budget_usd"] = draw(st.integers(1, 100_000))
    environments["prod"]["images"] = dict(environments["staging"]["images"])  # promoted as tested
    shared = block["shared_parameters"]
    shared["overrides"]["staging"] = {"LOG_LEVEL": draw(st.sampled_from(["debug", "info", "warn", "error"]))}
    block["parameters"]["portfolio-import"]["overrides"]["prod"]["BATCH_SIZE"] = draw(st.integers(1, 1000))
    return context


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sample_variation())
def test_varied_sample_data_synthesizes_the_sample_app(tmp_path: Path, context: dict[str, Any]) -> None:
    from stable_fargate.app import StableApp
    from stable_fargate.drift_guard import DriftGuard
    from stacks.app import build_app  # the whole sample app: nag packs, then the drift guard

    outdir = tmp_path / f"out-{abs(hash(str(context['stable_fargate'])))}"
    app = StableApp(context=context, outdir=str(outdir))
    build_app(app)
    report = DriftGuard(config=app.config, parameters=app.config.parameters).check(app.synth_checked())
    assert not report.has_undeclared
    prod = app.config.environment("prod")
    assert prod.parameters_for("portfolio-import").plain["BATCH_SIZE"] == str(
        context["stable_fargate"]["parameters"]["portfolio-import"]["overrides"]["prod"]["BATCH_SIZE"]
    )
