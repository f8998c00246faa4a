"""A corpus of malformed drill, scenario and compose files run through `gamedrill run`: each
is refused with `file:line:col: field: message` (or at least the file), exit status 2,
never a traceback, and nothing starts (no run directory, no process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "hung-workers.yaml"
GOOD_DRILL = """kind: drill
name: corpus
title: "corpus"
scenario: {scenario}
load: {{users: 2, rate_per_s: 2}}
baseline_s: 1
max_duration_s: 10
team: {{members: [alice]}}
"""
GOOD_SCENARIO = (ROOT / "scenarios" / "inventory-down.yaml").read_text()
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))

# (id, drill text or None for the good one, scenario text or None, compose text or None, expected in stderr)
CORPUS = [
    ("empty-drill", "", None, None, "drill.yaml: expected a mapping"),
    ("binary-drill", "\x00\x01\x02\xff garbage", None, None, "drill.yaml"),
    ("yaml-syntax", "kind: drill\nname: [unclosed\n", None, None, "drill.yaml:"),
    ("list-at-top", "- kind: drill\n", None, None, "drill.yaml:1:1"),
    ("tab-indent", "kind: drill\n\tname: x\n", None, None, "drill.yaml:"),
    ("billion-laughs", LAUGHS, None, None, "drill.yaml: more than 100000 values once its aliases are expanded"),
    ("nested-too-deeply", "a: " + "[" * 5000 + "]" * 5000 + "\n", None, None, "drill.yaml: "),
    ("missing-scenario-file", GOOD_DRILL.format(scenario="nowhere.yaml"), None, None,
     "drill.yaml:4:1: scenario: no such file"),
    ("scenario-unknown-fault", None, GOOD_SCENARIO.replace("type: link_down", "type: meteor"), None,
     "scenario.yaml:13:5: faults[0].type: unknown type 'meteor'"),
    ("scenario-bad-ttl", None, GOOD_SCENARIO.replace("proxy: inventory", "proxy: inventory\n    ttl_s: 1"), None,
     "scenario.yaml:15:5: faults[0].ttl_s: Input should be greater than or equal to 6"),
    ("scenario-not-utf8", None, b"kind: scenario\nname: \xff\xfe\n".decode("latin-1"), None, "scenario.yaml"),
    ("compose-missing-command", None, None, "services:\n  lb:\n    image: x\n", "compose.yml"),
    ("compose-unknown-dependency", None, None,
     "services:\n  lb:\n    command: [\"true\"]\n    depends_on: [ghost]\n", "compose.yml:4"),
    ("compose-bad-port", None, None,
     "services:\n  lb:\n    command: [\"true\"]\n    ports: [\"127.0.0.1:99999:80\"]\n", "compose.yml:4"),
]


@pytest.mark.parametrize(("drill", "scenario", "compose", "expected"), [c[1:] for c in CORPUS],
                         ids=[c[0] for c in CORPUS])
def test_a_malformed_file_is_refused_clearly_and_starts_nothing(tmp_path: Path, drill: str | None,
                                                                scenario: str | None, compose: str | None,
                                                                expected: str) -> None:
    scenario_path = SCENARIO
    if compose is not None:
        (tmp_path / "compose.yml").write_text(compose, encoding="utf-8")
        scenario = GOOD_SCENARIO.replace("kind: scenario", "kind: scenario\nstack: {compose_file: compose.yml}")
    if scenario is not None:
        scenario_path = tmp_path / "scenario.yaml"
        scenario_path.write_text(scenario, encoding="latin-1")
    drill_path = tmp_path / "drill.yaml"
    drill_path.write_text(GOOD_DRILL.format(scenario=scenario_path) if drill is None else drill,
                          encoding="latin-1")
    runs = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(drill_path), "--runs-dir", str(runs)],
                          capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert expected in done.stderr, done.stderr
    assert not runs.exists() or not any(runs.iterdir()), "nothing was created"
