"""The compose file is parsed faithfully, and a bad one is refused whole, naming file:line and field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.errors import ComposeError
from harness.stack import load_compose
from harness.stack.compose_model import PortBinding, parse_port
from harness.stack.factory import SHOP_COMPOSE
from harness.stack.interpolate import InterpolationError, interpolate


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stack.yml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ComposeError) as caught:
        load_compose(path)
    return [str(problem) for problem in caught.value.problems]


def test_shop_file_parses_with_a_fresh_port_per_variable() -> None:
    first = load_compose(SHOP_COMPOSE)
    second = load_compose(SHOP_COMPOSE)
    assert set(first.services) == {"config", "inventory", "proxy", "web-1", "web-2", "web-3", "lb"}
    ports = [s.port for s in first.services.values()]
    assert len(set(ports)) == len(ports), "every service gets its own port"
    assert set(ports).isdisjoint(s.port for s in second.services.values()), "two runs never share a port"
    web = first.services["web-2"]
    assert web.environment["NODE_NAME"] == "web-2"
    assert web.environment["PORT"] == str(web.port)
    assert web.environment["INVENTORY_URL"] == f"http://127.0.0.1:{first.variables['PROXY_PORT']}"
    assert web.ulimits == {"nofile": (128, 128)}
    assert web.depends_on == {"config": "service_healthy", "proxy": "service_healthy"}
    assert web.command == (sys.executable, "-m", "shop.web")
    assert web.workdir == SHOP_COMPOSE.parent
    assert web.healthcheck is not None and web.healthcheck.start_interval_s == pytest.approx(0.1)


def test_caller_overrides_win_over_allocation() -> None:
    project = load_compose(SHOP_COMPOSE, {"LB_PORT": "18555"})
    assert project.services["lb"].port == 18555


def test_missing_command_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    image: shop\n")
    assert problems_of(path) == [f"{path}:2:3: services.app.command: required: the local backend runs each "
                                 "service's command (an image's default is unknown to it)"]


def test_unknown_dependency_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    command: [x]\n    depends_on:\n      - db\n")
    assert problems_of(path) == [f"{path}:5:9: services.app.depends_on[0]: unknown service 'db' (services: app)"]
    path = write(tmp_path, "services:\n  app:\n    command: [x]\n    depends_on: {db: {condition: service_healthy}}\n")
    assert problems_of(path) == [f"{path}:4:18: services.app.depends_on.db: unknown service 'db' (services: app)"]


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ('"127.0.0.1:70000:80"', "published port '70000' is not a number between 1 and 65535"),
        ('"127.0.0.1:http:80"', "'127.0.0.1:http:80' is not a port mapping like '127.0.0.1:8080:80'"),
        ('"0.0.0.0:8080:80"', "host address '0.0.0.0' is not loopback; gamedrill binds 127.0.0.1 / ::1 only"),
        ("{target: 0}", "target port 0 is not a number between 1 and 65535"),
    ],
)
def test_bad_port_is_named(tmp_path: Path, port: str, message: str) -> None:
    path = write(tmp_path, f"services:\n  app:\n    command: [x]\n    ports:\n      - {port}\n")
    assert problems_of(path) == [f"{path}:5:9: services.app.ports[0]: {message}"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """\
services:
  a:
    command: [x]
    depends_on: [b]
    ulimits: {nofiles: 10}
  b:
    command: [y]
    depends_on: [a]
    helthcheck: {test: [CMD, "true"]}
