"""Finding workers that are stuck spinning, the way an SRE would with `top`.

A spinning worker is runnable every time we look and keeps burning CPU; an idle worker
sleeps in accept(). CPU share alone is not enough: with a dozen spinning workers on two
cores each gets a small share, so runnable-every-sample is the main signal.
"""

from __future__ import annotations

import time

from harness.stack.base import StackBackend

# Low on purpose: under open-loop load the balancer and the generator keep a loaded 2-core
# machine busy, and a dozen spinning workers then get only a few percent each.
MIN_CPU_SHARE = 0.02


def find_hung_workers(backend: StackBackend, node: str, samples: int = 5, interval_s: float = 0.1) -> list[int]:
    """Pids (the backend's) of `node`'s workers runnable in every sample and burning CPU: each sample
    asks the backend, so a container's workers are read inside it, never from the host."""
    first = {p.pid: p.cpu_s for p in backend.processes(node) if p.role == "worker"}
    runnable = dict.fromkeys(first, 0)
    last = dict(first)
    began = time.monotonic()
    for index in range(samples):
        if index:
            time.sleep(interval_s)  # sampling, as top does
        for info in backend.processes(node):
            if info.pid in runnable:
                last[info.pid] = info.cpu_s
                runnable[info.pid] += info.state == "R"
    elapsed = max(time.monotonic() - began, 1e-3)
    return [pid for pid, count in runnable.items()
            if count == samples and (last[pid] - first[pid]) / elapsed >= MIN_CPU_SHARE]
