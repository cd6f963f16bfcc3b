"""The pack on the sample app (already synthesized by the session fixture, with AwsSolutions
and PCI DSS clean). It is not yet wired into app.py: today it finds exactly the defects that
issue 8 fixes. Each fix removes its entries here; when none are left, add the pack to
stacks/app.py beside the other two, and every finding will then fail synth."""

from __future__ import annotations

from stable_fargate import StableFargateChecks
from tests.conftest import SampleApp

ENVIRONMENTS = ("Dev", "Staging", "Prod")

KNOWN_UNTIL_ISSUE_8 = {
    # Item 1: the alarm topic's policy (enforce_ssl) replaces SNS's default; nothing lets CloudWatch publish.
    "SF-ALARM1": [f"{env}/Platform/AlarmTopic/Resource" for env in ENVIRONMENTS],
    # Item 2: the release rule (prefix v, keep 30) counts the release candidates (v*-*).
    "SF-IMG5": [f"Registry/{name}/Repository/Resource" for name in ("PortfolioApi", "PortfolioImport", "Reconciliation")],
    # Item 4: DLQ and failed-run alarms on "visible >= 1" page once.
    "SF-ALARM3": [
        f"{env}/Workers/{alarm}/Resource"
        for env in ENVIRONMENTS for alarm in ("PortfolioImport/DeadLetterAlarm", "Reconciliation/FailedRunAlarm")
    ],
    # Item 5: grace 65 s < 45 s warm-up + (2 + 1) x 10 s + 5 s = 80 s.
    "SF-HEALTH5": [f"{env}/Api/PortfolioApi/Service/Service" for env in ENVIRONMENTS],
    # Item 10: dev and staging workers run on Spot with on-demand base 0 and weight 0.
    "SF-SCALE4": [f"{env}/Workers/PortfolioImport/Service/Service" for env in ("Dev", "Staging")],
}


def test_the_sample_app_has_only_the_findings_issue_8_removes(sample_app: SampleApp) -> None:
    pack = StableFargateChecks()
    report = pack.validate_scope(sample_app.app)
    assert pack.problems == []
    found: dict[str, list[str]] = {}
    for violation in report.violations:
        found.setdefault(violation.rule_name, []).extend(r.construct_path for r in violation.violating_resources)
    assert {rule: sorted(paths) for rule, paths in found.items()} == {
        rule: sorted(paths) for rule, paths in KNOWN_UNTIL_ISSUE_8.items()
    }, "a fix of issue 8 landed (remove its entry) or the pack found something new on the sample app"
