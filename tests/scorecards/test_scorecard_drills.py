"""Real drills: the demo drill run twice end to end (stack, load, fault, autopilot) leaves
two history rows, and compare and trend show both. Also checks a real scorecard.json
against the published schema."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import jsonschema
import pytest
from click.testing import CliRunner

from harness.cli_scorecard import SCORECARD_COMMANDS
from scorecards import history, schema_path

DEMO = Path(__file__).parents[2] / "drills" / "demo.yaml"
GAMEDRILL = [sys.executable, "-m", "harness.cli"]
RUN_TIMEOUT_S = 240  # the demo takes ~40 s on an idle machine; this one is shared
CLI = click.Group("gamedrill", commands={command.name or "": command for command in SCORECARD_COMMANDS})


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[object]:
    """Runs the demo drill to its end; a run still going when the test ends is stopped (SIGTERM reverts it)."""
    started: list[subprocess.Popen[str]] = []

    def run(runs: Path) -> subprocess.CompletedProcess[str]:
        proc = subprocess.Popen([*GAMEDRILL, "run", str(DEMO), "--autopilot", "--runs-dir", str(runs)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started.append(proc)
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.mark.timeout(2 * RUN_TIMEOUT_S + 60)
def test_the_same_drill_twice_is_two_rows_that_compare_and_trend_show(tmp_path: Path, run_demo: object) -> None:
    runs = tmp_path / "runs"
    results = [run_demo(runs) for _ in range(2)]  # type: ignore[operator]
    # Every finished run is stored, whatever its outcome: on a busy machine the steady-state
    # check may refuse to inject (exit 1, outcome not_injected); that run is still a row.
    for result in results:
        assert "scorecard:" in result.stdout, result.stdout[-3000:]

    with history.connect(runs / history.FILE_NAME) as db:
        rows = history.list_runs(db)
    assert len(rows) == 2 and {r.drill for r in rows} == {"demo"} and all(r.complete for r in rows)
    first, second = (r.run_id for r in rows)
    for row in rows:
        card = json.loads((Path(row.run_dir) / "scorecard.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8"))).validate(card)
        if card["outcome"] == "resolved":
            assert card["diagnosis"]["trigger_identified"] is True and card["grade"]["letter"] != "-"
        assert all((Path(row.run_dir) / name).is_file() for name in ("scorecard.html", "postmortem.md"))

    cli = CliRunner()
    compared = cli.invoke(CLI, ["scorecard", "compare", first, second, "--runs-dir", str(runs)])
    assert compared.exit_code == 0, compared.output
    assert first[:8] in compared.output and second[:8] in compared.output
    assert all(phase in compared.output for phase in ("detect", "declare", "mitigate", "resolve")), compared.output
    trended = cli.invoke(CLI, ["scorecard", "trend", "--team", "alice", "--scenario", "hung-workers",
                               "--runs-dir", str(runs)])
    assert trended.exit_code == 0 and "2 run(s)" in trended.output, trended.output
