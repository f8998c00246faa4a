"""Files that used to pass `validate` and fail only once the drill was running: each is now
refused by `validate` (exit 2) at file:line:col with the field, before anything starts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.actions import known_actions
from harness.cli import main
from harness.exitcodes import ExitCode
from harness.scaffold import scaffold
from harness.spec_base import TOOLKIT_ACTIONS


def gamedrill(*args: str, cwd: Path) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    scaffold(tmp_path)
    return tmp_path


def refused(project: Path, file: str, where: str) -> str:
    """validate's output for `file`, which must be refused at `where` (file:line:col: field)."""
    checked = gamedrill("validate", file, cwd=project)
    assert checked.exit_code == ExitCode.BAD_INPUT, checked.output
    assert re.search(rf"^{re.escape(file)}:\d+:\d+: {re.escape(where)}: ", checked.output, re.MULTILINE), \
        checked.output
    return checked.output


Case = Callable[[Path], None]
CASES: dict[str, tuple[Case, str, str, str]] = {  # name: (edit, file, field, words of the message)
    "a fault the schedule brings after the drill stops": (
        lambda p: edit(p / "scenario.yaml", "    duration_s: 10 ", "    at_s: 500\n    duration_s: 10 "),
        "drills/gameday.yaml", "max_duration_s", "would never be injected"),
    "an unknown action in the ground truth": (
        lambda p: edit(p / "scenario.yaml", "worsens: [restart]", "worsens: [restrat]"),
        "scenario.yaml", "truth.worsens[0]", "did you mean 'restart'?"),
    "an unknown action in a runbook": (
        lambda p: edit(p / "drills" / "regression.yaml", "  - resolve: {by: alice}",
                       "  - act: {by: alice, action: rollbak-config}\n  - resolve: {by: alice}"),
        "drills/regression.yaml", "responder[9].act.action", "did you mean 'rollback-config'?"),
    "a fix the stack has no control plane for": (
        lambda p: edit(p / "scenario.yaml", "  fixes: []", "  fixes: [rollback-config]"),
        "scenario.yaml", "truth.fixes[0]", "stack.control_plane is null"),
    "a runbook step the stack has no balancer for": (
        lambda p: edit(p / "drills" / "regression.yaml", "  - resolve: {by: alice}",
                       "  - act: {by: alice, action: isolate, canary: api}\n  - resolve: {by: alice}"),
        "drills/regression.yaml", "responder[9].act.action", "stack.balancer is null"),
    "a toxic on a link the fault proxy does not have": (
        lambda p: edit(p / "scenario.yaml", "    proxy: api ", "    proxy: db "),
        "scenario.yaml", "faults[0].proxy", "'db' is not a link of the stack's fault proxy (links: api"),
    "a runs directory that is a file": (
        lambda p: ((p / "taken").write_text("a file"),
                   edit(p / "drills" / "gameday.yaml", "baseline_s:", "runs_dir: ../taken\nbaseline_s:")),
        "drills/gameday.yaml", "runs_dir", "is not a directory"),
    "a runs directory inside a file": (
        lambda p: ((p / "taken").write_text("a file"),
                   edit(p / "drills" / "gameday.yaml", "baseline_s:", "runs_dir: ../taken/runs\nbaseline_s:")),
        "drills/gameday.yaml", "runs_dir", "which is not a directory"),
    "a webhook URL with an impossible port": (
        lambda p: edit(p / "drills" / "gameday.yaml", "baseline_s:",
                       'paging: {webhooks: [{url: "http://127.0.0.1:99999/hook"}]}\nbaseline_s:'),
        "drills/gameday.yaml", "paging.webhooks[0].url", "the port must be a number from 1 to 65535"),
    "a webhook URL with port 0": (
        lambda p: edit(p / "drills" / "gameday.yaml", "baseline_s:",
                       'paging: {webhooks: [{url: "http://localhost:0/hook"}]}\nbaseline_s:'),
        "drills/gameday.yaml", "paging.webhooks[0].url", "the port must be a number from 1 to 65535"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validate_refuses_what_would_fail_at_run_time(project: Path, case: str) -> None:
    change, file, where, words = CASES[case]
    assert gamedrill("validate", file, cwd=project).exit_code == ExitCode.OK  # valid before the edit
    change(project)
    assert words in refused(project, file, where)


def test_a_dry_run_refuses_it_too_and_starts_nothing(project: Path) -> None:
    edit(project / "scenario.yaml", "worsens: [restart]", "worsens: [restrat]")
    planned = gamedrill("run", "drills/gameday.yaml", "--dry-run", cwd=project)
    assert planned.exit_code == ExitCode.BAD_INPUT and "truth.worsens[0]" in planned.output
    assert not (project / "runs").exists()


@pytest.mark.parametrize(("listen", "words"), [
    ("no-such-host.invalid", "does not resolve to an address"),
    ("192.0.2.1", "cannot be listened on here"),  # TEST-NET-1: never an address of this machine
    ("300.1.1.1", "neither an IP address nor a host name"),
])
def test_a_listen_address_this_machine_cannot_listen_on_is_refused(project: Path, listen: str, words: str) -> None:
    planned = gamedrill("run", "drills/gameday.yaml", "--dry-run", "--listen", listen, cwd=project)
    assert planned.exit_code == ExitCode.BAD_INPUT and "--listen" in planned.output and words in planned.output


def test_loopback_names_and_addresses_are_accepted(project: Path) -> None:
    for listen in ("localhost", "127.0.0.1", "::1"):
        planned = gamedrill("run", "drills/gameday.yaml", "--dry-run", "--listen", listen, cwd=project)
        assert planned.exit_code == ExitCode.OK, (listen, planned.output)


def test_an_empty_path_or_a_directory_is_named_and_the_other_files_still_checked(project: Path) -> None:
    edit(project / "scenario.yaml", "worsens: [restart]", "worsens: [restrat]")
    checked = gamedrill("validate", "", "drills", "scenario.yaml", cwd=project)
    assert checked.exit_code == ExitCode.BAD_INPUT
    assert "argument 1: an empty path ('')" in checked.output
    assert "drills: cannot read: Is a directory" in checked.output
    assert "scenario.yaml:" in checked.output and "truth.worsens[0]" in checked.output  # one pass
    started = gamedrill("run", "", cwd=project)
    assert started.exit_code == ExitCode.BAD_INPUT and "an empty path" in started.output


def test_the_spec_knows_every_toolkit_action_and_only_those() -> None:
    assert known_actions() == sorted(TOOLKIT_ACTIONS)


def test_checks_across_fields_are_reported_beside_a_field_error_in_one_pass(project: Path) -> None:
    edit(project / "drills" / "gameday.yaml", "max_duration_s: 110", "max_duration_s: long\nsurprise_window_s: [1, 2]")
    output = refused(project, "drills/gameday.yaml", "max_duration_s")
    assert "Input should be a valid number, got 'long'" in output
    assert re.search(r"gameday\.yaml:\d+:\d+: surprise_window_s: give inject_after_s or surprise_window_s, not both",
                     output), output
