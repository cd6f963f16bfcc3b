"""The pack itself: its ids, its texts, RULES.md, acknowledgements, and that no rule can
fail a synth by raising."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from cdk_nag import NagMessageLevel, NagRuleCompliance
from hypothesis import given, settings
from hypothesis import strategies as st

import stable_fargate
from stable_fargate.checks import RULES, RULES_BY_ID, StableFargateChecks, rules_markdown
from stable_fargate.checks import rules as rules_package
from stable_fargate.checks.pack import verdict
from stable_fargate.checks.template import app_from_templates
from tests.checks import builders
from tests.checks.harness import synth_with_plugin
from tests.conftest import ROOT, make_app

PINNED_IDS = [
    "SF-ROLL1", "SF-ROLL2", "SF-ROLL3",
    "SF-HEALTH1", "SF-HEALTH2", "SF-HEALTH3", "SF-HEALTH4", "SF-HEALTH5",
    "SF-IMG1", "SF-IMG2", "SF-IMG3", "SF-IMG4", "SF-IMG5",
    "SF-QUEUE1", "SF-QUEUE2", "SF-QUEUE3", "SF-QUEUE4",
    "SF-SCALE1", "SF-SCALE2", "SF-SCALE3", "SF-SCALE4",
    "SF-CFG1", "SF-CFG2",
    "SF-ALARM1", "SF-ALARM2", "SF-ALARM3",
]
"""Users acknowledge findings by these ids: renaming one breaks their acknowledgements."""

ERRORS = {
    "SF-ROLL1", "SF-HEALTH2", "SF-HEALTH5", "SF-IMG1", "SF-IMG2", "SF-IMG5", "SF-QUEUE1", "SF-QUEUE2",
    "SF-SCALE3", "SF-CFG1", "SF-CFG2", "SF-ALARM1", "SF-ALARM2", "SF-ALARM3",
}


def test_rule_ids_are_pinned() -> None:
    assert [rule.id for rule in RULES] == PINNED_IDS


def test_levels() -> None:
    assert {r.id for r in RULES if r.level == NagMessageLevel.ERROR} == ERRORS
    assert {r.level for r in RULES} == {NagMessageLevel.ERROR, NagMessageLevel.WARN}


def test_one_rule_per_module_named_after_its_id() -> None:
    modules = {m.name for m in pkgutil.iter_modules(rules_package.__path__)}
    used = [rule.module.__name__.rsplit(".", 1)[1] for rule in RULES]
    assert sorted(used) == sorted(modules)
    for rule in RULES:
        name = rule.module.__name__.rsplit(".", 1)[1]
        assert name.startswith(rule.suffix.lower() + "_"), (rule.id, name)
        assert (rule.module.__doc__ or "").startswith(f"{rule.id}: "), rule.id
        assert rule.resource_types and all(t.startswith("AWS::") for t in rule.resource_types)


def test_texts_say_what_why_and_how() -> None:
    for rule in RULES:
        assert re.fullmatch(r"SF-[A-Z]+\d+", rule.id)
        for text in (rule.info, rule.rationale, rule.fix):
            assert text and text[0].isupper() and text.endswith("."), (rule.id, text)
        assert rule.explanation == f"{rule.rationale} Fix: {rule.fix}"


def test_rules_md_is_generated_from_the_pack() -> None:
    assert (ROOT / "RULES.md").read_text() == rules_markdown(), "RULES.md is stale: run `python scripts/write_rules_md.py`"
    for rule_id in PINNED_IDS:
        assert f"| `{rule_id}` |" in rules_markdown()


def test_pack_is_a_public_name() -> None:
    assert stable_fargate.StableFargateChecks is StableFargateChecks
    assert StableFargateChecks().name == "StableFargateChecks"


def test_a_rule_that_raises_is_not_applicable_and_recorded() -> None:
    def broken(resource: Any) -> NagRuleCompliance:
        raise KeyError("surprise")

    spec = RULES_BY_ID["SF-QUEUE1"].__class__(**{**RULES_BY_ID["SF-QUEUE1"].__dict__, "module": SimpleNamespace(check=broken)})
    resource = app_from_templates({"S": {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}}).stacks[0].resources["Q"]
    problems: list[str] = []
    assert verdict(spec, resource, problems) == NagRuleCompliance.NOT_APPLICABLE
    assert problems == ["SF-QUEUE1 on Resource(S/Q AWS::SQS::Queue): KeyError: 'surprise'"]


PROPERTY_NAMES = [
    "DeploymentConfiguration", "LoadBalancers", "TaskDefinition", "DesiredCount", "HealthCheckGracePeriodSeconds",
    "CapacityProviderStrategy", "Cluster", "ContainerDefinitions", "Cpu", "Memory", "RequiresCompatibilities",
    "TaskRoleArn", "TargetType", "TargetGroupAttributes", "HealthCheckIntervalSeconds", "HealthyThresholdCount",
    "ResourceId", "ScalableDimension", "ServiceNamespace", "MaxCapacity", "MinCapacity", "ScalingTargetId",
    "TargetTrackingScalingPolicyConfiguration", "AlarmActions", "Metrics", "MetricName", "Namespace", "Dimensions",
    "Period", "RedrivePolicy", "VisibilityTimeout", "ImageTagMutability", "ImageScanningConfiguration",
    "LifecyclePolicy", "KmsMasterKeyId", "Topics", "PolicyDocument", "KeyPolicy", "RepositoryName",
]
"""Properties the rules read."""


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10_000) | st.text(max_size=12)
    | st.sampled_from(["FARGATE", "FARGATE_SPOT", "ip", "ecs", "AWS/SQS", "ECSServiceAverageCPUUtilization", "{}"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::ImportValue", "Fn::GetStackOutput",
                                       "Name", "Value", "Key", "Enable", "Rollback", "Base", "Weight", "CapacityProvider",
                                       "Statement", "Effect", "Action", "Principal", "Resource", "rules", "selection"]),
                      inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60)
@given(data=st.data())
def test_no_rule_raises_on_any_template(data: st.DataObject) -> None:
    """Odd shapes, intrinsics everywhere: every rule answers, none raises."""
    resources: dict[str, Any] = {}
    for index, rule in enumerate(RULES):
        for resource_type in rule.resource_types:
            keys = data.draw(st.lists(st.sampled_from(PROPERTY_NAMES) | st.text(min_size=1, max_size=30), max_size=8), label="keys")
            properties = {key: data.draw(JSON, label=key) for key in keys}
            resources[f"R{index}{len(resources)}"] = {"Type": resource_type, "Properties": properties}
    stack = app_from_templates({"S": {"Resources": resources}}).stacks[0]
    for rule in RULES:
        for resource in stack.resources.values():
            if resource.type in rule.resource_types:
                assert rule.check(resource) in set(NagRuleCompliance)


def test_no_rule_raises_on_real_property_names() -> None:
    """The property names the rules read, given values of every wrong kind."""
    wrong_values: list[Any] = [None, 0, "x", [], {}, [{}], {"Ref": "P"}, {"Fn::GetAtt": "Nope.Arn"}, {"Fn::If": ["c", 1, 2]}]
    types = sorted({t for rule in RULES for t in rule.resource_types})
    for value in wrong_values:
        resources = {f"R{i}": {"Type": t, "Properties": dict.fromkeys(PROPERTY_NAMES, value)} for i, t in enumerate(types)}
        stack = app_from_templates({"S": {"Resources": resources}}).stacks[0]
        for rule in RULES:
            for resource in stack.resources.values():
                if resource.type in rule.resource_types:
                    assert rule.check(resource) in set(NagRuleCompliance), (rule.id, value)


def test_a_finding_acknowledged_on_its_construct_passes_synth(tmp_path: Path) -> None:
    """End to end, as an app runs it: the plugin fails synth; an acknowledgement with a reason,
    on the resource, lets it pass (the Python struct form)."""
    app = make_app(tmp_path / "failing", context={})
    builders.queue(Stack(app, "Queues"))
    findings, succeeded = synth_with_plugin(app, tmp_path / "failing")
    assert not succeeded and findings.by_rule == {"SF-QUEUE1": {"Queues/Queue"}}

    app = make_app(tmp_path / "acknowledged", context={})
    queue = builders.queue(Stack(app, "Queues"))
    Validations.of(queue).acknowledge(Acknowledgment(id="SF-QUEUE1", reason="A replay queue, drained by hand."))
    findings, succeeded = synth_with_plugin(app, tmp_path / "acknowledged")
    assert succeeded and findings.by_rule == {}


def test_verbose_findings_carry_the_fix(tmp_path: Path) -> None:
    app = make_app(tmp_path, context={})
    builders.queue(Stack(app, "Queues"))
    app.synth()
    (violation,) = StableFargateChecks(verbose=True).validate_scope(app).violations
    assert violation.description == f"{RULES_BY_ID['SF-QUEUE1'].info} {RULES_BY_ID['SF-QUEUE1'].explanation}"


def test_without_templates_the_pack_says_how_to_run_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, context={})
    builders.queue(Stack(app, "Queues"))
    pack = StableFargateChecks()
    assert pack.validate_scope(app).violations == []  # called before synth: nothing on disk yet
    assert len(pack.problems) == 1 and "run the pack as a validation plugin" in pack.problems[0]


def test_a_second_walk_reads_the_templates_again(tmp_path: Path) -> None:
    """The pack keeps what it read for one walk only: checking the app again (another synth)
    reads the templates on disk anew, not the first walk's."""
    app = make_app(tmp_path, context={})
    stack = Stack(app, "Queues")
    builders.queue(stack)
    app.synth()
    pack = StableFargateChecks()
    assert [v.rule_name for v in pack.validate_scope(app).violations] == ["SF-QUEUE1"]
    path = tmp_path / stack.template_file
    template = json.loads(path.read_text())
    (queue,) = template["Resources"].values()
    template["Resources"]["DeadLetters"] = {"Type": "AWS::SQS::Queue"}
    queue.setdefault("Properties", {})["RedrivePolicy"] = {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]}, "maxReceiveCount": 5,
    }
    path.write_text(json.dumps(template))
    assert pack.validate_scope(app).violations == []


def test_every_rule_module_imports_alone() -> None:
    for rule in RULES:
        assert importlib.import_module(rule.module.__name__) is rule.module
