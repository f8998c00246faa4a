"""Is the scorecard's customer impact honest to the request?

A real drill: hung workers on every node (the hung-workers scenario) under open-loop
Locust load at 60 arrivals/s, with a runbook that waits 12 s after the page before fixing
it. Meanwhile an independent probe client, in a process of its own, sends a known fixed
30 requests/s (open loop: a thread per request, the load's timeout) over the same stack.

Prints:
- `offered_rate_held`: achieved / offered arrivals over the worst 10 s in which every node
  was failing (the per-second windows); target at least 0.95.
- `impact_error_pct`: the scorecard's failed-request count against the probe's truth (the
  probe's failed share over the same seconds times the requests the scorecard counted);
  target within 5 %.
One drill takes about 40 s, so each figure is from one run (the limit is a minute).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness.runner import LOAD_TIMEOUT_S, Run, RunOptions, prepare_run
from harness.runstate import RunState
from harness.spec import load_drill
from harness.timeline import read_journal
from harness.waiting import wait_until

DRILL = Path(__file__).parent / "data" / "impact-drill.yaml"
PROBE_RATE_PER_S = 30.0
HUNG_SHARE = 0.9  # a node failing this share of its requests in a second is hung
WORST_S = 10


class Probe:
    """Open-loop GETs of product pages at a fixed rate, in a process of its own (so the
    harness's threads never slow it down); each outcome by its intended start."""

    def __init__(self, port: int, out: Path) -> None:
        self.out = out
        self._proc = subprocess.Popen([sys.executable, __file__, "probe", str(port), str(out)])

    def stop(self) -> list[tuple[float, bool]]:
        self._proc.send_signal(signal.SIGTERM)
        self._proc.wait(timeout=10)
        lines = self.out.read_text().splitlines()
        return [(float(t), ok == "1") for t, ok in (line.split() for line in lines if line.count(" ") == 1)]


def probe_main(port: int, out: Path) -> None:
    """The probe process: a thread per request, paced on CLOCK_MONOTONIC, until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    with out.open("w", buffering=1) as sink:
        def one(intended: float) -> None:
            url = f"http://127.0.0.1:{port}/product/sku-{random.randint(1, 50):03d}"
            try:
                with urllib.request.urlopen(url, timeout=LOAD_TIMEOUT_S) as response:
                    ok = response.status < 500
                    response.read()
            except urllib.error.HTTPError as exc:
                ok = exc.code < 500
            except OSError:
                ok = False
            with lock:
                sink.write(f"{intended} {int(ok)}\n")

        origin, k = time.monotonic(), 0
        while not stop.is_set():
            k += 1
            intended = origin + k / PROBE_RATE_PER_S
            stop.wait(max(0.0, intended - time.monotonic()))
            threading.Thread(target=one, args=(intended,), daemon=True).start()
        time.sleep(LOAD_TIMEOUT_S + 0.5)  # the last requests report (bounded by their timeout)


def run_drill(runs: Path) -> tuple[Run, list[tuple[float, bool]]]:
    run = prepare_run(load_drill(DRILL), RunOptions(runs_dir=runs, autopilot=True))
    probes: list[Probe] = []

    def start_probe() -> None:
        wait_until(lambda: run.states.state in (RunState.BASELINE, RunState.INJECTED), 60, "the baseline")
        probes.append(Probe(run.backend.endpoint("lb").port, runs / "probe.txt"))

    starter = threading.Thread(target=start_probe, daemon=True)
    starter.start()
    try:
        run.execute()
    finally:
        starter.join()
        results = probes[0].stop() if probes else []
    return run, results


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gamedrill-impact-") as tmp:
        run, probe_results = run_drill(Path(tmp))
        events = read_journal(run.run_dir / "journal.jsonl")
        card = json.loads((run.run_dir / "scorecard.json").read_text())
    origin_mono = float(events[0].data["origin_monotonic"])
    windows = [e.data for e in events if e.kind == "slo.window"]
    impact = card["impact"]
    start, end = impact["start_t_s"], impact["end_t_s"]
    counted = [w for w in windows if w["start_t_s"] + 1 > start and (end is None or w["start_t_s"] < end)]
    first_s, last_s = counted[0]["start_t_s"], counted[-1]["start_t_s"] + 1

    hung = [w for w in counted if w["nodes"] and all(f >= HUNG_SHARE * r for r, f in w["nodes"].values())]
    held = min((sum(w["achieved"] for w in hung[i:i + WORST_S]) / sum(w["offered"] for w in hung[i:i + WORST_S])
                for i in range(max(1, len(hung) - WORST_S + 1))), default=float("nan"))

    probed = [ok for intended, ok in probe_results if first_s <= intended - origin_mono < last_s]
    probe_failed_share = sum(1 for ok in probed if not ok) / len(probed)
    expected_failed = probe_failed_share * impact["total_requests"]
    error_pct = abs(impact["failed_requests"] - expected_failed) / expected_failed * 100
    print(f"offered_rate_held: {held:.3f} ratio")
    print(f"impact_error_pct: {error_pct:.1f} %")
    print(f"hung_every_node_s: {len(hung)} s")
    print(f"scorecard_failed: {impact['failed_requests']} requests")
    print(f"probe_expected_failed: {expected_failed:.0f} requests")
    print(f"probe_requests: {len(probed)} requests")
    print(f"measurement_warnings: {len(impact['measurement_warnings'])} count")
    print(f"restored: {int(impact['restored'])} bool")


if __name__ == "__main__":
    if sys.argv[1:2] == ["probe"]:
        probe_main(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
