"""Where the plugin's runs go: a history of their own unless told to share, and nothing at all
for a drill whose stack never came up.

The inner pytest runs in a subprocess; the drills there run on the local backend, except the
one case pointing the docker backend at a socket nobody serves (nothing is ever created).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from plugin_project import GOOD_RUNBOOK, drill_yaml, run_inner

from harness.pytest_settings import PYTEST_HISTORY_NAME
from scorecards import history

pytest_plugins = ["pytester"]

GAMEDRILL = [sys.executable, "-m", "harness.cli"]
RESOLVES_AT_ONCE = "- resolve: {by: alice}\n"  # the shortest drill: fault in, resolved, scored


def stored(db: Path) -> list[tuple[str, str]]:
    with history.connect(db) as connection:
        return [(Path(row.run_dir).name, row.drill) for row in history.list_runs(connection)]


def run_dirs(project: pytest.Pytester) -> list[Path]:
    runs = project.path / "runs"
    return sorted(path for path in runs.iterdir() if path.is_dir()) if runs.exists() else []


@pytest.mark.timeout(300)
def test_pytest_runs_keep_their_own_history_unless_told_to_share(project: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shared = project.path / "team-history.sqlite"  # the team's game-day history, named as `gamedrill run` reads it
    monkeypatch.setenv("GAMEDRILL_HISTORY", str(shared))
    (project.path / "drills" / "quick.yaml").write_text(drill_yaml("quick", RESOLVES_AT_ONCE))
    own = project.path / "runs" / PYTEST_HISTORY_NAME

    first = run_inner(project)

    assert first.parseoutcomes().get("passed", 0) + first.parseoutcomes().get("failed", 0) == 1, first.outlines
    [first_dir] = run_dirs(project)
    assert stored(own) == [(first_dir.name, "quick")]
    assert not shared.exists() and not (project.path / "runs" / "history.sqlite").exists()
    # A rebuild keeps to the history the run was planned into (run.planned names it).
    rebuilt = subprocess.run([*GAMEDRILL, "scorecard", "rebuild", str(first_dir)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert stored(own) == [(first_dir.name, "quick")] and not shared.exists()

    second = run_inner(project, "--gamedrill-history=shared")

    assert second.parseoutcomes().get("passed", 0) + second.parseoutcomes().get("failed", 0) == 1, second.outlines
    [second_dir] = [path for path in run_dirs(project) if path != first_dir]
    assert stored(shared) == [(second_dir.name, "quick")]
    assert stored(own) == [(first_dir.name, "quick")]  # untouched by the shared run


@pytest.mark.timeout(300)
def test_drills_whose_stack_never_comes_up_fail_and_leave_nothing(project: pytest.Pytester,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{project.path / 'no-engine.sock'}")
    monkeypatch.setenv("GAMEDRILL_HISTORY", str(project.path / "team-history.sqlite"))
    (project.path / "drills" / "never.yaml").write_text(drill_yaml("never", GOOD_RUNBOOK))
    project.makepyfile(test_python_drills="""
        def test_a_python_drill(gamedrill_drill):
            gamedrill_drill("scenarios/bad-config.yaml", lambda team: None, baseline_s=4)


        def test_a_stack(gamedrill_stack):
            pass
        """)

    result = run_inner(project, "--gamedrill-backend=docker")

    result.assert_outcomes(failed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*drill never could not run: the stack did not come up: no Docker engine answers*",
        "*the drill never started: run * left nothing behind (no run directory, no history entry)",
    ])
    result.stdout.fnmatch_lines(["*RunNotStarted: the stack did not come up: no Docker engine answers*"])
    assert "run dir:" not in result.stdout.str()  # no report section points at a directory that is gone
    assert run_dirs(project) == []
    assert not (project.path / "runs" / PYTEST_HISTORY_NAME).exists()
    assert not (project.path / "team-history.sqlite").exists()
