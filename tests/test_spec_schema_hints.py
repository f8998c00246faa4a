"""The shipped JSON Schemas match the models and accept every shipped file; near-miss keys,
enum values and tags get a suggestion; `builtin:NAME` resolves from anywhere."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from harness.builtin import builtin_names, resolve_builtin
from harness.errors import SpecError
from harness.schema import SCHEMA_NAMES, json_schema, render, schema_path
from harness.spec import load_drill
from harness.yamlsrc import load_yaml

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(ROOT / "scenarios").glob("*.yaml"), *(ROOT / "drills").rglob("*.yaml")])


@pytest.mark.parametrize("kind", list(SCHEMA_NAMES))
def test_the_shipped_schema_is_the_models_schema(kind: str) -> None:
    assert schema_path(kind).read_text(encoding="utf-8") == render(kind), \
        "the models changed: `python -m harness.schema` writes the schemas again"


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_every_shipped_file_names_its_schema_and_passes_it(path: Path) -> None:
    data = load_yaml(path, SpecError).data
    kind = data["kind"]
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), first
    named = (path.parent / first.split("=", 1)[1]).resolve()
    assert named == schema_path(kind).resolve()
    jsonschema.Draft202012Validator(json_schema(kind)).validate(data)


def test_the_schema_catches_what_the_loader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(json_schema("drill"))
    good = load_yaml(ROOT / "drills" / "demo.yaml", SpecError).data
    assert not list(validator.iter_errors(good))
    for broken in ({**good, "baseline": 5}, {**good, "responder": [{"wiat_for": {"event": "alert"}}]},
                   {**good, "responder": [{"pause": -1}]}, {**good, "scenario": 3}):
        assert list(validator.iter_errors(broken)), broken


def test_builtin_names_resolve_and_a_wrong_one_lists_them() -> None:
    assert "hung-workers" in builtin_names("scenario") and "regression/hung-workers" in builtin_names("drill")
    assert resolve_builtin("builtin:hung-workers", "scenario") == ROOT / "scenarios" / "hung-workers.yaml"
    with pytest.raises(ValueError, match=r"built-in scenarios: .*hung-workers"):
        resolve_builtin("builtin:hung", "scenario")


def test_a_drill_names_a_builtin_scenario_from_anywhere(tmp_path: Path) -> None:
    drill = tmp_path / "drill.yaml"
    drill.write_text((ROOT / "drills" / "demo.yaml").read_text().replace("../scenarios/hung-workers.yaml",
                                                                          "builtin:hung-workers"))
    assert load_drill(drill).scenario.name == "hung-workers"
    drill.write_text(drill.read_text().replace("builtin:hung-workers", "builtin:hung-worker"))
    with pytest.raises(SpecError) as refused:
        load_drill(drill)
    assert f"{drill}:" in str(refused.value) and "no built-in scenario 'hung-worker'" in str(refused.value)


def test_near_misses_are_named_with_a_suggestion(tmp_path: Path) -> None:
    text = (ROOT / "drills" / "demo.yaml").read_text().replace("../scenarios/", str(ROOT / "scenarios") + "/")
    text = (text.replace("baseline_s: 5", "baselin_s: 5")
            .replace("wait_for: {event: alert, timeout_s: 30}", "wait_for: {event: alrt, timout_s: 30}")
            .replace("  - ack: {by: alice}", "  - ackk: {by: alice}"))
    drill = tmp_path / "drill.yaml"
    drill.write_text(text)
    with pytest.raises(SpecError) as refused:
        load_drill(drill)
    said = str(refused.value)
    assert "baselin_s: unknown key; did you mean 'baseline_s'?" in said
    assert "timout_s: unknown key; did you mean 'timeout_s'?" in said
    assert "got 'alrt'; did you mean 'alert'?" in said
    assert "unknown step 'ackk'" in said and "did you mean 'ack'?" in said
    assert said.count(f"{drill}:") >= 4, "every problem in one pass"
