"""A corpus of malformed drill, scenario and compose files run through `gamedrill validate`,
`gamedrill run --dry-run` and `gamedrill run`: each refuses it with `file:line:col: field:
message` (or at least the file), never a traceback, and nothing starts (no run directory,
no process). `validate` exits 1, `run` 2: the same problem, found by all three."""

from __future__ import annotations

import os
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
# Without its schema modeline, so the lines expected below stay those of the scenario's body.
GOOD_SCENARIO = (ROOT / "scenarios" / "inventory-down.yaml").read_text().split("\n", 1)[1]
SCRIPT_SCENARIO = SCENARIO.read_text().split("\n", 1)[1]  # without its schema modeline, as above
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
LB = 'services:\n  lb:\n    command: ["true"]\n'  # one good service; a case appends its keys to it
STACK = "kind: scenario\nstack: {compose_file: compose.yml}"  # line 7 of a scenario given a compose file
# A service with no key of its own: all merged from an anchor (lines 2-3), at line 6.
ANCHORED = 'x-base: &base\n  command: ["true"]\n  stop_grace_period: 2s\nservices:\n  lb:\n    <<: *base\n'
LB_PORT = '"127.0.0.1:${LB_PORT:-19110}:80"'


def drill_with(old: str, new: str) -> str:
    """The good drill (on the hung-workers scenario) with `old` replaced by `new`."""
    return GOOD_DRILL.format(scenario=SCENARIO).replace(old, new)


def fault(text: str) -> str:
    """GOOD_SCENARIO with its fault (lines 13-14) replaced by `text`."""
    return GOOD_SCENARIO.replace("  - type: link_down\n    proxy: inventory\n", text)


def script(line: str) -> str:
    """The hung-workers scenario with `line` added to its script (line 46 of the file)."""
    return SCRIPT_SCENARIO.replace("def adjust(product, request):\n",
                                   f"def adjust(product, request):\n            {line}\n")


def chain(length: int) -> str:
    """A compose file whose services depend on each other in a chain closing into a cycle."""
    return "services:\n" + "".join(f'  s{i}:\n    command: ["true"]\n    depends_on: [s{(i + 1) % length}]\n'
                                   for i in range(length))


