"""Shop load from Locust in a subprocess, streamed back to the harness one request at a time.

Locust never runs in the harness process: importing it monkey-patches everything with
gevent. `LoadGenerator` starts `python -m locust` on `harness/locustfile.py` in its own
process group with an inherited pipe; the locustfile writes one JSON line per request to
it, and a reader thread here parses the lines into `RequestRecord`s, appends them to
`<run_dir>/metrics/requests.jsonl` and hands each to `on_record`. Locust always runs with
`--run-time`, so a forgotten generator still stops by itself.

The load is open-loop (see `harness.locustfile`): every arrival of the schedule is one
record carrying its intended start, so a hung stack shows as failures at the offered rate,
never as fewer requests. The stream also carries the generator's own lines (`kind`:
gen.started with the schedule's origin, gen.status with what is in flight); those are kept
here as `origin_mono` and `status`, not written to requests.jsonl.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import LoadError
from harness.load_schedule import Arrivals, ArrivalSchedule, in_flight_limit
from harness.slo import Sample
from harness.spec_drill import ShopMix
from harness.stack import procfs
from harness.waiting import WaitTimeout, wait_until

log = logging.getLogger(__name__)

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_GRACE_S = 5.0
READ_CHUNK = 1 << 16
GENERATOR_LINE = b'{"kind":'  # the generator's own lines (start, status); request records have no kind


@dataclass(frozen=True)
class RequestRecord:
    """One arrival as Locust saw it; `mono` is the actual start, `intended` the schedule's,
    both on CLOCK_MONOTONIC (system-wide). `latency_ms` runs from the actual start."""

    mono: float
    wall: float
    latency_ms: float
    status: int  # 0: no response (refused, reset, timed out)
    ok: bool  # status < 500 and no transport error; a 404 for a delisted sku is ok
    node: str | None  # X-Served-By
    name: str  # browse | product | checkout | arrival (timed out or not sent)
    error: str | None
    intended: float = 0.0  # 0: a record from before open-loop load (read as `mono`)
    sent: bool = True  # False: the generator's in-flight limit was reached, nothing was sent

    def __post_init__(self) -> None:
        if not self.intended:
            object.__setattr__(self, "intended", self.mono)

    @property
    def lag_s(self) -> float:
        """How late the generator started the request (CPU starvation shows here)."""
        return max(0.0, self.mono - self.intended)

    @property
    def customer_latency_ms(self) -> float:
        """From the customer's arrival (the intended start) to the answer."""
        return self.latency_ms + self.lag_s * 1000

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RequestRecord:
        return cls(mono=float(raw["mono"]), wall=float(raw["wall"]), latency_ms=float(raw["latency_ms"]),
                   status=int(raw["status"]), ok=bool(raw["ok"]), node=raw.get("node"), name=str(raw["name"]),
                   error=raw.get("error"), intended=float(raw.get("intended") or 0.0),
                   sent=bool(raw.get("sent", True)))


@dataclass(frozen=True)
class GeneratorStatus:
    """The generator's own view, every half second: requests in flight, and those stuck past
    their timeout (the harness counts them as failures: they never produced a record yet)."""

    mono: float
    in_flight: int
    overdue: int
    complete_before: float | None = None  # every arrival intended before it has been delivered


def sample_of(record: RequestRecord, origin_mono: float) -> Sample:
    """The monitor's view of a record: at its intended start on the drill clock (Locust stamps
    CLOCK_MONOTONIC, which every process on the machine shares), waited for from there."""
    return Sample(record.intended - origin_mono, record.customer_latency_ms, record.ok, record.node,
                  sent=record.sent, lag_s=record.lag_s)


def read_records(path: Path) -> list[RequestRecord]:
    """The request records of a requests.jsonl; unreadable lines (a torn last one) are skipped."""
    records = []
    with path.open("rb") as handle:
        for line in handle:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                raw = json.loads(line)
                if "kind" not in raw:
                    records.append(RequestRecord.from_json(raw))
    return records


