"""A fault's lease, kept outside the harness: `python -m harness.leasewatch LEASE_FILE`.

The harness starts one watcher per process-level fault, in its own session, and renews
the lease by touching the lease file. If the harness dies, the file stops being touched
and the watcher undoes the fault itself once the TTL has passed: SIGCONT to paused
processes, the old RLIMIT_NOFILE back, busy processes killed. A lease file that
disappears means the harness reverted the fault: the watcher just leaves.

Standard library only, and it imports nothing else from gamedrill: it must start fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

POLL_S = 0.25


def undo(revert: dict[str, Any]) -> None:
    """Apply a revert recipe: {"sigcont": [pids]}, {"kill": [pids]}, {"rlimit_nofile": {pid: [soft, hard]}}."""
    for pid in revert.get("sigcont", []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    for pid in revert.get("kill", []):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid, (soft, hard) in revert.get("rlimit_nofile", {}).items():
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            resource.prlimit(int(pid), resource.RLIMIT_NOFILE, (soft, hard))


def watch(lease: Path) -> int:
    while True:
        try:
            recipe = json.loads(lease.read_text())
            age_s = time.time() - lease.stat().st_mtime
        except FileNotFoundError:
            return 0  # the harness reverted the fault itself
        except ValueError:
            time.sleep(POLL_S)  # caught mid-write; the next read sees the whole file
            continue
        if age_s > recipe["ttl_s"]:
            undo(recipe["revert"])
            print(f"lease {lease.name} expired after {age_s:.1f} s: fault undone", file=sys.stderr)
            with contextlib.suppress(FileNotFoundError):
                lease.unlink()
            return 0
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(watch(Path(sys.argv[1])))
