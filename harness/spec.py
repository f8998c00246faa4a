"""Load scenario and drill files; every problem names `file:line:col: field: message`.

The models live in `spec_scenario`, `spec_drill` and `spec_steps`; this module reads the
YAML (keeping positions), validates, and maps each pydantic error back to its line. It never
lets a traceback out for bad input: unreadable files, YAML syntax, wrong types and unknown
keys all become `Problem`s, and `load_*` raise them together as one `SpecError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from harness.builtin import BUILTIN_PREFIX, resolve_builtin
from harness.errors import ComposeError, Problem, SpecError
from harness.spec_base import DEFAULT_COMPOSE_FILE, Issues, SpecModel
from harness.spec_drill import Drill, Load, ShopMix, Targets, Team
from harness.spec_hints import closest, key_hint, value_hint
from harness.spec_scenario import (
    AlertRule,
    ChangeRef,
    Config,
    CpuHogFault,
    DecoyChange,
    Fault,
    FdLimitFault,
    HealthWindow,
    LinkDownFault,
    PauseFault,
    Release,
    RestartFault,
    Rollout,
    RolloutFault,
    Safety,
    Scenario,
    Script,
    SignalFault,
    Stack,
    ToxicFault,
    Truth,
)
from harness.spec_steps import (
    STEP_MODELS,
    Ack,
    Act,
    AssignRole,
    Declare,
    Escalate,
    Note,
    Pause,
    Resolve,
    ResponderStep,
    Scope,
    Step,
    Suspect,
    Update,
    WaitFor,
)
from harness.stack.compose import load_compose
from harness.stack.roles import stack_role_issues
from harness.yamlsrc import FieldPath, YamlSource, load_yaml, path_in, said

__all__ = [
    "STEP_MODELS",
    "Ack",
    "Act",
    "AlertRule",
    "AssignRole",
    "ChangeRef",
    "Config",
    "CpuHogFault",
    "Declare",
    "DecoyChange",
    "Drill",
    "Escalate",
    "Fault",
    "FdLimitFault",
    "HealthWindow",
    "LinkDownFault",
    "Load",
    "Note",
    "Pause",
    "PauseFault",
    "Release",
    "Resolve",
    "ResponderStep",
    "RestartFault",
    "Rollout",
    "RolloutFault",
    "Safety",
    "Scenario",
    "Scope",
    "Script",
    "ShopMix",
    "SignalFault",
    "Stack",
    "Step",
    "Suspect",
    "Targets",
    "Team",
    "ToxicFault",
    "Truth",
    "Update",
    "WaitFor",
    "load_drill",
    "load_scenario",
    "validate_paths",
    "validation_warnings",
]

M = TypeVar("M", bound=SpecModel)
Checked = tuple[M | None, list[Problem]]

# Keys whose value pydantic inserts into error locations for a tagged union (`faults.0.rollout`).
_TAG_KEYS = ("type", "kind")
_PLAIN_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "dict_type": "expected a mapping",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
}


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in `path`; raises SpecError listing every problem."""
    return _or_raise(_check_scenario(load_yaml(path, SpecError)))