""")
    found = problems_of(path)
    assert f"{path}:9:5: services.b.helthcheck: unknown key" in found
    assert any("services.a.ulimits.nofiles: unknown ulimit 'nofiles'" in p for p in found)
    assert any("dependency cycle: a -> b -> a" in p for p in found)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    command: [x\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:4:")


def test_missing_file_is_named(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yml") == [f"{tmp_path / 'nope.yml'}: cannot read: No such file or directory"]


def test_required_variable_error_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    command: [x]\n    environment:\n      DB: ${DB_URL:?set it}\n")
    [problem] = problems_of(path)
    assert problem == f"{path}:5:7: services.app.environment.DB: required variable DB_URL is missing: set it"


def test_interpolation_follows_the_compose_spec() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("$SET ${SET} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $$SET", env) == "v v d d  d $SET"
    with pytest.raises(InterpolationError):
        interpolate("costs 5$", env)


@pytest.mark.parametrize(("key", "message"), [
    # Values that threw tracebacks while loading.
    ("ports: [{target: 80, host_ip: 127}]", "4:13: services.app.ports[0]: host address 127 is not an IP address"),
    ("ports: [{target: 80, protocol: [tcp]}]", "4:13: services.app.ports[0]: protocol ['tcp'] is not one of tcp, udp"),
    ('ports: [{target: "\u00b2"}]',  # a digit to str.isdigit(), not to int()
     "4:13: services.app.ports[0]: target port '\u00b2' is not a number between 1 and 65535"),
    ('ports: ["\u0663\u0663:80"]', "4:13: services.app.ports[0]: host address '\u0663\u0663' is not an IP address"),
    ("depends_on: [[a]]", "4:18: services.app.depends_on[0]: Input should be a valid string"),
    ("depends_on: [{a: b}]", "4:18: services.app.depends_on[0]: Input should be a valid string"),
    ('build: {context: "\\0"}', "4:13: services.app.build.context: the build context holds a NUL byte: '\\x00'"),
    ('build: "a\\0"', "4:5: services.app.build: the build context holds a NUL byte: 'a\\x00'"),
    # Values that loaded but would crash the local backend.
    ("stop_signal: SIGFOO",
     "4:5: services.app.stop_signal: 'SIGFOO' is not a signal name (like SIGTERM, SIGINT, SIGQUIT)"),
    ("healthcheck: {test: [CMD]}", "4:5: services.app.healthcheck: test ['CMD'] has no command after CMD"),
    ("entrypoint: []", "4:5: services.app.entrypoint: is empty"),
    ('entrypoint: [x, "a\\0b"]', "4:5: services.app.entrypoint: an argument holds a NUL byte: 'a\\x00b'"),
    ('environment: {A: "x\\0y"}', "4:5: services.app.environment: variable A holds a NUL byte: 'x\\x00y'"),
    ('environment: ["=x"]', "4:5: services.app.environment: '' is not a variable name (not empty, no '=')"),
    ("environment: {A: [1]}", "4:5: services.app.environment: a variable's value must be a string, number or boolean, "
                              "not a mapping or list"),
    ("ulimits: {nofile: {soft: 100, hard: 10}}", "4:15: services.app.ulimits.nofile: the soft limit 100 is above the "
                                                 "hard limit 10"),
    ("ulimits: {nofile: {soft: -1, hard: 10}}", "4:15: services.app.ulimits.nofile: the soft limit -1 is above the "
                                                "hard limit 10"),
    ("ulimits: {nofile: 2000000}", "4:15: services.app.ulimits.nofile: 2000000 is above the most a process may have "
                                   "(1048576)"),
    ("ulimits: {nofile: {soft: -5, hard: 1}}", "4:24: services.app.ulimits.nofile.soft: Input should be greater than "
                                               "or equal to -1, got -5"),
    ('ulimits: {nofile: "10"}', "4:15: services.app.ulimits.nofile: Input should be a valid integer, got '10'"),
    ("stop_grace_period: .nan", "4:5: services.app.stop_grace_period: nan is not a number of seconds"),
    ("healthcheck: {test: [CMD, x], interval: 25h}", "4:35: services.app.healthcheck.interval: '25h' is longer than "
                                                     "24 hours"),
    ("depends_on: {app: {condition: bogus}}", "4:24: services.app.depends_on.app.condition: Input should be "
     "'service_started', 'service_healthy' or 'service_completed_successfully', got 'bogus'"),
])
def test_a_value_the_backends_cannot_run_is_refused_at_its_line(tmp_path: Path, key: str, message: str) -> None:
    path = write(tmp_path, f"services:\n  app:\n    command: [x]\n    {key}\n")
    found = [p for p in problems_of(path) if "dependency cycle" not in p]  # `app` depending on itself, last case
    assert found == [f"{path}:{message}"]


def test_a_null_command_is_a_missing_one(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  app:\n    command:\n")
    assert problems_of(path) == [f"{path}:3:5: services.app.command: required: the local backend runs each "
                                 "service's command (an image's default is unknown to it)"]


def test_a_dependency_chain_deeper_than_the_stack_is_walked(tmp_path: Path) -> None:
    length = 2000  # past Python's recursion limit
    services = "".join(f"  s{i}:\n    command: [x]\n    depends_on: [s{i + 1}]\n" for i in range(length))
    path = write(tmp_path, f"services:\n{services}  s{length}:\n    command: [x]\n")
    assert len(load_compose(path, allocate=False).services) == length + 1
    path = write(tmp_path, f"services:\n{services}  s{length}:\n    command: [x]\n    depends_on: [s0]\n")
    [problem] = problems_of(path)
    cycle = " -> ".join(f"s{i}" for i in (*range(length + 1), 0))
    assert problem == f"{path}:4:5: services.s0.depends_on: dependency cycle: {cycle}"


# ---- host ports published twice: refused when validated, as the run would see them ------------

PER_RUN = "${API_PORT} (one port per run)"
TWO_SERVICES = 'services:\n  api:\n    command: [x]\n    ports: [{api}]\n  web:\n    command: [y]\n    ports: [{web}]\n'


@pytest.mark.parametrize(("api", "web", "port"), [
    ('"127.0.0.1:${API_PORT:-19110}:19110"', '"127.0.0.1:${API_PORT:-19110}:19110"', PER_RUN),
    ('"127.0.0.1:${API_PORT:-19110}:19110"', '{published: "${API_PORT}", target: 80}', PER_RUN),
    ('"127.0.0.1:19110:19110"', "19110", "19110"),
    ('"127.0.0.1:8053:53/udp"', '{target: 53, published: 8053, protocol: udp}', "8053/udp"),
])
def test_a_host_port_published_twice_is_refused_at_the_second(tmp_path: Path, api: str, web: str, port: str) -> None:
    path = write(tmp_path, TWO_SERVICES.format(api=api, web=web))
    expected = [f"{path}:7:13: services.web.ports[0]: host port {port} is already published by service 'api' at line 4"]
    assert problems_of(path) == expected
    with pytest.raises(ComposeError) as caught:  # the run refuses it too, with its ports allocated
        load_compose(path)
    assert [str(problem) for problem in caught.value.problems] == expected


@pytest.mark.parametrize(("api", "web"), [
    ('"127.0.0.1:${API_PORT:-19110}:19110"', '"127.0.0.1:${WEB_PORT:-19110}:19110"'),  # one port each per run
    ('"127.0.0.1:${API_PORT:-19110}:19110"', '"127.0.0.1:19110:19110"'),  # allocation avoids 19110
    ('"127.0.0.1:19110:19110"', '"127.0.0.1:19111:19110"'),
    ('"127.0.0.1:8053:53/udp"', '"127.0.0.1:8053:53"'),  # tcp and udp sockets are apart
])
def test_ports_that_differ_at_run_time_are_accepted(tmp_path: Path, api: str, web: str) -> None:
    project = load_compose(write(tmp_path, TWO_SERVICES.format(api=api, web=web)))
    assert project.services["api"].ports[0] != project.services["web"].ports[0]


def test_a_port_published_twice_by_one_service_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'services:\n  api:\n    command: [x]\n    ports:\n      - "127.0.0.1:${API_PORT:-1}:80"\n'
                           '      - "127.0.0.1:${API_PORT:-1}:81"\n')
    assert problems_of(path) == [f"{path}:6:9: services.api.ports[1]: host port ${{API_PORT}} (one port per run) is "
                                 "already published by service 'api' at line 5"]


def test_variables_the_caller_sets_are_the_numbers_given(tmp_path: Path) -> None:
    path = write(tmp_path, TWO_SERVICES.format(api='"127.0.0.1:${API_PORT}:80"', web='"127.0.0.1:${WEB_PORT}:80"'))
    assert load_compose(path, {"API_PORT": "18555"}).services["api"].port == 18555
    with pytest.raises(ComposeError) as caught:
        load_compose(path, {"API_PORT": "18555", "WEB_PORT": "18555"})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7:13: services.web.ports[0]: host port 18555 is already published by service 'api' at line 4"]


def test_allocation_never_hands_out_a_port_the_file_publishes_as_a_number(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fixed = 20_000 + 4_321
    draws = iter([fixed, fixed + 1])  # the first draw is the literal port: free now, bound once web starts

    class Drawn:
        def randint(self, low: int, high: int) -> int:
            return next(draws)

    monkeypatch.setattr("harness.stack.ports._rng", Drawn())
    monkeypatch.setattr("harness.stack.ports.candidate_range", lambda: (20_000, 30_000))
    path = write(tmp_path, TWO_SERVICES.format(api='"127.0.0.1:${API_PORT:-19110}:80"', web=f'"127.0.0.1:{fixed}:80"'))
    project = load_compose(path)
    assert project.services["api"].port == fixed + 1
    assert project.services["web"].port == fixed


def test_ports_merged_into_two_services_are_refused_where_the_anchor_writes_them(tmp_path: Path) -> None:
    path = write(tmp_path, 'x-base: &base\n  command: [x]\n  ports: ["127.0.0.1:${APP_PORT:-1}:80"]\n'
                           'services:\n  a:\n    <<: *base\n  b:\n    <<: *base\n')
    assert problems_of(path) == [f"{path}:3:11: services.b.ports[0]: host port ${{APP_PORT}} (one port per run) is "
                                 "already published by service 'a' at line 3 (merged into services.b from line 8)"]


# ---- keys merged in (`<<: *anchor`): located where the anchor writes them ------------------------

ANCHORED = """\
x-base: &base
  command: [x]
  stop_grace_period: 2s