# (id, drill text or None for the good one, scenario text or None, compose text or None, expected in stderr)
CORPUS = [
    ("empty-drill", "", None, None, "drill.yaml: expected a mapping"),
    ("binary-drill", "\x00\x01\x02\xff garbage", None, None, "drill.yaml:1:4: not UTF-8 text (byte 0xff)"),
    ("nul-in-utf8-drill", "\x00\x01\x02 garbage", None, None, "drill.yaml:1:1: unacceptable character #x0000"),
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
     "scenario.yaml:15:5: faults[0].ttl_s: Input should be greater than or equal to 6, got 1"),
    ("scenario-not-utf8", None, b"kind: scenario\nname: \xff\xfe\n".decode("latin-1"), None,
     "scenario.yaml:2:7: not UTF-8 text (byte 0xff)"),
    ("compose-missing-command", None, None, "services:\n  lb:\n    image: x\n", "compose.yml"),
    ("compose-unknown-dependency", None, None,
     "services:\n  lb:\n    command: [\"true\"]\n    depends_on: [ghost]\n", "compose.yml:4"),
    ("compose-bad-port", None, None,
     "services:\n  lb:\n    command: [\"true\"]\n    ports: [\"127.0.0.1:99999:80\"]\n", "compose.yml:4"),
    # The scenario's stack against its compose file, at the scenario's own line and field.
    ("roles-not-in-compose", None, STACK.join(GOOD_SCENARIO.split("kind: scenario", 1)), LB,
     "scenario.yaml:7:1: stack.nodes[1]: 'web-2' is not a service of this compose file"),
    ("role-at-its-line", None,
     GOOD_SCENARIO.replace("kind: scenario", "kind: scenario\nstack:\n  compose_file: compose.yml\n"
                           "  control_plane: null\n  nodes: [web-1, web-2, web-3]")
     .replace("fixes: [flag-on]", "fixes: []"),  # flag-on needs the control plane
     LB + '  web-1:\n    command: ["true"]\n  web-3:\n    command: ["true"]\n',
     "scenario.yaml:10:18: stack.nodes[1]: 'web-2' is not a service of this compose file"),
    # Compose values that threw tracebacks while loading.
    ("compose-host-ip-not-text", None, None, LB + "    ports: [{target: 80, host_ip: 127}]\n",
     "compose.yml:4:13: services.lb.ports[0]: host address 127 is not an IP address"),
    ("compose-dependency-a-list", None, None, LB + "    depends_on: [[a]]\n",
     "compose.yml:4:18: services.lb.depends_on[0]: Input should be a valid string"),
    ("compose-dependency-a-mapping", None, None, LB + "    depends_on: [{a: b}]\n",
     "compose.yml:4:18: services.lb.depends_on[0]: Input should be a valid string"),
    ("compose-1500-deep-dependency-cycle", None, None, chain(1500),  # deeper than Python's recursion limit
     "compose.yml:4:5: services.s0.depends_on: dependency cycle: s0 -> s1 -> s2 -> s3"),
    ("compose-nul-build-context", None, None, LB + '    build: {context: "\\0"}\n',
     "compose.yml:4:13: services.lb.build.context: the build context holds a NUL byte"),
    # Compose values that loaded but would crash the local backend.
    ("compose-unknown-stop-signal", None, None, LB + "    stop_signal: SIGFOO\n",
     "compose.yml:4:5: services.lb.stop_signal: 'SIGFOO' is not a signal name"),
    ("compose-empty-command", None, None, "services:\n  lb:\n    command:\n",
     "compose.yml:3:5: services.lb.command: required"),
    ("compose-healthcheck-bare-cmd", None, None, LB + "    healthcheck: {test: [CMD]}\n",
     "compose.yml:4:5: services.lb.healthcheck: test ['CMD'] has no command after CMD"),
    ("compose-nul-in-environment", None, None, LB + '    environment: {A: "x\\0y"}\n',
     "compose.yml:4:5: services.lb.environment: variable A holds a NUL byte"),
    ("compose-soft-ulimit-above-hard", None, None, LB + "    ulimits: {nofile: {soft: 100, hard: 10}}\n",
     "compose.yml:4:15: services.lb.ulimits.nofile: the soft limit 100 is above the hard limit 10"),
    ("compose-nofile-above-the-kernel", None, None, LB + "    ulimits: {nofile: 100000000000000000000000}\n",
     "compose.yml:4:15: services.lb.ulimits.nofile: Input should be less than or equal to 9223372036854775807"),
    ("compose-infinite-grace", None, None, LB + "    stop_grace_period: .inf\n",
     "compose.yml:4:5: services.lb.stop_grace_period: inf is longer than 24 hours"),
    ("compose-file-is-dev-zero", None, GOOD_SCENARIO.replace("kind: scenario",
                                                             "kind: scenario\nstack: {compose_file: /dev/zero}"),
     None, "/dev/zero: not a regular file (a character device)"),
    # Scripts Python cannot parse without running out of stack or memory.
    ("script-nested-3000-deep", None, script("x = " + "-" * 3000 + "1"), None,
     "scenario.yaml:44:7: faults[0].artifact.source: the script's expressions are nested too deeply to parse"),
    ("script-200000-minus-signs", None, script("x = " + "-" * 200_000 + "1"), None,
     "scenario.yaml:44:7: faults[0].artifact.source: the script's expressions are nested too deeply to parse"),
    # Infinite, NaN and absurd numbers.
    ("infinite-lease", None, GOOD_SCENARIO.replace("proxy: inventory", "proxy: inventory\n    ttl_s: .inf"), None,
     "scenario.yaml:15:5: faults[0].ttl_s: Input should be a finite number, got inf"),
    ("day-long-lease", None, GOOD_SCENARIO.replace("proxy: inventory", "proxy: inventory\n    ttl_s: 86400"), None,
     "scenario.yaml:15:5: faults[0].ttl_s: Input should be less than or equal to 3600, got 86400"),
    ("infinite-fault-offset", None, GOOD_SCENARIO.replace("proxy: inventory", "proxy: inventory\n    at_s: .inf"),
     None, "scenario.yaml:15:5: faults[0].at_s: Input should be a finite number, got inf"),
    ("infinite-baseline", drill_with("baseline_s: 1", "baseline_s: .inf"), None, None,
     "drill.yaml:6:1: baseline_s: Input should be a finite number, got inf"),
    ("infinite-surprise-window", drill_with("", "") + "surprise_window_s: [1, .inf]\n", None, None,
     "drill.yaml:9:24: surprise_window_s[1]: Input should be a finite number, got inf"),
    ("infinite-rate", drill_with("rate_per_s: 2", "rate_per_s: .inf"), None, None,
     "drill.yaml:5:18: load.rate_per_s: Input should be a finite number, got inf"),
    ("absurd-users", drill_with("users: 2", "users: 100000000000000000000000000000"), None, None,
     "drill.yaml:5:8: load.users: Input should be less than or equal to 10000, got 100000000000000000000000000000"),
    ("absurd-fd-limit", None, fault("  - type: fd_limit\n    service: web-1\n    nofile: 100000000000000000000000\n"),
     None, "scenario.yaml:15:5: faults[0].nofile: Input should be less than or equal to 1048576"),
    ("toxic-float-and-nan", None,
     fault("  - type: toxic\n    toxic: latency\n    attributes: {latncy: 800.5, x: .nan}\n"), None,
     "scenario.yaml:15:18: faults[0].attributes.latncy: 800.5 is not a 64-bit integer"),
    ("toxic-misspelt-attribute", None, fault("  - type: toxic\n    toxic: latency\n    attributes: {latncy: 800}\n"),
     None, "scenario.yaml:15:18: faults[0].attributes.latncy: latency has no attribute 'latncy' "
           "(its attributes: latency, jitter)"),
    ("toxic-the-proxy-refuses", None, fault("  - type: toxic\n    toxic: bandwidth\n    attributes: {rate: -5}\n"),
     None, "scenario.yaml:15:18: faults[0].attributes.rate: must be 0 or more KB/s, got -5"),
    # Errors that lacked a line, a column or a field.
    ("raw-nul-byte", drill_with('title: "corpus"', 'title: "cor\x00pus"'), None, None,
     "drill.yaml:3:12: unacceptable character #x0000: special characters are not allowed"),
    ("5000-digit-integer", drill_with("users: 2", "users: " + "1" * 5000), None, None,
     "drill.yaml:5:15: load.users: an integer of more than 4300 digits: refused"),
    ("duplicate-key", drill_with("", "") + "name: again\n", None, None,
     'drill.yaml:9:1: name: while constructing a mapping found duplicate key "name"'),
    ("5000-digit-integer-after-a-merge", drill_with("", "") + "x-a: &a {b: 1}\nx-c:\n  <<: *a\nx-d: " + "1" * 5000,
     None, None, "drill.yaml:12:6: x-d: an integer of more than 4300 digits: refused"),  # was an AttributeError
    # A host port published twice: validate passed it, the second service failed to bind it at run time.
    # A `*_PORT` variable is one port per run (whatever its default), a number is itself.
    ("compose-port-variable-published-twice", None, None,
     LB + f'    ports: [{LB_PORT}]\n  web:\n    command: ["true"]\n    ports: [{LB_PORT}]\n',
     "compose.yml:7:13: services.web.ports[0]: host port ${LB_PORT} (one port per run) is already published by "
     "service 'lb' at line 4"),
    ("compose-port-number-published-twice", None, None,
     LB + '    ports: ["127.0.0.1:19110:80"]\n  web:\n    command: ["true"]\n    ports: [19110]\n',
     "compose.yml:7:13: services.web.ports[0]: host port 19110 is already published by service 'lb' at line 4"),
    ("compose-port-published-twice-by-a-service", None, None, LB + f"    ports: [{LB_PORT}, {LB_PORT}]\n",
     "compose.yml:4:47: services.lb.ports[1]: host port ${LB_PORT} (one port per run) is already published by "
     "service 'lb' at line 4"),
    # Keys merged in (`<<: *anchor`): at the anchor's line (were at the merge's, or a traceback), the merge named.
    ("compose-unknown-key-in-an-anchor", None, None, ANCHORED.replace("stop_grace_period", "stop_grace_perod"),
     "compose.yml:3:3: services.lb.stop_grace_perod: unknown key (merged into services.lb from line 6)"),
    ("compose-bad-value-in-an-anchor", None, None, ANCHORED.replace("2s", "forever"),
     "compose.yml:3:3: services.lb.stop_grace_period: 'forever' is not a duration (like '2s', '100ms', '1m30s') "
     "(merged into services.lb from line 6)"),
    ("compose-bad-value-overriding-a-merged-one", None, None, ANCHORED + "    stop_grace_period: forever\n",
     "compose.yml:7:5: services.lb.stop_grace_period: 'forever' is not a duration"),
    ("compose-port-merged-into-two-services", None, None,
     ANCHORED.replace("  stop", f"  ports: [{LB_PORT}]\n  stop") + "  web:\n    <<: *base\n",
     "compose.yml:3:11: services.web.ports[0]: host port ${LB_PORT} (one port per run) is already published by "
     "service 'lb' at line 3 (merged into services.web from line 9)"),
    ("scenario-bad-value-in-an-anchor", None,
     fault("  - &down\n    type: link_down\n    proxy: inventory\n    ttl_s: 1\n  - <<: *down\n    at_s: 5\n"), None,
     "scenario.yaml:16:5: faults[1].ttl_s: Input should be greater than or equal to 6, got 1 "
     "(merged into faults[1] from line 17)"),
    ("drill-unknown-key-in-an-anchor",
     drill_with("", "") + "responder:\n  - wait_for: &wait {event: alert, timeout_s: 30, tmeout_s: 5}\n"
                          "  - ack: {by: alice}\n  - wait_for: {<<: *wait, event: restored}\n", None, None,
     "drill.yaml:10:51: responder[2].wait_for.tmeout_s: unknown key; did you mean 'timeout_s'? "
     "(merged into responder[2].wait_for from line 12)"),
]


