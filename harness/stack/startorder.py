"""Starting a compose project's services in dependency order, each as soon as it may.

The `depends_on` conditions (service_started, service_healthy,
service_completed_successfully) are checked at the pace of each healthcheck's
`start_interval`, as recent Docker engines do. Compose v1 and engines before 25 ignore
`start_interval`, so there a service's first health check would come a whole `interval`
after its start, and every level of dependencies would pay it.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import HealthTimeout, StackError
from harness.stack.compose_model import ComposeProject


@dataclass(frozen=True)
class Probe:
    healthy: bool  # its healthcheck passes (no healthcheck: it is running)
    exit_code: int | None = None  # it has exited, with this status


Check = Callable[[list[str]], dict[str, Probe]]  # probe these services, all at once
LogTail = Callable[[str, int], str]


def start_in_order(project: ComposeProject, start: Callable[[str], None], check: Check, log_tail: LogTail,
                   deadline: float) -> None:
    """Start every service once its dependencies' conditions hold; return when all are healthy."""
    jobs = {dep for spec in project.services.values() for dep, condition in spec.depends_on.items()
            if condition == "service_completed_successfully"}
    started: set[str] = set()
    ready: dict[str, str] = {}  # name -> "healthy" or "completed"
    while True:
        startable = [spec.name for spec in project.services.values()
                     if spec.name not in started and all(dep in started and _holds(condition, ready.get(dep))
                                                         for dep, condition in spec.depends_on.items())]
        if startable:  # side by side: one start is a round trip to the engine
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(startable)) as pool:
                list(pool.map(start, startable))
            started.update(startable)
            continue  # what they unblock (service_started) can start at once
        waiting = [name for name in started if name not in ready]
        for name, probe in check(waiting).items() if waiting else ():
            if probe.exit_code is not None:
                if probe.exit_code != 0 or name not in jobs:
                    raise StackError(f"service {name!r} exited with status {probe.exit_code} while starting:\n"
                                     f"{log_tail(name, 20)}")
                ready[name] = "completed"
            elif probe.healthy and name not in jobs:
                ready[name] = "healthy"
        if len(ready) == len(project.services):
            return
        pause_before_next_probe(project, [n for n in project.services if n not in ready], log_tail, deadline)


def wait_healthy(project: ComposeProject, names: list[str], check: Check, log_tail: LogTail,
                 deadline: float) -> None:
    """Return once every one of `names` is healthy; StackError if one exits meanwhile."""
    pending = list(names)
    while pending:
        probes = check(pending)
        for name, probe in probes.items():
            if probe.exit_code is not None:
                raise StackError(f"service {name!r} exited with status {probe.exit_code}:\n{log_tail(name, 20)}")
        pending = [name for name in pending if not probes[name].healthy]
        if pending:
            pause_before_next_probe(project, pending, log_tail, deadline)


def pause_before_next_probe(project: ComposeProject, waiting: list[str], log_tail: LogTail, deadline: float) -> None:
    if time.monotonic() >= deadline:
        tails = "\n".join(f"--- {name} log ---\n{log_tail(name, 10)}" for name in waiting)
        raise HealthTimeout(f"not healthy in time: {', '.join(waiting)}\n{tails}")
    checks = [project.services[n].healthcheck for n in waiting]
    interval = min((c.start_interval_s for c in checks if c is not None), default=0.05)
    time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def _holds(condition: str, state: str | None) -> bool:
    if condition == "service_completed_successfully":
        return state == "completed"
    if condition == "service_healthy":
        return state == "healthy"
    return True  # service_started
