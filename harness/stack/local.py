"""The local backend: each compose service runs as its own local process group.

No Docker needed. Each service's command runs in its build context with the environment,
ulimits and ports of the compose file; healthchecks are the compose file's own commands.
Every process carries GAMEDRILL_RUN_ID in its environment so `cleanup` can find what a
dead harness left behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from signal import Signals
from typing import IO, Any

from harness.errors import HealthTimeout, StackError, UnknownServiceError
from harness.stack import procfs
from harness.stack.base import Endpoint, ProcessInfo, ProcessRole
from harness.stack.compose_model import ComposeProject, Service
from harness.stack.health import run_probes
from harness.stack.ports import ports_of, release_ports

log = logging.getLogger(__name__)

_PASSED_THROUGH_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass
class _Running:
    """A service's process group: started here, or adopted from a harness that died (no Popen)."""

    pgid: int  # each service leads its own session and process group
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def poll(self) -> int | None:
        """The exit status, or None while it runs (an adopted group: -1 once its leader is gone)."""
        if self.popen is not None:
            return self.popen.poll()
        return None if procfs.is_alive(self.pgid) else -1

    def wait(self, timeout_s: float) -> None:
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout_s)
            return
        deadline = time.monotonic() + timeout_s
        while procfs.is_alive(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.01)  # not our child: nothing to wait() on, so its /proc entry is watched

    def close(self) -> None:
        if self.popen is not None:
            self.popen.wait()
        if self.log is not None:
            self.log.close()


