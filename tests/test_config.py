"""The config boundary: hand-built models under the loader's rules, shared parameters,
promotion with hotfixes, messages that never leak, and the JSON Schema of cdk.json."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import jsonschema
import pytest

from stable_fargate import ConfigError, ResolvedParameters, SecretRef, defaults, load_app_config
from stable_fargate.config import schema
from stable_fargate.config.rules import semver_key, shown
from stable_fargate.drift_guard import declarations_for
from stable_fargate.review.drift import Declarations, compare, declarations_from_context, render_text
from stable_fargate.review.model import model_from_templates
from tests.conftest import ROOT, cdk_context

TODAY = date(2026, 11, 26)
"""The loader's ``today`` in these tests: hotfix expiry is checked against it."""


def block() -> dict[str, Any]:
    return copy.deepcopy(cdk_context()["stable_fargate"])


def load(data: dict[str, Any]) -> Any:
    return load_app_config({"stable_fargate": data}, today=TODAY)


def refused(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(data)
    return info.value


# --- hand-built ResolvedParameters / SecretRef: the loader's rules ---------------------------


@pytest.mark.parametrize(
    ("build", "field", "fix"),
    [
        (lambda: ResolvedParameters("api", "prod", plain={"DATABASE_PASSWORD": "hunter2"}), "plain.DATABASE_PASSWORD", "secrets"),
        (lambda: ResolvedParameters("api", "prod", plain={"AWS_REGION": "eu-west-2"}), "plain.AWS_REGION", "AWS SDK"),
        (lambda: ResolvedParameters("api", "prod", plain={"ECS_ENABLE_X": "1"}), "plain.ECS_ENABLE_X", "ECS agent"),
        (lambda: ResolvedParameters("api", "prod", plain={"": "x"}), "plain", "upper-case"),
        (lambda: ResolvedParameters("api", "prod", plain={"log_level": "x"}), "plain.log_level", "upper-case"),
        (lambda: ResolvedParameters("api", "prod", plain={"LOG_LEVEL": "a\x00b"}), "plain.LOG_LEVEL", "NUL"),
        (lambda: ResolvedParameters("api", "prod", plain={"PORT": 3000}), "plain.PORT", "string"),  # type: ignore[dict-item]
        (lambda: ResolvedParameters("", "prod"), "service", "Name the service"),
        (lambda: ResolvedParameters("api", "Prod"), "environment", "Name the environment"),
        (
            lambda: ResolvedParameters("api", "prod", plain={"A": "1"}, secrets={"A": SecretRef("ssm", "/a")}),
            "secrets.A", "either a plain value or a secret",
        ),
    ],
)
def test_hand_built_resolved_parameters_follow_the_loaders_rules(build: Any, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.field.startswith(field)
    assert fix in info.value.fix
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("source", "name", "json_field", "field", "fix"),
    [
        ("vault", "x", None, "source", "'secretsmanager' or 'ssm'"),
        ("secretsmanager", "", None, "name", "secret's name"),
        ("secretsmanager", "arn:aws:secretsmanager:eu-west-2:111111111111:secret:db", None, "name", "not its ARN"),
        ("ssm", "arn:aws:ssm:eu-west-2:111111111111:parameter/db", None, "name", "not its ARN"),
        ("ssm", "app/token", None, "name", "secret's name"),
        ("ssm", "/aws/reserved", None, "name", "reserves"),
        ("ssm", "/app/token", "password", "json_field", "Only a Secrets Manager secret"),
        ("secretsmanager", "app/db", "pass:word", "json_field", "no ':'"),
        ("secretsmanager", "app/db\n", None, "name", "secret's name"),
    ],
)
def test_hand_built_secret_refs_follow_the_loaders_rules(source: Any, name: str, json_field: str | None, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        SecretRef(source, name, json_field)
    assert (info.value.subject, info.value.field) == ("SecretRef", field)
    assert fix in info.value.fix


def test_the_loader_and_a_hand_built_ref_agree() -> None:
    config = load(block())
    loaded = config.environment("prod").parameters_for("portfolio-api").secrets["SESSION_SIGNING_SECRET"]
    assert loaded == SecretRef("secretsmanager", "portfolio-api/session-signing")


def test_resolve_errors_say_what_to_do() -> None:
    sets = load(block()).parameters
    with pytest.raises(ConfigError) as info:
        sets.resolve("ledger-api", "prod")
    assert "stable_fargate.parameters.ledger-api" in info.value.fix
    with pytest.raises(ConfigError) as info:
        sets.resolve("portfolio-api", "qa")
    assert "dev, staging, prod" in info.value.fix and "declare it" in info.value.fix


# --- shared parameters ----------------------------------------------------------------------


def test_shared_keys_are_carried_by_every_service_with_their_overrides() -> None:
    config = load(block())
    for service in ("portfolio-api", "portfolio-import", "reconciliation"):
        assert config.parameters.resolve(service, "dev").plain["LOG_LEVEL"] == "debug"
        assert config.parameters.resolve(service, "prod").plain["LOG_LEVEL"] == "info"
        assert config.parameters.get(service).shared == {"LOG_LEVEL"}
    differences = config.parameters.declared_differences()
    assert "env:LOG_LEVEL" in differences["reconciliation"]["dev"]
    assert "env:LOG_LEVEL" not in differences["reconciliation"]["prod"]


def test_a_service_without_its_own_set_carries_the_shared_keys() -> None:
    data = block()
    del data["parameters"]["reconciliation"]
    resolved = load(data).environment("staging").parameters_for("reconciliation")
    assert dict(resolved.plain) == {"LOG_LEVEL": "info"} and dict(resolved.secrets) == {}


def test_a_service_key_named_like_a_shared_key_is_refused() -> None:
    data = block()
    data["parameters"]["portfolio-api"]["keys"]["LOG_LEVEL"] = {"type": "string", "value": "warn"}
    error = refused(data)
    assert (error.subject, error.field) == ("portfolio-api", "parameters.portfolio-api.keys.LOG_LEVEL")
    assert "shared_parameters" in error.fix


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s["overrides"].__setitem__("qa", {"LOG_LEVEL": "debug"}), "shared_parameters.overrides.qa"),
        (lambda s: s["overrides"]["dev"].__setitem__("LOG_LEVEL", "verbose"), "shared_parameters.overrides.dev.LOG_LEVEL"),
        (lambda s: s["overrides"]["dev"].__setitem__("TRACE", "1"), "shared_parameters.overrides.dev.TRACE"),
        (lambda s: s["keys"].__setitem__("API_TOKEN", {"type": "string", "value": "x"}), "shared_parameters.keys.API_TOKEN.kind"),
        (lambda s: s.__setitem__("keys", {}), "shared_parameters.keys"),
    ],
)
def test_bad_shared_parameters_are_refused(mutate: Any, field: str) -> None:
    data = block()
    mutate(data["shared_parameters"])
    error = refused(data)
    assert (error.subject, error.field) == ("shared parameters", field)


