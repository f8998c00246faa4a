"""A stack that is not the sample shop, for the tests: a front, two app nodes, an upstream.

    python3 app.py upstream   answers GET / with 200
    python3 app.py app        GET / asks the upstream (UPSTREAM_URL) and answers 200, or 502
    python3 app.py front      round robin over APP_PORTS, passing the app's answer on

Every answer carries X-Served-By. Standard library only; binds 127.0.0.1:PORT.
"""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("NAME", "node")
TIMEOUT_S = 1.0


def ask(port: int, path: str = "/") -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(), response.getheader("X-Served-By", "")
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    mode = "upstream"
    apps = itertools.cycle([0])
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        status, body, served_by = 200, b"ok\n", NAME
        if self.mode == "app":
            try:
                status, body, _ = ask(int(os.environ["UPSTREAM_PORT"]))
            except OSError as exc:
                status, body = 502, f"upstream: {exc}\n".encode()
        elif self.mode == "front":
            try:
                status, body, served_by = ask(next(self.apps), self.path)
            except OSError as exc:
                status, body, served_by = 502, f"app: {exc}\n".encode(), ""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if served_by:
            self.send_header("X-Served-By", served_by)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    Handler.mode = sys.argv[1]
    if Handler.mode == "front":
        Handler.apps = itertools.cycle(int(p) for p in os.environ["APP_PORTS"].split(","))
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"{NAME} ({Handler.mode}) on 127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