class LocalBackend:
    def __init__(self, project: ComposeProject, workdir: Path, run_id: str) -> None:
        self.project = project
        self.run_id = run_id
        self.workdir = workdir
        self._running: dict[str, _Running] = {}
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    # ---- lifecycle ------------------------------------------------------------------

    def up(self, timeout_s: float = 30.0) -> None:
        """Start each service as soon as its dependencies' conditions hold; return when all are healthy."""
        deadline = time.monotonic() + timeout_s
        healthy: set[str] = set()
        try:
            while True:
                for spec in self.project.services.values():
                    if spec.name not in self._running and self._dependencies_met(spec, healthy):
                        self._start(spec)
                waiting = [name for name in self.project.services if name not in healthy]
                if not waiting:
                    return
                self._fail_if_exited([name for name in waiting if name in self._running])
                probed = self._probe([self.project.services[n] for n in waiting if n in self._running])
                healthy.update(name for name, ok in probed.items() if ok)
                if len(healthy) < len(self.project.services):
                    self._pause_before_next_probe(waiting, deadline)
        except BaseException:  # Ctrl-C included: never leave half a stack behind
            self.down()
            raise

    def _dependencies_met(self, spec: Service, healthy: set[str]) -> bool:
        for dependency, condition in spec.depends_on.items():
            if condition == "service_healthy" and dependency not in healthy:
                return False
            if dependency not in self._running:
                return False
            if condition == "service_completed_successfully" and self._running[dependency].poll() != 0:
                return False
        return True

    def _pause_before_next_probe(self, waiting: list[str], deadline: float) -> None:
        if time.monotonic() >= deadline:
            tails = "\n".join(f"--- {name} log ---\n{self.log_tail(name, 10)}" for name in waiting)
            raise HealthTimeout(f"not healthy in time: {', '.join(waiting)}\n{tails}")
        checks = [self.project.services[n].healthcheck for n in waiting]
        interval = min((c.start_interval_s for c in checks if c is not None), default=0.05)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    def down(self) -> None:
        running, self._running = self._running, {}
        for name, proc in running.items():
            self._send_group(proc, self._stop_signal(name))
            self._send_group(proc, signal.SIGCONT)  # a paused service must wake up to hear it
        grace_s = max((self.project.services[n].stop_grace_s for n in running), default=0.0)
        deadline = time.monotonic() + grace_s
        for name, proc in running.items():
            self._reap(name, proc, deadline)
        self._write_state()
        release_ports(self.project.allocated_ports())

    @classmethod
    def adopt(cls, project: ComposeProject, workdir: Path, run_id: str,
              may_be_down: frozenset[str] = frozenset()) -> LocalBackend:
        """The stack a dead harness left running, from its stack.json: same processes, same ports.
        Services in `may_be_down` may be gone (a live fault killed them: its revert starts them)."""
        backend = cls(project, workdir, run_id)
        state = json.loads((workdir / "stack.json").read_text())
        respawned = _group_leaders_of(run_id)  # a lease watcher may have started a service again
        for name, service in state["services"].items():
            if name not in project.services:
                raise StackError(f"stack.json names {name!r}, which {project.path} does not have")
            pgid = int(service["pgid"]) if procfs.is_alive(int(service["pgid"])) else respawned.get(name)
            if pgid is not None:
                backend._running[name] = _Running(pgid)
        gone = [name for name in project.services if name not in backend._running and name not in may_be_down]
        if gone:
            raise StackError(f"the stack of run {run_id} is not all up any more ({', '.join(gone)} gone): "
                             "nothing to resume; `gamedrill cleanup` removes the rest")
        backend._write_state()  # respawned services' new groups, for the next harness
        return backend

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def restart(self, service: str, timeout_s: float = 30.0) -> None:
        spec = self._service(service)
        proc = self._running.pop(service, None)
        if proc is not None:
            self._send_group(proc, self._stop_signal(service))
            self._reap(service, proc, time.monotonic() + spec.stop_grace_s)
        self._start(spec)
        self._wait_healthy([service], time.monotonic() + timeout_s)

    # ---- introspection --------------------------------------------------------------

    def services(self) -> list[str]:
        return list(self.project.services)

    def endpoint(self, service: str) -> Endpoint:
        port = self._service(service).port
        if port is None:
            raise StackError(f"service {service!r} publishes no port")
        return Endpoint("127.0.0.1", port)

    def processes(self, service: str) -> list[ProcessInfo]:
        self._service(service)
        proc = self._running.get(service)
        if proc is None:
            return []
        members = procfs.group_members(proc.pgid)
        leader = proc.pgid
        has_children = any(m.ppid == leader for m in members)
        infos = []
        for member in sorted(members, key=lambda m: (m.pid != leader, m.pid)):
            role: ProcessRole = ("master" if has_children else "process") if member.pid == leader else "worker"
            infos.append(ProcessInfo(member.pid, member.ppid, role, member.cpu_s, procfs.open_fd_count(member.pid),
                                     member.state))
        return infos

    def all_pids(self) -> list[int]:
        return [info.pid for name in self._running for info in self.processes(name)]

    def is_healthy(self, service: str) -> bool:
        spec = self._service(service)
        return self._probe([spec])[service]

    def log_tail(self, service: str, lines: int = 50) -> str:
        self._service(service)
        path = self.workdir / "logs" / f"{service}.log"
        if not path.exists():
            return ""
        with path.open("rb") as handle:
            return b"".join(deque(handle, maxlen=lines)).decode(errors="replace")

    def respawn_recipe(self, service: str) -> dict[str, Any]:
        """How `harness.leasewatch` starts the service again if the harness is gone (see _start)."""
        spec = self._service(service)
        return {"argv": list(spec.command), "cwd": str(spec.workdir), "env": self._environment(spec),
                "log": str(self.workdir / "logs" / f"{spec.name}.log"),
                "rlimits": {name: [soft, hard] for name, (soft, hard) in spec.ulimits.items()}}

    # ---- acting on it ---------------------------------------------------------------

    def signal(self, service: str, sig: Signals, pids: list[int] | None = None) -> None:
        self._service(service)
        proc = self._running.get(service)
        if proc is None:
            raise StackError(f"service {service!r} is not running")
        if pids is None:
            self._send_group(proc, sig)
            return
        members = {info.pid for info in self.processes(service)}
        for pid in pids:
            if pid not in members:
                raise StackError(f"pid {pid} is not a process of {service!r} (its pids: {sorted(members)})")
            with contextlib.suppress(ProcessLookupError):  # exited on its own: the effect we wanted
                os.kill(pid, sig)

    # ---- internals ------------------------------------------------------------------

    def _service(self, name: str) -> Service:
        if name not in self.project.services:
            raise UnknownServiceError(name, list(self.project.services))
        return self.project.services[name]

    def _stop_signal(self, name: str) -> Signals:
        return Signals[self.project.services[name].stop_signal]

    def _environment(self, spec: Service) -> dict[str, str]:
        env = {key: os.environ[key] for key in _PASSED_THROUGH_ENV if key in os.environ}
        env.update(spec.environment)
        env.update(GAMEDRILL_RUN_ID=self.run_id, GAMEDRILL_SERVICE=spec.name, PYTHONUNBUFFERED="1")
        return env

    def _start(self, spec: Service) -> None:
        log = (self.workdir / "logs" / f"{spec.name}.log").open("ab")
        try:
            popen = subprocess.Popen(
                spec.command, cwd=spec.workdir, env=self._environment(spec), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_limits_setter(spec),
            )
        except OSError as exc:
            log.close()
            raise StackError(f"cannot start {spec.name!r}: {' '.join(spec.command)}: {exc.strerror}") from exc
        self._running[spec.name] = _Running(popen.pid, popen, log)
        self._write_state()

    def _wait_healthy(self, names: list[str], deadline: float) -> None:
        pending = list(names)
        while pending:
            self._fail_if_exited(pending)
            results = self._probe([self.project.services[name] for name in pending])
            pending = [name for name in pending if not results[name]]
            if pending:
                self._pause_before_next_probe(pending, deadline)

    def _probe(self, specs: list[Service]) -> dict[str, bool]:
        checked = [s for s in specs if s.healthcheck is not None and s.name in self._running]
        results = run_probes({s.name: s.healthcheck for s in checked if s.healthcheck},
                             cwd={s.name: s.workdir for s in checked})
        for spec in specs:
            if spec.name not in self._running or self._running[spec.name].poll() is not None:
                results[spec.name] = False
            elif spec.healthcheck is None:
                results[spec.name] = True
        return results

    def _fail_if_exited(self, names: list[str]) -> None:
        for name in names:
            proc = self._running.get(name)
            code = proc.poll() if proc else None
            if proc is not None and code is not None:
                raise StackError(f"service {name!r} exited with status {code} while starting:\n"
                                 f"{self.log_tail(name, 20)}")

    @staticmethod
    def _send_group(proc: _Running, sig: Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
            os.killpg(proc.pgid, sig)

    @classmethod
    def _reap(cls, name: str, proc: _Running, deadline: float) -> None:
        """Wait for the group to exit by `deadline`, then SIGKILL whatever is left of it."""
        proc.wait(max(0.0, deadline - time.monotonic()))
        killed = False
        while procfs.group_members(proc.pgid):
            if time.monotonic() >= deadline and not killed:
                left = [m.pid for m in procfs.group_members(proc.pgid)]
                log.warning("%s: pids %s outlived the stop grace period: SIGKILL", name, left)
                cls._send_group(proc, signal.SIGKILL)
                killed = True
            time.sleep(0.01)
        proc.close()

    def _write_state(self) -> None:
        state = {"run_id": self.run_id, "backend": "local", "project": self.project.name,
                 "compose": str(self.project.path), "ports": ports_of(self.project),
                 "services": {name: {"pgid": proc.pgid, "port": self.project.services[name].port}
                              for name, proc in self._running.items()}}
        tmp = self.workdir / "stack.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.workdir / "stack.json")


def _group_leaders_of(run_id: str) -> dict[str, int]:
    """service -> pid of the live process leading that service's group, found by its environment."""
    return {env["GAMEDRILL_SERVICE"]: stat.pid for stat, env in procfs.run_processes(run_id)
            if stat.pgid == stat.pid and "GAMEDRILL_SERVICE" in env}


def _limits_setter(spec: Service):  # type: ignore[no-untyped-def]
    limits = [(getattr(resource, f"RLIMIT_{name.upper()}"), soft, hard) for name, (soft, hard) in spec.ulimits.items()]

    def apply() -> None:  # runs in the child between fork and exec: keep it minimal
        for which, soft, hard in limits:
            inf = resource.RLIM_INFINITY
            resource.setrlimit(which, (inf if soft < 0 else soft, inf if hard < 0 else hard))

    return apply if limits else None
