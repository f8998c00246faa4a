"""The stack demo: up, healthy under a burst of traffic, down, nothing left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group
from rich.table import Table

from harness.burst import BurstResult, burst
from harness.liveruns import LiveMark
from harness.rundir import create_run_dir, discard_run_dir
from harness.stack import procfs
from harness.stack.factory import SHOP_COMPOSE, open_backend, up_or_discard


@dataclass(frozen=True)
class ServiceRow:
    name: str
    healthy: bool
    processes: int
    cpu_s: float
    open_fds: int


@dataclass(frozen=True)
class StackDemoReport:
    run_id: str
    up_s: float
    services: tuple[ServiceRow, ...]
    burst: BurstResult
    leftover: int

    @property
    def ok(self) -> bool:
        return all(row.healthy for row in self.services) and self.burst.failures == 0 and self.leftover == 0


def run_stack_demo(compose_path: Path | None, runs_dir: Path, requests: int,
                   progress: Callable[[str], None] = lambda _: None) -> StackDemoReport:
    """Up, a burst, down. A stack that does not come up leaves no run directory behind
    (RunNotStarted names what failed); once it was up, its run directory (its logs) stays."""
    run_id, workdir = create_run_dir(runs_dir)
    try:
        backend = open_backend(compose_path or SHOP_COMPOSE, workdir, run_id)
        live = LiveMark(run_id)  # in use: `gamedrill cleanup --all` leaves it alone
    except BaseException:
        discard_run_dir(workdir)  # a bad compose file, say: nothing was started
        raise
    progress(f"run {run_id}: starting {', '.join(backend.services())} (logs in {workdir}/logs)")
    try:
        began = time.monotonic()
        up_or_discard(backend, workdir)
        up_s = time.monotonic() - began
    except BaseException:
        live.release()
        raise
    pids: list[int] = []
    try:
        progress(f"all healthy after {up_s:.2f} s; sending {requests} requests through lb")
        result = burst(backend.endpoint("lb").port, requests=requests, max_s=20.0)
        rows = []
        for name in backend.services():
            infos = backend.processes(name)
            pids += [info.pid for info in infos]
            rows.append(ServiceRow(name, backend.is_healthy(name), len(infos), sum(i.cpu_s for i in infos),
                                   sum(i.open_fds or 0 for i in infos)))
    finally:
        backend.down()
        live.release()
    leftover = sum(1 for pid in pids if procfs.is_alive(pid))
    return StackDemoReport(run_id, up_s, tuple(rows), result, leftover)


def render_stack_demo(report: StackDemoReport) -> Group:
    """The report as a table and two summary lines (pure: prints nothing)."""
    table = Table(title=f"stack {report.run_id}: health and traffic")
    for column in ("service", "healthy", "processes", "cpu s", "open fds", "served"):
        table.add_column(column)
    for row in report.services:
        table.add_row(row.name, "yes" if row.healthy else "NO", str(row.processes), f"{row.cpu_s:.2f}",
                      str(row.open_fds), str(report.burst.served_by.get(row.name, "")))
    result = report.burst
    errors = {status: count for status, count in result.statuses.items() if not status.startswith(("1", "2", "3"))}
    seen = ", ".join(f"{status} x{count}" for status, count in errors.items()) or "none"
    return Group(table,
                 f"burst: {result.requests} requests in {result.elapsed_s:.2f} s ({result.rps:.0f}/s), "
                 f"{result.failures} failed, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms",
                 f"4xx/5xx and unanswered: {seen} (the shop's mix asks for a few delisted skus: some 404s are normal)",
                 f"stack up in {report.up_s:.2f} s; down, {report.leftover} processes left behind")
