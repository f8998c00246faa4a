"""A TCP listener on 127.0.0.1 that relays to the Docker engine's unix socket: the engine
as a remote one looks (`DOCKER_HOST=tcp://127.0.0.1:PORT`), without restarting dockerd.

Standard library only; one thread pair a connection, each half-closed in turn (the
engine's exec and attach streams end that way).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

ENGINE_SOCKET = "/var/run/docker.sock"


class EngineRelay:
    def __init__(self, socket_path: str = ENGINE_SOCKET) -> None:
        self.socket_path = socket_path
        self.connections = 0  # how many the harness opened: proof it went this way
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def __enter__(self) -> EngineRelay:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed by __exit__
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                engine.connect(self.socket_path)
            except OSError:
                client.close()
                engine.close()
                continue
            with self._lock:
                self.connections += 1
                self._open |= {client, engine}
            self._spawn(self._serve, client, engine)

    def _serve(self, client: socket.socket, engine: socket.socket) -> None:
        back = threading.Thread(target=self._pump, args=(engine, client), daemon=True)
        back.start()
        self._pump(client, engine)
        back.join()
        with self._lock:
            self._open -= {client, engine}
        client.close()
        engine.close()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # pass the end on; the other direction may still talk
