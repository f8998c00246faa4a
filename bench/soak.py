"""A long drill: a steady 200 requests a second, faults coming and going, for as long as asked.

    .venv/bin/python bench/soak.py                 # 45 s (the one-minute rule)
    .venv/bin/python bench/soak.py --duration 60m  # the game-day figure: an hour

Runs bench/data/soak-drill.yaml (a fault of every family, each for 12 s, one every 40 s,
the ten-minute cycle repeated for as long as the drill lasts; nobody responds, so the drill
ends at its maximum duration, which this bench sets) in this process, as `gamedrill run`
would, and prints:

- `rss_mb_start`, `rss_mb_end`: the harness's peak resident memory in the first and in the
  last window (a minute each, or a quarter of a shorter run), and `rss_growth`
  between them (target: under 10 %);
- `events_lost`: journal events that should be there and are not (a per-second window
  for every second of traffic, an injection and a revert for every fault);
- `load_records_dropped`: requests Locust made that never reached the harness (Locust's
  own count from its summary, against the records streamed in).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.runner import RunOptions, prepare_run  # noqa: E402
from harness.spec import Drill, load_drill  # noqa: E402
from harness.spec_scenario import RolloutFault  # noqa: E402
from harness.timeline import read_journal  # noqa: E402

DRILL = ROOT / "bench" / "data" / "soak-drill.yaml"
SAMPLE_EVERY_S = 1.0
CYCLE_S = 600.0  # the soak scenario's faults cover ten minutes; longer soaks repeat them
DEFAULT_DURATION_S = 45.0


def duration_s(text: str) -> float:
    """`45`, `45s`, `10m` or `2h` as seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (45, 45s, 10m, 2h)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def soak_drill(seconds: float) -> Drill:
    """The soak drill lasting `seconds`, its fault cycle repeated to fill them (each fault over before the end)."""
    drill = load_drill(DRILL)
    scenario = drill.scenario
    faults = []
    cycle = 0
    while cycle * CYCLE_S < seconds:
        for fault in scenario.faults:
            at_s = fault.at_s + cycle * CYCLE_S
            if at_s + (fault.duration_s or 0) + 5 >= seconds:
                continue
            update: dict[str, object] = {"at_s": at_s}
            if isinstance(fault, RolloutFault) and cycle:  # the control plane takes a version once
                update["artifact"] = fault.artifact.model_copy(update={"version": f"{fault.artifact.version}.{cycle}"})
            faults.append(fault.model_copy(update=update))
        cycle += 1
    scenario = scenario.model_copy(update={"faults": tuple(faults) or scenario.faults[:1]})
    return drill.model_copy(update={"scenario": scenario, "max_duration_s": seconds})


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def locust_total(log: Path) -> int | None:
    """The request count of Locust's own summary (its first `Aggregated` row)."""
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"\s*Aggregated\s+(\d+)\s", line)
        if match:
            return int(match.group(1))
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=duration_s, default=DEFAULT_DURATION_S,
                        help="how long the drill lasts: 45, 45s, 10m, 2h (default 45 s)")
    seconds = parser.parse_args().duration
    drill = soak_drill(seconds)
    with tempfile.TemporaryDirectory(prefix="gamedrill-soak-") as runs:
        run = prepare_run(drill, RunOptions(runs_dir=Path(runs)))
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            while not done.wait(SAMPLE_EVERY_S):
                samples.append((time.monotonic() - began, rss_mb()))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = run.execute()
        done.set()
        sampler.join()
        events = read_journal(result.run_dir / "journal.jsonl")
        log = result.run_dir / "logs" / "locust.log"
        streamed = run.load.requests if run.load is not None else 0
        made = locust_total(log) if log.exists() else None

    window_s = min(60.0, seconds / 4)
    end_s = samples[-1][0] if samples else 0.0
    first = [mb for t, mb in samples if t < window_s] or [float("nan")]
    last = [mb for t, mb in samples if t >= end_s - window_s] or [float("nan")]
    windows = sorted(e.data["start_t_s"] for e in events if e.kind == "slo.window")
    expected_windows = windows[-1] - windows[0] + 1 if windows else 0
    injected = [e for e in events if e.kind == "fault.injected"]
    reverted = [e for e in events if e.kind == "fault.reverted"]
    lost = (expected_windows - len(windows)) + (len(drill.scenario.faults) - len(injected)) \
        + (len(injected) - len(reverted))
    print(f"soak_duration: {seconds:g} s")
    print(f"rss_mb_start: {max(first):.1f} MB")
    print(f"rss_mb_end: {max(last):.1f} MB")
    print(f"rss_growth: {(max(last) - max(first)) / max(first):.1%}".replace("%", " %"))
    print(f"events_lost: {lost} events")
    print(f"load_records_dropped: {'nan' if made is None else made - streamed} records")
    print(f"# outcome {result.outcome} ({result.reason}); {streamed} requests streamed, Locust counted {made}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
