"""A fault's lease, kept outside the harness: `python -m harness.leasewatch LEASE_FILE`.

The harness starts one watcher per process-level fault, in its own session, and renews
the lease by touching the lease file. If the harness dies, the file stops being touched
and the watcher undoes the fault itself once the TTL has passed: SIGCONT to paused
processes, the old RLIMIT_NOFILE back, busy processes killed, a killed service started
again from its recipe. A container's fault is undone through its engine's API only (the
recipe names the engine: unpause, exec inside the container, start), never by host pid,
so it works against a remote engine and without root. A lease file that
disappears means the harness reverted the fault: the watcher just leaves.

Standard library only, and it imports nothing else from gamedrill but the stdlib engine
client (`harness.docker_api`): it must start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from harness import docker_api

POLL_S = 0.25
IDENTITY_ENV = ("GAMEDRILL_RUN_ID", "GAMEDRILL_SERVICE")  # what every service process of a run carries


def undo(revert: dict[str, Any]) -> None:
    """Apply a revert recipe: {"sigcont": [pids]}, {"kill": [pids]}, {"rlimit_nofile": {pid: [soft, hard]}},
    {"respawn": [{"argv", "cwd", "env", "log", "rlimits", "unless_alive": [pids]}]}: a service is
    not started again while any of `unless_alive` lives, nor while any process of it runs (one
    whose environment names the recipe's run and service: a restart that finished, say).

    Containers, through the engine named by each entry's "engine": {"unpause": [{"engine", "container"}]},
    {"exec": [{"engine", "container", "argv"}]}, and a respawn entry with "engine" and "container"
    starts that container unless it runs. EngineError if the engine refused one (after the rest)."""
    failures = _undo_containers(revert)
    for pid in revert.get("sigcont", []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    for pid in revert.get("kill", []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid, (soft, hard) in revert.get("rlimit_nofile", {}).items():
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            resource.prlimit(int(pid), resource.RLIMIT_NOFILE, (soft, hard))
    for recipe in revert.get("respawn", []):
        if "container" in recipe:
            continue  # done above, through the engine
        if any(_alive(pid) for pid in recipe.get("unless_alive", [])):
            continue
        identity = {key: recipe["env"][key] for key in IDENTITY_ENV if key in recipe["env"]}
        if len(identity) == len(IDENTITY_ENV) and _running_with(identity):
            continue
        _respawn(recipe)
    if failures:
        raise docker_api.EngineError("; ".join(failures))


def _undo_containers(revert: dict[str, Any]) -> list[str]:
    """Every container step tried, whatever fails; what failed, to try again."""
    steps: list[Callable[[], object]] = [partial(docker_api.unpause, e["engine"], e["container"])
                                         for e in revert.get("unpause", [])]
    steps += [partial(docker_api.run_in, e["engine"], e["container"], e["argv"]) for e in revert.get("exec", [])]
    steps += [partial(docker_api.start, e["engine"], e["container"])
              for e in revert.get("respawn", []) if "container" in e]
    failures = []
    for step in steps:
        try:
            step()
        except docker_api.EngineError as exc:
            failures.append(str(exc))
    return failures


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _running_with(wanted: dict[str, str]) -> bool:
    """Whether a live process carries every one of these environment variables."""
    pairs = {f"{key}={value}".encode() for key, value in wanted.items()}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or not _alive(int(entry.name)):
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                environ = set(f.read().split(b"\0"))
        except OSError:
            continue
        if pairs <= environ:
            return True
    return False


def _respawn(recipe: dict[str, Any]) -> None:
    """Start a service the way its backend would: own session, its env, limits and log."""
    limits = [(getattr(resource, f"RLIMIT_{name.upper()}"), soft, hard)
              for name, (soft, hard) in recipe.get("rlimits", {}).items()]

    def apply_limits() -> None:
        for which, soft, hard in limits:
            inf = resource.RLIM_INFINITY
            resource.setrlimit(which, (inf if soft < 0 else soft, inf if hard < 0 else hard))

    with open(recipe["log"], "ab") as log:
        subprocess.Popen(recipe["argv"], cwd=recipe["cwd"], env=recipe["env"], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                         preexec_fn=apply_limits if limits else None)
    print(f"started {recipe['argv'][0]} again: {' '.join(recipe['argv'])}", file=sys.stderr)


def watch(lease: Path) -> int:
    # A renewal is any change of the file's mtime; its age is kept on this process's monotonic
    # clock, so a wall-clock step (NTP, a VM resumed) neither ends nor stretches a lease.
    last_mtime_ns, renewed_at = None, time.monotonic()
    while True:
        try:
            recipe = json.loads(lease.read_text())
            mtime_ns = lease.stat().st_mtime_ns
        except FileNotFoundError:
            return 0  # the harness reverted the fault itself
        except ValueError:
            time.sleep(POLL_S)  # caught mid-write; the next read sees the whole file
            continue
        if mtime_ns != last_mtime_ns:
            last_mtime_ns, renewed_at = mtime_ns, time.monotonic()
        age_s = time.monotonic() - renewed_at
        if age_s > recipe["ttl_s"]:
            _undo_patiently(recipe["revert"])
            print(f"lease {lease.name} expired after {age_s:.1f} s: fault undone", file=sys.stderr)
            with contextlib.suppress(FileNotFoundError):
                lease.unlink()
            return 0
        time.sleep(POLL_S)


def _undo_patiently(revert: dict[str, Any], give_up_s: float = 30.0) -> None:
    """Undo, trying a container step again while the engine refuses it: an exec waits for a
    container another lease is about to unpause, an engine restarting comes back."""
    deadline = time.monotonic() + give_up_s
    while True:
        try:
            undo(revert)
            return
        except docker_api.EngineError as exc:
            if time.monotonic() > deadline:
                print(f"gave up undoing after {give_up_s:g} s: {exc}", file=sys.stderr)
                return
            print(f"trying again: {exc}", file=sys.stderr)
            time.sleep(1.0)


if __name__ == "__main__":
    sys.exit(watch(Path(sys.argv[1])))
