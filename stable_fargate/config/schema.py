"""The JSON Schema of cdk.json with a typed ``context.stable_fargate``, generated from the
models and shipped beside them (``cdk-json.schema.json``), so an editor checks cdk.json as it
is written.

Regenerate with ``make schema`` (``python -m stable_fargate.config.schema``); a test fails when
the committed file differs from the models.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from stable_fargate.config.models import EnvironmentSpec, StableFargateBlock

SCHEMA_FILE: Final = Path(__file__).with_name("cdk-json.schema.json")
SCHEMA_ID: Final = "https://stable-fargate.invalid/cdk-json.schema.json"
"""A stable identifier for the schema (``.invalid``: it names the schema, nothing is fetched)."""


def stable_fargate_schema() -> dict[str, Any]:
    """The schema of the block, environments typed as :class:`EnvironmentSpec` reads them."""
    block = StableFargateBlock.model_json_schema(ref_template="#/$defs/{model}")
    environment = EnvironmentSpec.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = {**block.pop("$defs", {}), **environment.pop("$defs", {})}
    defs["EnvironmentSpec"] = environment
    environments = block["properties"]["environments"]
    environments.pop("patternProperties", None)
    environments["additionalProperties"] = {"$ref": "#/$defs/EnvironmentSpec"}
    block["$defs"] = dict(sorted(defs.items()))
    friendly: dict[str, Any] = _editor_friendly(block)
    return friendly


def _editor_friendly(node: Any) -> Any:
    """pydantic writes a map with constrained keys as ``patternProperties`` (keys that do not
    match are then unchecked) and a minimum size as ``minLength``; editors need
    ``propertyNames`` + ``additionalProperties``, and ``minProperties``/``minItems``."""
    if isinstance(node, list):
        return [_editor_friendly(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _editor_friendly(value) for key, value in node.items()}
    patterns = node.get("patternProperties")
    if node.get("type") == "object" and isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
        ((pattern, values),) = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {"pattern": pattern}
        node["additionalProperties"] = values
    if node.get("type") in ("object", "array") and "minLength" in node:
        node["minProperties" if node["type"] == "object" else "minItems"] = node.pop("minLength")
    return node


def cdk_json_schema() -> dict[str, Any]:
    """The whole of cdk.json: the CDK's own keys free, ``context.stable_fargate`` typed."""
    block = stable_fargate_schema()
    defs = block.pop("$defs")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cdk.json with a stable_fargate block",
        "description": "cdk.json of an app built on stable_fargate. Generated from stable_fargate.config.models; do not edit.",
        "type": "object",
        "properties": {
            "context": {
                "type": "object",
                "properties": {"stable_fargate": {"$ref": "#/$defs/StableFargateBlock"}},
                "required": ["stable_fargate"],
            },
        },
        "$defs": {**defs, "StableFargateBlock": copy.deepcopy(block)},
    }


def render() -> str:
    return json.dumps(cdk_json_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema file; with ``--check``, only report whether it is current."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if args == ["--check"]:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE.name} is out of date: run `make schema`.", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
