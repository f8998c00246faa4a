"""The one protocol every stack backend implements (local processes, docker containers)."""

from __future__ import annotations

from dataclasses import dataclass
from signal import Signals
from typing import Any, Literal, Protocol, runtime_checkable

from harness.stack.compose_model import ComposeProject

ProcessRole = Literal["master", "worker", "process"]


@dataclass(frozen=True)
class ProcessInfo:
    """One OS process of a service, as the harness sees it."""

    pid: int
    ppid: int
    role: ProcessRole
    cpu_s: float
    open_fds: int | None
    state: str = "?"  # /proc's one-letter state: R runnable, S sleeping, T stopped, ...


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@runtime_checkable
class StackBackend(Protocol):
    """Brings a compose stack up and down and lets the harness look inside and act on it."""

    run_id: str
    project: ComposeProject  # the parsed compose file, with this run's ports

    def up(self, timeout_s: float = 30.0) -> None:
        """Start every service in dependency order; return once all are healthy."""

    def down(self) -> None:
        """Stop every service and remove what up() created; idempotent, never raises."""

    def services(self) -> list[str]: ...

    def endpoint(self, service: str) -> Endpoint: ...

    def processes(self, service: str) -> list[ProcessInfo]:
        """The service's live processes: its master first, then its workers."""

    def is_healthy(self, service: str) -> bool:
        """Run the service's healthcheck once (no healthcheck: is it running)."""

    def signal(self, service: str, sig: Signals, pids: list[int] | None = None) -> None:
        """Send `sig` to `pids` of the service (default: its whole process group)."""

    def restart(self, service: str, timeout_s: float = 30.0) -> None:
        """Stop and start one service; return once it is healthy again."""

    def log_tail(self, service: str, lines: int = 50) -> str: ...


@runtime_checkable
class Respawnable(Protocol):
    """A backend that can say how to start a service again without the harness (an optional
    ability): the recipe goes into a fault's lease, for `harness.leasewatch` to run."""

    def respawn_recipe(self, service: str) -> dict[str, Any]:
        """{"argv", "cwd", "env", "log", "rlimits": {name: [soft, hard]}}: JSON, stdlib-runnable; or, for
        an engine's container, {"engine", "container", "log"}: started through the engine's API."""


class EngineFault(Protocol):
    """One process fault an engine applies: its undo is known before it is applied."""

    undo: dict[str, Any]  # a harness.leasewatch revert recipe, through the engine's API only
    detail: dict[str, Any]  # what it is about to do, for the journal

    def apply(self) -> None: ...

    def renew(self) -> None:
        """Extend whatever the engine side holds (a hog's own lease inside the container)."""


@runtime_checkable
class EngineFaults(Protocol):
    """A backend whose services run behind an engine (docker) applies process faults through the
    engine's API (an optional ability): pause, exec inside the container, never a host pid, so
    it works without root and against a remote engine. Without it, faults act on host pids."""

    def pause_fault(self, service: str) -> EngineFault: ...

    def fd_limit_fault(self, service: str, nofile: int) -> EngineFault: ...

    def cpu_hog_fault(self, service: str, cores: int, lease_s: float) -> EngineFault: ...
