"""The facilitator's live view: phase clocks against targets, SLO, faults, plain-word events."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harness.eventwords import WORDS
from harness.liveview import LiveState, live_view, render
from harness.spec_drill import Targets
from harness.timeline import EVENT_KINDS, FakeClock, Journal

TARGETS = Targets(detect_s=60, ack_s=120, declare_s=240, mitigate_s=600, resolve_s=900)


def drill_so_far(tmp_path: Path) -> tuple[Journal, FakeClock]:
    clock = FakeClock()
    journal = Journal.open(tmp_path / "journal.jsonl", clock)
    return journal, clock


def play(journal: Journal, clock: FakeClock) -> None:
    """Fault at 30 s, alert at 40 s, ack at 200 s (late), declare at 230 s; traffic failing."""
    clock.advance(30)
    journal.append("fault.injected", index=0, type="rollout", ttl_s=30, target="web-1")
    clock.advance(10)
    journal.append("slo.window", start_t_s=39, requests=30, failures=12, p50_ms=20.0, p99_ms=900.0, nodes={})
    journal.append("alert.fired", name="high-error-rate", metric="error_rate", value=0.4, op=">",
                   threshold=0.05, for_s=3, node=None)
    clock.advance(160)
    journal.append("team.ack", by="alice")
    clock.advance(30)
    journal.append("team.declare", by="alice", severity=2, commander="alice")
    journal.append("team.act", by="dave", action="pause-rollout", canary="web-1", params={})


def screen(state: LiveState, now_t_s: float) -> str:
    out = Console(file=io.StringIO(), width=140, force_terminal=False, color_system=None)
    out.print(render(state, now_t_s))
    return out.file.getvalue()  # type: ignore[attr-defined]


def test_the_view_shows_phase_clocks_against_targets_slo_faults_and_events(tmp_path: Path) -> None:
    journal, clock = drill_so_far(tmp_path)
    state = LiveState(TARGETS)
    journal.subscribe(state.feed)
    play(journal, clock)
    text = screen(state, journal.now_s())

    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") >= 4}
    assert "00:10" in rows["detect"] and "done" in rows["detect"]  # 10 s from the fault, target 1 min
    assert "02:50" in rows["ack"] and "late" in rows["ack"]  # 170 s against 120 s
    assert "03:20" in rows["declare"] and "done" in rows["declare"]
    assert "running" in rows["mitigate"] and "10:00" in rows["mitigate"]
    assert "fault live for 03:20" in text
    assert "SLO now: 40.0% errors of 30 req/s, p99 900 ms" in text and "high-error-rate" in text
    assert "#0 rollout, live 03:20, lease 30 s" in text
    assert "alice acknowledged the page" in text
    assert "dave ran pause-rollout on web-1 (canary)" in text
    assert "team.act" not in text  # plain words, not the journal's names


def test_a_phase_past_its_target_shows_overdue_before_it_is_done(tmp_path: Path) -> None:
    journal, clock = drill_so_far(tmp_path)
    state = LiveState(TARGETS)
    journal.subscribe(state.feed)
    play(journal, clock)
    clock.advance(700)
    assert "overdue" in next(line for line in screen(state, journal.now_s()).splitlines() if "mitigate" in line)


def test_not_a_terminal_gets_one_plain_line_per_event(tmp_path: Path) -> None:
    journal, clock = drill_so_far(tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False)
    assert not console.is_terminal
    with live_view(journal, TARGETS, console):
        play(journal, clock)
        clock.advance(20)
        journal.append("slo.window", start_t_s=240, requests=30, failures=0, p50_ms=20.0, p99_ms=80.0, nodes={})
    lines = out.getvalue().splitlines()
    assert lines[0] == "[00:30] fault 0 injected: rollout (lease 30 s)"
    assert "[00:40] ALERT high-error-rate: error_rate 0.4 > 0.05" in lines
    assert "[03:50] alice declared SEV2, commander alice" in lines
    assert any(line.startswith("[04:10] SLO now: 0.0% errors") for line in lines)  # once a minute
    assert not any("39" in line and "SLO" in line for line in lines)  # not every second


def test_every_word_is_for_a_known_event_and_people_events_all_have_words() -> None:
    assert set(WORDS) <= set(EVENT_KINDS)
    assert {kind for kind in EVENT_KINDS if kind.startswith("team.")} <= set(WORDS)
    journal_noise = [kind for kind in ("slo.window", "responder.step", "run.planned") if kind in WORDS]
    assert journal_noise == []  # per-second windows and bookkeeping say nothing as they happen


def test_a_terminal_gets_the_panel_refreshed_in_place(tmp_path: Path) -> None:
    journal, clock = drill_so_far(tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=140, force_terminal=True, color_system=None)
    with live_view(journal, TARGETS, console) as state:
        play(journal, clock)
        assert state.phase_done_t_s["team.declare"] == 230
    text = out.getvalue()
    assert "fault live for" in text and "alice declared SEV2, commander alice" in text  # the last frame stays
    assert "\x1b[" in text  # drawn with cursor moves, in place
    assert not [line for line in text.splitlines() if line.startswith("[00:30]")]  # no plain lines
