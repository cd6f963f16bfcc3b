"""Every public constructor, given any JSON value or Python object in any one field, either
accepts it or raises ConfigError: never another exception (an AttributeError three calls deep
names neither the service nor the field). Valid generated inputs always synthesize."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_cdk import App, Duration, Environment, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stable_fargate import (
    AccountRegion,
    AlarmTopic,
    ConfigError,
    EnvironmentSpec,
    HardenedCluster,
    HardenedPostgres,
    HardenedRepository,
    ImageRef,
    PlatformKey,
    PostgresAccess,
    PrivateNetwork,
    QueueWorker,
    ScheduledJob,
    SmokeCheck,
    StableWebService,
    load_app_config,
)
from tests.conftest import cdk_context

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
"""Any JSON value (plus NaN and infinities, which json.loads also produces)."""


class _Opaque:
    """An object of a type no constructor expects."""


def python_objects(stack_factory: Callable[[], Stack]) -> st.SearchStrategy[Any]:
    return st.one_of(
        # Duration refuses a negative amount itself (a DurationAmountsCannotNegative error while
        # *generating*): only amounts a caller could hold reach the constructors.
        st.builds(Duration.seconds, st.integers(min_value=0, max_value=10**7)),
        st.builds(Duration.millis, st.integers(min_value=0, max_value=5000)),
        st.just(_Opaque()),
        st.binary(max_size=8),
        st.just(lambda: None),
        st.sampled_from(["${Token[TOKEN.1]}", "/healthz\n", "pörtfolio", "a\x00b", "x" * 300, "latest", "main"]),
        # Built per example: a token's number depends on how many tokens the process made before,
        # and in a strategy's repr it would make the derandomized examples depend on test order.
        st.builds(lambda: Token.as_number(stack_factory().account)),
        st.text(alphabet="".join(chr(c) for c in range(0x0660, 0x066A)) + "0123456789", min_size=1, max_size=4),  # Arabic-Indic digits too
    )


class World:
    """One App with a platform in prod's account, where every generated example builds its
    construct under a fresh id (construction only: no synth per example)."""

    def __init__(self) -> None:
        self.counter = itertools.count()
        self.last = -1
        self.app = App(context=cdk_context())
        self.config = load_app_config(cdk_context())
        self.prod: EnvironmentSpec = self.config.environment("prod")
        self.stack = Stack(self.app, "World", env=Environment(account=self.prod.account, region=self.prod.region))
        vpc = ec2.Vpc(
            self.stack, "Vpc", availability_zones=list(self.prod.availability_zones), nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Edge", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ],
        )
        self.vpc = vpc
        self.cluster = ecs.Cluster(self.stack, "Cluster", vpc=vpc)
        self.key = kms.Key(self.stack, "Key", enable_key_rotation=True)
        self.topic = sns.Topic(self.stack, "Topic")

    def next_id(self) -> str:
        self.last = next(self.counter)
        return f"C{self.last}"


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _baseline(world: World) -> dict[str, Callable[[], tuple[Callable[..., Any], dict[str, Any]]]]:
    """constructor name -> () -> (callable taking (scope, id, **kwargs), valid kwargs)."""
    shared = {"environment": world.prod, "cluster": world.cluster, "key": world.key, "alarm_topic": world.topic}
    return {
        "StableWebService": lambda: (StableWebService, {
            **shared, "service_name": "portfolio-api", "container_port": 3000, "health_check_path": "/healthz",
            "warm_up": Duration.seconds(45), "longest_request": Duration.seconds(30),
            "healthy_threshold": 2, "healthy_http_codes": "200-399", "requests_per_target": 1000,
            "web_acl_rule_groups": ["AWSManagedRulesCommonRuleSet"], "command": ["node", "server.js"],
            "smoke_check": SmokeCheck("/smoke", 200, ("X-Smoke-Test", "1")), "release_alarms": ["5xx", "latency"],
            "release_latency_threshold": Duration.seconds(2),
        }),
        "QueueWorker": lambda: (QueueWorker, {
            **shared, "service_name": "portfolio-import", "average_processing_time": Duration.seconds(2),
            "longest_processing_time": Duration.seconds(20), "acceptable_latency": Duration.seconds(60),
            "uses_task_protection": False, "visibility_timeout": Duration.seconds(60),
        }),
        "ScheduledJob": lambda: (ScheduledJob, {
            **shared, "service_name": "reconciliation", "schedule": "0 2 * * ? *", "time_zone": "Europe/London",
            "max_runtime": Duration.hours(1), "retry_attempts": 3, "max_event_age": Duration.hours(1),
        }),
        "HardenedRepository": lambda: (HardenedRepository, {
            "repository_name": "portfolio-api", "pull_accounts": ["111111111111"], "encryption_key": world.key,
            "protected_tags": ["v1.8.0"], "release_retention_days": 365, "untagged_expiry_days": 7, "retain": True,
        }),
        "PrivateNetwork": lambda: (PrivateNetwork, {
            "cidr": "10.30.0.0/16", "availability_zones": list(world.prod.availability_zones), "flow_log_key": world.key,
            "nat_gateways": 0, "retain_logs": True,
        }),
        "HardenedCluster": lambda: (HardenedCluster, {"vpc": world.vpc, "cluster_name": "prod-cluster"}),
        "PlatformKey": lambda: (PlatformKey, {"description": "logs", "retain": True}),
        "AlarmTopic": lambda: (AlarmTopic, {"key": world.key, "display_name": "alarms"}),
        "HardenedPostgres": lambda: (HardenedPostgres, {
            "database_name": "portfolio", "environment": world.prod, "vpc": world.vpc, "key": world.key, "alarm_topic": world.topic,
            "max_connections_percent": 80, "reserved_connections": 5,
        }),
        # A fresh job and database for each example: a service connects once, and budgets add up.
        "PostgresAccess": lambda: (PostgresAccess, {
            "service": ScheduledJob(world.stack, world.next_id(), **_baseline_job(world)),
            "database": HardenedPostgres(world.stack, world.next_id(), database_name="portfolio", environment=world.prod,
                                         vpc=world.vpc, key=world.key, alarm_topic=world.topic),
            "pool_size": 4, "via_proxy": True, "ssl_mode": "verify-full", "ssl_mode_acknowledgement": None,
            "ca_bundle_path": "/etc/ssl/certs/rds-global-bundle.pem", "password": None,
        }),
    }


def _baseline_job(world: World) -> dict[str, Any]:
    return {"service_name": "reconciliation", "environment": world.prod, "cluster": world.cluster, "key": world.key,
            "alarm_topic": world.topic, "schedule": "0 2 * * ? *", "time_zone": "Europe/London", "max_runtime": Duration.hours(1)}


def _calls(world: World) -> Iterator[tuple[str, str]]:
    for name, make in _baseline(world).items():
        _, kwargs = make()
        for field in kwargs:
            yield name, field


def _run(world: World, name: str, field: str, value: Any, outcomes: Counter[str]) -> None:
    constructor, kwargs = _baseline(world)[name]()
    kwargs[field] = value
    try:
        constructor(world.stack, world.next_id(), **kwargs)
    except ConfigError as error:
        assert error.field and error.subject  # it names what it refuses
        outcomes["refused"] += 1
        event(f"{name}: refused")
        return
    outcomes["accepted"] += 1
    event(f"{name}: accepted")
    # An accepted value built the construct under its id, with the field as given where it is kept.
    built = world.stack.node.find_child(f"C{world.last}")
    assert built is not None
    kept = {"service_name": "service_name", "repository_name": "name"}
    if field in kept and isinstance(value, str):
        assert getattr(built, kept[field]) == value


def valid_values(world: World, constructor: str, field: str) -> st.SearchStrategy[Any]:
    """Values the field accepts: the baseline's, and for some fields others like it, so that
    the property's acceptance branch runs as well as its refusals."""
    _, kwargs = _baseline(world)[constructor]()
    others: dict[str, st.SearchStrategy[Any]] = {
        "container_port": st.integers(1, 65535),
        "warm_up": st.integers(0, 1200).map(Duration.seconds),
        "longest_request": st.integers(1, 110).map(Duration.seconds),
        "healthy_threshold": st.integers(2, 10),
        "requests_per_target": st.integers(1, 1_000_000),
        "retry_attempts": st.integers(0, 185),
        "release_retention_days": st.integers(1, 10_000),
        "untagged_expiry_days": st.integers(1, 10_000),
        "nat_gateways": st.integers(0, len(world.prod.availability_zones)),
        "retain": st.booleans(),
        "retain_logs": st.booleans(),
        "uses_task_protection": st.booleans(),
        "description": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40),
        "display_name": st.text(min_size=1, max_size=100),
        "cluster_name": st.from_regex(r"[A-Za-z0-9_-]{1,40}", fullmatch=True),
    }
    return st.just(kwargs[field]) | others.get(field, st.nothing())


