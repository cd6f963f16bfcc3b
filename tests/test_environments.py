"""Environments load from cdk.json into frozen specs; bad data names environment, cdk.json path,
value and what to do. One explicit example per class of bad input (issue 9)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pydantic import ValidationError

from stable_fargate import ConfigError, defaults, load_app_config
from stable_fargate.config.rules import smallest_vpc_prefix, subnet_layout_addresses
from stable_fargate.environments import AccountRegion, EnvironmentSpec, ServiceSizing, load_environment
from tests.conftest import cdk_context

CERT = "arn:aws:acm:eu-west-2:333333333333:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def sample() -> dict[str, Any]:
    return copy.deepcopy(cdk_context()["stable_fargate"])


def env_data(name: str = "prod") -> dict[str, Any]:
    data: dict[str, Any] = sample()["environments"][name]
    return data


def refused(name: str, data: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_environment(name, data)
    return info.value


def refused_app(block: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_app_config({"stable_fargate": block})
    return info.value


# --- what loads ----------------------------------------------------------------------------


def test_sample_data_loads_three_environments_in_order() -> None:
    config = load_app_config({"stable_fargate": sample()})
    assert [e.name for e in config.environments] == ["dev", "staging", "prod"]
    assert [e.stage_name for e in config.environments] == ["Dev", "Staging", "Prod"]
    assert config.accounts == ("111111111111", "222222222222", "333333333333")
    prod = config.environment("prod")
    assert prod.production and prod.retain_data
    assert len(prod.availability_zones) == 3  # production spans three AZs
    assert prod.certificate_arn == CERT
    assert prod.registry == AccountRegion("100000000000", "eu-west-2")  # the tooling account: where images live
    assert prod.promotes_from == "staging"
    assert prod.monthly_budget_usd == 2500.0


def test_specs_are_frozen() -> None:
    prod = load_environment("prod", env_data())
    with pytest.raises(ValidationError):
        prod.region = "us-east-1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        prod.services["portfolio-api"] = prod.services["portfolio-api"]  # type: ignore[index]


def test_retain_data_and_production_default_from_the_name() -> None:
    assert {"staging", "prod"} == defaults.RETAIN_DATA_ENVIRONMENTS
    dev = load_environment("dev", env_data("dev"))
    assert (dev.production, dev.retain_data) == (False, False)
    assert load_environment("staging", env_data("staging")).retain_data
    data = env_data("prod")
    del data["production"]
    assert load_environment("prod", data).production  # an environment named prod is production
    data = env_data("dev")
    data["retain_data"] = True
    assert load_environment("dev", data).retain_data  # the data says otherwise


def test_loader_fills_parameters_and_registry() -> None:
    config = load_app_config({"stable_fargate": sample()})
    prod = config.environment("prod")
    api = prod.parameters_for("portfolio-api")
    assert (api.service, api.environment) == ("portfolio-api", "prod")
    assert api.plain["LOG_LEVEL"] == "info" and api.plain["PORT"] == "3000"
    assert config.environment("dev").parameters_for("portfolio-api").plain["LOG_LEVEL"] == "debug"
    empty = prod.parameters_for("ledger-api")  # declared nowhere: an empty set, not an error
    assert (empty.service, empty.environment, dict(empty.plain), dict(empty.secrets)) == ("ledger-api", "prod", {}, {})


def test_image_tag_and_digest() -> None:
    digest = "sha256:" + "ab" * 32
    data = env_data("dev")
    data["images"]["portfolio-api"] = f"v1.9.0@{digest}"
    dev = load_environment("dev", data)
    assert dev.image_tag("portfolio-api") == "v1.9.0"
    assert dev.image_digest("portfolio-api") == digest
    assert dev.image_digest("reconciliation") is None
    assert dev.image_tag("reconciliation") == "v1.2.0"


def test_with_sizing_and_with_image_return_checked_copies() -> None:
    prod = load_environment("prod", env_data())
    bigger = prod.with_sizing("portfolio-api", ServiceSizing(cpu=2048, memory_mib=4096, min_tasks=3, max_tasks=20))
    assert bigger.sizing("portfolio-api").max_tasks == 20
    assert prod.sizing("portfolio-api").max_tasks == 12  # the original is unchanged
    rolled = prod.with_image("portfolio-api", "v1.7.2")
    assert rolled.image_tag("portfolio-api") == "v1.7.2"
    with pytest.raises(ConfigError, match=r"environments?.*images\.portfolio-api.*pre-release"):
        prod.with_image("portfolio-api", "v1.9.0-rc.1")  # the same rules as the loader


def test_hand_built_environment_goes_through_the_same_rules() -> None:
    spec = EnvironmentSpec(
        name="qa", account="444444444444", region="eu-west-1", availability_zones=("eu-west-1a", "eu-west-1b"),
        vpc_cidr="10.40.0.0/16", certificate_arn="arn:aws:acm:eu-west-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    )
    assert (spec.production, spec.retain_data, spec.registry, dict(spec.parameters)) == (False, False, None, {})
    with pytest.raises(ConfigError) as info:
        EnvironmentSpec(
            name="qa", account="444444444444", region="eu-west-1", availability_zones=("eu-west-1a", "eu-west-1b"),
            vpc_cidr="10.40.0.0/16", certificate_arn=CERT,
        )
    assert (info.value.subject, info.value.field) == ("environment qa", "certificate_arn")


# --- shape and types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("account", "12345", "12-digit"),
        ("account", 111111111111, "Give a string"),
        ("region", "eu-west-9", "known AWS region"),
        ("region", ["eu-west-2"], "Give a string"),
        ("availability_zones", ["eu-west-2a"], "at least 3 AZs"),
        ("availability_zones", ["eu-west-2a", "eu-west-2a", "eu-west-2b"], "each AZ once"),
        ("availability_zones", "eu-west-2a", "JSON array"),
        ("vpc_cidr", "10.0.0.0/8", "at most a /16"),
        ("vpc_cidr", "not-a-cidr", "IPv4 network"),
        ("vpc_cidr", True, "Give a string"),
        ("nat_gateways", 4, "0 to 3"),
        ("nat_gateways", -1, "at least 0"),
        ("nat_gateways", 1.0, "whole number"),
        ("nat_gateways", "1", "whole number"),
        ("production", "yes", "true or false"),
        ("monthly_budget_usd", 0, "more than 0"),
        ("monthly_budget_usd", -5, "more than 0"),
        ("monthly_budget_usd", 1e12, "at most 10000000"),
        ("monthly_budget_usd", float("inf"), "finite"),
        ("monthly_budget_usd", "2500", "Give a number"),
        ("monthly_budget_usd", True, "Give a number"),
        ("colour", "blue", "Remove it"),
    ],
)
def test_bad_environment_data_is_a_config_error(field: str, value: Any, expect: str) -> None:
    data = env_data("prod")
    data[field] = value
    error = refused("prod", data)
    assert error.subject == "environment prod"
    assert error.field.startswith(f"environments.prod.{field}")
    assert expect in error.fix
    assert str(error).startswith(f"environment prod: environments.prod.{field}")


def test_unknown_field_lists_the_known_ones() -> None:
    data = env_data("prod")
    data["vpc_cdir"] = "10.30.0.0/16"
    assert "vpc_cidr" in refused("prod", data).fix


def test_fields_the_loader_fills_are_refused_in_the_data() -> None:
    data = env_data("prod")
    data["registry"] = {"account": "100000000000", "region": "eu-west-2"}
    assert refused("prod", data).field == "environments.prod.registry"


def test_a_budget_may_be_a_whole_number_or_a_decimal() -> None:
    data = env_data("prod")
    data["monthly_budget_usd"] = 1234.5
    assert load_environment("prod", data).monthly_budget_usd == 1234.5
    del data["monthly_budget_usd"]
    assert load_environment("prod", data).monthly_budget_usd is None


def test_the_certificate_is_required() -> None:
    data = env_data("prod")
    del data["certificate_arn"]
    error = refused("prod", data)
    assert (error.field, error.value) == ("environments.prod.certificate_arn", None)
    assert "required" in error.fix and "ACM certificate" in error.fix


# --- classes of bad input (issue 9), one example each --------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", "111111111111\n"),  # a trailing newline passes `$` under re.match
        ("account", "\u0661" * 12),  # Arabic-Indic digits pass \d and isdigit()
        ("account", "11111111111\x00"),  # NUL
        ("region", "eu-west-2\n"),
        ("certificate_arn", CERT + "\n"),
    ],
)
def test_text_that_passes_naive_patterns_is_refused(field: str, value: str) -> None:
    data = env_data("prod")
    data[field] = value
    assert refused("prod", data).field == f"environments.prod.{field}"


@pytest.mark.parametrize(
    "name",
    ["prod\n", "pröd", "p", "x" * 32, "prod\x00", "Prod", "prod-", "1prod"],
)
def test_bad_environment_names_are_refused(name: str) -> None:
    error = refused(name, env_data())
    assert "lower-case ASCII" in error.fix
    assert "\n" not in str(error) and "\x00" not in str(error)  # one line, whatever the name holds


def test_a_service_name_with_non_ascii_letters_or_over_the_limit_is_refused() -> None:
    data = env_data("prod")
    data["images"]["pörtfolio-api"] = "v1.8.0"
    assert refused("prod", data).field == "environments.prod.images.pörtfolio-api"
    data = env_data("prod")
    data["services"]["a" * 64] = {}
    assert "1 to 63" in refused("prod", data).fix


@pytest.mark.parametrize(
    "cidr",
    [
        "127.0.0.0/16",  # loopback: private to Python, not RFC 1918
        "169.254.0.0/16",  # link-local
        "100.64.0.0/16",  # carrier-grade NAT (RFC 6598)
        "192.0.2.0/24",  # documentation
        "8.8.0.0/16",  # public
    ],
)
def test_networks_private_to_python_but_not_rfc1918_are_refused(cidr: str) -> None:
    data = env_data("prod")
    data["vpc_cidr"] = cidr
    error = refused("prod", data)
    assert error.field == "environments.prod.vpc_cidr" and "RFC 1918" in error.fix


def test_the_subnet_layout_must_fit_the_vpc() -> None:
    # One /24 public and one /20 private subnet per AZ, each aligned to its size: 3 AZs need
    # a 4096-address block for the public /24s and 3 x 4096 for the private /20s = 16384 = a /18.
    assert subnet_layout_addresses(3) == 16384
    assert smallest_vpc_prefix(2) == 18 and smallest_vpc_prefix(3) == 18 and smallest_vpc_prefix(4) == 17
    data = env_data("prod")
    data["vpc_cidr"] = "10.30.0.0/18"
    assert load_environment("prod", data).vpc_cidr == "10.30.0.0/18"
    data["vpc_cidr"] = "10.30.0.0/19"
    error = refused("prod", data)
    assert error.field == "environments.prod.vpc_cidr" and "use a /18 or larger" in error.fix
    data["vpc_cidr"] = "10.30.0.0/18"
    data["availability_zones"] = ["eu-west-2a", "eu-west-2b", "eu-west-2c", "eu-west-2d"]
    assert "use a /17" in refused("prod", data).fix


def test_a_cidr_with_host_bits_is_refused() -> None:
    data = env_data("prod")
    data["vpc_cidr"] = "10.30.0.1/16"
    assert "network address" in refused("prod", data).fix


def test_azs_of_another_region_are_refused() -> None:
    data = env_data("prod")
    data["availability_zones"] = ["eu-west-2a", "eu-west-2b", "us-east-1c"]
    error = refused("prod", data)
    assert (error.field, error.value) == ("environments.prod.availability_zones.2", "us-east-1c")
    assert "region eu-west-2" in error.fix


def test_two_environments_in_one_account_and_region_with_different_azs_are_refused() -> None:
    block = sample()
    del block["parameters"], block["shared_parameters"]  # qa would need its own parameter values
    qa = copy.deepcopy(block["environments"]["staging"])
    qa["availability_zones"] = ["eu-west-2a", "eu-west-2b"]
    qa["vpc_cidr"] = "10.21.0.0/16"
    block["environments"]["qa"] = qa
    error = refused_app(block)
    assert (error.subject, error.field) == ("environment qa", "environments.qa.availability_zones")
    assert "environment staging" in error.fix and "replace" in error.fix
    qa["availability_zones"] = list(block["environments"]["staging"]["availability_zones"])
    assert load_app_config({"stable_fargate": block}).environment("qa").availability_zones == ("eu-west-2a", "eu-west-2b", "eu-west-2c")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:333333333333:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",  # another region
        "arn:aws:acm:eu-west-2:222222222222:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",  # another account
        "arn:aws:iam::333333333333:server-certificate/x",  # not ACM
        "my-cert",
    ],
)
def test_a_certificate_of_another_region_or_account_is_refused(arn: str) -> None:
    data = env_data("prod")
    data["certificate_arn"] = arn
    error = refused("prod", data)
    assert error.field == "environments.prod.certificate_arn"
    assert "account 333333333333 and region eu-west-2" in error.fix


@pytest.mark.parametrize(("account", "region"), [("100000000000", "eu-west-9"), ("100000000000", "EU-WEST-2"), ("1", "eu-west-2")])
def test_an_invalid_hand_built_account_region_is_refused(account: str, region: str) -> None:
    with pytest.raises(ConfigError) as info:
        AccountRegion(account, region)
    assert info.value.subject == "AccountRegion"


def test_a_hand_built_account_region_accepts_cdk_tokens() -> None:
    """``AccountRegion(stack.account, stack.region)`` of an environment-agnostic stack holds tokens."""
    tokens = AccountRegion("${Token[AWS.AccountId.7]}", "${Token[AWS.Region.11]}")
    assert tokens.region == "${Token[AWS.Region.11]}"


@pytest.mark.parametrize(
    ("sizing", "field", "expect"),
    [
        ({"cpu": None}, "cpu", "whole number"),
        ({"cpu": 0}, "cpu", "at least 256"),
        ({"cpu": 32768}, "cpu", "at most 16384"),
        ({"cpu": "512"}, "cpu", "whole number"),
        ({"cpu": 512.0}, "cpu", "whole number"),
        ({"memory_mib": True}, "memory_mib", "whole number"),
        ({"memory_mib": 200_000}, "memory_mib", "at most 122880"),
        ({"min_tasks": -1}, "min_tasks", "at least 0"),
        ({"max_tasks": 10**30}, "max_tasks", "at most 5000"),
        ({"min_tasks": 5, "max_tasks": 2}, "max_tasks", "at least min_tasks (5)"),
        ({"min_tasks": 0, "max_tasks": 0}, "max_tasks", "at least 1"),
        ({"on_demand_base": 9, "max_tasks": 4}, "on_demand_base", "at most max_tasks (4)"),
    ],
)
def test_bad_sizing_is_refused_at_load(sizing: dict[str, Any], field: str, expect: str) -> None:
    data = env_data("prod")
    data["services"]["portfolio-import"].update(sizing)
    error = refused("prod", data)
    assert error.field == f"environments.prod.services.portfolio-import.{field}"
    assert expect in error.fix


def test_a_huge_number_is_described_not_printed() -> None:
    data = env_data("prod")
    data["services"]["portfolio-import"]["max_tasks"] = 10**5000
    error = refused("prod", data)
    assert error.value == "<a whole number of about 5000 digits>"
    assert len(str(error)) < 400


def test_null_on_demand_base_means_the_service_default() -> None:
    data = env_data("prod")
    data["services"]["portfolio-import"]["on_demand_base"] = None
    assert load_environment("prod", data).services["portfolio-import"].on_demand_base is None


def test_hand_built_sizing_is_checked() -> None:
    with pytest.raises(ConfigError) as info:
        ServiceSizing(min_tasks=3, max_tasks=1)
    assert (info.value.subject, info.value.field) == ("ServiceSizing", "max_tasks")


# --- images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expect"),
    [
        ("", "release tag"),
        ("latest", "release tag"),
        ("1.2.3", "release tag"),  # the registry's lifecycle keeps v tags only
        ("v1.2", "release tag"),
        ("v01.2.3", "release tag"),
        ("v1.2.3\n", "release tag"),
        ("v\u0661.2.3", "release tag"),
        ("v1.2.3+build.5", "release tag"),
        ("v1.2.3@sha256:abc", "64 lower-case hex"),
        ("sha256:" + "a" * 64, "lifecycle protects images by their tag"),
    ],
)
def test_bad_images_are_refused(image: str, expect: str) -> None:
    data = env_data("dev")
    data["images"]["portfolio-api"] = image
    error = refused("dev", data)
    assert error.field == "environments.dev.images.portfolio-api"
    assert expect in error.fix


def test_production_refuses_a_pre_release_image() -> None:
    data = env_data("prod")
    data["images"]["portfolio-api"] = "v1.9.0-rc.1"
    error = refused("prod", data)
    assert re.search(r"environment prod: environments\.prod\.images\.portfolio-api='v1\.9\.0-rc\.1'.*promote the release", str(error))
    dev = env_data("dev")
    dev["images"]["portfolio-api"] = "v1.9.0-rc.1"
    assert load_environment("dev", dev).images["portfolio-api"] == "v1.9.0-rc.1"


def test_missing_sizing_or_image_names_environment_and_service() -> None:
    prod = load_environment("prod", env_data())
    with pytest.raises(ConfigError, match=r"environment prod: environments\.prod\.services\.ledger-api"):
        prod.sizing("ledger-api")
    with pytest.raises(ConfigError, match=r"environment prod: environments\.prod\.images\.ledger-api"):
        prod.image_tag("ledger-api")
    with pytest.raises(ConfigError, match=r"environments\.prod\.images\.ledger-api"):
        prod.image_digest("ledger-api")


# --- the block -----------------------------------------------------------------------------


def test_app_level_errors() -> None:
    with pytest.raises(ConfigError, match=r"context\.stable_fargate"):
        load_app_config({})
    data = sample()
    data["tooling"]["account"] = "x"
    error = refused_app(data)
    assert (error.subject, error.field) == ("tooling", "tooling.account")
    data = sample()
    data["environments"] = {}
    assert refused_app(data).field == "environments"
    data = sample()
    data["colour"] = "blue"
    error = refused_app(data)
    assert error.field == "colour" and "shared_parameters" in error.fix  # lists the known fields
    config = load_app_config({"stable_fargate": sample()})
    with pytest.raises(ConfigError, match="dev, staging, prod"):
        config.environment("qa")


def test_missing_context_says_where_context_comes_from() -> None:
    with pytest.raises(ConfigError, match=r"App\(context=\.\.\.\)"):
        load_app_config({"stable_fargate": None})


def test_loading_does_not_change_the_input() -> None:
    block = sample()
    before = copy.deepcopy(block)
    load_app_config({"stable_fargate": block})
    assert block == before
