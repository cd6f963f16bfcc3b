"""How the rule tests run the pack: build one app of small stacks (a compliant and a
non-compliant stack per rule, cdk-nag's own test shape), synthesize it once, and read the
findings per stack.

``run_pack`` calls the pack on the synthesized tree directly (``validate_scope``, cdk-nag's
entry point for tests); ``synth_with_plugin`` runs it as a validation plugin, as an app
does, and reads validation-report.json (the end-to-end path).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack, Validations

from stable_fargate import StableFargateChecks
from stable_fargate.checks import PACK_NAME
from stable_fargate.checks.pack import PLUGIN_NAME
from stable_fargate.checks.template import Resource, app_from_templates


@dataclass
class Findings:
    """SF findings: rule id -> construct paths of the resources it found."""

    by_rule: dict[str, set[str]] = field(default_factory=dict)

    def rules_in(self, stack_name: str) -> set[str]:
        """Rule ids with a finding on a resource of the stack ``stack_name``."""
        prefix = f"{stack_name}/"
        return {rule for rule, paths in self.by_rule.items() if any(p.startswith(prefix) for p in paths)}

    def as_sorted(self) -> dict[str, list[str]]:
        return {rule: sorted(paths) for rule, paths in sorted(self.by_rule.items())}


def run_pack(app: App) -> Findings:
    """Synthesize ``app`` (no plugins) and run the pack over it; the pack must meet no error."""
    app.synth()
    pack = StableFargateChecks()
    report = pack.validate_scope(app)
    assert pack.problems == []
    findings = Findings()
    for violation in report.violations:
        assert violation.rule_name.startswith(f"{PACK_NAME}-")
        for resource in violation.violating_resources:
            findings.by_rule.setdefault(violation.rule_name, set()).add(resource.construct_path)
    return findings


def synth_with_plugin(app: App, outdir: Path) -> tuple[Findings, bool]:
    """Synthesize with the pack as a validation plugin, as an app does; (findings from
    validation-report.json, whether synth succeeded)."""
    pack = StableFargateChecks(app)
    Validations.of(app).add_plugins(pack)
    try:
        app.synth()
        succeeded = True
    except RuntimeError as error:
        assert "ValidationFailed" in str(error)
        succeeded = False
    assert pack.problems == []
    findings = Findings()
    report_file = outdir / "validation-report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text())
        for plugin in report["pluginReports"]:
            if plugin["pluginName"] != PLUGIN_NAME:
                continue
            for violation in plugin["violations"]:
                for construct in violation["violatingConstructs"]:
                    findings.by_rule.setdefault(violation["ruleName"], set()).add(construct["constructPath"])
    return findings, succeeded


Case = tuple[str, str, bool, Callable[[Stack], None]]
"""(stack name, rule id, whether the rule must find something there, what to build)."""


def build_cases(app: App, cases: Iterable[Case]) -> None:
    for stack_name, _rule, _expected, build in cases:
        build(Stack(app, stack_name))


def case_ids(cases: Iterable[Case]) -> list[str]:
    return [stack_name for stack_name, *_ in cases]


def resource_from(resources: Mapping[str, Mapping[str, Any]], logical_id: str, **other_stacks: Mapping[str, Any]) -> Resource:
    """One resource of an in-memory template (for values a CDK app cannot easily write)."""
    app = app_from_templates({"Main": {"Resources": resources}, **{name: t for name, t in other_stacks.items()}})
    return app.stacks[0].resources[logical_id]
