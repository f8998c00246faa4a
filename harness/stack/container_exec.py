"""Commands the docker backend runs inside a service's container with `docker exec`.

Only what any Debian-based image has is used: `sh` and its `kill` builtin. Signals go in
this way, rather than from the host, because the harness may not own the container's
processes; `kill -1` from inside reaches every process of the container except its pid 1
(docker-init with `init: true`) and the `kill` itself.
"""

from __future__ import annotations

import concurrent.futures
from signal import Signals
from typing import Any

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from harness.errors import StackError
from harness.stack import proctree

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="docker-exec")
_NO_SUCH_PROCESS = "No such process"
# Counts each pid's descriptors; prints "PID COUNT" per line (COUNT -1 when the pid is gone).
_COUNT_FDS = 'for p in "$@"; do n=-1; if [ -d /proc/$p/fd ]; then n=0; for f in /proc/$p/fd/*; do ' \
             'n=$((n+1)); done; fi; echo "$p $n"; done'


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

    def open_fds(self, host_pids: list[int]) -> dict[int, int | None]:
        """Descriptor counts read inside the container, for host pids the harness may not inspect."""
        inner = {ns: pid for pid in host_pids if (ns := proctree.namespaced_pid(pid)) is not None}
        if not inner:
            return {}
        code, output = self.run(["sh", "-c", _COUNT_FDS, "sh", *map(str, inner)], 10.0)
        counts: dict[int, int | None] = {}
        for line in output.splitlines():
            pid, _, count = line.partition(" ")
            if code == 0 and pid.isdigit() and int(pid) in inner:
                counts[inner[int(pid)]] = int(count) if int(count) >= 0 else None
        return counts
