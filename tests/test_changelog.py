"""CHANGELOG.md keeps pace with the version, and the script that writes its template sections
tells a replacement from an update as CloudFormation's schemas do."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

import stable_fargate
from tests.conftest import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("template_changes", ROOT / "scripts" / "template_changes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_current_version_has_an_entry_with_template_changes() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, flags=re.MULTILINE)
    assert versions[0] == stable_fargate.__version__, "add a CHANGELOG.md entry for the new version"
    entry = text.split(f"## [{versions[0]}]", 1)[1].split("\n## [", 1)[0]
    assert "### Changes in synthesized templates" in entry


def _queue(**properties: object) -> dict[str, object]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties, "DeletionPolicy": "Delete"}


def test_a_create_only_property_is_a_replacement_and_loses_a_queue() -> None:
    compare = _script().compare
    base = {"Resources": {"Q": _queue(QueueName="imports", VisibilityTimeout=30)}}
    renamed = {"Resources": {"Q": _queue(QueueName="imports-v2", VisibilityTimeout=30)}}
    slower = {"Resources": {"Q": _queue(QueueName="imports", VisibilityTimeout=60)}}
    assert compare(base, renamed)["replaced"] == ["Q (AWS::SQS::Queue) [stateful: data is lost]"]
    assert compare(base, slower)["updated"] == ["Q (AWS::SQS::Queue: VisibilityTimeout)"]
    assert compare(base, slower)["replaced"] == []
    assert compare(base, {"Resources": {}})["removed"] == ["Q (AWS::SQS::Queue) [stateful: data is lost]"]
