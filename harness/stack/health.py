"""Running compose healthcheck commands, many at once, each within its own timeout."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from harness.stack.compose_model import Healthcheck


def run_probes(checks: Mapping[str, Healthcheck], cwd: Mapping[str, Path]) -> dict[str, bool]:
    """Start every probe, then collect them: the wall time is the slowest probe's, not the sum."""
    started: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
    results: dict[str, bool] = {}
    for name, check in checks.items():
        try:
            popen = subprocess.Popen(check.argv, cwd=cwd.get(name), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            results[name] = False
            continue
        started[name] = (popen, time.monotonic() + check.timeout_s)
    for name, (popen, deadline) in started.items():
        try:
            results[name] = popen.wait(timeout=max(0.0, deadline - time.monotonic())) == 0
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
            results[name] = False
    return results
