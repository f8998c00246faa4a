"""Building blocks shared by the scenario and drill models: the base model, field types, issues.

Numbers are strict (YAML `true` is not a count, `"5"` is not a duration), finite (`.inf` and
`.nan` are refused: an infinite lease is no lease) and bounded, and every model is frozen and
refuses unknown keys, so a typo in a drill file is an error, never a silent default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo

from harness.builtin import builtin_dir
from harness.spec_hints import closest
from harness.yamlsrc import FieldPath, dotted

REPO_ROOT = Path(__file__).resolve().parents[1]  # a clone's root
DEFAULT_COMPOSE_FILE = builtin_dir("compose") / "shop.yml"  # the sample shop, in a clone or installed

Issue = tuple[FieldPath, str]


class SpecModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False, allow_inf_nan=False)


class Issues(ValueError):
    """Several located problems found by one model validator.

    Each path is relative to the model that raised; the loader prefixes the model's own
    location, so `faults[0].canary` still points at its line in the file.
    """

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{dotted(where)}: {message}" for where, message in issues))


def raise_issues(issues: list[Issue]) -> None:
    if issues:
        raise Issues(issues)


_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(f"{value!r} must be lowercase letters, digits, '.', '_' or '-'")
    return value


def _version(value: str) -> str:
    # Mirrors the control plane's rule, so a bad version fails here and not mid-drill.
    if len(value) > 64 or any(c.isspace() or c == "/" for c in value):
        raise ValueError(f"{value!r}: a version has at most 64 characters, no spaces and no '/'")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(min_length=1), AfterValidator(_slug)]
NodeName = Slug
# The team's toolkit, each action with the stack role it works through (None: any stack).
# harness.actions registers exactly these and refuses any other name; they are named here so a
# file is checked without importing the toolkit and the faults behind it.
CONTROL_PLANE: Final = "control_plane"
BALANCER: Final = "balancer"
TOOLKIT_ACTIONS: Final[Mapping[str, str | None]] = {
    "flag-off": CONTROL_PLANE, "flag-on": CONTROL_PLANE, "isolate": BALANCER, "kill-hung-workers": None,
    "pause-rollout": CONTROL_PLANE, "restart": None, "restore": BALANCER, "rollback-config": CONTROL_PLANE,
    "rollback-release": CONTROL_PLANE, "rollback-script": CONTROL_PLANE,
}


def _toolkit_action(value: str) -> str:
    if value not in TOOLKIT_ACTIONS:
        match = closest(value, TOOLKIT_ACTIONS)
        hint = f"; did you mean {match!r}?" if match else ""
        raise ValueError(f"unknown action {value!r}; actions: {', '.join(TOOLKIT_ACTIONS)}{hint}")
    return value


ActionName = Annotated[str, StringConstraints(min_length=1), AfterValidator(_toolkit_action)]
Person = Text
Version = Annotated[str, StringConstraints(min_length=1), AfterValidator(_version)]
MAX_SECONDS = 7 * 24 * 3600  # no drill schedule, target or window is longer than a week
Count = Annotated[int, Field(strict=True, ge=0)]
Seconds = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]
PositiveSeconds = Annotated[float, Field(strict=True, gt=0, le=MAX_SECONDS)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=1)]


def resolve_path(value: Path, info: ValidationInfo, must_exist: bool = True) -> Path:
    """`value` relative to the file being loaded (the loader passes `base_dir` as context)."""
    context: dict[str, Any] = info.context or {}
    base_dir = context.get("base_dir")
    if base_dir is None:  # built in code, not loaded from a file: nothing to be relative to
        return value
    if "\0" in str(value):
        raise ValueError(f"{str(value)!r} holds a NUL byte: not a path")
    resolved = Path(os.path.normpath(Path(base_dir) / value))
    try:
        exists = resolved.exists()
    except OSError as exc:  # a name too long, a symlink loop...
        raise ValueError(f"cannot use {resolved}: {exc.strerror}") from None
    if must_exist and not exists:
        raise ValueError(f"no such file: {resolved}")
    return resolved


def duplicates(values: tuple[str, ...]) -> list[int]:
    """Indexes of values already seen earlier in `values`."""
    seen: set[str] = set()
    repeated = []
    for index, value in enumerate(values):
        if value in seen:
            repeated.append(index)
        seen.add(value)
    return repeated