def test_the_cli_reads_shared_keys_as_the_guard_does() -> None:
    context = cdk_context()
    config = load_app_config(context)
    lenient = declarations_from_context(context["stable_fargate"])
    assert "env:LOG_LEVEL" in lenient.properties["portfolio-api"]["dev"]
    assert declarations_for(config=config, parameters=config.parameters) == lenient


# --- promotion and hotfixes ----------------------------------------------------------------


def with_prod_image(tag: str, hotfix: dict[str, Any] | None = None) -> dict[str, Any]:
    data = block()
    data["environments"]["prod"]["images"]["portfolio-api"] = tag
    if hotfix is not None:
        data["environments"]["prod"]["hotfixes"] = {"portfolio-api": hotfix}
    return data


def test_prod_runs_what_staging_runs_or_an_older_release() -> None:
    assert load(with_prod_image("v1.8.0")).environment("prod").image_tag("portfolio-api") == "v1.8.0"
    assert load(with_prod_image("v1.7.9")).environment("prod").image_tag("portfolio-api") == "v1.7.9"  # a rollback


@pytest.mark.parametrize("tag", ["v1.8.1", "v1.9.0", "v2.0.0"])
def test_a_release_newer_than_the_source_is_refused(tag: str) -> None:
    error = refused(with_prod_image(tag))
    assert (error.subject, error.field, error.value) == ("environment prod", "environments.prod.images.portfolio-api", tag)
    assert "newer than v1.8.0" in error.fix and "environments.prod.hotfixes.portfolio-api" in error.fix


