"""The lease watcher's engine client: the engine DOCKER_HOST names, and the engine's answers
it takes as "already undone", against a stand-in engine on 127.0.0.1 (no Docker needed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import docker_api

# path -> (status, body) the stand-in engine answers
ANSWERS = {
    "/containers/thawed/unpause": (500, {"message": "Container thawed is not paused"}),
    "/containers/frozen/unpause": (204, None),
    "/containers/broken/unpause": (500, {"message": "cgroup freezer failed"}),
    "/containers/running/start": (304, None),
    "/containers/stopped/exec": (409, {"message": "Container stopped is not running"}),
    "/containers/paused/exec": (409, {"message": "Container paused is paused, unpause the container before exec"}),
}


class _Engine(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        status, body = ANSWERS.get(self.path, (404, {"message": "no such container"}))
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def engine() -> Iterator[dict[str, object]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield docker_api.engine_from_env({"DOCKER_HOST": f"tcp://127.0.0.1:{server.server_address[1]}"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_engine_is_the_one_docker_host_names_with_tls_as_the_sdk_reads_it() -> None:
    assert docker_api.engine_from_env({}) == {"host": "unix:///var/run/docker.sock", "tls": None}
    assert docker_api.engine_from_env({"DOCKER_HOST": "tcp://10.0.0.5:2375"})["tls"] is None
    tls = docker_api.engine_from_env({"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1",
                                      "DOCKER_CERT_PATH": "/certs"})["tls"]
    assert tls == {"ca": "/certs/ca.pem", "cert": "/certs/cert.pem", "key": "/certs/key.pem", "verify": True}
    with pytest.raises(docker_api.EngineError, match="DOCKER_HOST='ssh://me@box'"):
        docker_api.engine_from_env({"DOCKER_HOST": "ssh://me@box"})


def test_what_is_already_undone_is_not_an_error(engine: dict[str, object]) -> None:
    docker_api.unpause(engine, "thawed")  # the engine's 500 "is not paused"
    docker_api.unpause(engine, "frozen")
    docker_api.unpause(engine, "gone")  # 404: removed with its stack
    assert docker_api.start(engine, "running") is False
    assert docker_api.exec_in(engine, "stopped", ["true"]) is None


def test_what_the_engine_refuses_is_an_error_to_try_again(engine: dict[str, object]) -> None:
    with pytest.raises(docker_api.EngineError, match="HTTP 500 cgroup freezer failed"):
        docker_api.unpause(engine, "broken")
    with pytest.raises(docker_api.EngineError, match="is paused"):
        docker_api.exec_in(engine, "paused", ["true"])


def test_an_engine_that_does_not_answer_is_an_engine_error() -> None:
    with pytest.raises(docker_api.EngineError, match="unpause"):
        docker_api.unpause({"host": "unix:///nonexistent/docker.sock", "tls": None}, "any")
