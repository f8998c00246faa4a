"""Build the backend a run asks for, from a compose file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from harness.builtin import builtin_dir
from harness.errors import StackError
from harness.stack.base import StackBackend
from harness.stack.compose import load_compose
from harness.stack.compose_model import ComposeProject
from harness.stack.local import LocalBackend

SHOP_COMPOSE = builtin_dir("compose") / "shop.yml"  # the sample shop, in a clone or installed


def _docker_backend(project: ComposeProject, workdir: Path, run_id: str) -> StackBackend:
    from harness.stack.docker import DockerBackend  # the Docker SDK loads only when a run asks for it

    return DockerBackend(project, workdir, run_id)


# name -> constructor from (project, workdir, run_id); none touches anything until up().
BACKENDS: dict[str, Callable[[ComposeProject, Path, str], StackBackend]] = {
    "local": LocalBackend,      # local process groups: no Docker needed
    "docker": _docker_backend,  # containers, through the Compose CLI and the Docker SDK
}


def backend_for(project: ComposeProject, workdir: Path, run_id: str, backend: str = "local") -> StackBackend:
    """An idle backend for a parsed project; nothing starts until its up()."""
    if backend not in BACKENDS:
        raise StackError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[backend](project, workdir, run_id)


def _adopt_docker(project: ComposeProject, workdir: Path, run_id: str, may_be_down: frozenset[str]) -> StackBackend:
    from harness.stack.docker import DockerBackend

    return DockerBackend.adopt(project, workdir, run_id, may_be_down=may_be_down)


# name -> how to take over the stack a dead harness left running (see `gamedrill run --resume`).
ADOPTERS: dict[str, Callable[[ComposeProject, Path, str, frozenset[str]], StackBackend]] = {
    "local": LocalBackend.adopt,
    "docker": _adopt_docker,
}


def adopt_backend(project: ComposeProject, workdir: Path, run_id: str, backend: str,
                  may_be_down: frozenset[str] = frozenset()) -> StackBackend:
    """The backend of a running stack, from the run directory's stack.json. Services in
    `may_be_down` may be stopped (a live fault killed them); any other one gone refuses it."""
    if backend not in ADOPTERS:
        raise StackError(f"unknown backend {backend!r}; available: {', '.join(ADOPTERS)}")
    return ADOPTERS[backend](project, workdir, run_id, may_be_down)


def open_backend(compose_path: Path, workdir: Path, run_id: str, backend: str = "local",
                 overrides: Mapping[str, str] | None = None) -> StackBackend:
    """Parse the compose file (nothing starts if it is bad) and return an idle backend."""
    return backend_for(load_compose(compose_path, overrides), workdir, run_id, backend)
