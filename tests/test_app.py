"""The sample app: Registry plus one stage per environment, nag-clean, stable logical IDs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks

from tests.conftest import SampleApp, template_json


def test_registry_and_three_stages(sample_app: SampleApp) -> None:
    assert list(sample_app.stages) == ["dev", "staging", "prod"]
    registry = sample_app.app.node.find_child("Registry")
    assert isinstance(registry, Stack)
    assert (registry.account, registry.region) == ("100000000000", "eu-west-2")
    for name, stage in sample_app.stages.items():
        env = sample_app.config.environment(name)
        assert stage.node.id == env.stage_name
        assert (stage.account, stage.region) == (env.account, env.region)
        # Stacks live inside the stage, so `cdk deploy 'Prod/*'` selects prod alone.
        for child in stage.node.children:
            if isinstance(child, Stack):
                assert child.node.path.startswith(f"{env.stage_name}/")
                assert child.account == env.account


def test_whole_app_is_nag_clean(sample_app: SampleApp) -> None:
    # build_app adds the packs; synth raises ValidationFailed on any finding, so reaching
    # here means zero unacknowledged findings. The report says so too.
    report = json.loads((sample_app.outdir / "validation-report.json").read_text())
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []


def test_nag_packs_do_fail_a_non_compliant_resource(tmp_path: Path) -> None:
    """Guards the guard: the packs are wired as validation plugins that fail synth."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bad")
    s3.Bucket(stack, "PlainBucket")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), PCIDSS321Checks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert any("S10" in r for r in rules)


def acknowledgements(sample_app: SampleApp) -> list[tuple[str, str, str]]:
    """(construct path, finding id, reason) of every acknowledgement in the app."""
    found = []
    for construct in sample_app.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                for finding, reason in entry.data.items():
                    found.append((construct.node.path, finding, reason))
    return found


def test_acknowledgements_sit_on_resources_with_specific_reasons(sample_app: SampleApp) -> None:
    acks = [a for a in acknowledgements(sample_app) if not a[1].startswith("CloudFormation-Validate::")]
    assert acks, "the app acknowledges at least the flow-log role and the public subnets"
    for path, finding, reason in acks:
        construct = sample_app.app.node.find_child(path.split("/")[0])
        assert construct is not None
        # On a resource's construct, never on a whole stack or stage.
        assert not isinstance(sample_app.app.node.try_find_child(path), Stack)
        assert path.count("/") >= 2, f"{path}: acknowledge on the resource, not the stack"
        assert "*" not in finding.split("[")[0], f"{path}: {finding} acknowledges a whole family of rules"
        assert len(reason) >= 40, f"{path}: {finding} needs a reason specific to the resource"


# Stateful resources: a refactor that changes one of these IDs would make CloudFormation
# replace the resource (a new, empty repository or database; a new key that cannot decrypt old data).
PINNED_LOGICAL_IDS = {
    ("tooling", "Registry"): {
        "RegistryKey1539DD54": "AWS::KMS::Key",
        "PortfolioApiRepository35C22CC3": "AWS::ECR::Repository",
        "PortfolioImportRepository2F4D0805": "AWS::ECR::Repository",
        "ReconciliationRepositoryF62F6CE1": "AWS::ECR::Repository",
    },
    **{
        (env, "Platform"): {
            "PlatformKey1C4A1A63": "AWS::KMS::Key",
            "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
            "NetworkVpc7FB7348F": "AWS::EC2::VPC",
        }
        for env in ("dev", "staging", "prod")
    },
    **{
        (env, "Data"): {
            "PortfolioInstance5C8DBA5A": "AWS::RDS::DBInstance",
            "PortfolioPostgresqlLogs373C202C": "AWS::Logs::LogGroup",
            "PortfolioUpgradeLogsC9EBB8A3": "AWS::Logs::LogGroup",
        }
        for env in ("dev", "staging", "prod")
    },
}


def test_stateful_logical_ids_are_pinned(sample_app: SampleApp) -> None:
    stacks = {(env, stack.node.id): stack for env, stack in sample_app.stacks()}
    for key, expected in PINNED_LOGICAL_IDS.items():
        resources = template_json(stacks[key])["Resources"]
        for logical_id, resource_type in expected.items():
            assert logical_id in resources, f"{key}: {logical_id} was renamed; CloudFormation would replace it"
            assert resources[logical_id]["Type"] == resource_type


def test_stateful_resources_are_retained_in_staging_and_prod(sample_app: SampleApp) -> None:
    for env, stack in sample_app.stacks():
        resources = template_json(stack)["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] in {"AWS::ECR::Repository", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::RDS::DBInstance"}:
                expected = "Delete" if env == "dev" else "RetainExceptOnCreate"
                assert resource.get("DeletionPolicy") == expected, f"{env}/{stack.node.id}/{logical_id}"


def test_registry_holds_the_three_release_repositories_and_a_public_cache(sample_app: SampleApp) -> None:
    from aws_cdk.assertions import Match, Template

    from stacks.registry import SAMPLE_REPOSITORIES

    registry = sample_app.app.node.find_child("Registry")
    assert isinstance(registry, Stack)
    template = Template.from_json(template_json(registry))
    repositories = template.find_resources("AWS::ECR::Repository")
    assert sorted(r["Properties"]["RepositoryName"] for r in repositories.values()) == sorted(SAMPLE_REPOSITORIES)
    for repository in repositories.values():
        principals = json.dumps(repository["Properties"]["RepositoryPolicyText"])
        for account in sample_app.config.accounts:
            assert account in principals
    template.has_resource_properties(
        "AWS::ECR::PullThroughCacheRule",
        {
            "EcrRepositoryPrefix": "ecr-public",
            "UpstreamRegistry": "ecr-public",
            "UpstreamRegistryUrl": "public.ecr.aws",
            "CredentialArn": Match.absent(),
        },
    )
    (created,) = template.find_resources("AWS::ECR::RepositoryCreationTemplate").values()
    props = created["Properties"]
    assert props["Prefix"] == "ecr-public" and props["AppliedFor"] == ["PULL_THROUGH_CACHE"]
    assert props["EncryptionConfiguration"] == {"EncryptionType": "AES256"}
    assert '"countNumber":50' in props["LifecyclePolicy"]  # the cache refills itself on the next pull


def test_cdk_synth_refuses_bad_data_with_the_message_not_a_traceback(tmp_path: Path) -> None:
    """app.py as the CDK CLI runs it (context in CDK_CONTEXT_JSON): a ConfigError ends synth
    with exit 1 and its one-line message."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, cdk_context

    context = cdk_context()
    context["stable_fargate"]["environments"]["staging"]["account"] = "2222"
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps(context), CDK_OUTDIR=str(tmp_path))
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("stable_fargate: environment staging: environments.staging.account='2222' is refused.")
    assert "Traceback" not in result.stderr


def test_stateful_stacks_are_termination_protected_in_production(sample_app: SampleApp) -> None:
    """Api and Workers read Platform's outputs by weak reference (Fn::GetStackOutput), which
    does not stop Platform from being deleted under them: production stacks are protected."""
    protected = {(env, stack.node.id): stack.termination_protection for env, stack in sample_app.stacks()}
    assert protected[("tooling", "Registry")] is True
    for name in ("Platform", "Data", "Api", "Workers"):
        assert protected[("prod", name)] is True
        assert protected[("dev", name)] is False
        assert protected[("staging", name)] is False
