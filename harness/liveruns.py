"""Which runs have a live harness, machine-wide, by run id alone.

A harness holds an flock on `<tmp>/gamedrill-runs/<run id>` for as long as it runs the
drill; the kernel drops it the moment that process dies, SIGKILL included. So `gamedrill
cleanup --all` can tell a dead harness's leftovers (to remove) from a drill in progress
(to leave alone), wherever the run's directory is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

from harness.errors import GamedrillError

LIVE_DIR = Path(tempfile.gettempdir()) / "gamedrill-runs"


class RunIsLive(GamedrillError):
    """Another harness runs this drill."""


class LiveMark:
    """This process runs `run_id` (held until `release()` or the process's end)."""

    def __init__(self, run_id: str) -> None:
        shared_dir(LIVE_DIR)
        self.run_id = run_id
        try:
            self._fd: int | None = os.open(_mark_path(run_id), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise GamedrillError(f"cannot mark run {run_id} as live in {LIVE_DIR}: {exc.strerror}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise RunIsLive(f"run {run_id} is being run by another live harness") from None

    def release(self) -> None:
        # The empty file stays: unlinking it would race with a harness taking the run over.
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def is_live(run_id: str) -> bool:
    """Whether a live harness holds `run_id` now."""
    try:
        fd = os.open(_mark_path(run_id), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def shared_dir(path: Path) -> None:
    """A directory every user's gamedrill shares, like /tmp (mkdir's mode is cut by the umask)."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):  # created by another user meanwhile
            path.chmod(0o1777)


def _mark_path(run_id: str) -> Path:
    if not run_id or "/" in run_id or "\0" in run_id or run_id in (".", ".."):
        raise GamedrillError(f"not a run id: {run_id!r}")
    return LIVE_DIR / run_id
