"""Leases for process-level faults, enforced by a watcher process that outlives the harness."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def renewing(lease: LeaseFile | None, every_s: float = 1.0) -> Iterator[None]:
    """Keep renewing `lease` from a thread while the block runs (a long step that holds it)."""
    if lease is None:
        yield
        return
    done = threading.Event()

    def keep() -> None:
        while not done.wait(every_s):
            with contextlib.suppress(FileNotFoundError):
                lease.renew()

    keeper = threading.Thread(target=keep, name=f"renew-{lease.path.name}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()


class LeaseFile:
    """One fault's lease: a JSON recipe to undo it, renewed by touching the file."""

    watcher: subprocess.Popen[bytes] | None

    def __init__(self, path: Path, ttl_s: float, revert: dict[str, Any], run_id: str) -> None:
        self.path = path
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"ttl_s": ttl_s, "revert": revert}))
        tmp.replace(path)
        env = {**os.environ, "GAMEDRILL_RUN_ID": run_id, "GAMEDRILL_SERVICE": "lease-watcher"}
        with (path.parent / f"{path.stem}.log").open("ab") as log:
            self.watcher = subprocess.Popen([sys.executable, "-m", "harness.leasewatch", str(path)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                            start_new_session=True)  # must survive the harness

    @classmethod
    def adopt(cls, path: Path) -> LeaseFile | None:
        """A lease a dead harness held, if its watcher has not undone it yet (the file is there)."""
        if not path.exists():
            return None
        lease = cls.__new__(cls)
        lease.path, lease.watcher = path, None  # its watcher runs on, in its own session
        return lease

    def recipe(self) -> dict[str, Any]:
        revert: dict[str, Any] = json.loads(self.path.read_text())["revert"]
        return revert

    def renew(self) -> None:
        os.utime(self.path)

    def release(self) -> None:
        """The harness undid the fault itself: the watcher sees the file gone and exits."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self.watcher is None:
            return  # adopted: not our child to wait for; it sees the file gone and leaves
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.watcher.wait(timeout=2)
        if self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()