class LoadGenerator:
    """Locust load on the shop at `127.0.0.1:host_port`, bounded by `max_s`; see the module docstring."""

    def __init__(self, host_port: int, users: int | None, rate_per_s: float, run_dir: Path,
                 on_record: Callable[[RequestRecord], object], max_s: float, mix: ShopMix | None = None,
                 timeout_s: float = 1.0, locustfile: Path = LOCUSTFILE,
                 paths: Mapping[str, float] | None = None, ramp_s: float = 0.0,
                 arrivals: Arrivals = "constant") -> None:
        for name, value in (("users", 1 if users is None else users), ("rate_per_s", rate_per_s), ("max_s", max_s),
                            ("timeout_s", timeout_s)):
            if not value > 0:
                raise ValueError(f"{name} must be above 0, got {value!r}")
        self.schedule = ArrivalSchedule(rate_per_s, ramp_s, arrivals)  # checks ramp_s and arrivals
        # `users` is a floor: the generator always allows every arrival of one timeout in flight.
        self.in_flight_limit = in_flight_limit(rate_per_s, timeout_s, users)
        self.host_port, self.rate_per_s, self.max_s = host_port, rate_per_s, max_s
        self.mix, self.timeout_s, self.locustfile = mix or ShopMix(), timeout_s, locustfile
        self.paths = dict(paths) if paths else None  # any stack: weighted GETs instead of the shop user
        self.run_dir, self.on_record = run_dir, on_record
        self.log_path = run_dir / "logs" / "locust.log"
        self.records_path = run_dir / "metrics" / "requests.jsonl"
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._first_record = threading.Event()
        self._requests = 0
        self._failures = 0
        self._bad_lines = 0
        self._callback_errors = 0
        self._stopped = False
        self.origin_mono: float | None = None  # the schedule's origin (gen.started)
        self.status: GeneratorStatus | None = None

    # ---- public surface -------------------------------------------------------------

    @property
    def requests(self) -> int:
        return self._requests

    @property
    def failures(self) -> int:
        return self._failures

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "locust", "-f", str(self.locustfile.resolve()), "--headless",
            # One user is the pacer of the whole population (open loop); the ramp is the schedule's.
            "--host", f"http://127.0.0.1:{self.host_port}", "-u", "1", "-r", "1",
            "--run-time", f"{math.ceil(self.max_s)}s", "--only-summary", "--exit-code-on-error", "0",
            "--loglevel", "WARNING",
        ]

    def start(self, timeout_s: float = 20.0) -> None:
        """Start Locust; return once its first request record has arrived (LoadError if none does)."""
        if self._proc is not None:
            raise LoadError("this load generator was started already")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.records_path.parent.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        try:
            self._proc = self._spawn(write_fd)
        except OSError as exc:
            os.close(read_fd)
            raise LoadError(f"cannot start locust: {exc}") from exc
        finally:
            os.close(write_fd)  # the child holds its copy: EOF here means Locust is gone
        self._reader = threading.Thread(target=self._read, args=(read_fd,), name="load-reader", daemon=True)
        self._reader.start()
        proc = self._proc
        try:
            wait_until(lambda: self._first_record.is_set() or proc.poll() is not None, timeout_s,
                       "the first request record from locust")
        except WaitTimeout:
            self.stop()
            raise LoadError(f"no request record from locust within {timeout_s:g} s; "
                            f"its log ({self.log_path}):\n{self.log_tail()}") from None
        if not self._first_record.is_set() and self._reader is not None:
            self._reader.join(timeout=STOP_GRACE_S)  # Locust exited: records may still sit in the pipe
        if not self._first_record.is_set():
            self.stop()
            raise LoadError(f"locust exited with status {proc.returncode} before its first request; "
                            f"its log ({self.log_path}):\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM Locust's process group, SIGKILL what is left after a grace period; idempotent."""
        if self._stopped or self._proc is None:
            self._stopped = True
            return
        self._stopped = True
        proc = self._proc
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("locust (pid %d) ignored SIGTERM for %g s: SIGKILL", proc.pid, STOP_GRACE_S)
        _signal_group(proc.pid, signal.SIGKILL)  # anything of the group still around (normally nothing)
        proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=STOP_GRACE_S)
        if self._callback_errors:
            log.warning("on_record failed for %d of %d records", self._callback_errors, self._requests)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as handle:
            return b"".join(deque(handle, maxlen=lines)).decode(errors="replace")

    def __enter__(self) -> LoadGenerator:
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    # ---- internals ------------------------------------------------------------------

    def _spawn(self, write_fd: int) -> subprocess.Popen[bytes]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
        env.update(
            GAMEDRILL_RECORD_FD=str(write_fd),
            GAMEDRILL_RATE_PER_S=repr(self.rate_per_s),
            GAMEDRILL_RAMP_S=repr(self.schedule.ramp_s),
            GAMEDRILL_ARRIVALS=self.schedule.arrivals,
            GAMEDRILL_IN_FLIGHT_LIMIT=str(self.in_flight_limit),
            GAMEDRILL_TIMEOUT_S=repr(self.timeout_s),
            GAMEDRILL_MIX_BROWSE=repr(self.mix.browse),
            GAMEDRILL_MIX_PRODUCT=repr(self.mix.product),
            GAMEDRILL_MIX_CHECKOUT=repr(self.mix.checkout),
            GAMEDRILL_PATHS=json.dumps(self.paths) if self.paths else "",
            PYTHONUNBUFFERED="1",
            GAMEDRILL_RUN_ID=self.run_dir.name,  # so `gamedrill cleanup` can find it after a crash
        )
        with self.log_path.open("ab") as log_file:  # the child keeps its own descriptor
            # cwd = run dir: no stray locust.conf or pyproject.toml [tool.locust] is picked up.
            return subprocess.Popen(self.command(), cwd=self.run_dir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log_file, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
                                    start_new_session=True)

    def _read(self, read_fd: int) -> None:
        """Reader thread: whole lines to requests.jsonl (as received), then records to `on_record`."""
        pending = b""
        with open(read_fd, "rb", buffering=0) as pipe, self.records_path.open("ab") as sink:
            while chunk := pipe.read(READ_CHUNK):
                pending += chunk
                complete, _, pending = pending.rpartition(b"\n")
                if not complete:
                    continue
                lines = complete.split(b"\n")
                requests = [line for line in lines if not line.startswith(GENERATOR_LINE)]
                if requests:
                    sink.write(b"\n".join(requests) + b"\n")
                    sink.flush()
                for line in lines:  # in stream order: a status line vouches for the records before it
                    if not self._generator_line(line):
                        self._deliver(line)
        if pending:
            log.warning("locust's record stream ended in a partial line (%d bytes)", len(pending))

    def _generator_line(self, line: bytes) -> bool:
        """True for the generator's own lines (kept here); False for request records."""
        if not line.startswith(GENERATOR_LINE):
            return False
        try:
            raw = json.loads(line)
            if raw["kind"] == "gen.started":
                self.origin_mono = float(raw["origin_mono"])
            elif raw["kind"] == "gen.status":
                watermark = raw.get("complete_before")
                self.status = GeneratorStatus(float(raw["mono"]), int(raw["in_flight"]), int(raw["overdue"]),
                                              None if watermark is None else float(watermark))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable generator line %r: %s", line[:200], exc)
        return True

    def _deliver(self, line: bytes) -> None:
        try:
            record = RequestRecord.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            self._bad_lines += 1
            log.warning("unreadable request record %r: %s", line[:200], exc)
            return
        self._requests += 1
        self._failures += 0 if record.ok else 1
        self._first_record.set()
        try:
            self.on_record(record)
        except Exception:
            self._callback_errors += 1
            if self._callback_errors == 1:  # once with the traceback; the count is logged at stop()
                log.exception("on_record failed; the load stream carries on")


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    if not procfs.group_members(pgid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, sig)
