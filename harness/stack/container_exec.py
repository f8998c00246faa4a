"""Commands the docker backend runs inside a service's container with `docker exec`.

Everything the backend learns about or does to a container's processes goes this way,
through the engine's API: the harness may not own those processes, may not see them
(a remote engine), and never uses a host pid. Only what any Debian-based image has is
used: `sh` with its `kill` and `read` builtins, and `prlimit` (util-linux). `kill -1`
from inside reaches every process of the container except its pid 1 (docker-init with
`init: true`) and the `kill` itself. Pids are the container's own.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from signal import Signals
from typing import Any

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from harness.errors import StackError
from harness.stack import procfs
from harness.stack.procfs import ProcStat

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-exec")
_NO_SUCH_PROCESS = "No such process"
# One line per process: "PID FDS STAT-AFTER-COMM" (FDS -1 when unreadable), then pid 1's name.
_SCAN = """for d in /proc/[0-9]*; do
  { read -r s < "$d/stat"; } 2>/dev/null || continue
  n=-1; if [ -r "$d/fd" ] && [ -x "$d/fd" ]; then n=0; for f in "$d"/fd/*; do [ -L "$f" ] && n=$((n+1)); done; fi
  echo "${d#/proc/} $n ${s##*) }"
done
{ read -r c < /proc/1/comm; } 2>/dev/null; echo "comm $c"
"""
# "PID SOFT HARD" of RLIMIT_NOFILE for each pid given.
_NOFILE = """for p; do { while read -r a b c d e f; do [ "$a $b $c" = "Max open files" ] && echo "$p $d $e"; done \
  < /proc/$p/limits; } 2>/dev/null; done"""


@dataclass(frozen=True)
class Scan:
    """Every process of a container at one moment, as /proc inside it shows them."""

    stats: list[ProcStat]
    open_fds: dict[int, int | None]
    pid1_name: str


class ContainerExec:
    def __init__(self, client: docker.DockerClient, container: Container, service: str) -> None:
        self.client = client
        self.container = container
        self.service = service

    def run(self, argv: list[str], timeout_s: float) -> tuple[int, str]:
        """(exit code, stdout+stderr); StackError when it cannot run or outlives `timeout_s`."""
        future = _POOL.submit(self._run, argv)
        try:
            return future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            raise StackError(f"{self.service}: `{' '.join(argv)}` did not finish within {timeout_s:g} s") from None

    def _run(self, argv: list[str]) -> tuple[int, str]:
        try:
            result = self.container.exec_run(argv)
        except (APIError, NotFound) as exc:
            raise StackError(f"{self.service}: cannot run `{' '.join(argv)}`: {exc.explanation or exc}") from None
        code = -1 if result.exit_code is None else int(result.exit_code)
        output = result.output if isinstance(result.output, bytes) else b""  # not streamed: always bytes
        return code, output.decode(errors="replace")

    def healthcheck(self) -> bool:
        """The container's own healthcheck, run once now; no healthcheck: is it running."""
        attrs: dict[str, Any] = self.client.api.inspect_container(str(self.container.id))
        if not attrs["State"]["Running"] or attrs["State"]["Paused"]:
            return False
        check = attrs["Config"].get("Healthcheck") or {}
        test = check.get("Test") or []
        if not test or test[0] == "NONE":
            return True
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
        timeout_s = (check.get("Timeout") or 30_000_000_000) / 1e9
        try:
            code, _ = self.run(argv, timeout_s + 1.0)  # + the exec's own round trips
        except StackError:
            return False
        return code == 0

    def kill(self, sig: Signals, pids: list[int]) -> None:
        """`kill` container-namespace pids; one that exited meanwhile is not an error."""
        self._kill(sig, [str(pid) for pid in pids])

    def kill_all(self, sig: Signals, include_pid1: bool) -> None:
        """Every process of the container but pid 1; pid 1 too when it is the service itself."""
        self._kill(sig, ["-1"])
        if include_pid1:
            try:
                self.container.kill(signal=sig.name)
            except APIError as exc:
                raise StackError(f"{self.service}: cannot send {sig.name} to pid 1: {exc.explanation or exc}") \
                    from None

    def _kill(self, sig: Signals, targets: list[str]) -> None:
        # `kill` is a shell builtin: slim images have no /bin/kill.
        argv = ["sh", "-c", 'kill "$@"', "kill", "-s", sig.name.removeprefix("SIG"), "--", *targets]
        code, output = self.run(argv, 10.0)
        failures = [line for line in output.splitlines() if _NO_SUCH_PROCESS not in line and line.strip()]
        if code != 0 and failures:
            raise StackError(f"{self.service}: kill -s {sig.name} {' '.join(targets)} failed: {'; '.join(failures)}")

    def scan(self) -> Scan:
        """Every process of the container (this exec's own shell included: its parent is outside)."""
        code, output = self.run(["sh", "-c", _SCAN], 10.0)
        if code != 0:
            raise StackError(f"{self.service}: cannot list its processes (exit {code}): {output.strip()[-200:]}")
        stats, fds, pid1_name = [], {}, ""
        for line in output.splitlines():
            if line.startswith("comm "):
                pid1_name = line.removeprefix("comm ").strip()
                continue
            pid, count, *fields = line.split()
            if not (pid.isdigit() and len(fields) > 12):
                continue
            cpu_s = (int(fields[11]) + int(fields[12])) / procfs.CLOCK_TICKS
            stats.append(ProcStat(pid=int(pid), ppid=int(fields[1]), pgid=int(fields[2]), state=fields[0],
                                  cpu_s=cpu_s))
            fds[int(pid)] = int(count) if int(count) >= 0 else None
        return Scan(stats, fds, pid1_name)

    def nofile_limits(self, pids: list[int]) -> dict[int, tuple[str, str]]:
        """(soft, hard) RLIMIT_NOFILE of each live pid, as prlimit writes them ("unlimited" included)."""
        _, output = self.run(["sh", "-c", _NOFILE, "sh", *map(str, pids)], 10.0)
        limits = {}
        for line in output.splitlines():
            pid, soft, hard = [*line.split(), "", "", ""][:3]
            if pid.isdigit() and int(pid) in pids and soft and hard:
                limits[int(pid)] = (soft, hard)
        return limits

    def run_checked(self, argv: list[str], timeout_s: float = 10.0) -> str:
        """`run`, with a non-zero exit as a StackError quoting the output."""
        code, output = self.run(argv, timeout_s)
        if code != 0:
            raise StackError(f"{self.service}: `{' '.join(argv[:3])}...` failed (exit {code}): {output.strip()[-300:]}")
        return output

    def start_detached(self, argv: list[str]) -> None:
        """Start `argv` inside the container and return at once (it runs on, an exec of its own)."""
        try:
            self.container.exec_run(argv, detach=True)
        except (APIError, NotFound) as exc:
            raise StackError(f"{self.service}: cannot start `{' '.join(argv[:3])}...`: {exc.explanation or exc}") \
                from None