# Cases also run with `run --dry-run`: it parses the compose file and checks the stack on its own.
DRY_RUN_TOO = {case[0] for case in CORPUS if case[3] is not None or case[0].startswith("role")}


def gamedrill(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def write_case(where: Path, drill: str | None, scenario: str | None, compose: str | None) -> Path:
    """The case's files in `where`; the drill's path."""
    where.mkdir(parents=True, exist_ok=True)
    scenario_path = SCENARIO
    if compose is not None:
        (where / "compose.yml").write_text(compose, encoding="utf-8")
        scenario = scenario or STACK.join(GOOD_SCENARIO.split("kind: scenario", 1))
    if scenario is not None:
        scenario_path = where / "scenario.yaml"
        scenario_path.write_text(scenario, encoding="latin-1")
    drill_path = where / "drill.yaml"
    drill_path.write_text(GOOD_DRILL.format(scenario=scenario_path) if drill is None else drill, encoding="latin-1")
    return drill_path


@pytest.mark.parametrize(("name", "drill", "scenario", "compose", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_a_malformed_file_is_refused_clearly_and_starts_nothing(tmp_path: Path, name: str, drill: str | None,
                                                                scenario: str | None, compose: str | None,
                                                                expected: str) -> None:
    drill_path = write_case(tmp_path, drill, scenario, compose)
    runs = tmp_path / "runs"
    commands = {"run": gamedrill("run", str(drill_path), "--runs-dir", str(runs))}
    if name in DRY_RUN_TOO:
        commands["run --dry-run"] = gamedrill("run", "--dry-run", str(drill_path), "--runs-dir", str(runs))
    for command, process in commands.items():
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 2, (command, process.returncode, stdout, stderr)
        assert "Traceback" not in stderr + stdout, command
        assert expected in stderr, (command, stderr)
    assert not runs.exists() or not any(runs.iterdir()), "nothing was created"


def test_validate_finds_every_problem_of_the_corpus(tmp_path: Path) -> None:
    """One `gamedrill validate` over every case: each problem is reported, under its own file."""
    drills = {name: write_case(tmp_path / name, drill, scenario, compose)
              for name, drill, scenario, compose, _ in CORPUS}
    stdout, stderr = gamedrill("validate", *map(str, drills.values())).communicate(timeout=120)
    assert "Traceback" not in stderr + stdout
    assert "valid" not in stdout
    for name, *_, expected in CORPUS:
        in_case = "" if expected.startswith("/") else str(tmp_path / name)  # else a file outside the case
        assert any(line.startswith(in_case) and expected in line for line in stderr.splitlines()), \
            (name, expected, stderr)


def test_a_valid_drill_without_inject_after_s_prints_its_plan(tmp_path: Path) -> None:
    drill_path = tmp_path / "drill.yaml"
    drill_path.write_text(GOOD_DRILL.format(scenario=SCENARIO), encoding="utf-8")
    runs = tmp_path / "runs"
    stdout, stderr = gamedrill("run", "--dry-run", str(drill_path), "--runs-dir", str(runs)).communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    assert "inject: 0 s after the baseline" in stdout.splitlines(), stdout  # the runner's default delay
    assert not runs.exists()


def test_a_fifo_or_a_symlink_loop_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "drill.yaml"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    drill_path = tmp_path / "loops.yaml"
    drill_path.write_text(GOOD_DRILL.format(scenario="loop.yaml"), encoding="utf-8")
    stdout, stderr = gamedrill("validate", str(fifo), str(loop), str(drill_path)).communicate(timeout=60)
    assert stderr.splitlines() == [
        f"{fifo}: not a regular file (a FIFO): refused",
        f"{loop}: cannot read: Too many levels of symbolic links",
        f"{drill_path}:4:1: scenario: cannot read '{loop}': Too many levels of symbolic links",
    ], stdout
