"""Environments load from cdk.json into frozen specs; bad data names environment and field."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest

from stable_fargate import ConfigError, defaults, load_app_config
from stable_fargate.environments import load_environment
from tests.conftest import cdk_context


def sample() -> dict[str, Any]:
    return copy.deepcopy(cdk_context()["stable_fargate"])


def env_data(name: str = "prod") -> dict[str, Any]:
    data: dict[str, Any] = sample()["environments"][name]
    return data


def test_sample_data_loads_three_environments_in_order() -> None:
    config = load_app_config({"stable_fargate": sample()})
    assert [e.name for e in config.environments] == ["dev", "staging", "prod"]
    assert [e.stage_name for e in config.environments] == ["Dev", "Staging", "Prod"]
    assert config.accounts == ("111111111111", "222222222222", "333333333333")
    prod = config.environment("prod")
    assert prod.production and prod.retain_data
    assert len(prod.availability_zones) >= defaults.MIN_AZS_PRODUCTION


def test_specs_are_frozen() -> None:
    prod = load_environment("prod", env_data())
    with pytest.raises(dataclasses.FrozenInstanceError):
        prod.region = "us-east-1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        prod.services["portfolio-api"] = prod.services["portfolio-api"]  # type: ignore[index]


def test_retain_data_default_follows_named_environments() -> None:
    assert {"staging", "prod"} == defaults.RETAIN_DATA_ENVIRONMENTS
    assert not load_environment("dev", env_data("dev")).retain_data
    assert load_environment("staging", env_data("staging")).retain_data


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("account", "12345", "12-digit"),
        ("account", 111111111111, "12-digit"),
        ("region", "eu-west-9", "known AWS region"),
        ("region", ["eu-west-2"], "known AWS region"),
        ("availability_zones", ["eu-west-2a"], "at least 3 AZs"),
        ("availability_zones", ["eu-west-2a", "eu-west-2a", "eu-west-2b"], "each AZ once"),
        ("availability_zones", ["us-east-1a", "us-east-1b", "us-east-1c"], "region eu-west-2"),
        ("availability_zones", "eu-west-2a", "list of AZ names"),
        ("vpc_cidr", "10.0.0.0/8", "/16 to /20"),
        ("vpc_cidr", "not-a-cidr", "IPv4 network"),
        ("vpc_cidr", True, "IPv4 network"),
        ("nat_gateways", 4, "0 to 3"),
        ("production", "yes", "true or false"),
        ("certificate_arn", "arn:aws:acm:us-east-1:333333333333:certificate/abc", "account 333333333333 and region eu-west-2"),
        ("colour", "blue", "Remove it"),
    ],
)
def test_bad_environment_data_is_a_config_error(field: str, value: Any, expect: str) -> None:
    data = env_data("prod")
    data[field] = value
    with pytest.raises(ConfigError) as err:
        load_environment("prod", data)
    message = str(err.value)
    assert message.startswith("environment prod:")
    assert field in message
    assert expect in message


def test_non_production_needs_two_azs_not_three() -> None:
    data = env_data("dev")
    data["availability_zones"] = ["eu-west-2a", "eu-west-2b"]
    assert load_environment("dev", data).availability_zones == ("eu-west-2a", "eu-west-2b")
    data["availability_zones"] = ["eu-west-2a"]
    with pytest.raises(ConfigError, match="at least 2 AZs"):
        load_environment("dev", data)


def test_bad_sizing_and_images() -> None:
    data = env_data("prod")
    data["services"]["portfolio-api"]["cpu"] = "lots"
    with pytest.raises(ConfigError, match=r"services\.portfolio-api\.cpu"):
        load_environment("prod", data)
    data = env_data("prod")
    data["images"]["portfolio-api"] = ""
    with pytest.raises(ConfigError, match=r"images\.portfolio-api"):
        load_environment("prod", data)


def test_missing_sizing_or_image_names_environment_and_service() -> None:
    prod = load_environment("prod", env_data())
    with pytest.raises(ConfigError, match=r"environment prod: services\.ledger-api"):
        prod.sizing("ledger-api")
    with pytest.raises(ConfigError, match=r"environment prod: images\.ledger-api"):
        prod.image_tag("ledger-api")


def test_app_level_errors() -> None:
    with pytest.raises(ConfigError, match=r"context\.stable_fargate"):
        load_app_config({})
    data = sample()
    data["tooling"]["account"] = "x"
    with pytest.raises(ConfigError, match="tooling: account"):
        load_app_config({"stable_fargate": data})
    data = sample()
    data["environments"] = {}
    with pytest.raises(ConfigError, match="at least one environment"):
        load_app_config({"stable_fargate": data})
    config = load_app_config({"stable_fargate": sample()})
    with pytest.raises(ConfigError, match="dev, staging, prod"):
        config.environment("qa")


def test_bad_environment_name() -> None:
    with pytest.raises(ConfigError, match="lower-case name"):
        load_environment("Prod!", env_data())


def test_production_refuses_a_pre_release_image() -> None:
    data = env_data("prod")
    data["images"]["portfolio-api"] = "v1.9.0-rc.1"
    with pytest.raises(ConfigError, match=r"environment prod: images\.portfolio-api='v1\.9\.0-rc\.1'.*promote the release"):
        load_environment("prod", data)
    dev = env_data("dev")
    dev["images"]["portfolio-api"] = "v1.9.0-rc.1"
    assert load_environment("dev", dev).images["portfolio-api"] == "v1.9.0-rc.1"


@pytest.mark.parametrize(
    ("sizing", "field", "expect"),
    [
        ({"cpu": None}, "cpu", "whole number"),
        ({"cpu": 0}, "cpu", "at least 1"),
        ({"min_tasks": -1}, "min_tasks", "at least 0"),
        ({"min_tasks": 5, "max_tasks": 2}, "max_tasks", "at least min_tasks (5)"),
        ({"on_demand_base": 9, "max_tasks": 4}, "on_demand_base", "at most max_tasks (4)"),
    ],
)
def test_bad_sizing_is_refused_at_load(sizing: dict[str, Any], field: str, expect: str) -> None:
    data = env_data("prod")
    data["services"]["portfolio-import"].update(sizing)
    with pytest.raises(ConfigError, match=rf"environment prod: services\.portfolio-import\.{field}=.*{re.escape(expect)}"):
        load_environment("prod", data)


def test_null_on_demand_base_means_the_service_default() -> None:
    data = env_data("prod")
    data["services"]["portfolio-import"]["on_demand_base"] = None
    assert load_environment("prod", data).services["portfolio-import"].on_demand_base is None


def test_missing_context_says_where_context_comes_from() -> None:
    with pytest.raises(ConfigError, match=r"App\(context=\.\.\.\)"):
        load_app_config({"stable_fargate": None})
