"""Background tasks with an owner: kept referenced, failures logged, cancelled together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("harness.proxy")


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def start(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """`spawn` for callbacks that want nothing back."""
        self.spawn(coro, name)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s failed", task.get_name(), exc_info=task.exception())

    def cancel_all(self) -> list[asyncio.Task[None]]:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    async def aclose(self) -> None:
        tasks = self.cancel_all()
        if tasks:
            await asyncio.wait(tasks)


def wake(future: asyncio.Future[None]) -> None:
    """A readiness callback: the selector may report readiness again before the waiter runs."""
    if not future.done():
        future.set_result(None)
