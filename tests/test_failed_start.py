"""A run that fails before its stack came up leaves nothing behind: no run directory, no
history entry, no process, no port; the error names what failed and the CLI exits non-zero.
A run whose stack came up is a record, kept whatever follows.

Real processes on the local backend (the `gamedrill init` scaffold: two small services
behind the fault proxy); the docker case points DOCKER_HOST at a socket nobody serves.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.cleanup import find_leftovers
from harness.control import server as control_server
from harness.control.server import ControlServerError
from harness.demo import run_stack_demo
from harness.errors import ComposeError, RunNotStarted, StackError
from harness.exitcodes import ExitCode
from harness.runner import Run, RunOptions, prepare_run
from harness.scaffold import scaffold
from harness.spec import load_drill
from harness.stack import ports
from harness.stack.compose_model import ComposeProject
from harness.timeline import read_journal
from harness.waiting import wait_until
from scorecards import history

GAMEDRILL = [sys.executable, "-m", "harness.cli"]
API_COMMAND = 'command: ["python3", "services.py", "api"]'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scaffolded project; no GAMEDRILL_HISTORY, so the history would be runs/history.sqlite."""
    monkeypatch.delenv("GAMEDRILL_HISTORY", raising=False)
    scaffold(tmp_path / "project")
    yield tmp_path / "project"


def set_api(project: Path, replacement: str) -> None:
    compose = project / "compose.yml"
    text = compose.read_text()
    assert API_COMMAND in text
    compose.write_text(text.replace(API_COMMAND, replacement))


def spawn(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDRILL, *args], cwd=project, capture_output=True, text=True, timeout=240,
                          check=False, env={**os.environ, **(env or {})})


