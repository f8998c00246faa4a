"""`gamedrill run` in a subprocess, as a person starts it, until its control API is up."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
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