def test_a_pre_release_in_a_promoted_environment_is_refused() -> None:
    data = block()
    data["environments"]["prod"]["production"] = False
    data["environments"]["prod"]["images"]["portfolio-api"] = "v1.7.0-rc.1"
    assert "releases only" in refused(data).fix


def test_a_service_the_source_does_not_run_is_refused() -> None:
    data = block()
    data["environments"]["prod"]["images"]["ledger"] = "v1.0.0"
    assert "staging runs no ledger" in refused(data).fix


def test_a_declared_hotfix_is_accepted_and_shown_by_drift() -> None:
    hotfix = {"tag": "v1.8.1", "reason": "CVE-2026-1234 patch", "expires": "2026-12-31"}
    data = with_prod_image("v1.8.1", hotfix)
    config = load(data)
    assert config.environment("prod").hotfix("portfolio-api") is not None
    typed = declarations_for(config=config, parameters=config.parameters)
    assert typed.notes["portfolio-api"]["prod"]["image"] == "hotfix: CVE-2026-1234 patch"
    assert declarations_from_context(data) == typed  # the CLI reads the same declaration


def test_the_drift_table_shows_the_hotfix_beside_the_image() -> None:
    def task(tag: str) -> dict[str, Any]:
        return {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [{"Name": "api", "Image": f"repo/api:{tag}"}]}}

    model = model_from_templates({
        "Staging": {"S": {"Resources": {"T": task("v1.8.0")}}},
        "Prod": {"S": {"Resources": {"T": task("v1.8.1")}}},
    })
    declarations = Declarations(
        properties={"api": {"staging": frozenset({"image"}), "prod": frozenset({"image"})}},
        notes={"api": {"prod": {"image": "hotfix: CVE patch"}}},
    )
    report = compare(model, declarations)
    row = next(r for r in report.services[0].rows if r.property == "image tag")
    assert row.status == "declared" and dict(row.notes) == {"Prod": "hotfix: CVE patch"}
    assert "v1.8.1 (hotfix: CVE patch)" in render_text(report)
    rows = {r["property"]: r for r in report.to_json()["services"][0]["rows"]}
    assert rows["image tag"]["notes"] == {"Prod": "hotfix: CVE patch"}


@pytest.mark.parametrize(
    ("tag", "hotfix", "field", "fix"),
    [
        ("v1.8.1", {"tag": "v1.8.1", "reason": "CVE patch", "expires": "2026-11-25"}, "hotfixes.portfolio-api.expires", "expired"),
        ("v1.8.1", {"tag": "v1.8.1", "reason": "CVE patch", "expires": "2027-06-30"}, "hotfixes.portfolio-api.expires", "at most 90 days"),
        ("v1.8.0", {"tag": "v1.8.0", "reason": "CVE patch", "expires": "2026-12-31"}, "hotfixes.portfolio-api", "Remove the hotfix"),
        ("v1.8.1", {"tag": "v1.8.2", "reason": "CVE patch", "expires": "2026-12-31"}, "hotfixes.portfolio-api.tag", "stale"),
        ("v1.8.1", {"tag": "v1.8.1", "reason": "", "expires": "2026-12-31"}, "hotfixes.portfolio-api.reason", "at least 1"),
        ("v1.8.1", {"tag": "v1.8.1", "reason": "x", "expires": "31/12/2026"}, "hotfixes.portfolio-api.expires", "YYYY-MM-DD"),
        ("v1.8.1", {"tag": "v1.8.1", "reason": "x", "expires": "2026-02-30"}, "hotfixes.portfolio-api.expires", "calendar date"),
        ("v1.8.1", {"tag": "v1.8.1", "reason": "x"}, "hotfixes.portfolio-api.expires", "required"),
    ],
)
def test_bad_hotfix_declarations_are_refused(tag: str, hotfix: dict[str, Any], field: str, fix: str) -> None:
    error = refused(with_prod_image(tag, hotfix))
    assert error.field == f"environments.prod.{field}"
    assert fix in error.fix


