"""Process faults on a container, through the engine's API only: the docker backend's
`EngineFaults`. Each knows its undo (a `harness.leasewatch` recipe that names the engine)
before it is applied, so a lease holds it from the first moment.

- pause: the engine's pause (the cgroup freezer); undone by unpause.
- fd_limit: `prlimit` run inside the container lowers the soft RLIMIT_NOFILE of the
  service's processes; the undo puts each one's old limits back the same way.
- cpu_hog: busy shells started inside the container by exec. Each polices a lease of its
  own, a file inside the container that the harness touches (it cannot see the harness's
  lease file on another machine): it stops when that goes stale or away. The undo kills them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from docker.models.containers import Container

from harness.stack.container_exec import ContainerExec

# prlimit for "PID SOFT:HARD" pairs; a process that exited meanwhile is not a failure.
_SET_NOFILE = 'while [ $# -gt 1 ]; do prlimit --pid "$1" --nofile="$2" || [ ! -d "/proc/$1" ] || exit 1; ' \
              'shift 2; done'
# One hog: spins ~50 ms at a time, then checks its lease's age (in whole seconds).
_HOG = """dir=$1; lease_s=$2; echo $$ >> "$dir/pids"
while :; do
  i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
  renewed=$(stat -c %Y "$dir/lease" 2>/dev/null) || exit 0
  [ $(( $(date +%s) - renewed )) -le "$lease_s" ] || exit 0
done"""
_STOP_HOGS = 'kill -KILL $(cat "$1/pids" 2>/dev/null) 2>/dev/null; rm -rf "$1"; exit 0'
_HOG_PIDS_S = 10.0  # for every hog to have written its pid


def _entry(engine: dict[str, Any], container: Container, **more: Any) -> dict[str, Any]:
    return {"engine": engine, "container": str(container.id), **more}


@dataclass
class ContainerPause:
    container: Container
    engine: dict[str, Any]
    service: str
    pids: list[int]
    undo: dict[str, Any] = field(init=False)
    detail: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.undo = {"unpause": [_entry(self.engine, self.container)]}
        self.detail = {"service": self.service, "container": str(self.container.id)[:12], "pids": self.pids}

    def apply(self) -> None:
        self.container.pause()

    def renew(self) -> None:
        pass  # the engine holds a pause until told otherwise: the lease watcher is its only timer


@dataclass
class ContainerFdLimit:
    inside: ContainerExec
    engine: dict[str, Any]
    nofile: int
    before: dict[int, tuple[str, str]]  # pid -> (soft, hard), as prlimit writes them
    undo: dict[str, Any] = field(init=False)
    detail: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        pairs = [str(x) for pid, (soft, hard) in self.before.items() for x in (pid, f"{soft}:{hard}")]
        self.undo = {"exec": [_entry(self.engine, self.inside.container, argv=["sh", "-c", _SET_NOFILE, "sh", *pairs])]}
        self.detail = {"service": self.inside.service, "nofile": self.nofile, "pids": list(self.before)}

    def apply(self) -> None:
        pairs = []
        for pid, (soft, hard) in self.before.items():
            lowered = self.nofile if soft == "unlimited" else min(self.nofile, int(soft))
            pairs += [str(pid), f"{lowered}:{hard}"]  # the hard limit stays: putting it back needs no privilege
        self.inside.run_checked(["sh", "-c", _SET_NOFILE, "sh", *pairs])

    def renew(self) -> None:
        pass


@dataclass
class ContainerHogs:
    inside: ContainerExec
    engine: dict[str, Any]
    cores: int
    lease_s: float
    where: str = field(default_factory=lambda: f"/tmp/gamedrill-hog-{secrets.token_hex(4)}")
    undo: dict[str, Any] = field(init=False)
    detail: dict[str, Any] = field(init=False)
    _renewed_at: float = 0.0

    def __post_init__(self) -> None:
        self.undo = {"exec": [_entry(self.engine, self.inside.container, argv=["sh", "-c", _STOP_HOGS, "sh",
                                                                                self.where])]}
        self.detail = {"service": self.inside.service, "cores": self.cores, "inside": self.where}

    def apply(self) -> None:
        self.inside.run_checked(["sh", "-c", 'mkdir -p "$1" && touch "$1/lease"', "sh", self.where])
        self._renewed_at = time.monotonic()
        for _ in range(self.cores):
            self.inside.start_detached(["sh", "-c", _HOG, "sh", self.where, str(max(int(self.lease_s), 1))])
        self.detail["pids"] = self._pids()

    def renew(self) -> None:
        # One exec per renewal is a round trip to the engine: a third of the lease is often enough.
        if time.monotonic() - self._renewed_at >= self.lease_s / 3:
            self.inside.run_checked(["touch", f"{self.where}/lease"])
            self._renewed_at = time.monotonic()

    def _pids(self) -> list[int]:
        deadline = time.monotonic() + _HOG_PIDS_S
        while True:
            _, output = self.inside.run(["cat", f"{self.where}/pids"], 10.0)
            pids = [int(word) for word in output.split() if word.isdigit()]
            if len(pids) >= self.cores or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)  # polling inside the container: the hogs start on their own