def load_drill(path: str | Path) -> Drill:
    """The drill in `path` with its scenario (a path relative to the drill) loaded into it."""
    return _or_raise(_check_drill(load_yaml(path, SpecError)))


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Every problem of every file (scenarios and drills, told apart by `kind`), deduplicated."""
    problems: dict[Problem, None] = {}  # a scenario named directly and by a drill reports once
    for path in paths:
        problems.update(dict.fromkeys(_check_file(Path(path))))
    return list(problems)


def validation_warnings(paths: Iterable[str | Path]) -> list[Problem]:
    """What is valid but likely wrong, for files that passed `validate_paths`."""
    warnings: list[Problem] = []
    for path in paths:
        source = load_yaml(Path(path), SpecError)
        if not isinstance(source.data, dict) or source.data.get("kind") != "drill":
            continue
        drill, _ = _check_drill(source)
        if drill is not None:
            warnings += [*_load_paths_warning(source, drill), *_paged_target_warnings(source, drill)]
    return warnings


def _load_paths_warning(source: YamlSource, drill: Drill) -> list[Problem]:
    """A stack that is not the sample shop with no `load.paths`: its load would GET the shop's
    URLs and draw 404s, so the steady state fails and nothing is injected."""
    if drill.scenario.stack.compose_file == DEFAULT_COMPOSE_FILE or drill.load.paths:
        return []
    return [source.problem(("load",), "the stack is not the sample shop but `load.paths` is not set: the load "
                           "would request the shop's URLs; list your stack's paths, e.g. `paths: {\"/\": 1}`")]


PAGED_TARGETS: Final = ("ack_s", "declare_s", "first_update_s")  # steps a team takes once it is paged


def _paged_target_warnings(source: YamlSource, drill: Drill) -> list[Problem]:
    """Targets are seconds from the fault: a step that follows the page with a target shorter than
    detect_s is missed by a team that acts at once on an alert the drill itself calls on time."""
    detect = drill.targets.detect_s
    if detect is None:
        return []
    return [source.problem(("targets", key), f"{key} ({value:g} s) is shorter than detect_s ({detect:g} s): "
                           f"a team paged at {detect:g} s, on time, would miss it however fast it was; targets "
                           "count from the fault, so make it at least detect_s")
            for key in PAGED_TARGETS if (value := getattr(drill.targets, key)) is not None and value < detect]


def _check_file(path: Path) -> list[Problem]:
    try:
        source = load_yaml(path, SpecError)
    except SpecError as exc:
        return list(exc.problems)
    data = source.data
    if not isinstance(data, dict):
        return [source.problem((), "expected a mapping with `kind: scenario` or `kind: drill`")]
    checkers = {"scenario": _check_scenario, "drill": _check_drill}
    kind = data.get("kind")
    if "kind" not in data:
        return [source.problem(("kind",), "required: scenario or drill")]
    if not isinstance(kind, str) or kind not in checkers:
        return [source.problem(("kind",), f"expected scenario or drill, not {kind!r}")]
    return checkers[kind](source)[1]


def _check_scenario(source: YamlSource) -> Checked[Scenario]:
    scenario, problems = _validate(source, Scenario, source.data)
    if scenario is None:
        return None, problems
    return scenario, _stack_problems(source, scenario)


def _stack_problems(source: YamlSource, scenario: Scenario) -> list[Problem]:
    """The compose file's own problems (at its lines), then each role naming no service of it."""
    try:
        project = load_compose(scenario.stack.compose_file, allocate=False)
    except ComposeError as exc:
        return list(exc.problems)
    return [source.problem(where, message) for where, message in stack_role_issues(scenario, project)]


def _check_drill(source: YamlSource) -> Checked[Drill]:
    data = source.data
    if not isinstance(data, dict) or "scenario" not in data:
        return _validate(source, Drill, data)
    fields = dict(data)
    scenario, problems = _scenario_of_drill(source, data["scenario"])
    if scenario is None:
        del fields["scenario"]  # already reported; still check the rest of the drill
    else:
        fields["scenario"] = scenario
    drill, own = _validate(source, Drill, fields)
    if scenario is None:
        own = [p for p in own if p.field != "scenario"]
    return drill, own + problems


def _scenario_of_drill(source: YamlSource, written: Any) -> Checked[Scenario]:
    if not isinstance(written, str) or not written.strip():
        return None, [source.problem(("scenario",), "expected the path of a scenario file, or builtin:NAME")]
    if written.startswith(BUILTIN_PREFIX):
        try:
            path = resolve_builtin(written, "scenario")
        except ValueError as exc:
            return None, [source.problem(("scenario",), str(exc))]
    else:
        path = Path(os.path.normpath(source.path.parent / written))
    try:
        path.stat()  # a FIFO or a device is there: load_yaml refuses it, naming it
    except FileNotFoundError:
        return None, [source.problem(("scenario",), f"no such file: {path}")]
    except (OSError, ValueError) as exc:  # a name too long, a symlink loop, a NUL byte
        why = getattr(exc, "strerror", None) or exc
        return None, [source.problem(("scenario",), f"cannot read {str(path)!r}: {why}")]
    try:
        scenario_source = load_yaml(path, SpecError)
    except SpecError as exc:
        return None, list(exc.problems)
    return _check_scenario(scenario_source)


def _validate(source: YamlSource, model: type[M], data: Any) -> Checked[M]:
    try:
        return model.model_validate(data, context={"base_dir": source.path.parent}), []
    except ValidationError as exc:
        errors = _without_echoes(exc.errors(include_url=False))
        problems = [p for error in errors for p in _problems(source, error, model)]
        problems += _across_fields(source, model, data, errors)
        return None, sorted(dict.fromkeys(problems), key=lambda p: (p.line or 0, p.column or 0))  # top to bottom


