"""Game-day drills for people: one per scenario, valid, sized for humans, paced, answer-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.compression import compress
from harness.pace import paced_scenario, slower_leak
from harness.plan import describe_plan
from harness.spec import load_drill, load_scenario
from harness.spec_scenario import Release

ROOT = Path(__file__).resolve().parents[1]
GAMEDAY = ROOT / "drills" / "gameday"
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


def test_gamedrill_validate_passes_on_every_game_day_drill() -> None:
    files = sorted(str(p) for p in GAMEDAY.glob("*.yaml"))
    done = subprocess.run([sys.executable, "-m", "harness.cli", "validate", *files],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(SCENARIOS)} file(s) valid" in done.stdout


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_has_a_game_day_for_people(name: str) -> None:
    drill = load_drill(GAMEDAY / f"{name}.yaml")
    assert drill.scenario.name == name
    assert drill.responder == ()  # people play
    assert drill.surprise_window_s is not None and drill.surprise_window_s[1] - drill.surprise_window_s[0] >= 60
    targets = {k: v for k, v in drill.targets.model_dump().items() if v is not None}
    assert {"detect_s", "declare_s", "mitigate_s", "resolve_s"} <= targets.keys()
    assert all(seconds >= 60 for seconds in targets.values()), targets  # minutes, not runbook seconds
    assert drill.duration_limit_s >= 3600 > drill.scenario.safety.max_duration_s  # an hour: the drill decides


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_game_day_drill_does_not_give_the_answer_away(name: str) -> None:
    drill = load_drill(GAMEDAY / f"{name}.yaml")
    truth = drill.scenario.truth
    text = (GAMEDAY / f"{name}.yaml").read_text().lower()
    answers = [*truth.fixes, *truth.masks, *truth.worsens]
    if not truth.trigger.none:
        answers.append(str(truth.trigger.version))
    for answer in answers:
        assert answer.lower() not in text, f"{name}: the drill names {answer!r}"
    assert drill.scenario.title.lower() not in text  # the scenario's title names the cause
    assert name not in drill.name and name not in drill.title.lower()  # what the team sees is neutral


def test_a_canary_bake_at_human_pace_leaves_people_minutes() -> None:
    drill = compress(load_drill(GAMEDAY / "bad-config-rollout.yaml"))
    (fault,) = drill.scenario.faults
    assert fault.bake_s is not None and fault.bake_s >= 240  # type: ignore[union-attr]
    assert fault.ttl_s == load_scenario(ROOT / "scenarios" / "bad-config-rollout.yaml").faults[0].ttl_s


def test_pace_stretches_offsets_and_slows_leaks_but_not_the_safety_net() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "rollback-trap.yaml")
    paced = paced_scenario(scenario, 10)
    assert [f.at_s for f in paced.faults] == [f.at_s * 10 for f in scenario.faults]
    leaks = [f.artifact.flags["leak_on_error"] for f in paced.faults  # type: ignore[union-attr]
             if isinstance(getattr(f, "artifact", None), Release)]
    assert leaks == [4]  # 40 sockets per failed lookup, ten times slower
    assert [f.ttl_s for f in paced.faults] == [f.ttl_s for f in scenario.faults]
    assert paced.alerts == scenario.alerts and paced.safety == scenario.safety


@pytest.mark.parametrize(("flag", "pace", "expected"), [(40, 10, 4), (12, 4, 3), (3, 10, 1), (True, 10, True),
                                                          (1, 10, 1), (False, 3, False)])
def test_a_slower_leak_never_stops_leaking(flag: object, pace: float, expected: object) -> None:
    assert slower_leak(flag, pace) == expected


def test_the_dry_run_names_the_pace_and_the_stretched_bake() -> None:
    plan = describe_plan(load_drill(GAMEDAY / "bad-config-rollout.yaml"))
    assert any(line.startswith("pace: 15x") for line in plan), plan
    assert any("bake_s=300.0" in line for line in plan), plan
    assert any(line.startswith("stops: after 3600 s") for line in plan), plan


def test_pace_comes_before_compression() -> None:
    drill = load_drill(GAMEDAY / "bad-config-rollout.yaml")
    fast = compress(drill.model_copy(update={"time_compression": 5.0}))
    (fault,) = fast.scenario.faults
    assert fault.bake_s == 20 * drill.pace / 5  # type: ignore[union-attr]
