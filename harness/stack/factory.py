"""Build the backend a run asks for, from a compose file."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from harness.builtin import builtin_dir
from harness.errors import GamedrillError, RunNotStarted, StackError
from harness.rundir import discard_run_dir
from harness.stack.base import StackBackend
from harness.stack.compose import load_compose
from harness.stack.compose_model import ComposeProject
from harness.stack.local import LocalBackend
from harness.stack.ports import release_ports

log = logging.getLogger(__name__)

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


def up_or_discard(stack: StackBackend, workdir: Path, timeout_s: float = 30.0) -> None:
    """Bring up the stack of a fresh run directory `workdir` (no journal: a smoke check, a test
    fixture), or leave nothing of it. A stack that does not come up has taken itself down; its
    ports are released and `workdir` (its logs only) removed, since nothing happened, and
    RunNotStarted names what failed (the backend's error carries the failing services' log
    tails); a KeyboardInterrupt stays one. If it will not go down, everything stays, for
    `gamedrill cleanup`, and the original error is raised."""
    try:
        stack.up(timeout_s=timeout_s)
    except BaseException as exc:
        try:
            stack.down()  # again: an interrupt may have come just after up() returned
        except Exception:
            log.exception("the stack that did not come up would not go down either; %s is kept", workdir)
            raise exc from None
        release_ports(stack.project.allocated_ports())
        discard_run_dir(workdir)
        if not isinstance(exc, Exception):
            raise
        said = str(exc) if isinstance(exc, GamedrillError) else f"{type(exc).__name__}: {exc}"
        raise RunNotStarted(f"the stack did not come up: {said}\n"
                            f"run {stack.run_id} left nothing behind (no run directory)") from exc
