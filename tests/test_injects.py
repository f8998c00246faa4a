"""The inject rules' conditions, over a real journal on a clock that moves only when told."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.injects import InjectRules
from harness.spec_injects import InjectRule
from harness.timeline import FakeClock, Journal


class Drive:
    def __init__(self, journal: Journal, clock: FakeClock, rules: InjectRules) -> None:
        self.journal, self.clock, self.rules = journal, clock, rules

    def at(self, t_s: float, kind: str | None = None, **data: Any) -> list[str]:
        """Move to `t_s` (since the journal opened), journal `kind` there, return the firings' whys."""
        self.clock.advance(t_s - self.journal.now_s())
        if kind is not None:
            self.journal.append(kind, **data)
        return [f.why for f in self.rules.due(self.journal.now_s())]


@pytest.fixture
def drive(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Drive]:
    rules, seed = request.param if isinstance(request.param, tuple) else (request.param, 0)
    clock = FakeClock()
    with Journal.open(tmp_path / "journal.jsonl", clock) as journal:
        engine = InjectRules(tuple(InjectRule.model_validate(r) for r in rules), random.Random(seed))
        journal.subscribe(engine.observe)
        yield Drive(journal, clock, engine)


def rule(when: dict[str, Any], repeat: bool = False, chance: float = 1.0) -> dict[str, Any]:
    return {"name": "r", "when": when, "then": [{"inject": 1}], "repeat": repeat, "chance": chance}


@pytest.mark.parametrize("drive", [[rule({"no_ack_for_s": 3})]], indirect=True)
def test_no_ack_fires_once_after_the_first_alert(drive: Drive) -> None:
    assert drive.at(1, "fault.injected", index=0) == []
    assert drive.at(5, "alert.fired", name="a") == []
    assert drive.at(7.9) == []
    assert drive.at(8.0) == ["3 s after the first alert, no ack"]
    assert drive.at(20) == []  # at most once without `repeat`


@pytest.mark.parametrize("drive", [[rule({"no_ack_for_s": 3})]], indirect=True)
def test_an_ack_in_time_keeps_it_quiet(drive: Drive) -> None:
    drive.at(5, "alert.fired", name="a")
    assert drive.at(6, "team.ack", by="alice") == []
    assert drive.at(30) == []


@pytest.mark.parametrize("drive", [[rule({"no_declare_for_s": 2}, repeat=True)]], indirect=True)
def test_no_declaration_repeats_each_period_until_declared(drive: Drive) -> None:
    drive.at(1, "alert.fired", name="a")
    assert drive.at(3.5) == ["2 s after the first alert, no declaration"]
    assert drive.at(5.2) == ["4 s after the first alert, no declaration"]
    assert drive.at(6, "team.declare", by="alice", severity=2, commander="alice") == []
    assert drive.at(20) == []
    assert drive.rules.next_due_t_s(drive.journal.now_s()) is None


@pytest.mark.parametrize("drive", [[rule({"no_update_for_s": 3}, repeat=True)]], indirect=True)
def test_no_update_counts_from_the_last_update(drive: Drive) -> None:
    drive.at(1, "alert.fired", name="a")
    assert drive.rules.next_due_t_s(drive.journal.now_s()) == pytest.approx(4)
    assert drive.at(4.1) == ["3 s since the first alert, no update"]
    assert drive.at(5, "team.update", by="bob", impact="x", action="y") == []
    assert drive.at(7.9) == []
    assert drive.at(8.1) == ["3 s since the last update, no update"]


@pytest.mark.parametrize("drive", [[rule({"at_s": 4})]], indirect=True)
def test_at_s_counts_from_the_injection(drive: Drive) -> None:
    assert drive.at(10) == []  # nothing injected yet
    drive.at(10, "fault.injected", index=0)
    assert drive.rules.next_due_t_s(drive.journal.now_s()) == pytest.approx(14)
    assert drive.at(13.9) == []
    assert drive.at(14.05) == ["4 s after the injection"]


@pytest.mark.parametrize("drive", [[rule({"relapse": True})]], indirect=True)
def test_relapse_needs_a_breach_after_a_restoration(drive: Drive) -> None:
    assert drive.at(2, "slo.breached", window_end_t_s=2, relapse=False) == []
    fired = drive.at(9, "slo.breached", window_end_t_s=9, relapse=True)
    assert len(fired) == 1 and "breached again" in fired[0]


@pytest.mark.parametrize("drive", [[rule({"fixed_before_s": 10})]], indirect=True)
def test_fixed_before_uses_the_restoration_window_start(drive: Drive) -> None:
    drive.at(2, "fault.injected", index=0)
    assert drive.at(16, "restoration.detected", window_start_t_s=13.0) == []  # 11 s: too late
    fired = drive.at(30, "restoration.detected", window_start_t_s=11.5)  # 9.5 s: early (a relapse, then fixed)
    assert fired == ["restored 9.5 s after the injection, before 10 s (seq 4)"]


@pytest.mark.parametrize("drive", [[rule({"action": "flag-on", "without_canary": True}, repeat=True)]],
                         indirect=True)
def test_action_without_canary(drive: Drive) -> None:
    assert drive.at(1, "team.act", by="dave", action="flag-on", canary="web-1", params={}) == []
    assert drive.at(2, "team.act", by="dave", action="restart", canary=None, params={}) == []
    assert drive.at(3, "team.act", by="dave", action="flag-on", canary=None, params={}) == [
        "dave ran flag-on without a canary (seq 4)"]


@pytest.mark.parametrize("drive", [[rule({"action": "restart"}, repeat=True, chance=0.5)]], indirect=True)
def test_chance_is_drawn_from_the_seeded_rng_once_per_occurrence(drive: Drive) -> None:
    fired = [bool(drive.at(i + 1, "team.act", by="dave", action="restart", canary=None, params={}))
             for i in range(24)]
    replay = random.Random(0)
    assert fired == [replay.random() < 0.5 for _ in range(24)]
    assert any(fired) and not all(fired)
