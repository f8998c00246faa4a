"""`gamedrill init DIR`: a project to drill your own stack, valid and runnable as written.

The templates (`templates/*.tmpl`) are an example stack of two services behind the fault
proxy, a scenario, a game-day drill, a regression drill, a pytest file and a README, plus
the JSON Schemas the YAML files refer to (`schema/`). The project's name is filled in.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from harness.errors import InputError, Problem

__all__ = ["ScaffoldError", "scaffold"]

_TEMPLATES = Path(str(files("harness.scaffold") / "templates"))
_SUFFIX = ".tmpl"


class ScaffoldError(InputError):
    """The directory cannot take the scaffold (a file is in the way, it is not a directory)."""


def _project_name(directory: Path) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")
    return slug or "mystack"


def _templates() -> list[Path]:
    return sorted(path for path in _TEMPLATES.rglob(f"*{_SUFFIX}") if path.is_file())


def scaffold(directory: Path, force: bool = False) -> list[Path]:
    """Write the project into `directory` (created if missing); the files written, in order.

    Refuses, writing nothing, when `directory` is a file, is not empty (unless `force`), or
    already holds one of the files (never overwritten)."""
    from harness.schema import SCHEMA_NAMES, schema_path

    if directory.exists() and not directory.is_dir():
        raise ScaffoldError([Problem(str(directory), None, None, "", "is a file, not a directory")])
    targets = {template: directory / str(template.relative_to(_TEMPLATES)).removesuffix(_SUFFIX)
               for template in _templates()}
    schemas = {schema_path(kind): directory / "schema" / name for kind, name in SCHEMA_NAMES.items()}
    in_the_way = [path for path in (*targets.values(), *schemas.values()) if path.exists()]
    if in_the_way:
        raise ScaffoldError([Problem(str(path), None, None, "", "already exists; nothing was written")
                             for path in in_the_way])
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise ScaffoldError([Problem(str(directory), None, None, "",
                                     "is not empty; nothing was written (--force writes beside what is there)")])
    name = _project_name(directory)
    for template, target in targets.items():
        text = template.read_text(encoding="utf-8")
        _write(target, text.replace("__NAME__", name))
    for shipped, target in schemas.items():
        _write(target, shipped.read_text(encoding="utf-8"))
    return [*targets.values(), *schemas.values()]


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
