"""The proxy server (or the echo server) as a child process: started, found listening, always stopped.

For tests, benchmarks and the harness: `with proxy_server(log) as child: child.address`.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

PROXY_READY = re.compile(r"API listening on http://(\S+)")
ECHO_READY = re.compile(r"echo (\S+) sink (\S+)")
POLL_S = 0.02


class ChildError(RuntimeError):
    pass


class Child:
    def __init__(self, argv: list[str], log_path: Path, ready: re.Pattern[str], timeout_s: float) -> None:
        self.argv, self.log_path, self._ready, self._timeout_s = argv, log_path, ready, timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self.match: re.Match[str] | None = None

    @property
    def address(self) -> str:
        """`host:port` from the ready line's first group."""
        assert self.match is not None, "not started"
        return self.match.group(1)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Child:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._timeout_s
        while (found := self._ready.search(self.log())) is None:
            if self._process.poll() is not None:
                raise ChildError(f"{self.argv} exited with {self._process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise ChildError(f"{self.argv} not ready after {self._timeout_s:g} s:\n{self.log()}")
            time.sleep(POLL_S)
        self.match = found

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; the exit code."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def proxy_server(log_path: Path, *args: str, timeout_s: float = 30.0) -> Child:
    """`python -m harness.proxy -port 0 ARGS...` (any free port for the API)."""
    argv = [sys.executable, "-m", "harness.proxy", "-port", "0", *args]
    return Child(argv, log_path, PROXY_READY, timeout_s)


def echo_server(log_path: Path, timeout_s: float = 30.0) -> Child:
    """`python -m harness.proxy.echo`; `address` is the echo port, `match.group(2)` the sink."""
    return Child([sys.executable, "-m", "harness.proxy.echo"], log_path, ECHO_READY, timeout_s)
