"""Prefork machinery for the web nodes: shared counters, the master loop, the worker loop.

The master is single-threaded on purpose (forking a threaded process is unsafe) and never
serves requests: it binds, forks, respawns dead workers, and polls the control plane for
its node's assignment, which it hands to the workers as an atomically replaced file. It
cannot see inside a worker, so a worker spinning in a script looks alive to it.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import json
import mmap
import os
import select
import shutil
import signal
import socket
import struct
import tempfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from shop import httpkit

# Per worker slot: pid, requests, errors of the current worker, then the totals of the
# slot's earlier (dead) workers, so node-wide counts stay monotonic across respawns.
_SLOT = struct.Struct("=qqqqq")
_ACCEPT_BACKOFF_S = 0.01
RECYCLE_GRACE_S = 2.0
ACCEPT_POLL_S = 0.2
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class SharedCounters:
    """Counters in an anonymous shared mmap created before forking: every worker writes only
    its own slot, any worker can read them all to answer /metrics for the whole node."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.mem = mmap.mmap(-1, _SLOT.size * slots)  # MAP_SHARED | MAP_ANONYMOUS

    def read(self, slot: int) -> tuple[int, int, int, int, int]:
        return _SLOT.unpack_from(self.mem, slot * _SLOT.size)

    def record(self, slot: int, status: int) -> None:
        pid, requests, errors, base_req, base_err = self.read(slot)
        _SLOT.pack_into(self.mem, slot * _SLOT.size, pid, requests + 1, errors + (status >= 500),
                        base_req, base_err)

    def assign(self, slot: int, pid: int) -> None:
        """Master, before a respawn: fold the dead worker's counts into the slot's base."""
        _, requests, errors, base_req, base_err = self.read(slot)
        _SLOT.pack_into(self.mem, slot * _SLOT.size, pid, 0, 0, base_req + requests, base_err + errors)

    def totals(self) -> tuple[int, int]:
        rows = [self.read(s) for s in range(self.slots)]
        return sum(r[1] + r[3] for r in rows), sum(r[2] + r[4] for r in rows)

    def by_pid(self) -> dict[int, tuple[int, int]]:
        """pid -> (requests, errors) of the live worker in each slot."""
        return {r[0]: (r[1], r[2]) for r in (self.read(s) for s in range(self.slots)) if r[0]}


class SlotRecorder:
    """The httpkit.Recorder of one worker: counts into its slot."""

    def __init__(self, counters: SharedCounters, slot: int) -> None:
        self.counters, self.slot = counters, slot

    def record(self, status: int) -> None:
        self.counters.record(self.slot, status)


