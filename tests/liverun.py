"""`gamedrill run` in a subprocess, as a person starts it, until its control API is up."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from harness.waiting import wait_until

GAMEDRILL = [sys.executable, "-m", "harness.cli"]
ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def running_drill(runs: Path, drill: Path, *options: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """The drill's process and run directory; SIGTERM (a clean wind-down) if it is still running after."""
    proc = subprocess.Popen([*GAMEDRILL, "run", str(drill), "--runs-dir", str(runs), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        run_dir = wait_until(lambda: next((d for d in runs.glob("*") if (d / "control.json").exists()), None),
                             60, "the drill's control API")
        yield proc, run_dir
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def healed_after_s(check: Callable[[], bool], killed_at: float, ttl_s: float, what: str) -> float:
    """Seconds from the kill to the start of the first check that found the shop healed; fails
    past the TTL (a check started in time that takes longer does not count as late)."""
    def timed() -> tuple[float] | None:
        began = time.monotonic()
        return (began - killed_at,) if check() else None

    (seconds,) = wait_until(timed, max(0.0, killed_at + ttl_s - time.monotonic()), what, interval_s=0.2)
    return seconds