@pytest.mark.parametrize("constructor", ["StableWebService", "QueueWorker", "ScheduledJob", "HardenedRepository",
                                         "PrivateNetwork", "HardenedCluster", "PlatformKey", "AlarmTopic", "HardenedPostgres",
                                         "PostgresAccess"])
def test_any_value_in_any_field_is_accepted_or_a_config_error(world: World, constructor: str) -> None:
    fields = [f for n, f in _calls(world) if n == constructor]
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(field=st.sampled_from(fields), data=st.data())
    def run(field: str, data: st.DataObject) -> None:
        # Valid values for the field are mixed in: both branches of the property run.
        value = data.draw(st.one_of(valid_values(world, constructor, field), json_values, python_objects(lambda: world.stack)))
        _run(world, constructor, field, value, outcomes)

    run()
    assert outcomes["refused"] >= 5 and outcomes["accepted"] >= 5, dict(outcomes)


def test_every_baseline_is_accepted_and_keeps_its_inputs(world: World) -> None:
    for name, make in _baseline(world).items():
        constructor, kwargs = make()
        construct_id = world.next_id()
        built = constructor(world.stack, construct_id, **kwargs)
        assert world.stack.node.find_child(construct_id) is built, name
        if "service_name" in kwargs:
            assert built.service_name == kwargs["service_name"]



