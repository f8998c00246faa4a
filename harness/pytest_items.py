"""Drill files as tests: each `kind: drill` file with a responder is one test item.

The item runs the drill with its runbook on autopilot and passes when every target holds.
Scenario files (and drill files without a responder, which people play) yield no items;
a drill file that does not validate is a collection error listing every problem as
`file:line:col: field: message`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_report import GamedrillReporter, kept_note
from harness.pytest_settings import MARKER, settings_for

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr, TracebackStyle

    from harness.runner import Run
    from harness.spec import Drill


class DrillMissed(AssertionError):
    """A drill ran and missed targets; the message is the whole explanation."""


class DrillFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.errors import SpecError
        from harness.spec import load_drill
        from harness.yamlsrc import load_yaml

        data = load_yaml(self.path, SpecError).data
        if not isinstance(data, dict) or data.get("kind") != "drill":
            return  # scenarios and other YAML are not tests
        drill = load_drill(self.path)
        if not drill.responder:
            return  # people play this drill: nothing to run unattended
        yield DrillItem.from_parent(self, name=drill.name, drill=drill)

    def repr_failure(self, excinfo: ExceptionInfo[BaseException]) -> str | TerminalRepr:  # type: ignore[override]
        from harness.errors import InputError

        if isinstance(excinfo.value, InputError):
            problems = "\n".join(str(p) for p in excinfo.value.problems)
            return f"{self.path} is not a valid drill:\n{problems}"
        return super().repr_failure(excinfo)


class DrillItem(pytest.Item):
    def __init__(self, *, drill: Drill, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drill = drill
        self.add_marker(MARKER)  # `-m "not gamedrill"` leaves the drills out of a quick run

    def runtest(self) -> None:
        from harness.errors import RunNotStarted
        from harness.pytest_run import prepare

        run = prepare(self.drill, settings_for(self), autopilot=True, drill_file=self.path)
        try:
            self._judge(run)
        except (DrillMissed, RunNotStarted):
            raise  # a miss names the run directory; a run that never started has none any more
        except BaseException:
            GamedrillReporter.of(self.config).note(self, f"run dir: {run.run_dir}")
            raise

    def _judge(self, run: Run) -> None:
        from harness.pytest_run import DrillRun
        from harness.pytest_verdict import explain

        done = DrillRun.finished(run, run.execute())
        self.user_properties.extend(done.properties())
        if settings_for(self).counterfactual:
            self._what_the_delay_cost(done.run_dir)
        verdict = done.verdict
        if verdict.passed:
            done.release()
            return
        lines = explain(self.drill.name, verdict, done.card, done.events)
        lines.append(f"run dir: {done.run_dir} (scorecard.md, journal.jsonl, logs/)")
        if done.kept:
            note = kept_note(done.run_dir)
            GamedrillReporter.of(self.config).kept.append(note)
            lines.append(note)
        raise DrillMissed("\n".join(lines))

    def _what_the_delay_cost(self, run_dir: Path) -> None:
        """--gamedrill-counterfactual: the replays, their sentences in the report and the scorecard.
        A run that cannot be played again (nothing injected, no mitigate_s target) says why; it
        does not fail a drill that passed."""
        from harness.counterfactual import CounterfactualError, ReplayNotInjected, counterfactual
        from harness.pytest_run import configured
        from scorecards import build_from_run_dir
        from scorecards.counterfactual import sentences
        from scorecards.write import write_files

        try:
            outcome = counterfactual(run_dir, drill=configured(self.drill, settings_for(self)))
        except (CounterfactualError, ReplayNotInjected) as exc:
            said = [f"not measured: {exc}"]
        else:
            write_files(run_dir, build_from_run_dir(run_dir))
            said = sentences(outcome)
            self.user_properties.append(("gamedrill_counterfactual", str(run_dir / "counterfactual.json")))
        self.add_report_section("call", "what the delay cost", "\n".join(said))
        GamedrillReporter.of(self.config).costs.append((self.drill.name, said))

    def repr_failure(self, excinfo: ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        from harness.errors import GamedrillError

        if isinstance(excinfo.value, DrillMissed):
            return str(excinfo.value)
        if isinstance(excinfo.value, GamedrillError):  # our own errors say it all; no traceback
            return f"drill {self.drill.name} could not run: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"drill {self.drill.name}"
