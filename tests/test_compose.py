"""The compose file is parsed faithfully, and a bad one is refused whole, naming file:line and field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.errors import ComposeError
from harness.stack import load_compose
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
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:4:5: services.app.depends_on.db: unknown service 'db'")


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
