"""Drills written in Python: the gamedrill_drill and gamedrill_stack fixtures, real stacks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from plugin_project import run_inner, still_running

from harness.timeline import read_journal

pytest_plugins = ["pytester"]

PYTHON_DRILLS = """
import http.client

import pytest

from harness.pytest_waits import wait_for_alert, wait_for_restoration

SCENARIO = "scenarios/bad-config.yaml"
TEAM = {"members": ["alice", "bob", "carol", "dave"]}


def good_runbook(team):
    alert = wait_for_alert(team, timeout_s=40)
    team.ack("alice")
    team.declare("alice", severity=1, commander="alice")
    team.role("alice", "comms", "bob")
    team.role("alice", "scribe", "carol")
    team.update("bob", "every shop request failing", "rolling back config v3", next_update_s=60)
    team.suspect("alice", "config_push v3")
    team.scope("alice", ["web-1", "web-2", "web-3"])
    team.act("dave", "rollback-config", canary="web-1")
    team.act("dave", "rollback-config")
    restored = wait_for_restoration(team, timeout_s=45, since_seq=alert.seq)
    assert restored.data["window_start_t_s"] > alert.t_s
    team.update("bob", "service restored", "config v3 rolled back everywhere")
    team.resolve("alice")


def test_a_python_runbook_holds_its_targets(drill):
    card = drill(SCENARIO, good_runbook, check_targets=True, team=TEAM, baseline_s=4,
                           targets={"detect_s": 30, "mitigate_s": 60, "resolve_s": 80})
    assert card.outcome == "resolved"
    assert card.phase("mitigate").passed and card.phase("detect").passed


def test_a_responder_that_raises_aborts_its_drill(gamedrill_drill):
    def broken_runbook(team):
        wait_for_alert(team, timeout_s=40)
        raise RuntimeError("step 2 of the runbook is broken")

    gamedrill_drill(SCENARIO, broken_runbook, team=TEAM, baseline_s=4)


def get(backend, service, path):
    connection = http.client.HTTPConnection("127.0.0.1", backend.endpoint(service).port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_stack_fixture_serves_the_shop(stack, gamedrill_stack):
    assert stack is gamedrill_stack, "the short name is the same stack"
    assert get(stack, "lb", "/products") == 200
"""

SCOPED_STACKS = """
seen = []


def test_first(gamedrill_stack):
    seen.append(gamedrill_stack.run_id)


def test_second(gamedrill_stack):
    seen.append(gamedrill_stack.run_id)
    assert seen[0] == seen[1], "a module-scoped stack is shared by the module's tests"
"""


def junit_cases(report: ET.Element) -> dict[str, dict[str, str]]:
    return {case.attrib["name"]: {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")}
            for case in report.iter("testcase")}


@pytest.mark.timeout(600)
def test_python_drills_run_their_responder_and_report_the_scorecard(project: pytest.Pytester) -> None:
    project.makepyfile(test_python_drills=PYTHON_DRILLS)

    result = run_inner(project, "--junitxml=report.xml")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*RuntimeError: step 2 of the runbook is broken",
        "*the drill ended aborted (facilitator: the responder raised RuntimeError: step 2 of the runbook is "
        "broken); run dir */runs/*",
        "*- gamedrill -*",
        "run dir: */runs/*",
    ])
    cases = junit_cases(ET.parse(project.path / "report.xml").getroot())
    good = cases["test_a_python_runbook_holds_its_targets"]
    assert good["gamedrill_outcome"] == "resolved" and float(good["gamedrill_mitigate_s"]) <= 60
    broken = cases["test_a_responder_that_raises_aborts_its_drill"]
    assert broken["gamedrill_outcome"] == "aborted"
    events = read_journal(project.path / broken["gamedrill_run_dir"] / "journal.jsonl")
    alert = next(e for e in events if e.kind == "alert.fired")
    aborted = next(e for e in events if e.kind == "run.aborted")
    assert aborted.t_s - alert.t_s < 10, "the drill was aborted as soon as the responder raised"
    assert not [run for run in (project.path / "runs").glob("*/") if still_running(run)], "a stack outlived its test"


@pytest.mark.timeout(300)
def test_the_stack_scope_is_selectable(project: pytest.Pytester) -> None:
    project.makepyfile(test_scoped=SCOPED_STACKS)

    result = run_inner(project, "--gamedrill-stack-scope=module")

    result.assert_outcomes(passed=2)
    assert len(list((project.path / "runs").glob("*/"))) == 1
    assert not [run for run in (project.path / "runs").glob("*/") if still_running(run)], "the stack outlived its scope"


KEPT_STACKS = """
def test_passes(gamedrill_stack):
    pass


def test_fails(gamedrill_stack):
    assert False, "look at the stack"
"""


@pytest.mark.timeout(300)
def test_keep_leaves_up_only_the_stack_of_a_failed_test(project: pytest.Pytester) -> None:
    project.makepyfile(test_kept=KEPT_STACKS)

    result = run_inner(project, "--gamedrill-keep")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*- gamedrill -*", "stack run dir: */runs/*",
        "stack left up for debugging (*lb 127.0.0.1:*); take it down with: gamedrill cleanup *"])
    live = [run for run in (project.path / "runs").glob("*/") if still_running(run)]
    assert len(live) == 1 and len(list((project.path / "runs").glob("*/"))) == 2
    assert live[0].name in result.stdout.str(), "the kept stack is the failed test's"
