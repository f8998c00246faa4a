"""`gamedrill run` killed with SIGKILL at every stage of a drill: the shop heals by itself
within the fault's lease, `gamedrill cleanup` leaves nothing of the run, the journal up to
the kill is intact, and `gamedrill scorecard rebuild` scores it, marked incomplete."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import time
from pathlib import Path

import pytest
from liverun import GAMEDRILL, ROOT, healed_after_s, running_drill

from harness.burst import burst
from harness.cleanup import find_leftovers
from harness.shopapi import Toxiproxy
from harness.stack import procfs
from harness.timeline import Event, read_journal, scan_journal
from harness.waiting import wait_until

DRILL = Path(__file__).parent / "data" / "hung-autopilot.yaml"
TTL_S = 15.0  # scenarios/hung-workers.yaml's: the shop must be healthy this long after the kill


def kill_when(run_dir_parent: Path, proc: subprocess.Popen[str], ready: str) -> Path:
    """SIGKILL `proc` as soon as its journal holds an event matching `ready` ("kind" or "kind:to")."""
    kind, _, to = ready.partition(":")

    def reached() -> Path | None:
        for journal in run_dir_parent.glob("*/journal.jsonl"):
            if any(e.kind == kind and (not to or e.data.get("to") == to) for e in read_journal(journal)):
                return journal.parent
        return None

    run_dir = wait_until(reached, 90, f"the drill to reach {ready}", interval_s=0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return run_dir


def healthy(lb_port: int) -> bool:
    result = burst(lb_port, requests=60, max_s=5, concurrency=4)
    return result.requests == 60 and result.failures == 0


@pytest.mark.timeout(240)
@pytest.mark.parametrize("ready", [
    pytest.param("run.state:baseline", id="before-inject"),
    pytest.param("alert.fired", id="mid-fault"),
    pytest.param("team.act", id="mid-mitigation"),
    pytest.param("run.state:reverting", id="while-reverting"),
    pytest.param("load.stopped", id="during-teardown"),
])
def test_a_harness_killed_at_any_stage_leaves_nothing_broken_or_lost(tmp_path: Path, ready: str) -> None:
    runs = tmp_path / "runs"
    proc = subprocess.Popen([*GAMEDRILL, "run", str(DRILL), "--autopilot", "--runs-dir", str(runs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        run_dir = kill_when(runs, proc, ready)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    killed_at = time.monotonic()
    try:
        # The journal up to the kill: every line whole (a torn last line at most) and the seq
        # unbroken, or scan_journal raises JournalCorrupt.
        events: list[Event] = list(scan_journal(run_dir / "journal.jsonl").events)
        assert not any(e.kind == "run.finished" for e in events)
        assert any(e.kind == ready.partition(":")[0] for e in events)

        if ready == "load.stopped":
            # Killed while taking the stack down on purpose: nothing is left injected, and
            # what is left running is cleanup's.
            injected = {e.data["index"] for e in events if e.kind == "fault.injected"}
            assert injected and injected == {e.data["index"] for e in events if e.kind == "fault.reverted"}
        else:
            # The shop heals by itself: the leases outlive the harness.
            stack = json.loads((run_dir / "stack.json").read_text())
            lb_port = stack["services"]["lb"]["port"]
            healed_s = healed_after_s(lambda: healthy(lb_port), killed_at, TTL_S, "the shop to heal by itself")
            print(f"healed {healed_s:.1f} s after the kill (ttl {TTL_S:g} s)")
    finally:
        cleaned = subprocess.run([*GAMEDRILL, "cleanup", run_dir.name], capture_output=True, text=True,
                                 timeout=60, check=False)
    assert cleaned.returncode == 0, cleaned.stderr
    assert find_leftovers(run_dir.name) == [], "cleanup left processes of the run"

    journal_at_kill = (run_dir / "journal.jsonl").read_bytes()
    rebuilt = subprocess.run([*GAMEDRILL, "scorecard", "rebuild", run_dir.name, "--runs-dir", str(runs)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (run_dir / "journal.jsonl").read_bytes() == journal_at_kill, "scoring never rewrites the record"
    card = json.loads((run_dir / "scorecard.json").read_text())
    assert card["complete"] is False, "a run without run.finished is scored as incomplete"
    assert "incomplete" in (run_dir / "scorecard.md").read_text().lower()
    # What happened before the kill is scored from the journal; what did not is not a miss.
    phases = {p["phase"]: p for p in card["phases"]}
    fault = next((e for e in events if e.kind == "fault.injected"), None)
    alert = next((e for e in events if e.kind == "alert.fired"), None)
    if fault is not None and alert is not None:
        assert phases["detect"]["status"] == "done"
        assert phases["detect"]["seconds_from_fault"] == pytest.approx(alert.t_s - fault.t_s, abs=0.01)
    assert all(p["passed"] is None for p in card["phases"] if p["status"] == "not_reached")
    assert card["grade"]["withheld"], "no grade for a drill the harness never finished"


EVERY_FAMILY = Path(__file__).parent / "data" / "killed" / "every-family-drill.yaml"
EVERY_FAMILY_TTL_S = 15.0  # every fault's ttl_s in that scenario (a resume must start within its lease)
FAULTS = 6


def every_fault_injected(run_dir: Path) -> bool:
    return sum(e.kind == "fault.injected" for e in read_journal(run_dir / "journal.jsonl")) == FAULTS


def stack_state(run_dir: Path) -> tuple[int, int, int]:
    """(lb port, proxy API port, the fd limit the fault put on web-1)."""
    stack = json.loads((run_dir / "stack.json").read_text())
    injected = [e for e in read_journal(run_dir / "journal.jsonl") if e.kind == "fault.injected"]
    lowered = next(e.data["nofile"] for e in injected if e.data["type"] == "fd_limit")
    return stack["services"]["lb"]["port"], int(stack["ports"]["PROXY_API_PORT"]), lowered


def journal_clock_s(run_dir: Path) -> float:
    """The drill's clock as its journal shows it (a live harness journals traffic every second)."""
    return read_journal(run_dir / "journal.jsonl")[-1].t_s


