"""The docker backend: the compose file runs as containers, through the Compose CLI.

The CLI brings the stack up and down under a per-run project name (`gamedrill-<run id>`),
with the run's `*_PORT` variables in its environment, so parallel runs never collide. The
Docker SDK finds the containers by their compose labels, waits for health, and acts on
them through the engine's API only: processes, CPU time, descriptors and signals through
`docker exec` (pids are the container's own), pause and restart by the engine, process
faults as `EngineFaults` (docker_faults). No host pid or host /proc is used, so a user in
the `docker` group without root, or an engine on another machine (DOCKER_HOST), works
the same. Teardown is `down -v --remove-orphans`, then a sweep by label of anything
the CLI left (a killed CLI, a Ctrl-C), so nothing of the run outlives it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import math
import os
import time
from pathlib import Path
from signal import Signals
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from harness import docker_api
from harness.errors import StackError, UnknownServiceError
from harness.stack import proctree
from harness.stack.base import Endpoint, EngineFault, ProcessInfo, ProcessRole
from harness.stack.compose_cli import ComposeCli, file_for_cli, find_compose_cli, run_compose
from harness.stack.compose_model import ComposeProject, Service
from harness.stack.container_exec import ContainerExec
from harness.stack.docker_engine import (
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    docker_engine,
    missing_images,
    project_name,
    remove_project,
)
from harness.stack.docker_faults import ContainerFdLimit, ContainerHogs, ContainerPause
from harness.stack.ports import ports_of, release_ports
from harness.stack.startorder import Probe, start_in_order, wait_healthy

log = logging.getLogger(__name__)

CLI_TIMEOUT_S = 120.0  # one `down`, or `up` beyond the caller's own deadline: generous on a busy machine


class DockerBackend:
    def __init__(self, project: ComposeProject, workdir: Path, run_id: str,
                 client: docker.DockerClient | None = None) -> None:
        self.project = project
        self.run_id = run_id
        self.workdir = workdir
        self.compose_project = project_name(run_id)
        self._client = client
        self._cli: ComposeCli | None = None
        self._compose_file: Path | None = None
        self._last_seen: dict[str, list[ProcessInfo]] = {}  # per service: for a paused one (see _frozen)
        (workdir / "logs").mkdir(parents=True, exist_ok=True)

    # ---- lifecycle ------------------------------------------------------------------

    def up(self, timeout_s: float = 30.0) -> None:
        """`compose up --no-start` creates the containers; they are started in dependency order and
        waited for here (see startorder); on any failure, Ctrl-C included, everything is taken down."""
        deadline = time.monotonic() + timeout_s
        try:
            missing_images(self.client, self.project.path, {**os.environ, **self.project.variables})
            self._cli = find_compose_cli()
            self._compose_file = file_for_cli(self._cli, self.project.path, self.workdir)
            self._write_state()
            done = self._compose(["up", "--no-start", "--no-build"], max(deadline - time.monotonic(), 1.0) + 30.0)
            if done.returncode != 0:
                raise StackError(f"{self._cli} up failed (exit {done.returncode}):\n{_tail(done.stderr, 20)}")
            start_in_order(self.project, self._start, self._probe, self.log_tail, deadline)
            self._write_state()
        except BaseException:  # Ctrl-C included: never leave half a stack behind
            self.down()
            raise

    def down(self) -> None:
        """Save each container's log, `compose down`, then remove whatever still carries our label."""
        if self._compose_file is None or self._cli is None:
            return
        try:
            self._save_logs()
            grace = math.ceil(max((s.stop_grace_s for s in self.project.services.values()), default=10.0))
            done = self._compose(["down", "-v", "--remove-orphans", "--timeout", str(grace)], CLI_TIMEOUT_S)
            if done.returncode != 0:
                log.warning("%s down failed: %s", self._cli, _tail(done.stderr, 5))
        except Exception:
            log.exception("compose down failed; removing the project's objects through the SDK")
        finally:
            self._sweep()
            self._compose_file = None
            self._write_state()
            release_ports(self.project.allocated_ports())

    @classmethod
    def adopt(cls, project: ComposeProject, workdir: Path, run_id: str,
              client: docker.DockerClient | None = None, may_be_down: frozenset[str] = frozenset()) -> DockerBackend:
        """The containers a dead harness left running (its compose project), to carry on with."""
        backend = cls(project, workdir, run_id, client)
        backend._cli = find_compose_cli()
        backend._compose_file = file_for_cli(backend._cli, project.path, workdir)
        gone = [name for name in project.services
                if name not in may_be_down and not (backend._state(name) or {}).get("Running")]
        if gone:
            raise StackError(f"the stack of run {run_id} is not all up any more ({', '.join(gone)} not running): "
                             "nothing to resume; `gamedrill cleanup` removes the rest")
        return backend

    def __enter__(self) -> DockerBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def restart(self, service: str, timeout_s: float = 30.0) -> None:
        """Restart the service's container (fast with `init: true`); return once it is healthy."""
        grace = math.ceil(self._service(service).stop_grace_s)
        deadline = time.monotonic() + timeout_s
        try:
            self._container(service).restart(timeout=grace)
        except APIError as exc:
            raise StackError(f"cannot restart {service!r}: {exc.explanation or exc}") from None
        wait_healthy(self.project, [service], self._probe, self.log_tail, deadline)

    # ---- introspection --------------------------------------------------------------

    def services(self) -> list[str]:
        return list(self.project.services)

    def endpoint(self, service: str) -> Endpoint:
        port = self._service(service).port
        if port is None:
            raise StackError(f"service {service!r} publishes no port")
        return Endpoint("127.0.0.1", port)  # host networking: the service binds the host's loopback

    def processes(self, service: str) -> list[ProcessInfo]:
        """The service's processes (its main process first), as /proc inside its container shows them."""
        self._service(service)
        state = self._state(service)
        if state is None or not state["Running"]:
            return []
        if state["Paused"]:
            return self._frozen(service)
        try:
            scan = self._exec(service).scan()
        except StackError:
            state = self._state(service)
            if state is None or not state["Running"]:
                return []  # it stopped while we looked (its processes were just killed, say)
            if state["Paused"]:
                return self._frozen(service)
            raise
        tree = proctree.service_tree(scan.stats, scan.pid1_name)
        infos = []
        for stat in tree:
            role: ProcessRole = ("master" if len(tree) > 1 else "process") if stat is tree[0] else "worker"
            infos.append(ProcessInfo(stat.pid, stat.ppid, role, stat.cpu_s, scan.open_fds.get(stat.pid), stat.state))
        self._last_seen[service] = infos
        return infos

    def _frozen(self, service: str) -> list[ProcessInfo]:
        """A paused container takes no exec: what it ran when last looked at, every process stopped."""
        seen = self._last_seen.get(service)
        if seen is None:
            raise StackError(f"service {service!r} is paused and its processes were never listed: unpause it")
        return [dataclasses.replace(info, state="T") for info in seen]

    def all_pids(self) -> list[int]:
        return [info.pid for name in self.services() for info in self.processes(name)]

    def is_healthy(self, service: str) -> bool:
        """Run the container's healthcheck once, inside it (no healthcheck: is it running)."""
        self._service(service)
        container = self._find(service)
        return container is not None and self._exec(service, container).healthcheck()

    def log_tail(self, service: str, lines: int = 50) -> str:
        self._service(service)
        container = self._find(service)
        if container is not None:
            return bytes(container.logs(tail=lines)).decode(errors="replace")
        saved = self.workdir / "logs" / f"{service}.log"  # after down(): what _save_logs kept
        return "\n".join(saved.read_text(errors="replace").splitlines()[-lines:]) if saved.exists() else ""

    # ---- acting on it ---------------------------------------------------------------

    def signal(self, service: str, sig: Signals, pids: list[int] | None = None) -> None:
        """Send `sig` to `pids` of the service (the container's pids; default: every process of it)."""
        self._service(service)
        state = self._state(service)
        if state is None or not state["Running"]:
            raise StackError(f"service {service!r} is not running")
        if state["Paused"]:
            raise StackError(f"service {service!r} is paused: unpause it first")
        inside = self._exec(service)
        if pids is None:
            inside.kill_all(sig, include_pid1=inside.scan().pid1_name != proctree.DOCKER_INIT)
            return
        members = {info.pid for info in self.processes(service)}
        for pid in pids:
            if pid not in members:
                raise StackError(f"pid {pid} is not a process of {service!r} (its pids: {sorted(members)})")
        if pids:
            inside.kill(sig, pids)

    def pause(self, service: str) -> None:
        """Freeze every process of the service (cgroup freezer): it holds its sockets, answers nothing."""
        self._container(service).pause()

    def unpause(self, service: str) -> None:
        self._container(service).unpause()

    def respawn_recipe(self, service: str) -> dict[str, Any]:
        """How `harness.leasewatch` starts the service's container again, through the engine, if the
        harness is gone (never while it runs: starting a running container does nothing)."""
        return {"engine": self.engine, "container": str(self._container(service).id),
                "log": str(self.workdir / "logs" / f"{service}.respawn.log")}

    # ---- process faults, through the engine (EngineFaults) --------------------------

    def pause_fault(self, service: str) -> EngineFault:
        pids = [info.pid for info in self.processes(service)]  # also what processes() tells while frozen
        return ContainerPause(self._container(service), self.engine, service, pids)

    def fd_limit_fault(self, service: str, nofile: int) -> EngineFault:
        inside = self._exec(service)
        before = inside.nofile_limits([info.pid for info in self.processes(service)])
        if not before:
            raise StackError(f"service {service!r} has no process to lower the fd limit of")
        return ContainerFdLimit(inside, self.engine, nofile, before)

    def cpu_hog_fault(self, service: str, cores: int, lease_s: float) -> EngineFault:
        return ContainerHogs(self._exec(service), self.engine, cores, lease_s)

    def exec(self, service: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """Run a command inside the service's container: (exit code, output)."""
        return self._exec(service).run(argv, timeout_s)

    # ---- internals ------------------------------------------------------------------

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker_engine()
        return self._client

    @property
    def engine(self) -> dict[str, Any]:
        """The engine as a lease watcher reaches it (the one DOCKER_HOST names, as for the client)."""
        try:
            return docker_api.engine_from_env()
        except docker_api.EngineError as exc:
            raise StackError(str(exc)) from None

    def _service(self, name: str) -> Service:
        if name not in self.project.services:
            raise UnknownServiceError(name, list(self.project.services))
        return self.project.services[name]

    def _project_filter(self, service: str | None = None) -> dict[str, Any]:
        labels = [f"{PROJECT_LABEL}={self.compose_project}"]
        return {"label": [*labels, f"{SERVICE_LABEL}={service}"] if service else labels}

    def _find(self, service: str) -> Container | None:
        """The service's container (any state), from one list call; only its id is loaded."""
        found = [summary for summary in self.client.api.containers(all=True, filters=self._project_filter(service))
                 if summary.get("Labels", {}).get(ONEOFF_LABEL) != "True"]
        if not found:
            return None
        first = min(found, key=lambda summary: summary.get("Names") or [])
        container: Container = self.client.containers.prepare_model(first)
        return container

    def _container(self, service: str) -> Container:
        self._service(service)
        container = self._find(service)
        if container is None:
            raise StackError(f"service {service!r} has no container (is the stack up?)")
        return container

    def _state(self, service: str) -> dict[str, Any] | None:
        container = self._find(service)
        if container is None:
            return None
        with contextlib.suppress(NotFound):  # removed between list and inspect
            state: dict[str, Any] = self.client.api.inspect_container(str(container.id))["State"]
            return state
        return None

    def _exec(self, service: str, container: Container | None = None) -> ContainerExec:
        return ContainerExec(self.client, container or self._container(service), service)

    def _compose(self, args: list[str], timeout_s: float) -> Any:
        assert self._cli is not None and self._compose_file is not None
        # The run's id on the CLI too: a harness killed mid-`up` leaves a CLI that cleanup can find.
        variables = {**self.project.variables, "GAMEDRILL_RUN_ID": self.run_id, "GAMEDRILL_SERVICE": "compose-cli"}
        return run_compose(self._cli, self.compose_project, self._compose_file, self.project.path.parent, args,
                           variables, self.workdir / "logs" / "compose.log", timeout_s)

    def _start(self, service: str) -> None:
        try:
            self._container(service).start()
        except APIError as exc:
            raise StackError(f"cannot start {service!r}: {exc.explanation or exc}") from None

    def _probe(self, names: list[str]) -> dict[str, Probe]:
        """Docker's own health status where it has one (free), else the healthcheck run now, all at once."""
        states = {name: self._state(name) for name in names}
        probes = {name: Probe(False, state["ExitCode"]) for name, state in states.items()
                  if state is not None and state["Status"] in ("exited", "dead")}
        running = [name for name, state in states.items() if state is not None and state["Running"]]
        probes.update({name: Probe(True) for name in running
                       if (states[name] or {}).get("Health", {}).get("Status") == "healthy"})
        unknown = [name for name in running if name not in probes]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(unknown), 1)) as pool:
            probes.update({name: Probe(ok) for name, ok in zip(unknown, pool.map(self.is_healthy, unknown),
                                                                strict=True)})
        return {name: probes.get(name, Probe(False)) for name in names}

    def _save_logs(self) -> None:
        for name in self.services():
            with contextlib.suppress(DockerException, OSError):
                container = self._find(name)
                if container is not None:
                    (self.workdir / "logs" / f"{name}.log").write_bytes(bytes(container.logs()))

    def _sweep(self) -> None:
        try:
            remove_project(self.client, self.compose_project)
        except DockerException:
            log.exception("sweeping project %s failed: check `docker ps -a --filter label=%s=%s`",
                          self.compose_project, PROJECT_LABEL, self.compose_project)

    def _write_state(self) -> None:
        """stack.json: what a later `cleanup` needs to find this run's containers."""
        running = self._compose_file is not None
        state = {"run_id": self.run_id, "backend": "docker", "project": self.project.name,
                 "compose_project": self.compose_project, "compose": str(self.project.path),
                 "ports": ports_of(self.project),
                 "services": {name: {"port": spec.port} for name, spec in self.project.services.items()}
                 if running else {}}
        tmp = self.workdir / "stack.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.workdir / "stack.json")


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
