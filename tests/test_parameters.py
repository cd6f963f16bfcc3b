"""ParameterSet: one declaration per service, per-environment overrides, every refusal."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stable_fargate.environments import load_app_config
from stable_fargate.errors import ConfigError
from stable_fargate.parameters import ParameterSets, SecretRef, load_parameter_sets
from tests.conftest import cdk_context

ENVS = ("dev", "staging", "prod")


def base() -> dict[str, Any]:
    return {
        "api": {
            "keys": {
                "LOG_LEVEL": {"type": "string", "value": "info", "allowed": ["debug", "info"]},
                "PORT": {"type": "integer", "value": 3000, "min": 1, "max": 65535},
                "ENABLED": {"type": "boolean", "value": False},
                "UPSTREAM_URL": {"type": "url"},
                "TIMEOUT": {"type": "duration", "value": "5s", "unit": "ms"},
                "DATABASE_PASSWORD": {"kind": "secret", "source": "secretsmanager", "name": "api/db", "json_field": "password"},
                "API_TOKEN": {"kind": "secret", "source": "ssm", "name": "/api/token"},
            },
            "overrides": {
                "dev": {"LOG_LEVEL": "debug", "UPSTREAM_URL": "https://up.dev.example.com"},
                "staging": {"UPSTREAM_URL": "https://up.staging.example.com"},
                "prod": {"UPSTREAM_URL": "https://up.example.com"},
            },
        }
    }


def load(raw: Any) -> ParameterSets:
    return load_parameter_sets(raw, ENVS)


def refused(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(raw)
    return info.value


# --- what loads --------------------------------------------------------------------------


def test_values_are_typed_and_rendered_for_the_container() -> None:
    sets = load(base())
    dev, prod = sets.resolve("api", "dev"), sets.resolve("api", "prod")
    assert dict(dev.plain) == {
        "LOG_LEVEL": "debug", "PORT": "3000", "ENABLED": "false",
        "UPSTREAM_URL": "https://up.dev.example.com", "TIMEOUT": "5000",
    }
    assert prod.plain["LOG_LEVEL"] == "info"
    assert prod.secrets == {
        "DATABASE_PASSWORD": SecretRef("secretsmanager", "api/db", "password"),
        "API_TOKEN": SecretRef("ssm", "/api/token"),
    }
    assert (dev.service, dev.environment) == ("api", "dev")


def test_every_key_resolves_in_every_environment() -> None:
    sets = load(base())
    keys = {env: (set(sets.resolve("api", env).plain), set(sets.resolve("api", env).secrets)) for env in ENVS}
    assert keys["dev"] == keys["staging"] == keys["prod"]


def test_declared_differences_are_the_overrides_and_keys_without_shared_value() -> None:
    declared = load(base()).declared_differences()["api"]
    assert declared["dev"] == {"env:LOG_LEVEL", "env:UPSTREAM_URL"}
    assert declared["prod"] == {"env:UPSTREAM_URL"}


def test_optional_key_without_value_resolves_to_empty_string_everywhere() -> None:
    raw = base()
    raw["api"]["keys"]["PROXY_URL"] = {"type": "url", "required": False}
    raw["api"]["overrides"]["dev"]["PROXY_URL"] = "http://proxy.dev.example.com:3128"
    sets = load(raw)
    assert sets.resolve("api", "dev").plain["PROXY_URL"] == "http://proxy.dev.example.com:3128"
    assert sets.resolve("api", "prod").plain["PROXY_URL"] == ""


@pytest.mark.parametrize(
    "url",
    ["https://up.example.com", "http://up.example.com:8080/v1?x=1", "HTTPS://UP.example.com", "https://10.0.0.1:443",
     "https://[fd00::1]:8443/", "https://svc@up.example.com"],
)
def test_urls_with_an_allowed_scheme_a_host_and_a_valid_port_load(url: str) -> None:
    raw = base()
    raw["api"]["overrides"]["prod"]["UPSTREAM_URL"] = url
    assert load(raw).resolve("api", "prod").plain["UPSTREAM_URL"] == url


def test_a_url_with_a_password_is_refused_without_echoing_it() -> None:
    raw = base()
    raw["api"]["overrides"]["prod"]["UPSTREAM_URL"] = "https://svc:hunter2@up.example.com"
    error = refused(raw)
    assert error.value == "https://svc:<hidden>@up.example.com" and "secret key" in error.fix
    assert "hunter2" not in str(error)


def test_optional_key_with_allowed_values_must_allow_no_value() -> None:
    """An optional key resolves to "" where no environment gives a value; with "allowed" that
    "" would reach the container although it is not among the allowed values."""
    raw = base()
    raw["api"]["keys"]["TRACE_MODE"] = {"type": "string", "required": False, "allowed": ["sampled", "full"]}
    raw["api"]["overrides"]["dev"]["TRACE_MODE"] = "full"
    error = refused(raw)
    assert (error.subject, error.field) == ("api", "parameters.api.keys.TRACE_MODE.allowed")
    assert 'add "" to "allowed"' in error.fix

    raw["api"]["keys"]["TRACE_MODE"]["allowed"].append("")  # no value accepted explicitly
    sets = load(raw)
    assert (sets.resolve("api", "dev").plain["TRACE_MODE"], sets.resolve("api", "prod").plain["TRACE_MODE"]) == ("full", "")

    raw["api"]["keys"]["TRACE_MODE"] = {"type": "string", "required": False, "allowed": ["sampled", "full"], "value": "sampled"}
    assert load(raw).resolve("api", "prod").plain["TRACE_MODE"] == "sampled"  # a shared value: never ""


def test_secret_override_renames_and_keeps_the_json_field() -> None:
    raw = base()
    raw["api"]["overrides"]["dev"]["DATABASE_PASSWORD"] = {"name": "api/db-dev"}
    raw["api"]["overrides"]["staging"]["DATABASE_PASSWORD"] = {"name": "api/db-staging", "json_field": "pw"}
    sets = load(raw)
    assert sets.resolve("api", "dev").secrets["DATABASE_PASSWORD"] == SecretRef("secretsmanager", "api/db-dev", "password")
    assert sets.resolve("api", "staging").secrets["DATABASE_PASSWORD"] == SecretRef("secretsmanager", "api/db-staging", "pw")
    assert "secret:DATABASE_PASSWORD" in sets.declared_differences()["api"]["dev"]


def test_secret_without_shared_name_is_named_per_environment() -> None:
    raw = base()
    raw["api"]["keys"]["SIGNING_KEY"] = {"kind": "secret", "source": "ssm"}
    for env in ENVS:
        raw["api"]["overrides"][env]["SIGNING_KEY"] = {"name": f"/{env}/api/signing-key"}
    sets = load(raw)
    assert sets.resolve("api", "prod").secrets["SIGNING_KEY"] == SecretRef("ssm", "/prod/api/signing-key")


def test_no_parameters_block_is_an_empty_set_that_names_the_missing_service() -> None:
    sets = load(None)
    with pytest.raises(ConfigError, match=r"stable_fargate\.parameters\.api"):
        sets.resolve("api", "dev")


def test_environment_specs_are_accepted_and_the_sample_app_loads() -> None:
    config = load_app_config(cdk_context())
    sets = config.parameters
    assert sets.services == ("portfolio-api", "portfolio-import", "reconciliation")
    api_dev = sets.resolve("portfolio-api", "dev")
    assert api_dev.plain["PORT"] == "3000"
    assert api_dev.plain["LOG_LEVEL"] == "debug"
    assert sets.resolve("portfolio-api", "prod").plain["LOG_LEVEL"] == "info"
    assert api_dev.secrets["SESSION_SIGNING_SECRET"] == SecretRef("secretsmanager", "portfolio-api/session-signing")
    assert sets.resolve("portfolio-import", "prod").secrets["IMPORT_API_TOKEN"].source == "ssm"
    assert "LEDGER_URL" in sets.resolve("reconciliation", "staging").plain


# --- what is refused ---------------------------------------------------------------------


def test_adding_a_key_to_staging_only_is_refused_naming_it() -> None:
    raw = base()
    raw["api"]["overrides"]["staging"]["NEW_FLAG"] = "on"
    error = refused(raw)
    assert error.subject == "api"
    assert error.field == "parameters.api.overrides.staging.NEW_FLAG"
    assert "NEW_FLAG" in str(error) and "staging" in str(error) and "keys" in error.fix


def test_missing_required_value_in_one_environment_names_service_key_and_environment() -> None:
    raw = base()
    del raw["api"]["overrides"]["prod"]["UPSTREAM_URL"]
    error = refused(raw)
    assert (error.subject, error.field) == ("api", "parameters.api.overrides.prod.UPSTREAM_URL")
    assert "UPSTREAM_URL has no value in environment prod" in error.fix
    assert "parameters.api.keys.UPSTREAM_URL" in error.fix


def test_override_for_an_undeclared_environment_is_refused() -> None:
    raw = base()
    raw["api"]["overrides"]["qa"] = {"LOG_LEVEL": "debug"}
    error = refused(raw)
    assert error.field == "parameters.api.overrides.qa" and "dev, staging, prod" in error.fix


def test_secret_looking_key_declared_plain_is_refused() -> None:
    raw = base()
    raw["api"]["keys"]["STRIPE_API_KEY"] = {"type": "string", "value": "sk_live_abc"}
    error = refused(raw)
    assert error.field == "parameters.api.keys.STRIPE_API_KEY.kind" and "secret" in error.fix
    assert "sk_live_abc" not in str(error)  # the refusal must not echo the secret


@pytest.mark.parametrize(
    ("key", "value", "fix"),
    [
        ("PORT", "3000", "whole number"),
        ("PORT", 70000, "from 1 to 65535"),
        ("PORT", True, "whole number"),
        ("ENABLED", "true", "true or false"),
        ("ENABLED", 1, "true or false"),
        ("UPSTREAM_URL", "up.example.com", "absolute URL"),
        ("UPSTREAM_URL", 42, "absolute URL"),
        ("UPSTREAM_URL", "https://up.example.com:99999", "port"),
        ("UPSTREAM_URL", "https://up.example.com:0", "port"),
        ("UPSTREAM_URL", "https://up.example.com:-1", "port"),
        ("UPSTREAM_URL", "https://up.example.com:http", "port"),
        ("UPSTREAM_URL", "javascript://up.example.com/%0aalert(1)", "schemes http, https"),
        ("UPSTREAM_URL", "file://up.example.com/etc/passwd", "schemes http, https"),
        ("UPSTREAM_URL", "ftp://up.example.com", "schemes http, https"),
        ("UPSTREAM_URL", "https://:443/path", "host"),
        ("UPSTREAM_URL", "https://[::1/path", "host"),
        ("UPSTREAM_URL", "https://up.example.com/a\tb", "whitespace"),
        ("TIMEOUT", "5", "with its unit"),
        ("TIMEOUT", 5000, "with its unit"),
        ("TIMEOUT", "5 s", "with its unit"),
        ("LOG_LEVEL", "verbose", "debug, info"),
        ("LOG_LEVEL", 3, "string"),
    ],
)
def test_wrong_type_in_an_override_is_refused(key: str, value: Any, fix: str) -> None:
    raw = base()
    raw["api"]["overrides"]["staging"][key] = value
    error = refused(raw)
    assert (error.subject, error.field, error.value) == ("api", f"parameters.api.overrides.staging.{key}", value)
    assert fix in error.fix


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_value_a_container_environment_cannot_hold_is_refused(value: str) -> None:
    raw = base()
    raw["api"]["overrides"]["prod"]["LOG_LEVEL"] = value
    assert "cannot hold" in refused(raw).fix


def test_duration_not_whole_in_the_containers_unit_is_refused() -> None:
    raw = base()
    raw["api"]["keys"]["TIMEOUT"] = {"type": "duration", "value": "1500ms"}  # unit defaults to s
    assert "whole s" in refused(raw).fix


def test_wrong_type_in_a_shared_value_is_refused() -> None:
    raw = base()
    raw["api"]["keys"]["PORT"]["value"] = "3000"
    assert refused(raw).field == "parameters.api.keys.PORT.value"


@pytest.mark.parametrize(
    ("key", "decl", "field"),
    [
        ("X", {"type": "float", "value": 1}, "keys.X.type"),
        ("X", {"value": "a"}, "keys.X.type"),
        ("X", {"type": "string", "kind": "public"}, "keys.X.kind"),
        ("X", {"type": "string", "default": "a"}, "keys.X.default"),
        ("X", {"type": "string", "required": "yes"}, "keys.X.required"),
        ("X", {"type": "integer", "allowed": ["1"]}, "keys.X.allowed"),
        ("X", {"type": "string", "min": 1}, "keys.X.min"),
        ("X", {"type": "integer", "min": 5, "max": 1}, "keys.X.min"),
        ("X", {"type": "string", "unit": "s"}, "keys.X.unit"),
        ("X", {"type": "duration", "unit": "days"}, "keys.X.unit"),
        ("X", {"type": "string", "source": "ssm"}, "keys.X.source"),
        ("X", "info", "keys.X"),
        ("log_level", {"type": "string", "value": "a"}, "keys.log_level"),
        ("AWS_REGION", {"type": "string", "value": "eu-west-2"}, "keys.AWS_REGION"),
        ("ECS_AGENT_URI", {"type": "url", "value": "http://x"}, "keys.ECS_AGENT_URI"),
        ("DB_SECRET", {"kind": "secret", "source": "vault", "name": "x"}, "keys.DB_SECRET.source"),
        ("DB_SECRET", {"kind": "secret", "source": "ssm", "name": "/x", "value": "hunter2"}, "keys.DB_SECRET.value"),
        ("DB_SECRET", {"kind": "secret", "source": "ssm", "name": "/x", "type": "string"}, "keys.DB_SECRET.type"),
        ("DB_SECRET", {"kind": "secret", "source": "secretsmanager", "name": "arn:aws:secretsmanager:eu-west-2:1:secret:x"},
         "keys.DB_SECRET.name"),
        ("DB_SECRET", {"kind": "secret", "source": "ssm", "name": "app/secret"}, "keys.DB_SECRET.name"),
        ("DB_SECRET", {"kind": "secret", "source": "ssm", "name": "/x", "json_field": "pw"}, "keys.DB_SECRET.json_field"),
        ("DB_SECRET", {"kind": "secret", "source": "secretsmanager", "json_field": "pw"}, "keys.DB_SECRET.json_field"),
        ("DB_SECRET", {"kind": "secret", "source": "secretsmanager", "name": "x", "json_field": ""}, "keys.DB_SECRET.json_field"),
        ("DB_SECRET", {"kind": "secret", "source": "secretsmanager", "name": ""}, "keys.DB_SECRET.name"),
    ],
)
def test_bad_key_declaration_is_refused(key: str, decl: Any, field: str) -> None:
    raw = base()
    raw["api"]["keys"][key] = decl
    error = refused(raw)
    assert (error.subject, error.field) == ("api", f"parameters.api.{field}")
    assert "hunter2" not in str(error)


def test_secret_value_is_never_echoed() -> None:
    raw = base()
    raw["api"]["keys"]["DB_SECRET"] = {"kind": "secret", "source": "ssm", "name": "/x", "value": "hunter2"}
    assert "hunter2" not in str(refused(raw))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (42, "overrides.dev.DATABASE_PASSWORD"),
        ({"name": "api/db", "extra": 1}, "overrides.dev.DATABASE_PASSWORD.extra"),
        ({"name": "arn:aws:secretsmanager:eu-west-2:111111111111:secret:api/db"}, "overrides.dev.DATABASE_PASSWORD.name"),
        ("api/db-dev", "overrides.dev.DATABASE_PASSWORD"),
        (["api/db-dev"], "overrides.dev.DATABASE_PASSWORD"),
    ],
)
def test_bad_secret_override_is_refused(value: Any, field: str) -> None:
    raw = base()
    raw["api"]["overrides"]["dev"]["DATABASE_PASSWORD"] = value
    assert refused(raw).field == f"parameters.api.{field}"


@pytest.mark.parametrize(("key", "source"), [("DATABASE_PASSWORD", "secretsmanager"), ("API_TOKEN", "ssm")])
def test_a_secret_override_given_as_a_plain_string_is_refused_without_echoing_it(key: str, source: str) -> None:
    """``overrides.prod.DATABASE_PASSWORD: "hunter2"`` is the password itself, not a name: it
    must not load (it would be in the task definition as ValueFrom) nor be echoed."""
    raw = base()
    raw["api"]["overrides"]["prod"][key] = "hunter2"
    error = refused(raw)
    assert (error.subject, error.field, error.value) == ("api", f"parameters.api.overrides.prod.{key}", "<hidden>")
    assert "hunter2" not in str(error)
    assert f'"{key}": {{"name": ' in error.fix and source in error.fix  # says how to write it


def test_secret_without_shared_name_and_missing_in_one_environment_is_refused() -> None:
    raw = base()
    raw["api"]["keys"]["SIGNING_KEY"] = {"kind": "secret", "source": "ssm"}
    raw["api"]["overrides"]["dev"]["SIGNING_KEY"] = {"name": "/dev/signing-key"}
    error = refused(raw)
    assert error.field == "parameters.api.overrides.staging.SIGNING_KEY"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.__setitem__("api", []), "parameters.api"),
        (lambda r: r["api"].__setitem__("keys", {}), "parameters.api.keys"),
        (lambda r: r["api"].__setitem__("keys", ["LOG_LEVEL"]), "parameters.api.keys"),
        (lambda r: r["api"].__setitem__("overrides", []), "parameters.api.overrides"),
        (lambda r: r["api"]["overrides"].__setitem__("dev", ["LOG_LEVEL"]), "parameters.api.overrides.dev"),
        (lambda r: r["api"].__setitem__("defaults", {}), "parameters.api.defaults"),
        (lambda r: r.__setitem__("Bad Service", r["api"]), "parameters.Bad Service"),
    ],
)
def test_malformed_structure_is_refused(mutate: Any, field: str) -> None:
    raw = base()
    mutate(raw)
    assert refused(raw).field == field


def test_parameters_must_be_an_object() -> None:
    assert refused(["api"]).field == "parameters"


def test_no_environments_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one environment"):
        load_parameter_sets(base(), [])


def test_resolving_an_undeclared_environment_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        load(base()).resolve("api", "qa")
    assert (info.value.subject, info.value.field, info.value.value) == ("api", "environment", "qa")


def test_loading_does_not_change_the_input() -> None:
    raw = base()
    before = copy.deepcopy(raw)
    load(raw)
    assert raw == before
