"""The synth gate: a validation finding anywhere in the app fails synth.

cdk-nag 3 packs are policy-validation plugins. The CDK CLI's ``cdk synth`` without a stack
selector validates only top-level stacks: findings in stacks inside a ``Stage`` (``Prod/*``)
are written to ``validation-report.json`` but do not fail the command. The gate reads that
report after ``app.synth()`` and raises :class:`~stable_fargate.errors.ConfigError` listing
every finding, so ``cdk synth`` (and ``make synth``) exits non-zero on any of them, in any stage.

Usage in an app (the library's entry point does this for you)::

    assembly = app.synth()
    check_validation_report(assembly.directory)

Nothing here imports aws_cdk: it reads the report only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from stable_fargate.errors import ConfigError

REPORT_FILE = "validation-report.json"
"""Where the CDK writes the policy-validation report, in the cloud assembly's directory."""


@dataclass(frozen=True)
class Finding:
    """One rule that one construct violates, as the validation report states it."""

    plugin: str
    rule: str
    construct_path: str
    description: str


def validation_findings(directory: str | PathLike[str]) -> list[Finding]:
    """Every finding in ``directory``'s validation report (none when no plugin reported)."""
    path = Path(directory) / REPORT_FILE
    if not path.is_file():
        return []
    try:
        report: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(
            "synth gate", REPORT_FILE, str(path), f"The validation report cannot be read ({error}); synthesize again."
        ) from None
    findings: list[Finding] = []
    for plugin in report.get("pluginReports", []) if isinstance(report, dict) else []:
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                findings.append(
                    Finding(
                        plugin=str(plugin.get("pluginName", "?")),
                        rule=str(violation.get("ruleName", "?")),
                        construct_path=str(construct.get("constructPath", "?")),
                        description=str(violation.get("description", "")),
                    )
                )
    return findings


def check_validation_report(directory: str | PathLike[str]) -> None:
    """Raise ConfigError if the app's validation report holds any finding, in any stage."""
    findings = validation_findings(directory)
    if not findings:
        return
    lines = [f"  {f.rule} at {f.construct_path}: {f.description}" for f in findings]
    raise ConfigError(
        "synth gate",
        "validation findings",
        len(findings),
        "Every finding fails synth, in every stage:\n"
        + "\n".join(lines)
        + "\nFix the construct, or acknowledge the finding on the construct it concerns with a reason of its own "
        "(Validations.of(construct).acknowledge(Acknowledgment(id=..., reason=...))).",
    )
