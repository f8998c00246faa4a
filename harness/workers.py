"""Finding workers that are stuck spinning, the way an SRE would with `top`.

A spinning worker is runnable every time we look and keeps burning CPU; an idle worker
sleeps in accept(). CPU share alone is not enough: with a dozen spinning workers on two
cores each gets a small share, so runnable-every-sample is the main signal.
"""

from __future__ import annotations

import time

from harness.stack import procfs
from harness.stack.base import StackBackend

# Low on purpose: under open-loop load the balancer and the generator keep a loaded 2-core
# machine busy, and a dozen spinning workers then get only a few percent each.
MIN_CPU_SHARE = 0.02


def find_hung_workers(backend: StackBackend, node: str, samples: int = 5, interval_s: float = 0.1) -> list[int]:
    workers = [p for p in backend.processes(node) if p.role == "worker"]
    first_cpu = {p.pid: p.cpu_s for p in workers}
    runnable = dict.fromkeys(first_cpu, 0)
    began = time.monotonic()
    for index in range(samples):
        if index:
            time.sleep(interval_s)  # sampling, as top does
        for pid in runnable:
            stat = procfs.read_stat(pid)
            if stat is not None and stat.state == "R":
                runnable[pid] += 1
    elapsed = max(time.monotonic() - began, 1e-3)
    hung = []
    for pid, count in runnable.items():
        stat = procfs.read_stat(pid)
        if stat is None or count < samples:
            continue
        if (stat.cpu_s - first_cpu[pid]) / elapsed >= MIN_CPU_SHARE:
            hung.append(pid)
    return hung
