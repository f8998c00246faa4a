"""Find and remove what earlier runs left behind: every process that carries a run's id,
and the containers of the run's compose project.

Each process gamedrill starts (stack services, their workers, the load generator) has
GAMEDRILL_RUN_ID in its environment, so a harness that died (kill -9, a crash, a power
cut) leaves nothing that cannot be found again. Process groups are stopped like the
backend stops them: SIGTERM (and SIGCONT for paused ones), then SIGKILL after a grace.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import defaultdict
from dataclasses import dataclass

from harness.errors import StackError
from harness.liveruns import RunIsLive, is_live
from harness.stack import procfs

RUN_ID_ENV = procfs.RUN_ID_ENV


@dataclass(frozen=True)
class Leftover:
    run_id: str
    pid: int
    pgid: int
    service: str


def find_leftovers(run_id: str | None = None) -> list[Leftover]:
    """Live processes of `run_id` (of every run when None), except this process."""
    return [Leftover(env[RUN_ID_ENV], stat.pid, stat.pgid, env.get("GAMEDRILL_SERVICE", "load"))
            for stat, env in procfs.run_processes(run_id)]


def live_runs() -> list[str]:
    """Runs with processes on this machine whose harness is alive: drills in progress."""
    return sorted({item.run_id for item in find_leftovers() if is_live(item.run_id)})


def cleanup_containers(run_id: str | None = None) -> list[str]:
    """Remove the compose projects the docker backend made for `run_id` (every run when None).

    Returns the projects removed; nothing (and no error) when no Docker engine answers,
    since then no run can have left a container."""
    try:
        from docker.errors import DockerException

        from harness.stack.docker_engine import (
            PROJECT_PREFIX,
            docker_engine,
            gamedrill_projects,
            project_name,
            remove_project,
        )
    except ImportError:
        return []
    try:
        client = docker_engine(timeout_s=5)
    except StackError:
        return []
    try:
        projects = gamedrill_projects(client)
        if run_id is None:  # a project whose run's harness lives is a drill in progress
            wanted = sorted(p for p in projects if not is_live(p.removeprefix(PROJECT_PREFIX)))
        else:
            wanted = sorted(projects & {project_name(run_id)})
        for project in wanted:
            remove_project(client, project)
        return wanted
    except DockerException as exc:
        raise StackError(f"removing containers of {run_id or 'every run'} failed: {exc}") from None
    finally:
        client.close()


def cleanup(run_id: str | None = None, grace_s: float = 3.0) -> list[Leftover]:
    """Stop every leftover process group of `run_id` (of every run whose harness is dead, when None);
    returns what was found. A run whose harness is alive is a drill in progress: never touched."""
    if run_id is not None and is_live(run_id):
        raise RunIsLive(f"run {run_id} has a live harness: `gamedrill abort` ends it (its stack goes with it)")

    def left() -> list[Leftover]:
        found = find_leftovers(run_id)
        live = set() if run_id is not None else {r for r in {item.run_id for item in found} if is_live(r)}
        return [item for item in found if item.run_id not in live]

    leftovers = left()
    groups = defaultdict(list)
    for item in leftovers:
        groups[item.pgid].append(item)
    for pgid in groups:
        for sig in (signal.SIGTERM, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
    deadline = time.monotonic() + grace_s
    while left() and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting out the grace period, as `docker stop` does
    for item in left():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(item.pgid, signal.SIGKILL)
    return leftovers
