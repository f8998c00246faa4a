"""Drill files run as tests: real stacks, real faults, a runbook on autopilot.

Each test runs an inner pytest in a subprocess on the local backend (about 30 s a drill).
"""

from __future__ import annotations

import http.client
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest
from plugin_project import GOOD_RUNBOOK, NEVER_ACTS, RESTART_INSTEAD, drill_yaml, run_inner, still_running, take_down

from harness.timeline import read_journal

pytest_plugins = ["pytester"]

def junit_properties(path: Path) -> dict[str, dict[str, str]]:
    """testcase name -> its <property> elements."""
    cases = ET.parse(path).getroot().iter("testcase")
    return {case.attrib["name"]: {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")}
            for case in cases}


def listening_ports(run_dir: Path) -> set[int]:
    """Every port a service of the run logged that it listens on."""
    logs = "".join(path.read_text() for path in (run_dir / "logs").glob("*.log"))
    return {int(port) for port in re.findall(r"listening on (?:http://)?127\.0\.0\.1:(\d+)", logs)}


def stack_lifetime(run_dir: Path) -> tuple[datetime, datetime]:
    events = read_journal(run_dir / "journal.jsonl")
    up = next(e for e in events if e.kind == "stack.up")
    down = next(e for e in events if e.kind == "stack.down")
    return up.wall, down.wall


@pytest.mark.timeout(600)
def test_two_drills_under_xdist_pass_on_their_own_stacks_with_junit_figures(project: pytest.Pytester) -> None:
    for name in ("first", "second"):
        (project.path / "drills" / f"{name}.yaml").write_text(drill_yaml(name, GOOD_RUNBOOK))

    result = run_inner(project, "-n", "2", "--junitxml=report.xml")

    result.assert_outcomes(passed=2)
    props = junit_properties(project.path / "report.xml")
    for figures in props.values():
        assert figures["gamedrill_outcome"] == "resolved"
        assert float(figures["gamedrill_detect_s"]) <= float(figures["gamedrill_mitigate_s"]) <= 60
        assert int(figures["gamedrill_failed_requests"]) > 0  # the fault was real
        assert figures["gamedrill_missed_targets"] == "0"

    # Isolation: own run directory, own ports, and the two stacks really were up at once.
    first, second = (Path(props[name]["gamedrill_run_dir"]) for name in ("first", "second"))
    assert first != second and first.parent == second.parent == project.path / "runs"
    first_ports, second_ports = listening_ports(first), listening_ports(second)
    assert len(first_ports) >= 6 and len(second_ports) >= 6, (first_ports, second_ports)  # lb, web-*, config...
    assert not first_ports & second_ports
    (first_up, first_down), (second_up, second_down) = stack_lifetime(first), stack_lifetime(second)
    assert first_up < second_down and second_up < first_down, "the drills ran one after the other"
    for run_dir in (first, second):
        assert not still_running(run_dir), f"{run_dir}: the stack outlived its test"


@pytest.mark.timeout(600)
def test_wrong_runbooks_fail_with_findings_and_keep_leaves_their_stacks_up(project: pytest.Pytester) -> None:
    (project.path / "drills" / "restart.yaml").write_text(drill_yaml("restart-instead", RESTART_INSTEAD))
    (project.path / "drills" / "never.yaml").write_text(drill_yaml("never-acts", NEVER_ACTS))

    result = run_inner(project, "--gamedrill-keep", "--junitxml=report.xml")

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*drill never-acts missed * targets:",
        "*  - the drill ended failed: autopilot: responder[[]3[]].wait_for: no restoration.detected within 10 s",
        "*  - mitigate: service was never restored, target 60 s (journal seq *)",
        "*  - resolve: never resolved, target 80 s (journal seq *)",
        "*what the runbook did after the fault:",
        "*  - no mitigation at all (no act step ran after the fault)",
        "*the scenario's ground truth: triggered by config_push v3; fixed by rollback-config",
        "*run dir: */runs/* (scorecard.md, journal.jsonl, logs/)",
        "*stack left up for debugging (*lb 127.0.0.1:*); take it down with: gamedrill cleanup *",
    ])
    result.stdout.fnmatch_lines([
        "*drill restart-instead missed * targets:",
        "*  - mitigate: service was never restored, target 60 s (journal seq *)",
        "*  - trigger: no suspect was recorded (the diagnosis was never stated), target: name the triggering "
        "change (config_push v3)*",
        "*what the runbook did after the fault:",
        # A node restarted with the bad config still loaded never turns healthy: the act fails.
        "*  - fault + * s: restart on web-1 (canary): FAILED: failed: not healthy in time: web-1*",
        "*the scenario's ground truth: triggered by config_push v3; fixed by rollback-config",
        "*= gamedrill: stacks left up after failures =*",
    ])
    props = junit_properties(project.path / "report.xml")
    for figures in props.values():
        assert (figures["gamedrill_outcome"], figures["gamedrill_mitigate_s"]) == ("failed", "never")
        assert int(figures["gamedrill_missed_targets"]) >= 2  # mitigate and resolve at least

    run_dirs = [Path(props[name]["gamedrill_run_dir"]) for name in ("restart-instead", "never-acts")]
    try:
        for run_dir in run_dirs:
            assert still_running(run_dir), f"{run_dir}: --gamedrill-keep took the stack down anyway"
            lb_port = json.loads((run_dir / "stack.json").read_text())["services"]["lb"]["port"]
            assert healthz(lb_port) == 200
    finally:
        for run_dir in run_dirs:
            take_down(run_dir)
    assert not any(still_running(run_dir) for run_dir in run_dirs)


def healthz(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)  # no proxy from the environment
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    finally:
        connection.close()
