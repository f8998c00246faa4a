"""Build the backend a run asks for, from a compose file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.errors import StackError
from harness.stack.base import StackBackend
from harness.stack.compose import load_compose
from harness.stack.compose_model import ComposeProject
from harness.stack.local import LocalBackend

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOP_COMPOSE = REPO_ROOT / "compose" / "shop.yml"
BACKENDS = ("local",)


def backend_for(project: ComposeProject, workdir: Path, run_id: str, backend: str = "local") -> StackBackend:
    """An idle backend for a parsed project; nothing starts until its up()."""
    if backend not in BACKENDS:
        raise StackError(f"the {backend!r} backend is not available here; available: {', '.join(BACKENDS)}")
    return LocalBackend(project, workdir, run_id)


def open_backend(compose_path: Path, workdir: Path, run_id: str, backend: str = "local",
                 overrides: Mapping[str, str] | None = None) -> StackBackend:
    """Parse the compose file (nothing starts if it is bad) and return an idle backend."""
    return backend_for(load_compose(compose_path, overrides), workdir, run_id, backend)
