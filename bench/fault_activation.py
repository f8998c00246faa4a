"""How fast each scenario's fault bites: injection -> the first customer-visible failure.

For every built-in scenario, under the load of its regression drill (Locust, as in a
drill): inject the scenario's faults on a healthy stack, wait for the first request that
breaks the scenario's own SLO (failed, or slower than its restoration `max_p99_ms`),
revert, wait until healthy again; several times. The time is the start of that request:
the moment the fault first hit a customer (seeing a hung request fail takes up to the
client's timeout more).

Prints `activation_p95_s[SCENARIO]` (nearest-rank p95 over the runs) and
`activation_runs[SCENARIO]`. Target: under 1 s. The leaks activate at the pace of their
leak, by design: fd-leak-release and rollback-trap once a worker has leaked its 128
descriptors on failed lookups, fd-leak-slow after tens of seconds of uptime. They run
last, as often as the budget allows (at least once; usually once).
Bounded: a fresh stack per scenario, one time budget shared by them all.
"""

from __future__ import annotations

import math
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.faults import FaultContext, Injected, injector_for  # noqa: E402
from harness.load import LoadGenerator, RequestRecord  # noqa: E402
from harness.shopapi import ControlPlane, LoadBalancer, Toxiproxy  # noqa: E402
from harness.spec import Drill, load_drill  # noqa: E402
from harness.stack import LocalBackend, load_compose  # noqa: E402
from harness.stack.factory import SHOP_COMPOSE  # noqa: E402
from harness.waiting import WaitTimeout, wait_until  # noqa: E402

RUNS = 3
BUDGET_S = 25.0  # all scenarios together; each gets at least one run (the leaks take ~10 s a run)
TIMEOUT_S = 1.0  # the load's request timeout: a hung request is a failure after this
ACTIVATION_TIMEOUT_S = 40.0
HEALTHY_FOR_S = 1.0
LEAKS = ("fd-leak-release", "rollback-trap", "fd-leak-slow")  # measured last: they need uptime


class Records:
    """Every request record of the load, as it arrives."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self.lock:
            self.items.append(record)

    def first_bad_after(self, t_mono: float, bad: Callable[[RequestRecord], bool]) -> float | None:
        """The start of the earliest bad request that started after `t_mono`."""
        with self.lock:
            starts = [r.mono for r in self.items if r.mono >= t_mono and bad(r)]
        return min(starts) if starts else None

    def healthy(self, bad: Callable[[RequestRecord], bool]) -> bool:
        """The requests of the last HEALTHY_FOR_S (that have had time to finish) were all good."""
        settled = time.monotonic() - TIMEOUT_S - 0.3  # every request up to here has finished and been flushed
        with self.lock:
            recent = [r for r in self.items if settled - HEALTHY_FOR_S <= r.mono <= settled]
        return len(recent) >= 10 and not any(bad(r) for r in recent)


def context(backend: LocalBackend, run_dir: Path) -> FaultContext:
    proxy_port = backend.project.variables.get("PROXY_API_PORT")
    return FaultContext(backend, ControlPlane(backend.endpoint("config").port),
                        LoadBalancer(backend.endpoint("lb").port), ("web-1", "web-2", "web-3"), backend.run_id,
                        run_dir / "leases", Toxiproxy(int(proxy_port)) if proxy_port else None)


def inject_all(drill: Drill, ctx: FaultContext) -> list[Injected]:
    """The scenario's faults on their schedule (offsets from the first)."""
    start, injected = time.monotonic(), []
    for fault in sorted(drill.scenario.faults, key=lambda f: f.at_s):
        time.sleep(max(0.0, start + fault.at_s - time.monotonic()))  # the scenario's own schedule
        injected.append(injector_for(fault.type)(fault, ctx))
    return injected


def measure(drill: Drill, backend: LocalBackend, run_dir: Path, runs: int, deadline: float) -> list[float]:
    limits = drill.scenario.restoration

    def bad(r: RequestRecord) -> bool:
        return not r.ok or r.latency_ms > limits.max_p99_ms

    records = Records()
    ctx = context(backend, run_dir)
    load = LoadGenerator(backend.endpoint("lb").port, drill.load.users, drill.load.rate_per_s, run_dir, records.add,
                         max_s=BUDGET_S + ACTIVATION_TIMEOUT_S + 60, mix=drill.load.mix, timeout_s=TIMEOUT_S)
    samples: list[float] = []
    with load:
        for attempt in range(runs):
            if attempt and drill.scenario.name in LEAKS and time.monotonic() > deadline:
                break  # the instant faults always get every run; the leaks what time is left
            wait_until(lambda: records.healthy(bad), 30, "a healthy stack", 0.05)
            began = time.monotonic()
            faults = inject_all(drill, ctx)
            try:
                seen = wait_until(lambda began=began: records.first_bad_after(began, bad), ACTIVATION_TIMEOUT_S,
                                  f"{drill.scenario.name} to fail a request", 0.05)
                samples.append(seen - began)
            except WaitTimeout:
                print(f"# {drill.scenario.name}: no failure within {ACTIVATION_TIMEOUT_S:g} s", file=sys.stderr)
            finally:  # a reverted release recycles the workers: no run inherits the last one's leaks
                for fault in reversed(faults):
                    fault.revert(ctx)
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]


def main() -> None:
    drills = sorted((load_drill(p) for p in (ROOT / "drills" / "regression").glob("*.yaml")),
                    key=lambda d: (d.scenario.name in LEAKS, LEAKS.index(d.scenario.name)
                                   if d.scenario.name in LEAKS else 0, d.scenario.name))
    deadline = time.monotonic() + BUDGET_S
    with tempfile.TemporaryDirectory(prefix="gamedrill-bench-") as tmp:
        for drill in drills:
            name = drill.scenario.name
            run_dir = Path(tmp) / name
            (run_dir / "logs").mkdir(parents=True)
            backend = LocalBackend(load_compose(SHOP_COMPOSE), run_dir, f"bench-activation-{name}")
            try:
                backend.up(timeout_s=30)
                samples = measure(drill, backend, run_dir, RUNS, deadline)
            finally:
                backend.down()
            if samples:
                print(f"activation_p95_s[{name}]: {p95(samples):.3f} s")
            else:
                print(f"activation_p95_s[{name}]: nan s")
            print(f"activation_runs[{name}]: {len(samples)} runs")


if __name__ == "__main__":
    main()
