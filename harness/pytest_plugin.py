"""gamedrill's pytest plugin (entry point `pytest11`): a drill regression suite is just `pytest`.

- Drill files matching the `gamedrill_drills` ini globs (default `drills/**/*.yaml`) with a
  responder are collected as tests: each runs on autopilot and passes when every target holds.
- Fixtures: `stack` / `gamedrill_stack` (the sample shop, up; scope from
  `--gamedrill-stack-scope`), `drill` / `gamedrill_drill` (run a scenario with a Python
  responder, get the scorecard), `gamedrill_settings`. Waits for responders: `harness.pytest_waits`.
- Options: `--gamedrill-backend`, `--gamedrill-runs-dir`, `--gamedrill-keep`,
  `--gamedrill-time-compression`, `--gamedrill-stack-scope` (also ini, `GAMEDRILL_*`, and the
  `@pytest.mark.gamedrill(...)` marker per test), `--gamedrill-history` (ini only besides: the
  runs go into `<runs dir>/pytest-history.sqlite`, not the shared history, unless `shared`);
  see `harness.pytest_settings`.

pytest imports this module in every run wherever gamedrill is installed, so the hooks here
are thin and everything heavy is imported only when a drill or fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.pytest_settings import (
    MARKER_HELP,
    SETTINGS_KEY,
    GamedrillSettings,
    StackScope,
    add_options,
    resolve_settings,
)

if TYPE_CHECKING:
    from harness.pytest_drill_runner import DrillRunner
    from harness.stack.base import StackBackend

DRILL_SUFFIXES = (".yaml", ".yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[SETTINGS_KEY] = resolve_settings(config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in DRILL_SUFFIXES:
        return None
    settings = parent.config.stash[SETTINGS_KEY]
    if not (settings.is_drill_path(file_path) or parent.session.isinitpath(file_path)):
        return None  # named on the command line: collected whatever the globs say
    from harness.pytest_items import DrillFile

    return DrillFile.from_parent(parent, path=file_path)


def _stack_scope(fixture_name: str, config: pytest.Config) -> StackScope:
    return config.stash[SETTINGS_KEY].stack_scope


@pytest.fixture(scope="session")
def gamedrill_settings(pytestconfig: pytest.Config) -> GamedrillSettings:
    """The session's resolved settings (a test's marker applies inside the fixtures)."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope=_stack_scope)
def gamedrill_stack(request: pytest.FixtureRequest) -> Iterator[StackBackend]:
    """The sample shop stack, up and healthy; taken down after its scope (kept on failure with --gamedrill-keep)."""
    from harness.pytest_stack import shop_stack

    yield from shop_stack(request)


@pytest.fixture
def gamedrill_drill(request: pytest.FixtureRequest) -> Iterator[DrillRunner]:
    """Call it with a scenario or drill file and a responder `fn(team: ControlClient)`; returns the scorecard."""
    from harness.pytest_drill_runner import DrillRunner

    assert isinstance(request.node, pytest.Item)
    runner = DrillRunner(request.node)
    failed_before = request.session.testsfailed
    yield runner
    runner.close(test_failed=request.session.testsfailed > failed_before)


# The short names, as a drill suite reads best; a project's own `stack` or `drill` fixture
# overrides these (conftest fixtures win over plugin ones), the gamedrill_ names stay.
@pytest.fixture(scope=_stack_scope)
def stack(gamedrill_stack: StackBackend) -> StackBackend:
    """The same stack as `gamedrill_stack`."""
    return gamedrill_stack


@pytest.fixture
def drill(gamedrill_drill: DrillRunner) -> DrillRunner:
    """The same runner as `gamedrill_drill`."""
    return gamedrill_drill
