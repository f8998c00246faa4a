"""Run ids and run directories: every run gets `runs/<run-id>/`, private to its owner.

A run directory is the record of something that happened. A run that fails before it
really starts (see `harness.runner` for where that line is) takes its directory back with
`discard_run_dir`, so `runs/` never fills up with empty or near-empty directories of
drills that never ran.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_RUNS_DIR = Path("runs")

log = logging.getLogger(__name__)


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def create_run_dir(runs_dir: Path = DEFAULT_RUNS_DIR, run_id: str | None = None) -> tuple[str, Path]:
    """A new, empty run directory (mode 0700: it holds the run's tokens)."""
    run_id = run_id or new_run_id()
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / run_id
    path.mkdir(mode=0o700)
    path.chmod(0o700)  # mkdir's mode is filtered by the umask
    return run_id, path


def discard_run_dir(path: Path) -> bool:
    """Remove the directory of a run that never started, and everything in it (its plan, the
    logs of a stack that did not come up). False, with a warning, if it cannot be removed:
    the caller's error stays the one the user sees."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.warning("could not remove the run directory %s of a run that never started: %s", path, exc)
        return False
    return True
