"""JSON Schemas of scenario and drill files, generated from the pydantic models.

Editors complete and check the YAML while typing with them: every shipped file starts with
`# yaml-language-server: $schema=<relative path>`. The schemas ship beside the files
(`scenarios/scenario.schema.json`, `drills/drill.schema.json`); `python -m harness.schema`
writes them again, and a test fails when they drift from the models.

The models are what the loader validates *after* reading the file, so two places differ
from the YAML and are rewritten here: a drill's `scenario` is a path (or `builtin:NAME`),
and a responder step is a one-key mapping (`- ack: {by: alice}`, `- pause: 5`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.builtin import builtin_dir
from harness.spec import STEP_MODELS, Drill, Scenario

__all__ = ["SCHEMA_NAMES", "json_schema", "render", "schema_path", "write_schemas"]

SCHEMA_NAMES = {"scenario": "scenario.schema.json", "drill": "drill.schema.json"}
_HOMES = {"scenario": "scenarios", "drill": "drills"}
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_path(kind: str) -> Path:
    """Where the shipped schema of `kind` (scenario or drill) lives, in a clone or installed."""
    return builtin_dir(_HOMES[kind]) / SCHEMA_NAMES[kind]


def json_schema(kind: str) -> dict[str, Any]:
    """The schema of a `kind` file, as the YAML is written."""
    if kind == "scenario":
        schema = Scenario.model_json_schema()
        schema["title"], schema["description"] = "gamedrill scenario", "What breaks, the ground truth, the rules."
    else:
        schema = Drill.model_json_schema()
        schema["title"], schema["description"] = "gamedrill drill", "A game day or a regression case."
        schema["properties"]["scenario"] = {
            "type": "string", "minLength": 1,
            "description": "the scenario file, relative to this drill, or builtin:NAME (a shipped scenario)"}
        schema["properties"]["responder"]["items"] = {"oneOf": [_step(name, schema) for name in STEP_MODELS]}
    _prune(schema)
    _drop_machine_paths(schema)
    return {"$schema": _DIALECT, **schema}


def _step(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    model = STEP_MODELS[name]
    body: dict[str, Any] = {"$ref": f"#/$defs/{model.__name__}"}
    if model.shorthand is not None:  # `- pause: 5`: a scalar fills one field
        short = schema["$defs"][model.__name__]["properties"][model.shorthand]
        body = {"anyOf": [body, {key: value for key, value in short.items() if key not in ("title", "default")}]}
    return {"type": "object", "properties": {name: body}, "required": [name], "additionalProperties": False}


def _prune(schema: dict[str, Any]) -> None:
    """Drop the definitions nothing refers to any more (the drill's inlined Scenario)."""
    defs: dict[str, Any] = schema.get("$defs", {})
    used: set[str] = set()
    pending = [{key: value for key, value in schema.items() if key != "$defs"}]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] not in used:
                used.add(ref[8:])
                pending.append(defs[ref[8:]])
            pending += list(node.values())
        elif isinstance(node, list):
            pending += node
    schema["$defs"] = {name: value for name, value in sorted(defs.items()) if name in used}


def _drop_machine_paths(node: Any) -> None:
    """Defaults that are absolute paths (the shipped compose file) name this checkout, not the
    user's: the shipped schema must be the same wherever it is generated."""
    if isinstance(node, dict):
        default = node.get("default")
        if isinstance(default, str) and default.startswith("/"):
            del node["default"]
            node["description"] = (node.get("description", "") + " (default: the sample shop's, shipped)").strip()
        for value in node.values():
            _drop_machine_paths(value)
    elif isinstance(node, list):
        for value in node:
            _drop_machine_paths(value)


def render(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, sort_keys=False) + "\n"


def write_schemas() -> list[Path]:
    written = []
    for kind in SCHEMA_NAMES:
        path = schema_path(kind)
        path.write_text(render(kind), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas():
        sys.stdout.write(f"wrote {path}\n")