def nofile_soft(pid: int) -> float:
    """The process's soft RLIMIT_NOFILE (infinite once it is gone: web-1's workers come and go)."""
    try:
        return resource.prlimit(pid, resource.RLIMIT_NOFILE)[0]
    except ProcessLookupError:
        return float("inf")


def what_still_hurts(run_id: str, lb_port: int, proxy_port: int, lowered_nofile: int) -> list[str]:
    """Every trace of the six faults still there (empty once the shop is whole)."""
    hurts = []
    leftovers = find_leftovers(run_id)
    stopped = [p.pid for p in leftovers if (stat := procfs.read_stat(p.pid)) and stat.state == "T"]
    if stopped:
        hurts.append(f"paused pids {stopped}")
    if any(p.service == "cpu-hog" for p in leftovers):
        hurts.append("a cpu hog runs")
    web1 = [p.pid for p in leftovers if p.service == "web-1"]
    if any(nofile_soft(pid) <= lowered_nofile for pid in web1):
        hurts.append("web-1 still has its lowered fd limit")
    if not any(p.service == "web-2" for p in leftovers):
        hurts.append("web-2 is not running")
    proxy = Toxiproxy(proxy_port).proxies()["inventory"]
    if proxy["toxics"] or not proxy["enabled"]:
        hurts.append(f"the inventory link: enabled={proxy['enabled']}, toxics={proxy['toxics']}")
    if not healthy(lb_port):
        hurts.append("the shop fails requests")
    return hurts


@pytest.mark.timeout(180)
def test_every_fault_family_heals_by_its_lease_when_the_harness_is_killed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with running_drill(runs, EVERY_FAMILY) as (harness, run_dir):
        try:
            wait_until(lambda: every_fault_injected(run_dir), 60, "all six faults to be injected", interval_s=0.05)
            harness.send_signal(signal.SIGKILL)
            harness.wait(timeout=10)
            killed_at = time.monotonic()
            lb_port, proxy_port, lowered_nofile = stack_state(run_dir)
            assert what_still_hurts(run_dir.name, lb_port, proxy_port, lowered_nofile), "the faults were live"
            healed_s = healed_after_s(lambda: not what_still_hurts(run_dir.name, lb_port, proxy_port, lowered_nofile),
                                      killed_at, EVERY_FAMILY_TTL_S, "every lease to undo its fault")
        finally:
            cleaned = subprocess.run([*GAMEDRILL, "cleanup", run_dir.name], capture_output=True, text=True,
                                     timeout=60, check=False)
    print(f"healed {healed_s:.1f} s after the kill (ttl {EVERY_FAMILY_TTL_S:g} s)")
    assert cleaned.returncode == 0, cleaned.stderr
    assert find_leftovers(run_dir.name) == []


@pytest.mark.timeout(240)
def test_a_resumed_harness_takes_over_every_fault_family_and_reverts_them(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with running_drill(runs, EVERY_FAMILY) as (harness, run_dir):
        wait_until(lambda: every_fault_injected(run_dir), 60, "all six faults to be injected", interval_s=0.05)
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
        lb_port, proxy_port, lowered_nofile = stack_state(run_dir)
        resumed = subprocess.Popen([*GAMEDRILL, "run", "--resume", run_dir.name, "--runs-dir", str(runs)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        try:
            taken = wait_until(lambda: next((e for e in read_journal(run_dir / "journal.jsonl")
                                             if e.kind == "run.resumed"), None), 30, "the new harness")
            # Within the leases: the new harness holds every fault (none lapsed), and keeps them
            # past their TTL by renewing the leases the dead one left.
            assert taken.data["faults_held"] == list(range(FAULTS)) and taken.data["faults_lapsed"] == [], \
                taken.data
            wait_until(lambda: journal_clock_s(run_dir) >= taken.t_s + EVERY_FAMILY_TTL_S + 2, 30,
                       "the dead harness's leases to be past their TTL")
            assert what_still_hurts(run_dir.name, lb_port, proxy_port, lowered_nofile), \
                "a lease undid a fault that the new harness holds"
            abort = subprocess.run([*GAMEDRILL, "abort", "end of test", "--run", str(run_dir)],
                                   capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
            assert abort.returncode == 0, abort.stderr
            output, _ = resumed.communicate(timeout=90)
        finally:
            if resumed.poll() is None:
                resumed.terminate()
                resumed.wait(timeout=60)
    assert "outcome: aborted" in output, output
    events = read_journal(run_dir / "journal.jsonl")
    reverted = [e for e in events if e.kind == "fault.reverted"]
    assert sorted(e.data["index"] for e in reverted) == list(range(FAULTS)) and all(e.data["ok"] for e in reverted)
    assert events[-1].kind == "run.finished"
    assert find_leftovers(run_dir.name) == []
