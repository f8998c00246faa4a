"""Waiting on a condition with a deadline: the only way gamedrill waits for anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    pass


def wait_until(check: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 0.02) -> T:
    """Poll `check` until it returns something truthy (returned) or `timeout_s` passes (WaitTimeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(f"gave up after {timeout_s:g} s waiting for {what}")
        time.sleep(min(interval_s, remaining))