def test_a_hotfix_needs_promotion() -> None:
    data = with_prod_image("v1.8.1", {"tag": "v1.8.1", "reason": "CVE patch", "expires": "2026-12-31"})
    del data["environments"]["prod"]["promotes_from"]
    error = refused(data)
    assert error.field == "environments.prod.hotfixes.portfolio-api" and "promotes from none" in error.fix


@pytest.mark.parametrize(
    ("promotes", "fix"),
    [("qa", "Name a declared environment"), ("prod", "cannot promote from itself"), (None, "one way")],
)
def test_bad_promotion_sources_are_refused(promotes: str | None, fix: str) -> None:
    data = block()
    if promotes is None:
        data["environments"]["staging"]["promotes_from"] = "prod"  # a cycle: staging <- prod <- staging
    else:
        data["environments"]["prod"]["promotes_from"] = promotes
    assert fix in refused(data).fix


def test_the_same_release_pinned_to_another_digest_is_refused() -> None:
    data = block()
    data["environments"]["staging"]["images"]["portfolio-api"] = "v1.8.0@sha256:" + "a" * 64
    data["environments"]["prod"]["images"]["portfolio-api"] = "v1.8.0@sha256:" + "b" * 64
    assert "another digest" in refused(data).fix
    data["environments"]["prod"]["images"]["portfolio-api"] = "v1.8.0@sha256:" + "a" * 64
    assert load(data).environment("prod").image_digest("portfolio-api") == "sha256:" + "a" * 64


def test_versions_compare_by_semantic_precedence() -> None:
    ordered = ["v0.9.9", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-beta.11",
               "v1.0.0-rc.1", "v1.0.0", "v1.2.0", "v1.10.0"]
    assert sorted(reversed(ordered), key=semver_key) == ordered


# --- messages -------------------------------------------------------------------------------


def test_a_credential_shaped_value_is_never_echoed() -> None:
    data = block()
    data["environments"]["prod"]["region"] = "AKIAABCDEFGHIJKLMNOP"
    error = refused(data)
    assert error.value == "<hidden>" and "AKIA" not in str(error)


def test_a_secret_value_under_a_secret_key_is_never_echoed() -> None:
    data = block()
    data["parameters"]["portfolio-api"]["keys"]["SESSION_SIGNING_SECRET"]["value"] = "hunter2"
    error = refused(data)
    assert error.field == "parameters.portfolio-api.keys.SESSION_SIGNING_SECRET.value" and "hunter2" not in str(error)


def test_tokens_and_huge_values_are_shown_sensibly() -> None:
    assert shown("${Token[AWS.Region.4]}") == "<token>"
    assert shown(-1.8881545897087626e289) == "<token>"
    assert shown(10**40) == "<a whole number of about 41 digits>"
    assert str(shown("x" * 500)).endswith("…") and len(str(shown("x" * 500))) == 80


# --- the JSON Schema ------------------------------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.render(), "run `make schema`"


def test_the_sample_cdk_json_validates_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(schema.SCHEMA_FILE.read_text(encoding="utf-8")))
    document = json.loads((ROOT / "cdk.json").read_text())
    assert list(validator.iter_errors(document)) == []
    prod = document["context"]["stable_fargate"]["environments"]["prod"]
    prod["account"] = 333333333333
    prod["vpc_cdir"] = "10.30.0.0/16"
    del prod["certificate_arn"]
    messages = sorted(error.message for error in validator.iter_errors(document))
    assert any("is not of type 'string'" in m for m in messages)
    assert any("vpc_cdir" in m for m in messages)
    assert any("certificate_arn" in m for m in messages)


def test_the_schema_leaves_the_cdks_own_keys_free_and_hides_the_loaders_fields() -> None:
    document = schema.cdk_json_schema()
    assert "additionalProperties" not in document and "additionalProperties" not in document["properties"]["context"]
    environment = document["$defs"]["EnvironmentSpec"]
    assert not {"name", "registry", "parameters"} & set(environment["properties"])
    assert "certificate_arn" in environment["required"]


