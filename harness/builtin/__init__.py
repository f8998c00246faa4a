"""Where the sample shop, the built-in scenarios and the shipped drills are.

In a clone they are the top-level `compose/`, `scenarios/` and `drills/`; in an installed
package the wheel carries them here, as `harness/builtin/{compose,scenarios,drills}`
(pyproject's force-include). A scenario or drill file may name one by `builtin:NAME`
(`scenario: builtin:hung-workers`), from any directory.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_PREFIX", "builtin_dir", "builtin_names", "resolve_builtin"]

BUILTIN_PREFIX = "builtin:"
_HERE = Path(__file__).resolve().parent
_CLONE = _HERE.parents[1]  # the repository root when running from a clone
_KINDS = {"scenario": "scenarios", "drill": "drills", "compose": "compose"}


def builtin_dir(name: str) -> Path:
    """`compose`, `scenarios` or `drills`: inside the package if installed, else the clone's."""
    installed = _HERE / name
    return installed if installed.is_dir() else _CLONE / name


def builtin_names(kind: str) -> list[str]:
    """The names `builtin:NAME` accepts for `kind` (scenario, drill), sorted."""
    root = builtin_dir(_KINDS[kind])
    return sorted(str(path.relative_to(root).with_suffix("")) for path in root.rglob("*.yaml"))


def resolve_builtin(written: str, kind: str) -> Path:
    """The file `builtin:NAME` names; ValueError listing the known names if there is none."""
    name = written.removeprefix(BUILTIN_PREFIX).strip().removesuffix(".yaml")
    path = builtin_dir(_KINDS[kind]) / f"{name}.yaml"
    known = builtin_names(kind)
    if name not in known:
        raise ValueError(f"no built-in {kind} {name!r}; built-in {kind}s: {', '.join(known)}")
    return path
