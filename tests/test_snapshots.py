"""One JSON snapshot per stack per environment: the reviewable safety net.

Reviewers read the diff of tests/__snapshots__/ in a pull request. Templates are normalised
so that a snapshot changes only when the infrastructure does: asset hashes (which change
with the CDK version or a rebuilt bundle, not with the resource) become "<asset-hash>",
and the CDK's own analytics metadata is dropped. Update with `make snapshots`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import SampleApp, template_json

ASSET_HASH = re.compile(r"(?<!sha256:)\b[0-9a-f]{64}\b")
"""An asset hash; an image digest (``sha256:<hex>``) is infrastructure and stays."""


def normalise(template: dict[str, Any]) -> dict[str, Any]:
    """Drop what changes without the infrastructure changing."""
    template = json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template)))
    template.get("Resources", {}).pop("CDKMetadata", None)
    template.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if template.get("Conditions") == {}:
        del template["Conditions"]
    return template


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_stack_matches_its_snapshot(sample_app: SampleApp, snapshot_json: SnapshotAssertion) -> None:
    # Compare every stack before failing, so a reviewer sees each stack that changed, not the first.
    differing = [
        f"{env}-{stack.node.id}"
        for env, stack in sample_app.stacks()
        if not normalise(template_json(stack)) == snapshot_json(name=f"{env}-{stack.node.id}")  # noqa: SIM201 - the snapshot records the == comparison
    ]
    assert differing == [], f"these stacks differ from their snapshots (run `make snapshots` if intended): {differing}"


def test_normalise_keeps_image_digests() -> None:
    image = "100000000000.dkr.ecr.eu-west-2.amazonaws.com/portfolio-api@sha256:" + "cd" * 32
    template = {"Resources": {"Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Image": image}}}}
    assert normalise(template) == template


def test_normalise_only_hides_asset_hashes() -> None:
    digest = "ab" * 32
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": f"{digest}.zip"}, "Timeout": 900}},
            "CDKMetadata": {"Type": "AWS::CDK::Metadata"},
        },
        "Conditions": {"CDKMetadataAvailable": {}},
    }
    assert normalise(template) == {
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "Timeout": 900}}}
    }
