"""The pack on the sample app, synthesized by the session fixture with AwsSolutions and PCI
DSS 3.2.1 as validation plugins (synth raises on any of their findings).

The pack is not wired into stacks/app.py yet, so this test is where the sample app proves it
passes all three packs with zero unacknowledged findings. Before issue 8 the pack found 17
(SF-ALARM1 on the alarm topics, SF-ALARM3 on the DLQ and failed-run alarms, SF-HEALTH5 on the
API service, SF-IMG5 on the release repositories, SF-SCALE4 on the dev and staging workers);
issue 8's fixes removed every one of them.
"""

from __future__ import annotations

from stable_fargate import StableFargateChecks
from tests.conftest import SampleApp


def test_the_sample_app_passes_the_pack(sample_app: SampleApp) -> None:
    pack = StableFargateChecks()
    report = pack.validate_scope(sample_app.app)
    assert pack.problems == []
    assert {v.rule_name: [r.construct_path for r in v.violating_resources] for v in report.violations} == {}
