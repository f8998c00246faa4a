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
        """{"argv", "cwd", "env", "log", "rlimits": {name: [soft, hard]}}: JSON, stdlib-runnable."""