def children(pid: int) -> list[int]:
    """The child pids of `pid` (the master's workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        pass  # kernels without CONFIG_PROC_CHILDREN: scan every process's parent
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = httpkit.proc_stat_fields(int(name))
            if fields is not None and fields[1] == str(pid):
                found.append(int(name))
    return found


def worker_loop(sock: socket.socket, serve_one: Callable[[socket.socket, Any], None]) -> None:
    """Accept on the shared socket forever and serve one request per connection."""
    starved = False
    sock.settimeout(ACCEPT_POLL_S)  # every worker shares this socket and this setting
    while True:
        if _WorkerExit.requested:
            os._exit(0)
        try:
            conn, addr = sock.accept()
        except TimeoutError:
            continue
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:
                if not starved:  # one line per streak, not one per 10 ms
                    httpkit.log("web", f"accept failed: {exc}; backing off")
                starved = True
                time.sleep(_ACCEPT_BACKOFF_S)
            continue  # ECONNABORTED and friends: the client gave up, take the next one
        starved = False
        conn.settimeout(None)  # the handler sets its own per-request timeout
        try:
            serve_one(conn, addr)
        except Exception as exc:  # one bad connection must not kill the worker
            httpkit.log("web", f"connection from {addr} failed: {httpkit.error_text(exc)}")
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            conn.close()


class _WorkerExit:
    """SIGTERM in a worker asks for a drain: finish the request in hand, take no new one.

    The handler only sets a flag; the accept loop wakes every ACCEPT_POLL_S to look at it.
    Exiting from the handler itself could drop a connection accepted a moment before."""

    requested = False

    @classmethod
    def on_sigterm(cls, signum: int, frame: object) -> None:
        cls.requested = True


class Master:
    def __init__(self, node: str, sock: socket.socket, workers: int, config_url: str, poll_s: float) -> None:
        self.node, self.sock, self.poll_s = node, sock, poll_s
        self.worker_main: Callable[[int], None] = lambda slot: None  # set by run()
        self.pids: list[int] = [0] * workers
        self.counters = SharedCounters(workers)
        self.state_dir = tempfile.mkdtemp(prefix=f"shop-{node}-")
        self.state_path = os.path.join(self.state_dir, "assignment.json")
        url = urlsplit(config_url)
        self.config = (url.hostname or "127.0.0.1", url.port or 80, f"/v1/nodes/{node}")
        self.generation: int | None = None
        self.deployed: tuple[Any, Any] = (None, None)
        self.recycling: dict[int, float] = {}  # worker pid -> when to kill it if still there
        self.poll_failing = False
        self.stopping = False
        self._wake_r = self._wake_w = -1  # the signal wakeup pipe, made in run()

    # ---- process management ------------------------------------------------------------

    def spawn(self, slot: int) -> int:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for signum in (signal.SIGINT, signal.SIGCHLD):
                    signal.signal(signum, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, _WorkerExit.on_sigterm)
                signal.set_wakeup_fd(-1)
                os.close(self._wake_r)
                os.close(self._wake_w)
                self.worker_main(slot)
            except BaseException as exc:
                httpkit.log("web", f"worker slot {slot} died: {httpkit.error_text(exc)}")
            finally:
                os._exit(code)
        self.counters.assign(slot, pid)
        self.pids[slot] = pid
        return pid

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid not in self.pids:
                continue
            slot = self.pids.index(pid)
            self.pids[slot] = 0
            if not self.stopping:
                new = self.spawn(slot)
                httpkit.log("web", f"worker {pid} (slot {slot}) exited ({describe(status)}); "
                                   f"respawned as {new}")

    def recycle_workers(self) -> None:
        """A new release (or a recycle order) means new processes: replace every worker.

        Graceful, like a real deploy: each worker finishes its request and exits (reap()
        respawns it on the new assignment); one still busy after RECYCLE_GRACE_S (say, spinning
        in a script) is killed."""
        httpkit.log("web", f"{self.node}: new deployment, replacing workers {self.pids}")
        self.recycling = {pid: time.monotonic() + RECYCLE_GRACE_S for pid in filter(None, self.pids)}
        for pid in self.recycling:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def kill_stragglers(self) -> None:
        now = time.monotonic()
        for pid, deadline in list(self.recycling.items()):
            if pid not in self.pids:
                del self.recycling[pid]
            elif now >= deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                del self.recycling[pid]

    def stop_workers(self) -> None:
        for pid in filter(None, self.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 1.0
        while any(self.pids) and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.02)
        for pid in filter(None, self.pids):  # e.g. stopped (SIGSTOP) workers
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    # ---- assignment polling --------------------------------------------------------------

    def poll(self) -> None:
        host, port, path = self.config
        conn = http.client.HTTPConnection(host, port, timeout=1.0)  # a stalled poll delays respawns
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise OSError(f"config answered {resp.status}: {body[:200]!r}")
            assignment = json.loads(body)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if not self.poll_failing:
                reason = httpkit.error_text(exc)
                httpkit.log("web", f"polling config failed: {reason}; keeping the last assignment")
            self.poll_failing = True
            return
        finally:
            conn.close()
        if self.poll_failing:
            httpkit.log("web", "polling config works again")
            self.poll_failing = False
        if assignment.get("generation") != self.generation:
            redeploy = self.generation is not None and self.deployed != _deployment(assignment)
            self.write_state(assignment)
            self.deployed = _deployment(assignment)
            if redeploy:
                self.recycle_workers()

    def write_state(self, assignment: dict[str, Any]) -> None:
        tmp = f"{self.state_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(assignment, f)
        os.replace(tmp, self.state_path)  # workers see the old file or the new one, never half
        self.generation = assignment.get("generation")
        versions = ", ".join(f"{k} {assignment.get(k, {}).get('version')}"
                             for k in ("release", "config", "script"))
        httpkit.log("web", f"{self.node} assignment generation {self.generation}: {versions}")

    # ---- main loop -------------------------------------------------------------------------

    def run(self, worker_main: Callable[[int], None]) -> None:
        """Fork the workers (each runs worker_main(slot) and must never return) and manage them."""
        self.worker_main = worker_main
        # Signals only set flags; the wakeup fd ends the select() at once (SIGCHLD included).
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        try:
            for slot in range(len(self.pids)):
                self.spawn(slot)
            httpkit.log("web", f"{self.node} master up, workers {self.pids}")
            next_poll = time.monotonic()
            while not self.stopping:
                self.reap()
                self.kill_stragglers()
                if time.monotonic() >= next_poll:
                    self.poll()
                    next_poll = time.monotonic() + self.poll_s
                with contextlib.suppress(InterruptedError):
                    wait_s = max(0.0, next_poll - time.monotonic())
                    if self.recycling:
                        wait_s = min(wait_s, 0.05)
                    ready, _, _ = select.select([self._wake_r], [], [], wait_s)
                    if ready:
                        os.read(self._wake_r, 512)
        finally:
            self.stopping = True
            self.stop_workers()
            self.sock.close()
            shutil.rmtree(self.state_dir, ignore_errors=True)
            httpkit.log("web", f"{self.node} master stopped")

    def _on_stop(self, signum: int, frame: object) -> None:
        self.stopping = True


def _deployment(assignment: dict[str, Any]) -> tuple[Any, Any]:
    """What needs new worker processes when it changes: the release, or a recycle order."""
    return (assignment.get("release", {}).get("version"), assignment.get("recycle"))


def describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