def _across_fields(source: YamlSource, model: type[M], data: Any, errors: list[ErrorDetails]) -> list[Problem]:
    """The checks comparing fields (the model's own validator), which pydantic skips once a field
    fails: run again without the failing fields when each has a default, so one pass reports
    all. A check that needs a required field that failed still waits for it to be fixed."""
    failed = {str(error["loc"][0]) for error in errors if error["loc"]}
    fields = model.model_fields
    if not isinstance(data, dict) or not failed or any(name not in fields or fields[name].is_required()
                                                       for name in failed):
        return []
    try:
        model.model_validate({k: v for k, v in data.items() if k not in failed},
                             context={"base_dir": source.path.parent})
    except ValidationError as exc:
        again = _without_echoes(exc.errors(include_url=False))
        return [p for error in again for p in _problems(source, error, model)
                if not any(p.field == name or p.field.startswith((f"{name}.", f"{name}[")) for name in failed)]
    return []


def _without_echoes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    # A list whose only item failed is also reported "too short"; the item's error says it all.
    def echoes(error: ErrorDetails) -> bool:
        loc = error["loc"]
        return error["type"] == "too_short" and any(
            other["loc"][: len(loc)] == loc and len(other["loc"]) > len(loc) for other in errors)
    return [error for error in errors if not echoes(error)]


def _or_raise(checked: Checked[M]) -> M:
    value, problems = checked
    if problems or value is None:
        raise SpecError(problems)
    return value


def _problems(source: YamlSource, error: ErrorDetails, root: type[SpecModel]) -> list[Problem]:
    where = _yaml_path(source.data, error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, Issues):
        return [source.problem((*where, *sub), message) for sub, message in cause.issues]
    where, message = _explain(error, where)
    if error["type"] == "extra_forbidden" and where:
        message += key_hint(root, str(where[-1]), _node_at(source.data, where[:-1]))
    return [source.problem(where, message)]


def _node_at(data: Any, where: FieldPath) -> Any:
    for item in where:
        try:
            data = data[item]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _explain(error: ErrorDetails, where: FieldPath) -> tuple[FieldPath, str]:
    """Pydantic's message, reworded where it speaks Python rather than YAML."""
    ctx = error.get("ctx", {})
    if error["type"] in _PLAIN_MESSAGES:
        return where, _PLAIN_MESSAGES[error["type"]]
    if error["type"] == "literal_error":
        return where, said(error["type"], error["msg"], error.get("input")) + value_hint(
            error.get("input"), str(ctx.get("expected", "")))
    if error["type"] == "string_too_short" and ctx.get("min_length") == 1:
        return where, "must not be empty"
    if error["type"] == "too_short":
        return where, f"needs at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    # A string discriminator shows as "'type'"; the responder's callable as "_step_name()".
    tag_key = str(ctx.get("discriminator", "")).strip("'") if error["type"].startswith("union_tag") else ""
    if error["type"] == "union_tag_not_found":
        if tag_key.endswith("()"):
            return where, f"expected a one-key mapping naming a step ({', '.join(STEP_MODELS)})"
        return (*where, tag_key), "required"
    if error["type"] == "union_tag_invalid":
        if tag_key.endswith("()"):
            match = closest(str(ctx["tag"]), STEP_MODELS)
            hint = f"; did you mean {match!r}?" if match else ""
            return where, f"unknown step {ctx['tag']!r}; steps: {', '.join(STEP_MODELS)}{hint}"
        hint = value_hint(ctx["tag"], str(ctx["expected_tags"]))
        return (*where, tag_key), f"unknown {tag_key} {ctx['tag']!r}; expected one of: {ctx['expected_tags']}{hint}"
    return where, said(error["type"], error["msg"], error.get("input"))


def _yaml_path(data: Any, loc: tuple[int | str, ...]) -> FieldPath:
    """Pydantic's error location as a path in the file; a tagged union's tag value is dropped too
    (once per mapping: `faults.0.toxic.toxic` is the tag `type: toxic`, then the field `toxic`)."""
    tagged: set[int] = set()

    def is_tag(node: Any, item: int | str) -> bool:
        if isinstance(node, dict) and id(node) not in tagged and any(node.get(key) == item for key in _TAG_KEYS):
            tagged.add(id(node))
            return True
        return False

    return path_in(data, loc, is_tag)
