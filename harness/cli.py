"""The `gamedrill` command. Thin: parse, call one library function, render, exit code."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click
from rich.console import Console
from rich.table import Table

from harness.errors import GamedrillError, InputError
from harness.rundir import DEFAULT_RUNS_DIR

console = Console()
errors = Console(stderr=True)


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM must unwind like Ctrl-C so every `finally` (fault revert, teardown) runs.
    raise KeyboardInterrupt


@click.group()
@click.version_option(package_name="gamedrill")
def main() -> None:
    """Game-day chaos drills: real faults, honest timings, scorecards people learn from."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


@main.command()
@click.option("--compose", "compose_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="compose file of the stack (default: the sample shop)")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_RUNS_DIR,
              show_default=True)
@click.option("--requests", type=click.IntRange(1, 100_000), default=600, show_default=True,
              help="size of the traffic burst")
def demo(compose_path: Path | None, runs_dir: Path, requests: int) -> None:
    """Bring the sample stack up, show it healthy under a burst of traffic, take it down."""
    from harness.demo import run_stack_demo

    try:
        report = run_stack_demo(compose_path, runs_dir, requests, progress=console.print)
    except InputError as exc:
        for problem in exc.problems:
            errors.print(str(problem), markup=False, highlight=False)
        sys.exit(2)
    except GamedrillError as exc:
        errors.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        errors.print("interrupted: the stack was taken down")
        sys.exit(130)
    table = Table(title=f"stack {report.run_id}: health and traffic")
    for column in ("service", "healthy", "processes", "cpu s", "open fds", "served"):
        table.add_column(column)
    for row in report.services:
        table.add_row(row.name, "yes" if row.healthy else "NO", str(row.processes), f"{row.cpu_s:.2f}",
                      str(row.open_fds), str(report.burst.served_by.get(row.name, "")))
    console.print(table)
    result = report.burst
    console.print(f"burst: {result.requests} requests in {result.elapsed_s:.2f} s ({result.rps:.0f}/s), "
                  f"{result.failures} failed, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
    console.print(f"stack up in {report.up_s:.2f} s; down, {report.leftover} processes left behind")
    sys.exit(0 if report.ok else 1)
