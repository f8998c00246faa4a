"""Debian's real Prometheus and Alertmanager for the tests, on loopback, stopped afterwards."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.waiting import wait_until

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PROMTOOL = shutil.which("promtool")


def require(binary: str | None, package: str) -> str:
    """The binary's path; a missing one fails the test (CI installs them), never skips it."""
    if binary is None:
        pytest.fail(f"{package} is not installed (apt-get install {package}; .ci/run does)")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout_s: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _ready(port: int) -> bool:
    with contextlib.suppress(OSError, http.client.HTTPException):
        return http_get(port, "/-/ready")[0] == 200
    return False


@contextlib.contextmanager
def _process(argv: list[str], port: int, log: Path, what: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        try:
            wait_until(lambda: proc.poll() is not None or _ready(port), 60, f"{what} to be ready")
        except TimeoutError:
            raise AssertionError(f"{what} never became ready: {log.read_text()[-2000:]}") from None
        assert proc.poll() is None, f"{what} exited: {log.read_text()[-2000:]}"
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def prometheus(config: Path, work: Path) -> Iterator[int]:
    """A Prometheus on `config`; yields its port."""
    port = free_port()
    argv = [require(PROMETHEUS, "prometheus"), f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}"]
    with _process(argv, port, work / "prometheus.log", "prometheus"):
        yield port


@contextlib.contextmanager
def alertmanager(config: Path, work: Path, port: int) -> Iterator[int]:
    """An Alertmanager on `config` listening on `port`, clustering off; yields the port."""
    argv = [require(ALERTMANAGER, "prometheus-alertmanager"), f"--config.file={config}",
            f"--storage.path={work / 'alertmanager'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address="]
    with _process(argv, port, work / "alertmanager.log", "alertmanager"):
        yield port


def query(port: int, promql: str) -> list[dict[str, Any]]:
    """Prometheus's instant query result (a vector)."""
    from urllib.parse import quote

    status, body = http_get(port, f"/api/v1/query?query={quote(promql)}")
    assert status == 200, body
    return list(json.loads(body)["data"]["result"])
