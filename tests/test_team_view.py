"""The team sees only what a game master would let it see.

A live drill on the local backend (real shop, real load, the real fault), read with the
team's token through every team endpoint (journal, live stream, status, changes, meta, the
public status page) and through the CLI, once before the fault and once after it is live.
None of it may carry the injection time, the fault, its lease, the decoys or the ground truth.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from liverun import GAMEDRILL, running_drill

from harness.control import ControlClient
from harness.timeline import EVENT_KINDS, TEAM_VISIBLE, read_journal, team_may_see
from harness.waiting import wait_until

DATA = Path(__file__).parent / "data"
# Words that would give the game away: the fault, its lease, the plan, the decoys, the truth, and
# the run states and checks whose timing is the injection time.
GIVEAWAYS = re.compile(r"\b(faults?|inject\w*|leases?|ttl_s|decoys?|truth|affected_nodes|run\.planned|run\.state|"
                       r"baseline|steady_state|slo\.breached|safety|responder\.step|lucky)\b")


def stream_text(url: str, token: str, frames: int) -> str:
    """The first `frames` frames of the live stream (SSE), as a browser's EventSource reads them."""
    request = urllib.request.Request(f"{url}/v1/stream?since=0", headers={"Authorization": f"Bearer {token}"})
    lines: list[str] = []
    with urllib.request.urlopen(request, timeout=30) as response:
        while sum(1 for line in lines if line.startswith("data:")) < frames:
            line = response.readline().decode()
            if not line:
                break
            lines.append(line)
    return "".join(lines)


def team_views(run_dir: Path, url: str, token: str) -> dict[str, Any]:
    team = ControlClient(url, token=token)
    cli = {f"cli {name}": subprocess.run([*GAMEDRILL, name, "--run", str(run_dir)], capture_output=True, text=True,
                                timeout=60, check=False).stdout for name in ("status", "changes")}
    with urllib.request.urlopen(f"{url}/v1/public/status", timeout=30) as response:
        public = response.read().decode()
    journal = team.journal(0)
    return {"journal": journal, "status": team.status(), "changes": team.changes(), "meta": team._request(
        "GET", "/v1/meta"), "stream": stream_text(url, token, 4 + len(journal)), "public": public, **cli}


def assert_nothing_given_away(views: dict[str, Any], when: str) -> None:
    kinds = {event.kind for event in views["journal"]}
    assert all(team_may_see(kind) for kind in kinds), (when, kinds)
    for name, view in views.items():
        text = json.dumps([e.kind for e in view] if name == "journal" else view, default=str).lower()
        if name == "journal":
            text += json.dumps([dict(e.data) for e in view]).lower()
        found = sorted(set(GIVEAWAYS.findall(text)))
        # The change log is the team's to read: the trigger is a real change in it ("lucky-seven").
        if name in ("changes", "cli changes"):
            found = [w for w in found if w == "decoy"]
        assert not found, f"{when}: the team's {name} mentions {found}: {text[:400]}"
    assert "state" not in views["status"] and views["status"]["phase"] in ("starting", "running")


def test_every_kind_is_either_the_teams_or_the_facilitators() -> None:
    team = {kind for kind in EVENT_KINDS if team_may_see(kind)}
    assert set(EVENT_KINDS) >= TEAM_VISIBLE
    for hidden in ("run.planned", "run.state", "fault.injecting", "fault.injected", "fault.reverted",
                   "change.pushed", "baseline.recorded", "steady_state.checked", "slo.breached"):
        assert hidden not in team


@pytest.mark.timeout(300)
def test_the_team_never_learns_when_or_what_the_fault_is(tmp_path: Path) -> None:
    with running_drill(tmp_path / "runs", DATA / "hung-manual.yaml") as (proc, run_dir):
        url = json.loads((run_dir / "control.json").read_text())["url"]
        token = json.loads((run_dir / "tokens.json").read_text())["team"]

        def facilitator_saw(kind: str) -> bool:
            return any(e.kind == kind for e in read_journal(run_dir / "journal.jsonl"))

        wait_until(lambda: facilitator_saw("load.started"), 60, "the load")
        before = team_views(run_dir, url, token)  # the fault may already be in: nothing shows either way
        assert_nothing_given_away(before, "before the fault")

        wait_until(lambda: facilitator_saw("fault.injected") and facilitator_saw("alert.fired"), 90, "the fault")
        after = team_views(run_dir, url, token)
        assert_nothing_given_away(after, "with the fault live")
        assert any(e.kind == "alert.fired" for e in after["journal"]), "the team does see its alerts"
        # The facilitator, with its own token, sees everything.
        facilitator = ControlClient(url, token=json.loads((run_dir / "tokens.json").read_text())["facilitator"])
        assert facilitator.status()["state"] == "injected"
        assert any(e.kind == "fault.injected" for e in facilitator.journal(0))
        proc.terminate()