services:
  a:
    <<: *base
  b:
    image: shop
    <<: *base
"""


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  stop_grace_period: 2s\n", "  stop_grace_perod: 2s\n",
     ["3:3: services.a.stop_grace_perod: unknown key (merged into services.a from line 6)",
      "3:3: services.b.stop_grace_perod: unknown key (merged into services.b from line 9)"]),
    ("  stop_grace_period: 2s\n", "  stop_grace_period: forever\n",
     ["3:3: services.a.stop_grace_period: 'forever' is not a duration (like '2s', '100ms', '1m30s') "
      "(merged into services.a from line 6)",
      "3:3: services.b.stop_grace_period: 'forever' is not a duration (like '2s', '100ms', '1m30s') "
      "(merged into services.b from line 9)"]),
    ("  stop_grace_period: 2s\n", "  ulimits: {nofile: {soft: 100, hard: 10}}\n",
     ["3:13: services.a.ulimits.nofile: the soft limit 100 is above the hard limit 10 "
      "(merged into services.a from line 6)",
      "3:13: services.b.ulimits.nofile: the soft limit 100 is above the hard limit 10 "
      "(merged into services.b from line 9)"]),
    # A key of the service's own, overriding a merged one: at its own line, no merge to name.
    ("    <<: *base\n  b:", "    <<: *base\n    stop_grace_period: forever\n  b:",
     ["7:5: services.a.stop_grace_period: 'forever' is not a duration (like '2s', '100ms', '1m30s')"]),
])
def test_a_merged_key_is_located_in_the_anchor(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    path = write(tmp_path, ANCHORED.replace(old, new))
    assert problems_of(path) == [f"{path}:{problem}" for problem in expected]


@pytest.mark.parametrize(("written", "expected"), [
    ("8080:80", PortBinding(None, 8080, 80, "tcp")),  # HOST:CONTAINER, the most common short form
    ("8080:80/udp", PortBinding(None, 8080, 80, "udp")),
    ("127.0.0.1:8080:80", PortBinding("127.0.0.1", 8080, 80, "tcp")),
    ("[::1]:8080:80", PortBinding("::1", 8080, 80, "tcp")),
    ("9000", PortBinding(None, 9000, 9000, "tcp")),
])
def test_short_port_forms_read_as_compose_reads_them(written: str, expected: PortBinding) -> None:
    assert parse_port(written) == expected
