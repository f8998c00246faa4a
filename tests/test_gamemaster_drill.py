"""The game master on the real local stack: injects provoked by the runbook, stakeholders answered."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from harness.control import ControlClient, ControlError
from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill
from harness.spec_base import REPO_ROOT
from harness.timeline import Event, read_journal
from harness.waiting import wait_until
from scorecards.build import build_from_run_dir
from tests.liverun import GAMEDRILL

AUTOPILOT = REPO_ROOT / "drills" / "examples" / "game-master-autopilot.yaml"
CONDITIONS = Path(__file__).parent / "data" / "gamemaster" / "conditions.yaml"


def fired(events: list[Event]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {}
    for event in events:
        if event.kind == "inject.fired":
            found.setdefault(str(event.data["rule"]), []).append(event)
    return found


def test_the_autopilot_example_journals_the_injects_its_runbook_provokes(tmp_path: Path) -> None:
    done = subprocess.run([*GAMEDRILL, "run", str(AUTOPILOT), "--autopilot", "--runs-dir", str(tmp_path),
                           "--seed", "7"], capture_output=True, text=True, timeout=150, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = [d for d in tmp_path.iterdir() if d.is_dir()]
    events = read_journal(run_dir / "journal.jsonl")
    rules = fired(events)
    assert set(rules) == {"slow-ack-makes-it-worse", "support-asks", "early-fix-follow-on"}
    assert all(len(firings) == 1 and all(e["done"] for e in firings[0].data["effects"]) for firings in rules.values())
    # The escalation: the latency toxic reverted and put back stronger; the follow-on: the held fault 1.
    injected = [(e.data["index"], e.data.get("attributes")) for e in events if e.kind == "fault.injected"]
    assert injected == [(0, {"latency": 500, "jitter": 0}), (0, {"latency": 1500, "jitter": 0}), (1, None)]
    reverted = [e for e in events if e.kind == "fault.reverted"]
    assert [e.data["how"] for e in reverted] == ["escalated", "end of drill", "end of drill"]
    assert all(e.data["ok"] for e in reverted)
    restored = next(e for e in events if e.kind == "restoration.detected")
    follow_on = rules["early-fix-follow-on"][0]
    assert follow_on.seq > restored.seq and f"(seq {restored.seq})" in follow_on.data["why"]
    asked = [e.data["id"] for e in events if e.kind == "stakeholder.asked"]
    assert asked == ["Q1", "Q2"]
    assert [e.data["question"] for e in events if e.kind == "team.reply"] == ["Q1", "Q2"]
    card = build_from_run_dir(run_dir)
    by_name = {f.name: f for f in card.findings}
    assert by_name["stakeholder_replies"].passed is True and by_name["stakeholder_reply_role"].passed is True
    labels = [entry.label for entry in card.timeline if entry.kind == "inject.fired"]
    assert any("slow-ack-makes-it-worse" in label and "fault 0 escalated" in label for label in labels), labels


def test_every_other_condition_on_the_real_stack(tmp_path: Path) -> None:
    run = prepare_run(load_drill(CONDITIONS), RunOptions(runs_dir=tmp_path, autopilot=True, seed=3))
    result: list[object] = []
    runner = threading.Thread(target=lambda: result.append(run.execute()))
    runner.start()
    try:
        client = wait_until(lambda: ControlClient.from_run_dir(run.run_dir) if run.control else None, 30,
                            "the control API")
        wait_until(lambda: any(e.kind == "stakeholder.asked" for e in client.journal(0)), 30, "a question")
        with pytest.raises(ControlError) as refused:  # an answer must name a question that was asked
            client.reply("bob", "Q99", "hello?")
        assert refused.value.status == 400 and "no stakeholder asked 'Q99'" in str(refused.value)
        # Answered while customers still fail (the team acts 5 s after the alert): a false all-clear.
        answered = subprocess.run([*GAMEDRILL, "reply", "Q1", "Restored, all clear.", "--run", str(run.run_dir),
                                   "--by", "bob"], capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
        assert answered.returncode == 0 and "recorded team.reply" in answered.stdout, answered.stderr
        listed = subprocess.run([*GAMEDRILL, "questions", "--run", str(run.run_dir)], capture_output=True,
                                text=True, timeout=30, cwd=REPO_ROOT)
        assert listed.returncode == 0 and "Q1" in listed.stdout and "yes" in listed.stdout, listed.stderr
        team_view = client.journal(0)
        assert not any(e.kind == "inject.fired" for e in team_view)  # the game master stays behind the curtain
    finally:
        runner.join(timeout=120)
    assert result and getattr(result[0], "outcome", None) == "resolved", result
    events = read_journal(run.run_dir / "journal.jsonl")
    rules = fired(events)
    assert set(rules) == {"nobody-declared", "silence", "no-canary", "follow-on", "relapse"}, set(rules)
    assert len(rules["nobody-declared"]) == 1 and len(rules["silence"]) >= 2  # `repeat` fires again
    assert "without a canary" in rules["no-canary"][0].data["why"]
    relapse = next(e for e in events if e.kind == "slo.breached" and e.data["relapse"])
    assert rules["follow-on"][0].seq < relapse.seq < rules["relapse"][0].seq
    pause = [e for e in events if e.kind in ("fault.injected", "fault.reverted") and e.data["index"] == 1]
    assert [e.kind for e in pause] == ["fault.injected", "fault.reverted"] and pause[1].data["how"] == "duration"
    card = build_from_run_dir(run.run_dir)
    role = next(f for f in card.findings if f.name == "stakeholder_reply_role")
    assert role.passed is False and "by alice, the commander (bob)" in role.what_happened
    assert "Q1 by bob (comms)" in role.what_happened
    facts = next(f for f in card.findings if f.name == "stakeholder_reply_facts")
    assert facts.passed is False and "said 'Restored'" in facts.what_happened, facts