@pytest.mark.parametrize(
    ("field", "value"),
    [("schedule", ["0 2 * * ? *"]), ("time_zone", 5), ("max_runtime", 3600), ("retry_attempts", True), ("retry_attempts", 3.0)],
)
def test_wrong_types_name_the_field(world: World, field: str, value: Any) -> None:
    constructor, kwargs = _baseline(world)["ScheduledJob"]()
    kwargs[field] = value
    with pytest.raises(ConfigError) as error:
        constructor(world.stack, world.next_id(), **kwargs)
    assert (error.value.subject, error.value.field) == ("reconciliation", field)


def test_a_string_where_a_list_is_expected_is_refused_not_split(world: World) -> None:
    constructor, kwargs = _baseline(world)["StableWebService"]()
    kwargs["command"] = "node server.js"
    with pytest.raises(ConfigError, match=r"command='node server.js' is refused\. Give a list of strings"):
        constructor(world.stack, world.next_id(), **kwargs)


def test_image_refs_refuse_what_is_not_an_image(world: World) -> None:
    registry = AccountRegion("100000000000", "eu-west-2")
    for bad in (None, 5, "latest", "v1.2.3\n", "sha256:xyz", ""):
        with pytest.raises(ConfigError):
            ImageRef.release("portfolio-api", bad, registry=registry)  # type: ignore[arg-type]
    for bad_ref in ("ghcr.io/acme/tool", "ghcr.io/acme/tool:latest", "ghcr.io/a b:v1", "x\x00:v1", 7):
        with pytest.raises(ConfigError):
            ImageRef.external(bad_ref)  # type: ignore[arg-type]


# --- valid generated inputs synthesize ----------------------------------------------------

warm_ups = st.integers(min_value=0, max_value=1200)
longest = st.integers(min_value=1, max_value=110)
intervals = st.integers(min_value=6, max_value=300)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(warm_up=warm_ups, longest_request=longest, interval=intervals, threshold=st.integers(2, 10), port=st.integers(1, 65535))
def test_valid_web_services_synthesize(warm_up: int, longest_request: int, interval: int, threshold: int, port: int) -> None:
    app = App(context=cdk_context())
    prod = load_app_config(cdk_context()).environment("prod")
    stack = Stack(app, "Web", env=Environment(account=prod.account, region=prod.region))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=list(prod.availability_zones), nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Edge", subnet_type=ec2.SubnetType.PUBLIC),
        ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ])
    service = StableWebService(
        stack, "Api", service_name="portfolio-api", environment=prod, cluster=ecs.Cluster(stack, "Cluster", vpc=vpc),
        key=kms.Key(stack, "Key", enable_key_rotation=True), alarm_topic=sns.Topic(stack, "Topic"),
        container_port=port, health_check_path="/healthz", warm_up=Duration.seconds(warm_up),
        longest_request=Duration.seconds(longest_request), health_check_interval=Duration.seconds(interval),
        health_check_timeout=Duration.seconds(min(5, interval - 1)), healthy_threshold=threshold,
    )
    template = Template.from_stack(stack)
    (ecs_service,) = template.find_resources("AWS::ECS::Service").values()
    grace = ecs_service["Properties"]["HealthCheckGracePeriodSeconds"]
    # The grace period always covers warm-up and the target group's worst case.
    assert grace >= warm_up + (threshold + 1) * interval + min(5, interval - 1)
    assert service.rollout_batch_seconds == math.ceil(60 + warm_up + (threshold + 1) * interval + min(5, interval - 1) + longest_request)