def run_id_of(stdout: str) -> str:
    found = re.search(r"^run (\d{8}-\d{6}-[0-9a-f]{6}):", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def left_in(runs: Path) -> list[str]:
    """Whatever is under the runs directory: run directories, a history database."""
    return sorted(path.name for path in runs.iterdir()) if runs.exists() else []


def held_ports(run: Run) -> list[int]:
    return [port for port in run.backend.project.allocated_ports() if port in ports._held]


def prepared(project: Path, tmp_path: Path) -> tuple[Run, Path]:
    """A run of the scaffold's regression drill, prepared (nothing started), its own history."""
    db = tmp_path / "history.sqlite"
    run = prepare_run(load_drill(project / "drills" / "regression.yaml"),
                      RunOptions(runs_dir=project / "runs", autopilot=True, history=db))
    assert run.run_dir.is_dir() and held_ports(run)
    return run, db


# ---- through the CLI ------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_a_service_that_exits_at_once_leaves_no_run_dir_and_no_history(project: Path) -> None:
    set_api(project, 'command: ["python3", "-c", "import sys; print(\'api: config missing\'); sys.exit(3)"]')

    ran = spawn(project, "run", "drills/regression.yaml", "--autopilot")

    assert ran.returncode == ExitCode.HARNESS_ERROR, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert "error: the stack did not come up: service 'api' exited with status 3 while starting" in ran.stderr
    assert "api: config missing" in ran.stderr  # the service's own words, from its log
    run_id = run_id_of(ran.stdout)
    assert f"run {run_id} left nothing behind (no run directory, no history entry)" in ran.stderr
    assert left_in(project / "runs") == []  # neither the run directory nor runs/history.sqlite
    assert find_leftovers(run_id) == []


@pytest.mark.timeout(120)
def test_no_docker_engine_is_a_clear_error_and_leaves_nothing(project: Path, tmp_path: Path) -> None:
    drill = project / "drills" / "regression.yaml"
    drill.write_text(drill.read_text() + "backend: docker\n")
    nobody = f"unix://{tmp_path / 'no-engine.sock'}"  # no engine: nothing is ever created
    shared = tmp_path / "team-history.sqlite"

    ran = spawn(project, "run", "drills/regression.yaml", "--autopilot",
                env={"DOCKER_HOST": nobody, "GAMEDRILL_HISTORY": str(shared)})

    assert ran.returncode == ExitCode.HARNESS_ERROR, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert "error: the stack did not come up: no Docker engine answers" in ran.stderr
    assert "left nothing behind" in ran.stderr
    assert left_in(project / "runs") == []
    assert not shared.exists()


@pytest.mark.timeout(180)
def test_ctrl_c_while_the_stack_comes_up_leaves_nothing(project: Path) -> None:
    # The api never turns healthy: the harness is still waiting for it when Ctrl-C comes.
    set_api(project, 'command: ["python3", "-c", "import signal; signal.pause()"]')
    runs = project / "runs"
    harness = subprocess.Popen([*GAMEDRILL, "run", "drills/regression.yaml", "--autopilot"], cwd=project,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def api_started() -> str | None:
            for state in runs.glob("*/stack.json"):
                if "api" in json.loads(state.read_text())["services"]:
                    return state.parent.name
            return None

        run_id = wait_until(api_started, 60, "the api to be started")
        assert find_leftovers(run_id)
        harness.send_signal(signal.SIGINT)
        out, err = harness.communicate(timeout=60)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.communicate(timeout=30)
    assert harness.returncode == ExitCode.INTERRUPTED, out + err
    assert "interrupted" in err and "Traceback" not in out + err
    assert f"run {run_id} left nothing behind" in err
    assert left_in(runs) == []
    assert find_leftovers(run_id) == []


# ---- the runner itself ----------------------------------------------------------------

@pytest.mark.timeout(120)
def test_a_command_that_does_not_exist_leaves_nothing(project: Path, tmp_path: Path) -> None:
    set_api(project, 'command: ["gamedrill-no-such-command", "api"]')
    run, db = prepared(project, tmp_path)

    with pytest.raises(RunNotStarted) as raised:
        run.execute()

    message = str(raised.value)
    assert message.startswith("the stack did not come up: cannot start 'api': gamedrill-no-such-command api:")
    assert "No such file or directory" in message and isinstance(raised.value.__cause__, StackError)
    assert not run.run_dir.exists() and left_in(project / "runs") == []
    assert not db.exists()
    assert held_ports(run) == [] and find_leftovers(run.run_id) == []


@pytest.mark.timeout(120)
def test_a_port_in_use_leaves_nothing(project: Path, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:  # a port from the OS, held: the api cannot bind it
        port = taken.getsockname()[1]
        compose = project / "compose.yml"
        text = compose.read_text()
        assert 'environment: {NAME: api, PORT: "${API_PORT:-19110}"}' in text
        compose.write_text(text.replace('environment: {NAME: api, PORT: "${API_PORT:-19110}"}',
                                        f'environment: {{NAME: api, PORT: "{port}"}}'))
        run, db = prepared(project, tmp_path)

        with pytest.raises(RunNotStarted) as raised:
            run.execute()

    message = str(raised.value)
    assert "service 'api' exited with status 1 while starting" in message
    assert "Address already in use" in message
    assert left_in(project / "runs") == [] and not db.exists()
    assert find_leftovers(run.run_id) == []


def test_a_control_api_address_that_cannot_be_bound_fails_before_the_stack(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What binding a foreign address (`--listen 192.0.2.1`) answers, without opening a socket to one.
    def cannot_bind(host: str, port: int) -> socket.socket:
        raise ControlServerError(f"cannot listen on {host}:{port}") from OSError(99, "Cannot assign requested address")

    run, db = prepared(project, tmp_path)
    monkeypatch.setattr(control_server, "_listen", cannot_bind)
    ups: list[object] = []
    monkeypatch.setattr(run.backend, "up", lambda *args, **kwargs: ups.append(args))

    with pytest.raises(RunNotStarted) as raised:
        run.execute()

    assert str(raised.value).startswith(
        "the control API cannot listen on 127.0.0.1: [Errno 99] Cannot assign requested address\n")
    assert ups == []  # the stack was never brought up
    assert left_in(project / "runs") == [] and not db.exists() and held_ports(run) == []


@pytest.mark.parametrize("failing", ["harness.runner.backend_for", "harness.runner.Journal.open"])
def test_a_run_that_cannot_be_prepared_leaves_nothing(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                      failing: str) -> None:
    projects: list[ComposeProject] = []
    real_load = runner.load_compose

    def load(*args: Any, **kwargs: Any) -> ComposeProject:
        projects.append(real_load(*args, **kwargs))
        return projects[-1]

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner, "load_compose", load)
    monkeypatch.setattr(failing, refuse)

    with pytest.raises(OSError, match="No space left"):
        prepare_run(load_drill(project / "drills" / "regression.yaml"), RunOptions(runs_dir=project / "runs"))

    assert left_in(project / "runs") == []
    reserved = projects[0].allocated_ports()
    assert reserved and not set(reserved) & set(ports._held)


def test_a_bad_compose_file_or_a_stack_that_will_not_start_leaves_no_smoke_run(project: Path) -> None:
    runs = project / "runs"
    compose = project / "compose.yml"
    good = compose.read_text()
    compose.write_text(good.replace("services:", "servces:", 1))
    with pytest.raises(ComposeError):
        run_stack_demo(compose, runs, requests=10)
    assert left_in(runs) == []

    compose.write_text(good.replace(API_COMMAND, 'command: ["python3", "-c", "raise SystemExit(3)"]'))
    with pytest.raises(RunNotStarted, match="service 'api' exited with status 3") as raised:
        run_stack_demo(compose, runs, requests=10)
    assert "left nothing behind (no run directory)" in str(raised.value)
    assert left_in(runs) == []


# ---- the line: once the stack came up, the run is a record -----------------------------

@pytest.mark.timeout(120)
def test_a_run_whose_stack_came_up_is_kept_with_its_history_entry(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def control_api_fails(self: Run, tokens: object, port: int = 0) -> None:
        raise ControlServerError("the control API did not start within 10 s")

    monkeypatch.setattr(Run, "_serve", control_api_fails)
    run, db = prepared(project, tmp_path)

    result = run.execute()

    assert (result.outcome, result.reason) == ("failed", "ControlServerError: the control API did not start "
                                                         "within 10 s")
    kinds = [event.kind for event in read_journal(run.run_dir / "journal.jsonl")]
    assert kinds.index("stack.up") < kinds.index("stack.down") < kinds.index("run.finished")
    assert (run.run_dir / "scorecard.json").is_file() and (run.run_dir / "logs" / "api.log").is_file()
    with history.connect(db) as stored:
        assert [(row.run_id, row.outcome) for row in history.list_runs(stored)] == [(run.run_id, "failed")]
    assert not (project / "runs" / "history.sqlite").exists()  # RunOptions.history was honoured
    assert find_leftovers(run.run_id) == []