def test_a_token_shaped_string_in_cdk_json_is_refused_but_passes_in_a_hand_built_model() -> None:
    """cdk.json holds no CDK tokens: a string shaped like one must not skip the checks there."""
    data = block()
    data["tooling"]["region"] = "${Token[AWS.Region.4]}"
    error = refused(data)
    assert (error.field, error.value) == ("tooling.region", "<token>")
    data = block()
    data["parameters"]["portfolio-api"]["keys"]["SESSION_SIGNING_SECRET"]["name"] = "${Token[Name.7]}"
    assert refused(data).field == "parameters.portfolio-api.keys.SESSION_SIGNING_SECRET.name"
    assert SecretRef("ssm", "${Token[Name.7]}").name == "${Token[Name.7]}"  # a construct's attribute, by hand


# --- databases ------------------------------------------------------------------------------


def with_database(env: str = "prod", **changes: Any) -> dict[str, Any]:
    data = block()
    data["environments"][env]["databases"]["portfolio"].update(changes)
    return data


def test_the_sample_databases_load_with_their_defaults() -> None:
    config = load(block())
    prod, dev = config.environment("prod"), config.environment("dev")
    portfolio = prod.database("portfolio")
    assert (portfolio.instance_class, portfolio.allocated_storage_gib, portfolio.storage_ceiling_gib) == ("db.m7g.large", 100, 400)
    assert dict(portfolio.pools) == {"portfolio-api": 10, "portfolio-import": 5, "reconciliation": 4}
    assert (prod.database_multi_az("portfolio"), dev.database_multi_az("portfolio")) == (True, False)  # production's flag
    assert dev.database("portfolio").storage_ceiling_gib == 40  # twice the 20 GiB when not declared
    with pytest.raises(ConfigError) as info:
        prod.database("ledger")
    assert info.value.field == "environments.prod.databases.ledger" and "declared: portfolio" in info.value.fix


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"multi_az": False}, "environments.prod.databases.portfolio.multi_az", "standby in another AZ"),
        ({"pools": {"ledger": 5}}, "environments.prod.databases.portfolio.pools.ledger", "has no sizing in this environment"),
        ({"pools": {"portfolio-api": 0}}, "environments.prod.databases.portfolio.pools.portfolio-api", "Give a number at least 1."),
        ({"pools": {"portfolio-api": 1001}}, "environments.prod.databases.portfolio.pools.portfolio-api", "Give a number at most 1000."),
        ({"pools": {"portfolio-api": "10"}}, "environments.prod.databases.portfolio.pools.portfolio-api", "whole number"),
        ({"instance_class": "db.x2g.large"}, "environments.prod.databases.portfolio.instance_class", 'declare "max_connections"'),
        ({"instance_class": "m7g.large"}, "environments.prod.databases.portfolio.instance_class", "db.<family>.<size>"),
        ({"max_connections": 1000}, "environments.prod.databases.portfolio.max_connections", "at most 901 connections"),
        ({"max_allocated_storage_gib": 50}, "environments.prod.databases.portfolio.max_allocated_storage_gib", "only grows storage"),
        ({"allocated_storage_gib": 10}, "environments.prod.databases.portfolio.allocated_storage_gib", "Give a number at least 20."),
        ({"engine": "mysql"}, "environments.prod.databases.portfolio.engine", "Remove"),
    ],
)
def test_bad_database_declarations_are_refused(changes: dict[str, Any], field: str, fix: str) -> None:
    error = refused(with_database(**changes))
    assert (error.subject, error.field) == ("environment prod", field)
    assert fix in error.fix


def test_a_class_outside_the_table_loads_with_a_declared_max_connections() -> None:
    config = load(with_database(instance_class="db.x2g.large", max_connections=2000))
    assert config.environment("prod").database("portfolio").max_connections == 2000


@pytest.mark.parametrize(("name", "fix"), [("Portfolio", "lower-case ASCII"), ("postgres", "created by Postgres or RDS"),
                                           ("9lives", "starting with a letter"), ("a" * 64, "1 to 63 characters")])
def test_bad_database_names_are_refused(name: str, fix: str) -> None:
    data = block()
    data["environments"]["prod"]["databases"][name] = data["environments"]["prod"]["databases"].pop("portfolio")
    error = refused(data)
    assert error.field.startswith("environments.prod.databases") and fix in error.fix


