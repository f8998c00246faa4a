"""After `--resume`: the seconds the dead harness never wrote, rebuilt from the request log.

The dead harness's reader thread appended every record it received to
`metrics/requests.jsonl` before handing it on, but its monitor only journals a second's
window once every request of that second has settled. So the log holds arrivals whose
windows were never written. They are fed to the new harness's monitor before its own load
starts: the next ticks journal their windows (and count them towards the error budget and
any restoration), so the scorecard sees every failure the log holds. The earlier logged
requests count towards the error budget only (their windows are journaled already).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from harness.load import read_records, sample_of
from harness.monitor import Monitor
from harness.timeline import Event

log = logging.getLogger(__name__)
RECORDS = Path("metrics") / "requests.jsonl"


def replay_unwritten(monitor: Monitor, run_dir: Path, journaled: Sequence[Event], origin_mono: float) -> int:
    """Feed `monitor` the logged arrivals after the last journaled window; returns how many."""
    path = run_dir / RECORDS
    if not path.is_file():
        return 0
    written = [int(e.data["start_t_s"]) for e in journaled if e.kind == "slo.window"]
    from_t_s = max(written) + 1.0 if written else float("-inf")
    samples = sorted((sample_of(r, origin_mono) for r in read_records(path)), key=lambda s: s.t_s)
    unwritten = [s for s in samples if s.t_s >= from_t_s]
    for sample in samples[:len(samples) - len(unwritten)]:
        monitor.count_only(sample)  # the error budget burnt so far counts every logged request
    for sample in unwritten:
        monitor.feed(sample)
    log.info("rebuilding the windows from t = %s s: %d logged arrivals", from_t_s, len(unwritten))
    return len(unwritten)
