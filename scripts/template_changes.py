#!/usr/bin/env python3
"""What a version does to deployed stacks: the sample app's snapshots at a git revision against
the working tree's, per stack, as CloudFormation would apply them.

For every resource: added, removed, replaced (a property CloudFormation can only set at
creation changed: its type's ``createOnlyProperties`` in the CloudFormation registry schemas
that cfn-lint ships) or updated in place. Replacements and removals of stateful types are
flagged: they lose data unless the resource is retained. Used to write CHANGELOG.md:

    python scripts/template_changes.py v0.1.0
"""

from __future__ import annotations

import argparse
import json
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = "tests/__snapshots__/test_snapshots"
SCHEMA_REGION = "eu-west-2"
"""The registry schemas of the sample app's region."""

STATEFUL_TYPES = frozenset({
    "AWS::ECR::Repository", "AWS::KMS::Key", "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster", "AWS::SecretsManager::Secret", "AWS::S3::Bucket",
})
"""Types whose replacement or removal loses data (messages, images, logs, keys, rows)."""


@cache
def _schemas() -> dict[str, str]:
    providers = resources.files("cfnlint.data.schemas.providers").joinpath(f"{SCHEMA_REGION}.json")
    loaded: dict[str, str] = json.loads(providers.read_text())
    return loaded


@cache
def create_only(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The property paths of ``resource_type`` that only a replacement can change."""
    digest = _schemas().get(resource_type)
    if digest is None:
        return ()
    schema = json.loads(resources.files("cfnlint.data.schemas.resources").joinpath(f"{digest}.json").read_text())
    return tuple(tuple(p.removeprefix("/properties/").split("/")) for p in schema.get("createOnlyProperties", ()))


def _at(properties: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = properties
    for part in path:
        if part == "*" or not isinstance(value, dict):
            return value
        value = value.get(part)
    return value


def _snapshot_files(revision: str | None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if revision is None:
        for path in sorted((ROOT / SNAPSHOTS).glob("*.json")):
            found[path.stem] = json.loads(path.read_text())
        return found
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:{SNAPSHOTS}"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in names:
        text = subprocess.run(["git", "show", f"{revision}:{SNAPSHOTS}/{name}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        found[Path(name).stem] = json.loads(text)
    return found


def _stack_name(stem: str) -> str:
    return stem.split("[", 1)[-1].rstrip("]")


def _resources(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    data = snapshot.get("data", snapshot) if isinstance(snapshot, dict) else {}
    found: dict[str, dict[str, Any]] = data.get("Resources", {})
    return found


def compare(base: dict[str, Any], head: dict[str, Any]) -> dict[str, list[str]]:
    old, new = _resources(base), _resources(head)
    changes: dict[str, list[str]] = {"added": [], "removed": [], "replaced": [], "updated": []}
    for logical_id in sorted(set(old) | set(new)):
        before, after = old.get(logical_id), new.get(logical_id)
        if before is None and after is not None:
            changes["added"].append(f"{logical_id} ({after['Type']})")
        elif after is None and before is not None:
            changes["removed"].append(f"{logical_id} ({before['Type']}){_loses(before)}")
        elif before != after and before is not None and after is not None:
            props_before, props_after = before.get("Properties", {}), after.get("Properties", {})
            paths = create_only(after["Type"])
            replaced = before["Type"] != after["Type"] or any(_at(props_before, p) != _at(props_after, p) for p in paths)
            if replaced:
                changes["replaced"].append(f"{logical_id} ({after['Type']}){_loses(before)}")
            else:
                keys = sorted({k for k in set(props_before) | set(props_after) if props_before.get(k) != props_after.get(k)}
                              | {k for k in set(before) | set(after) if k != "Properties" and before.get(k) != after.get(k)})
                changes["updated"].append(f"{logical_id} ({after['Type']}: {', '.join(keys)})")
    return changes


def _loses(resource: dict[str, Any]) -> str:
    if resource["Type"] not in STATEFUL_TYPES:
        return ""
    if resource.get("DeletionPolicy") in {"Retain", "RetainExceptOnCreate", "Snapshot"}:
        return " [stateful, retained]"
    return " [stateful: data is lost]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the git revision to compare against (a tag or commit)")
    parser.add_argument("--stacks", default="prod-", help="stack snapshots whose name starts with this (default: prod-)")
    args = parser.parse_args()
    base, head = _snapshot_files(args.base), _snapshot_files(None)
    for stem in sorted(set(base) | set(head)):
        stack = _stack_name(stem)
        if not stack.startswith(args.stacks) and not stack.startswith("tooling"):
            continue
        changes = compare(base.get(stem, {}), head.get(stem, {}))
        print(f"## {stack}")
        for kind, lines in changes.items():
            if lines:
                print(f"- {kind} ({len(lines)}): " + "; ".join(lines))


if __name__ == "__main__":
    main()
