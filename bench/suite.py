"""Wall time of the drill regression suite (`drills/regression/`), serial and with `-n 2`.

Prints `suite_drills` (how many drills the suite has), `suite_serial_s` and `suite_n2_s`
(median wall time of `pytest drills/regression`, serial and under pytest-xdist with two
workers), and `suite_serial_failed` / `suite_n2_failed` (drills that missed a target in
the slowest of those runs). Target: suite_serial_s under 180 s on this 2-core machine.

Each time is the median of up to 3 runs, as many as fit in a minute per figure (a suite of
half a minute or more gets one). Two figures of a suite that long cannot fit in a minute:
the bench takes about as long as the suite does, twice. It exits with status 1 when a
drill failed: the time of a suite that does not pass is a figure to read with care.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITE = "drills/regression"
MAX_RUNS = 3
BUDGET_S = 60.0  # per figure: stop repeating once another run would pass this
RUN_TIMEOUT_S = 900.0  # one suite run; far above the 180 s target, so only a hang trips it


def run_suite(work_dir: Path, *extra: str) -> tuple[float, list[str]]:
    """Wall time of one suite run and the drills that failed in it."""
    report = work_dir / "report.xml"
    command = [sys.executable, "-m", "pytest", SUITE, "-q", "-p", "no:cacheprovider",
               f"--gamedrill-runs-dir={work_dir / 'runs'}", f"--junitxml={report}", *extra]
    began = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    elapsed = time.monotonic() - began
    if not report.exists():  # pytest itself broke: no suite ran
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-2000:])
        raise SystemExit(f"the regression suite did not run ({' '.join(command)}): exit status {done.returncode}")
    failed = [case.attrib["name"] for case in ET.parse(report).getroot().iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return elapsed, failed


def measure(work_dir: Path, *extra: str) -> tuple[float, list[str]]:
    """Median wall time over the runs that fit the budget, and the failures of the slowest run."""
    runs: list[tuple[float, list[str]]] = []
    while len(runs) < MAX_RUNS and (not runs or sum(t for t, _ in runs) + runs[-1][0] <= BUDGET_S):
        run_dir = work_dir / f"run{len(runs)}"
        run_dir.mkdir(parents=True)
        runs.append(run_suite(run_dir, *extra))
    return statistics.median(t for t, _ in runs), max(runs)[1]


def main() -> None:
    drills = sorted(path.name for path in (REPO / SUITE).glob("*.y*ml"))
    with tempfile.TemporaryDirectory(prefix="gamedrill-suite-bench-") as tmp:
        serial_s, serial_failed = measure(Path(tmp) / "serial")
        n2_s, n2_failed = measure(Path(tmp) / "n2", "-n", "2")
    print(f"suite_drills: {len(drills)} drills")
    print(f"suite_serial_s: {serial_s:.1f} s")
    print(f"suite_serial_failed: {len(serial_failed)} drills")
    print(f"suite_n2_s: {n2_s:.1f} s")
    print(f"suite_n2_failed: {len(n2_failed)} drills", flush=True)
    for label, failed in (("serial", serial_failed), ("-n 2", n2_failed)):
        if failed:
            print(f"failed {label}: {', '.join(failed)}", file=sys.stderr)
    if serial_failed or n2_failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
