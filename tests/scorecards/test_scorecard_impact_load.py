"""The impact section on open-loop load: offered vs achieved arrivals, and the measurement
warnings when the generator fell behind or seconds of the incident were never measured."""

from __future__ import annotations

from pathlib import Path

from scorecard_journals import Entry, good_run, scorecard, window

from scorecards import render_markdown


def open_loop(start_t_s: int, end_t_s: int, offered: int, achieved: int, failures: int,
              skip: tuple[int, ...] = ()) -> list[Entry]:
    entries = []
    for t in range(start_t_s, end_t_s):
        if t in skip:
            continue
        at, kind, data = window(t, achieved, failures)
        entries.append((at, kind, {**data, "offered": offered, "achieved": achieved}))
    return entries


LOAD = (1.0, "load.started", {"users": None, "rate_per_s": 60.0, "arrivals": "constant", "ramp_s": 2.0})


def test_a_load_that_held_shows_its_rates_and_no_warning(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [*good_run(), LOAD, *open_loop(8, 275, 60, 60, 20)])
    impact = card.impact
    assert (impact.offered_rate_per_s, impact.achieved_rate_per_s) == (60.0, 60.0)
    assert impact.measurement_warnings == ()
    assert "load: 60 of 60 offered arrivals/s sent on time (open loop)" in render_markdown(card)
    assert "measurement" not in [f.name for f in card.findings]


def test_a_generator_that_fell_behind_and_unmeasured_seconds_are_warned_about(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [*good_run(), LOAD, *open_loop(8, 275, 60, 40, 20, skip=(50, 51, 52))])
    warnings = card.impact.measurement_warnings
    assert card.impact.achieved_rate_per_s == 40.0
    assert any("sent" in w and "on time" in w and "fell behind" in w for w in warnings), warnings
    assert any(w.startswith("3 second(s) of the incident have no measurement") for w in warnings), warnings
    note = card.finding("measurement")
    assert note.category == "run" and note.passed is None
    assert "MEASUREMENT WARNING" in render_markdown(card)


def test_the_schedule_not_kept_is_a_warning_too(tmp_path: Path) -> None:
    card = scorecard(tmp_path, [*good_run(), LOAD, *open_loop(8, 275, 30, 30, 10)])
    assert card.impact.measurement_warnings == ("30.0 arrivals/s reached the record where the drill offers 60/s",)
