"""The plugin's tests share one fixture: a pytest project with a scenario, its stacks cleaned up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from plugin_project import INNER_INI, SCENARIO, SCENARIO_PATH, still_running, take_down


@pytest.fixture
def project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    """A pytest project holding the test scenario; every stack its runs left up is taken down afterwards."""
    pytester.makepyprojecttoml(INNER_INI)
    (pytester.path / "drills").mkdir()
    (pytester.path / SCENARIO_PATH).parent.mkdir()
    (pytester.path / SCENARIO_PATH).write_text(SCENARIO)
    yield pytester
    for run_dir in (pytester.path / "runs").glob("*/"):
        if still_running(run_dir):
            take_down(run_dir)
