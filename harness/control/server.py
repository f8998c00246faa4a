"""Serving the control API from a background thread of the harness process.

`start()` binds the listening socket itself, so a port in use is an exception in the
caller rather than a log line in a thread, and it returns once uvicorn accepts connections.
While the server runs, `<run_dir>/control.json` tells the CLI where to find it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from harness.errors import GamedrillError
from harness.waiting import WaitTimeout, wait_until

logger = logging.getLogger(__name__)

CONTROL_FILE = "control.json"
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


class ControlServerError(GamedrillError):
    """The control API could not be served."""


def control_record(run_dir: Path) -> dict[str, Any] | None:
    """What `<run_dir>/control.json` says (url, pid, run_id), or None if it is not there or unreadable.

    A harness killed with SIGKILL leaves it behind: the last address and pid it served from."""
    try:
        record = json.loads((run_dir / CONTROL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def control_port(run_dir: Path) -> int:
    """The port the run's control API last listened on (0: unknown), for a resumed harness to reuse."""
    record = control_record(run_dir) or {}
    try:
        return int(str(record.get("url", "")).rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: only `localhost` is known to stay on this machine
        return False


class ControlServer:
    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, run_dir: Path | None = None,
                 run_id: str = "", allow_remote: bool = False, start_timeout_s: float = 10.0) -> None:
        if not is_loopback(host):
            if not allow_remote:
                raise ValueError(f"refusing to serve the control API on {host!r}: not a loopback address "
                                 "(pass allow_remote=True to listen there)")
            logger.warning("the control API will listen on %s: anyone who can reach it and holds a token "
                           "can act on this drill", host)
        self.host, self.run_id, self.run_dir = host, run_id, run_dir
        self._requested_port = port
        self._start_timeout_s = start_timeout_s
        self._app = app
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._port: int | None = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._port is None:
            raise ControlServerError("the control server is not started")
        return self._port

    @property
    def url(self) -> str:
        """Where a client on this machine reaches the API."""
        host = "127.0.0.1" if self.host in _WILDCARD_HOSTS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> ControlServer:
        with self._lock:
            if self._server is not None:
                raise ControlServerError("the control server was already started")
            listener = _listen(self.host, self._requested_port)
            config = uvicorn.Config(self._app, log_config=None, access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=2)
            server = uvicorn.Server(config)
            self._server, self._listener, self._port = server, listener, listener.getsockname()[1]
            thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="control-api",
                                      daemon=True)  # a forgotten stop() must not keep the process alive
            self._thread = thread
            thread.start()
        try:
            wait_until(lambda: server.started or not thread.is_alive(), self._start_timeout_s,
                       "the control API to accept connections")
        except WaitTimeout:
            self.stop()
            raise ControlServerError(f"the control API did not start within {self._start_timeout_s:g} s") from None
        if not server.started:
            self.stop()
            raise ControlServerError("the control API stopped while starting; see the log")
        self._write_control_file()
        logger.info("control API listening at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and remove control.json; safe to call more than once."""
        with self._lock:
            server, thread = self._server, self._thread
            self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():  # connections that would not close: cut them
            server.force_exit = True
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()  # uvicorn closes it too, unless it died while starting
        if self.run_dir is not None:
            (self.run_dir / CONTROL_FILE).unlink(missing_ok=True)

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _write_control_file(self) -> None:
        if self.run_dir is None:
            return
        record = {"url": self.url, "pid": os.getpid(), "run_id": self.run_id}
        temporary = self.run_dir / f".{CONTROL_FILE}.{os.getpid()}"
        temporary.write_text(json.dumps(record) + "\n", encoding="utf-8")
        os.replace(temporary, self.run_dir / CONTROL_FILE)  # readers never see half a file


def check_listen(host: str) -> None:
    """ControlServerError unless the control API could listen on `host` (on a port the OS picks):
    a run checks this before its stack comes up, so a bad `--listen` costs nothing."""
    try:
        _listen(host, 0).close()
    except ControlServerError as exc:
        raise ControlServerError(f"the control API cannot listen on {host}: {exc.__cause__ or exc}") from None


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ControlServerError(f"cannot listen on {host}:{port}: {exc}") from exc
    listener.set_inheritable(False)  # stack processes started later must not hold the port
    return listener