def test_a_service_pooled_in_two_databases_is_refused() -> None:
    data = block()
    data["environments"]["prod"]["databases"]["ledger"] = {"instance_class": "db.m7g.large", "pools": {"portfolio-api": 2}}
    error = refused(data)
    assert error.field == "environments.prod.databases.ledger.pools.portfolio-api" and "connects to one database" in error.fix


def test_pool_sizes_are_declared_differences_for_the_guard_and_the_cli() -> None:
    data = block()
    config = load(data)
    typed = declarations_for(config=config, parameters=config.parameters)
    for service in ("portfolio-api", "portfolio-import", "reconciliation"):
        for env in ("dev", "staging", "prod"):
            assert "env:DB_POOL_MAX" in typed.properties[service][env]
    assert declarations_from_context(data) == typed


# --- releases (environments.<env>.release) ----------------------------------------------------


def test_an_environment_without_a_release_rolls() -> None:
    data = block()
    del data["environments"]["dev"]["release"]
    assert load(data).environment("dev").release.strategy == "rolling"


@pytest.mark.parametrize(
    ("env", "release", "field", "fix"),
    [
        # ECS's documented ranges.
        ("prod", {"canary_percent": 0}, "canary_percent", "0.1 to 100 % in steps of 0.1"),
        ("prod", {"canary_percent": 100.5}, "canary_percent", "0.1 to 100 % in steps of 0.1"),
        ("prod", {"canary_percent": 10.05}, "canary_percent", "steps of 0.1"),
        ("prod", {"canary_bake_minutes": 1441}, "canary_bake_minutes", "0 to 1440 whole minutes"),
        ("prod", {"bake_minutes": -1}, "bake_minutes", "0 to 1440 whole minutes"),
        ("prod", {"canary_bake_minutes": 6.5}, "canary_bake_minutes", "whole number"),
        ("prod", {"canary_percent": "10"}, "canary_percent", "Give a number"),
        ("prod", {"strategy": "linear", "linear_step_percent": 2.9}, "linear_step_percent", "3 to 100 %"),
        # CloudFormation's 33 hours.
        ("prod", {"canary_bake_minutes": 1440, "bake_minutes": 541}, "canary_bake_minutes", "33 hours"),
        ("prod", {"strategy": "linear", "linear_step_percent": 10, "linear_step_bake_minutes": 220},
         "linear_step_bake_minutes", "33 hours"),
        # A field the strategy does not read.
        ("dev", {"bake_minutes": 5}, "bake_minutes", "rolling reads no bake_minutes"),
        ("staging", {"canary_percent": 5}, "canary_percent", "blue_green reads no canary_percent"),
        ("prod", {"linear_step_percent": 20}, "linear_step_percent", "canary reads no linear_step_percent"),
        # Unknown strategies and fields.
        ("prod", {"strategy": "red_black"}, "strategy", "'rolling', 'blue_green', 'canary' or 'linear'"),
        ("prod", {"canary_bake": 6}, "canary_bake", "Known fields here: strategy, bake_minutes"),
    ],
)
def test_bad_releases_are_refused_with_their_cdk_json_path(env: str, release: dict[str, Any], field: str, fix: str) -> None:
    data = block()
    # A new strategy replaces the sample's release; otherwise the fields are added to it.
    data["environments"][env]["release"] = release if "strategy" in release else {**data["environments"][env]["release"], **release}
    error = refused(data)
    assert (error.subject, error.field) == (f"environment {env}", f"environments.{env}.release.{field}")
    assert fix in error.fix


def test_release_ranges_hold_at_their_ends() -> None:
    data = block()
    data["environments"]["prod"]["release"] |= {"canary_percent": 0.1, "canary_bake_minutes": 1440, "bake_minutes": 540}
    assert load(data).environment("prod").release.canary_percent == 0.1
    data["environments"]["prod"]["release"] = {"strategy": "linear", "linear_step_percent": 100, "linear_step_bake_minutes": 1440}
    assert load(data).environment("prod").release.release_minutes == defaults.RELEASE_BAKE_MINUTES  # one shift, no step bake
