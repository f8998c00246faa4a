"""Docker-marked tests: the sample shop as containers, on a real Docker engine.

Where no engine answers (or the images are not built) the docker tests are skipped and
the session ends with a line saying they did not run and why, never a silent pass.
With GAMEDRILL_REQUIRE_DOCKER=1 (CI sets it) the same condition fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from dockerkit import UP_TIMEOUT_S, leftovers
from engine_relay import EngineRelay

from harness.stack import load_compose
from harness.stack.docker import DockerBackend
from harness.stack.docker_engine import docker_engine, unavailable_reason
from harness.stack.factory import SHOP_COMPOSE

REQUIRE_ENV = "GAMEDRILL_REQUIRE_DOCKER"
_unavailable = pytest.StashKey[str | None]()
SKIP_MESSAGE = "docker tests did not run: the `docker` section of the summary says why"


def _reason(config: pytest.Config) -> str | None:
    if _unavailable not in config.stash:
        config.stash[_unavailable] = unavailable_reason(SHOP_COMPOSE)
    return config.stash[_unavailable]


@pytest.fixture(autouse=True)
def _needs_docker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("docker") is None:
        return
    reason = _reason(request.config)
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the docker tests cannot run: {reason}", pytrace=False)
    pytest.skip(SKIP_MESSAGE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    # Counted from the reports, so it also works when xdist workers ran the tests.
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SKIP_MESSAGE in str(r.longrepr)]
    if skipped:
        terminalreporter.section("docker", sep="=", yellow=True, bold=True)
        terminalreporter.write_line(f"docker tests did not run ({len(skipped)} skipped): {_reason(config)}",
                                    yellow=True, bold=True)


@pytest.fixture
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker_engine()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def docker_shop(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[DockerBackend]:
    """The sample shop as containers, up and healthy; afterwards nothing with its label is left."""
    backend = DockerBackend(load_compose(SHOP_COMPOSE), tmp_path / "run", f"test-{tmp_path.name}", docker_client)
    backend.up(timeout_s=UP_TIMEOUT_S)
    try:
        yield backend
    finally:
        backend.down()
    assert leftovers(docker_client, backend.compose_project) == []


@pytest.fixture
def engine_over_tcp(monkeypatch: pytest.MonkeyPatch) -> Iterator[EngineRelay]:
    """The engine as a remote one: DOCKER_HOST=tcp://127.0.0.1:PORT (a relay to its socket) for
    the harness, its Compose CLI and its lease watchers, all of which read DOCKER_HOST."""
    with EngineRelay() as relay:
        monkeypatch.setenv("DOCKER_HOST", relay.url)
        yield relay
