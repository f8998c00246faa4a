"""The few Docker Engine API calls a lease watcher needs, standard library only.

`harness.leasewatch` undoes a container fault after the harness is gone, so it cannot
lean on the Docker SDK (a slow import, and the watcher must start fast): it speaks the
engine's HTTP API itself, over the unix socket or TCP (TLS too) that DOCKER_HOST names,
exactly as the SDK and the CLI would. The harness builds the engine address once, from
its own environment, and writes it into each undo recipe.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

DEFAULT_HOST = "unix:///var/run/docker.sock"
TIMEOUT_S = 30.0


class EngineError(Exception):
    """The engine refused a call or did not answer."""


def engine_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The engine DOCKER_HOST names, with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH read the way the
    SDK reads them: {"host": URL, "tls": None | {"ca", "cert", "key", "verify"}} (JSON for a recipe)."""
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST") or DEFAULT_HOST
    if not host.startswith(("unix://", "tcp://", "http://", "https://")):
        raise EngineError(f"DOCKER_HOST={host!r}: gamedrill's lease watcher speaks unix:// and tcp:// "
                          "(with TLS) engines; forward an ssh:// engine to a local socket or a TCP port")
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    cert_path = env.get("DOCKER_CERT_PATH") or ""
    if not (verify or cert_path or host.startswith("https://")):
        return {"host": host, "tls": None}
    certs = cert_path or os.path.join(os.path.expanduser("~"), ".docker")
    return {"host": host, "tls": {"ca": os.path.join(certs, "ca.pem"), "cert": os.path.join(certs, "cert.pem"),
                                  "key": os.path.join(certs, "key.pem"), "verify": verify}}


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout_s: float) -> None:
        super().__init__("localhost", timeout=timeout_s)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def _connection(engine: Mapping[str, Any], timeout_s: float) -> http.client.HTTPConnection:
    host: str = engine["host"]
    if host.startswith("unix://"):
        return _UnixConnection(host.removeprefix("unix://"), timeout_s)
    netloc = host.split("://", 1)[1].rstrip("/")
    tls = engine.get("tls")
    if not tls:
        return http.client.HTTPConnection(netloc, timeout=timeout_s)
    context = ssl.create_default_context(cafile=tls["ca"] if tls["verify"] and os.path.exists(tls["ca"]) else None)
    if not tls["verify"]:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if os.path.exists(tls["cert"]):
        context.load_cert_chain(tls["cert"], tls["key"])
    return http.client.HTTPSConnection(netloc, timeout=timeout_s, context=context)


def call(engine: Mapping[str, Any], method: str, path: str, body: Any = None,
         timeout_s: float = TIMEOUT_S) -> tuple[int, Any]:
    """(HTTP status, decoded JSON body or None); EngineError when the engine cannot be reached."""
    conn = _connection(engine, timeout_s)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        reply = conn.getresponse()
        raw = reply.read()
    except OSError as exc:
        raise EngineError(f"{method} {path} on {engine['host']}: {exc}") from None
    finally:
        conn.close()
    try:
        return reply.status, json.loads(raw) if raw else None
    except ValueError:
        return reply.status, raw.decode(errors="replace")


def _check(status: int, body: Any, what: str, fine: tuple[int, ...]) -> None:
    if status not in fine:
        message = body.get("message") if isinstance(body, dict) else body
        raise EngineError(f"{what}: HTTP {status} {message}")


def unpause(engine: Mapping[str, Any], container: str) -> None:
    """Thaw a paused container; one that is not paused (or not running) or gone is already undone."""
    status, body = call(engine, "POST", f"/containers/{container}/unpause")
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status in (409, 500) and ("is not paused" in message or "is not running" in message):
        return  # the engine says so with a 500 (moby answers 409 for some of these)
    _check(status, body, f"unpause {container[:12]}", (204, 404))


def start(engine: Mapping[str, Any], container: str) -> bool:
    """Start a container unless it runs (304) or was removed (404); whether it was started."""
    status, body = call(engine, "POST", f"/containers/{container}/start")
    _check(status, body, f"start {container[:12]}", (204, 304, 404))
    return status == 204


def running(engine: Mapping[str, Any], container: str) -> bool | None:
    """Whether the container runs; None once it is removed."""
    status, body = call(engine, "GET", f"/containers/{container}/json")
    if status == 404:
        return None
    _check(status, body, f"inspect {container[:12]}", (200,))
    return bool(body["State"]["Running"])


def exec_in(engine: Mapping[str, Any], container: str, argv: list[str], timeout_s: float = TIMEOUT_S) -> int | None:
    """Run `argv` inside the container and wait for it: its exit code, or None if the container is
    gone or stopped."""
    status, body = call(engine, "POST", f"/containers/{container}/exec",
                        {"Cmd": argv, "AttachStdout": False, "AttachStderr": False})
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status == 404 or (status == 409 and "is not running" in message):
        return None  # its processes, and whatever was done to them, went with it; a paused one waits
    _check(status, body, f"exec in {container[:12]}", (201,))
    exec_id = body["Id"]
    status, body = call(engine, "POST", f"/exec/{exec_id}/start", {"Detach": True, "Tty": False})
    _check(status, body, f"start exec in {container[:12]}", (200, 204))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, body = call(engine, "GET", f"/exec/{exec_id}/json")
        _check(status, body, f"inspect exec in {container[:12]}", (200,))
        if not body["Running"] and body.get("ExitCode") is not None:
            return int(body["ExitCode"])
        time.sleep(0.05)  # polling the engine: an exec has no completion event to wait on
    raise EngineError(f"exec in {container[:12]} ({' '.join(argv)}) did not finish within {timeout_s:g} s")


def run_in(engine: Mapping[str, Any], container: str, argv: list[str]) -> None:
    """`exec_in` that must succeed: EngineError on a non-zero exit (a removed container is fine)."""
    code = exec_in(engine, container, argv)
    if code not in (0, None):
        raise EngineError(f"`{' '.join(argv)}` in {container[:12]} exited with status {code}")
