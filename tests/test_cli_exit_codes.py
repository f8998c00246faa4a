"""The CLI for scripts: one exit-code table, each code from a real command, and every command
that did not do what was asked exits non-zero. Live cases run the `gamedrill init` scaffold
(two small services behind the fault proxy) on the local backend."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.exitcodes import ExitCode, for_outcome
from harness.scaffold import scaffold
from harness.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
GAMEDRILL = [sys.executable, "-m", "harness.cli"]


def gamedrill(*args: str, cwd: Path | None = None) -> Result:
    if cwd is None:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


def spawn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDRILL, *args], cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


def test_the_table_is_in_the_help_and_the_readme() -> None:
    shown = gamedrill("--help").output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert f"{int(code):>5}  " in shown, code
        assert f"| {int(code)} |" in readme, code


def test_a_finished_drill_maps_to_its_code() -> None:
    assert for_outcome("resolved", "the team resolved the incident", targets_missed=False) == ExitCode.OK
    assert for_outcome("resolved", "the team resolved the incident", targets_missed=True) == ExitCode.TARGETS_MISSED
    assert for_outcome("timed_out", "no resolution within 90 s", False) == ExitCode.TARGETS_MISSED
    assert for_outcome("aborted", "error budget burn 80% over the limit of 50%", False) == ExitCode.TARGETS_MISSED
    assert for_outcome("aborted", "interrupted (Ctrl-C or SIGTERM)", False) == ExitCode.INTERRUPTED
    assert for_outcome("not_injected", "the stack was not healthy", False) == ExitCode.NOT_INJECTED
    assert for_outcome("failed", "StackError: web did not start", False) == ExitCode.HARNESS_ERROR


def test_the_same_bad_file_is_bad_input_for_validate_and_dry_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "drills" / "demo.yaml").read_text(encoding="utf-8")
                   .replace("baseline_s: 5", "baseline_s: soon").replace("../scenarios/", "builtin:"))
    validated = gamedrill("validate", str(bad))
    dry = gamedrill("run", "--dry-run", str(bad))
    assert validated.exit_code == dry.exit_code == ExitCode.BAD_INPUT
    assert f"{bad}:" in validated.output and "baseline_s" in dry.output


def test_builtin_names_work_from_anywhere_and_a_wrong_one_lists_them(tmp_path: Path) -> None:
    assert gamedrill("validate", "builtin:hung-workers", "builtin:demo", cwd=tmp_path).exit_code == ExitCode.OK
    planned = gamedrill("run", "--dry-run", "builtin:regression/fd-leak-release", cwd=tmp_path)
    assert planned.exit_code == ExitCode.OK, planned.output
    wrong = gamedrill("run", "--dry-run", "builtin:hung-worker", cwd=tmp_path)
    assert wrong.exit_code == ExitCode.BAD_INPUT and "hung-workers" in wrong.output


def test_refused_arguments_are_bad_input(tmp_path: Path) -> None:
    (tmp_path / "runs" / "20260101-000000-abcdef").mkdir(parents=True)
    (tmp_path / "runs" / "20260101-000000-abcdef" / "journal.jsonl").write_text("")
    both = gamedrill("run", "--dry-run", "--resume", "20260101-000000-abcdef", "--runs-dir", str(tmp_path / "runs"))
    assert both.exit_code == ExitCode.BAD_INPUT and "--dry-run" in both.output
    nowhere = gamedrill("run", "--resume", "nosuchrun", "--runs-dir", str(tmp_path / "runs"))
    assert nowhere.exit_code == ExitCode.BAD_INPUT and "20260101-000000-abcdef" in nowhere.output
    listen = gamedrill("run", "builtin:demo", "--dry-run", "--listen", "127.0.0.1:80:80")
    assert listen.exit_code == ExitCode.BAD_INPUT and "neither an IP address nor a host name" in listen.output
    cleanup = gamedrill("cleanup", "nosuchrun", "--runs-dir", str(tmp_path / "runs"))
    assert cleanup.exit_code == ExitCode.BAD_INPUT
    assert "'nosuchrun'" in cleanup.output and "20260101-000000-abcdef" in cleanup.output
    known = gamedrill("cleanup", "20260101-000000-abcdef", "--runs-dir", str(tmp_path / "runs"))
    assert known.exit_code == ExitCode.OK and "nothing left behind" in known.output


def test_init_refuses_a_file_and_never_overwrites(tmp_path: Path) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("mine")
    assert gamedrill("init", str(a_file)).exit_code == ExitCode.BAD_INPUT
    project = tmp_path / "project"
    assert gamedrill("init", str(project)).exit_code == ExitCode.OK
    (project / "services.py").write_text("# my own edits\n")
    again = gamedrill("init", str(project), "--force")
    assert again.exit_code == ExitCode.BAD_INPUT and "already exists" in again.output
    assert (project / "services.py").read_text() == "# my own edits\n"


def test_a_scaffold_validates_and_a_stack_without_load_paths_is_warned_about(tmp_path: Path) -> None:
    scaffold(tmp_path)
    clean = gamedrill("validate", "scenario.yaml", "drills/gameday.yaml", "drills/regression.yaml", cwd=tmp_path)
    assert clean.exit_code == ExitCode.OK and "warning" not in clean.output
    drill = tmp_path / "drills" / "gameday.yaml"
    drill.write_text(drill.read_text().replace('  paths: {"/": 1}', ""))
    warned = gamedrill("validate", "drills/gameday.yaml", cwd=tmp_path)
    assert warned.exit_code == ExitCode.OK
    assert "warning: " in warned.output and "load.paths" in warned.output and "gameday.yaml:" in warned.output



def test_a_target_a_fast_team_cannot_meet_after_an_on_time_alert_is_warned_about(tmp_path: Path) -> None:
    scaffold(tmp_path)
    drill = tmp_path / "drills" / "gameday.yaml"
    text = drill.read_text()
    assert "detect_s:" in text and "ack_s:" in text
    drill.write_text(re.sub(r"ack_s: *[0-9.]+", "ack_s: 0.5", text))
    warned = gamedrill("validate", "drills/gameday.yaml", cwd=tmp_path)
    assert warned.exit_code == ExitCode.OK
    assert "warning: " in warned.output and "targets.ack_s" in warned.output
    assert "shorter than detect_s" in warned.output


def test_every_shipped_drill_validates_without_a_warning() -> None:
    shipped = sorted(str(p) for p in (ROOT / "drills").rglob("*.yaml"))
    checked = gamedrill("validate", *shipped)
    assert checked.exit_code == ExitCode.OK and "warning" not in checked.output, checked.output

@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    scaffold(tmp_path / "project")
    yield tmp_path / "project"


@pytest.mark.timeout(300)
def test_a_live_drill_codes_for_refusals_bad_nodes_and_missed_targets(project: Path) -> None:
    harness = subprocess.Popen([*GAMEDRILL, "run", "drills/gameday.yaml"], cwd=project, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: any((project / "runs").glob("*/control.json")), 120, "the control API")
        run_dir = next((project / "runs").glob("*/control.json")).parent
        wait_until(lambda: "fault.injected" in (run_dir / "journal.jsonl").read_text(), 60, "the fault")
        no_effect = spawn("act", "flag-on", cwd=project)
        assert no_effect.returncode == ExitCode.REFUSED and "did not apply" in no_effect.stdout
        invalid = spawn("act", "isolate", cwd=project)
        assert invalid.returncode == ExitCode.BAD_INPUT and "needs --canary" in invalid.stderr
        node = spawn("scope", "apii", cwd=project)
        assert node.returncode == ExitCode.BAD_INPUT and "nodes: api" in node.stderr
        unknown_run = spawn("ack", "--run", "nosuchrun", cwd=project)
        assert unknown_run.returncode == ExitCode.BAD_INPUT and run_dir.name in unknown_run.stderr
        assert spawn("scope", "api", cwd=project).returncode == ExitCode.OK
        assert spawn("resolve", cwd=project).returncode == ExitCode.OK
        output, _ = harness.communicate(timeout=120)
    finally:
        if harness.poll() is None:
            harness.terminate()
            harness.communicate(timeout=60)
    # Nobody acknowledged or declared: the drill ran, the team missed its targets.
    assert harness.returncode == ExitCode.TARGETS_MISSED, output
    assert "exit code 1:" in output


@pytest.mark.timeout(300)
def test_a_stack_that_is_not_healthy_first_is_not_injected(project: Path) -> None:
    # The api answers 500 on /broken, half the load: the steady state never holds.
    services = project / "services.py"
    services.write_text(services.read_text().replace(
        'status, body, served_by = 200, b"ok\\n", NAME',
        'status, body, served_by = (500 if self.path == "/broken" else 200), b"ok\\n", NAME'))
    drill = project / "drills" / "regression.yaml"
    drill.write_text(drill.read_text().replace('paths: {"/": 1}', 'paths: {"/": 1, "/broken": 1}'))
    ran = spawn("run", "drills/regression.yaml", "--autopilot", cwd=project)
    assert ran.returncode == ExitCode.NOT_INJECTED, ran.stdout + ran.stderr
    assert "outcome: not_injected" in ran.stdout


@pytest.mark.timeout(120)
def test_a_stack_that_will_not_start_is_a_harness_error(project: Path) -> None:
    compose = project / "compose.yml"
    compose.write_text(compose.read_text().replace('command: ["python3", "services.py", "api"]',
                                                   'command: ["python3", "-c", "raise SystemExit(3)"]'))
    ran = spawn("run", "drills/regression.yaml", "--autopilot", cwd=project)
    assert ran.returncode == ExitCode.HARNESS_ERROR, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr


def test_json_of_a_scorecard_is_json(tmp_path: Path) -> None:
    # A run id that does not exist is bad input even with --json (nothing printed on stdout).
    result = subprocess.run([*GAMEDRILL, "scorecard", "show", "nosuchrun", "--json", "--runs-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == ExitCode.BAD_INPUT and result.stdout == ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)
