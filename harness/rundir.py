"""Run ids and run directories: every run gets `runs/<run-id>/`, private to its owner."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_RUNS_DIR = Path("runs")


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
