"""What the test report says about the runs a test started: registered only once one starts.

A failed test gets a `gamedrill` section naming each run directory (journal, logs,
scorecard) and any stack `--gamedrill-keep` left up; the terminal summary lists those
stacks again at the end of the session, since somebody has to take them down
(`gamedrill cleanup RUN_ID`, which finds a run's processes by the id in their environment).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path
from typing import Any, Final

import pytest

_LINES_KEY: Final = pytest.StashKey[list[str]]()


class GamedrillReporter:
    PLUGIN_NAME: Final = "gamedrill-reporter"

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.costs: list[tuple[str, list[str]]] = []  # (drill, what its delay cost), --gamedrill-counterfactual

    @classmethod
    def of(cls, config: pytest.Config) -> GamedrillReporter:
        """The session's reporter, registered on first use."""
        reporter = config.pluginmanager.get_plugin(cls.PLUGIN_NAME)
        if reporter is None:
            reporter = cls()
            config.pluginmanager.register(reporter, cls.PLUGIN_NAME)
        assert isinstance(reporter, GamedrillReporter)
        return reporter

    def note(self, item: pytest.Item | None, line: str) -> None:
        """A line for `item`'s report section, shown if it fails (no item: a wider-scoped fixture)."""
        if item is not None:
            item.stash.setdefault(_LINES_KEY, []).append(line)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        lines = item.stash.get(_LINES_KEY, None)
        if lines and report.failed:
            report.sections.append(("gamedrill", "\n".join(lines)))
        return report

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.costs:
            terminalreporter.write_sep("=", "gamedrill: what the delay cost")
            for drill, lines in self.costs:
                terminalreporter.write_line(f"{drill}:")
                for line in lines:
                    terminalreporter.write_line(f"  {line}")
        if self.kept:
            terminalreporter.write_sep("=", "gamedrill: stacks left up after failures")
            for note in self.kept:
                terminalreporter.write_line(note)


def kept_note(run_dir: Path) -> str:
    """Where a kept stack listens and how to take it down (a run directory is named by its run id)."""
    try:
        state: Any = json.loads((run_dir / "stack.json").read_text(encoding="utf-8"))
        services: dict[str, Any] = dict(state["services"])
    except (OSError, ValueError, KeyError, TypeError):
        services = {}
    ports = ", ".join(f"{name} 127.0.0.1:{info['port']}" for name, info in services.items()
                      if isinstance(info, dict) and info.get("port"))
    return (f"stack left up for debugging ({ports or 'no ports recorded'}); "
            f"take it down with: gamedrill cleanup {run_dir.name}")
