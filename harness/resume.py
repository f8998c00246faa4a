"""`gamedrill run --resume RUN`: a new harness takes over a drill whose harness died.

The stack outlives its harness (each service is its own session), the faults are held by
their leases for a TTL, and the journal is on disk. Resuming checks that the old harness
is really gone, reopens the journal where it ends, adopts the stack from `stack.json`
(same processes, same ports), then `Run.resume` takes over every fault still live (its
lease renewed at once; one whose lease already undid it is journaled so), serves the
control API again with the same tokens (the team's CLI and consoles carry on), restarts
load, probes and monitor, and follows the rest of the schedule to the usual wind-down.
The autopilot does not resume: people carry on. Events the team sent while no harness
listened were refused by their clients, never half-recorded: they can be sent again.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.compression import compress
from harness.control.server import control_record
from harness.errors import GamedrillError
from harness.liveruns import LiveMark, RunIsLive
from harness.runner import Run, RunOptions
from harness.spec import load_drill
from harness.stack.compose import load_compose
from harness.stack.factory import adopt_backend
from harness.timeline import Event, Journal, read_journal


class CannotResume(GamedrillError):
    """The run directory holds no drill that a new harness could take over."""


def prepare_resume(run_dir: Path, options: RunOptions) -> tuple[Run, list[Event]]:
    """The run of `run_dir`, its stack adopted and its journal reopened, ready for `resume()`."""
    run_dir = run_dir.resolve()  # its name is the run id, also when given as `.`
    journal_path = run_dir / "journal.jsonl"
    if not journal_path.is_file():
        raise CannotResume(f"{run_dir}: no journal.jsonl, so no drill to resume")
    live = _take_over(run_dir)  # first: once it is ours, no other harness writes the journal
    try:
        events = read_journal(journal_path)
        _refuse_if_not_resumable(run_dir, events)
        plan = next(e for e in events if e.kind == "run.planned").data
        drill_file = plan.get("drill_file") or (str(options.drill_file) if options.drill_file else None)
        if not drill_file:
            raise CannotResume(f"{run_dir}: its journal does not say which drill file it ran; pass it: "
                               "gamedrill run DRILL --resume RUN")
        drill = compress(load_drill(drill_file))
        if drill.name != plan["drill"]:
            raise CannotResume(f"{drill_file} is drill {drill.name!r}, but run {run_dir.name} ran "
                               f"{plan['drill']!r}")
        stack_state = json.loads((run_dir / "stack.json").read_text())
        project = load_compose(drill.scenario.stack.compose_file, overrides=stack_state.get("ports", {}))
        backend = adopt_backend(project, run_dir, run_dir.name, str(plan["backend"]), _killed_by_faults(events))
        journal = Journal.open(journal_path)
    except BaseException:
        live.release()
        raise
    run = Run(drill=drill, run_id=run_dir.name, run_dir=run_dir, journal=journal, backend=backend,
              options=replace(options, autopilot=False, history=options.history or _planned_history(plan)),
              rng=random.Random(options.seed), live=live)
    return run, events


def _planned_history(plan: Mapping[str, Any]) -> Path | None:
    """The history the run was planned into (a pytest run's own), None: the default one."""
    return Path(str(plan["history"])) if plan.get("history") else None


def _refuse_if_not_resumable(run_dir: Path, events: list[Event]) -> None:
    if not any(e.kind == "run.planned" for e in events):
        raise CannotResume(f"{run_dir}: the journal has no plan (run.planned)")
    if any(e.kind == "run.finished" for e in events):
        raise CannotResume(f"run {run_dir.name} is over (its journal has run.finished): nothing to resume")
    if not any(e.kind == "run.state" and e.data.get("to") == "injected" for e in events):
        raise CannotResume(f"run {run_dir.name} died before its fault was injected: start the drill again, "
                           f"and `gamedrill cleanup {run_dir.name}` removes what it left")


def _killed_by_faults(events: list[Event]) -> frozenset[str]:
    """Services that faults still live may have stopped (a signal to the whole service, a restart)."""
    reverted = {e.data["index"] for e in events if e.kind == "fault.reverted"}
    return frozenset(str(e.data["service"]) for e in events
                     if e.kind in ("fault.injected", "fault.injecting") and e.data.get("type") in ("signal", "restart")
                     and e.data["index"] not in reverted and "service" in e.data)


def _take_over(run_dir: Path) -> LiveMark:
    """The run's live mark: only one harness runs a drill, and only once the last one is dead."""
    try:
        return LiveMark(run_dir.name)
    except RunIsLive:
        pid = (control_record(run_dir) or {}).get("pid")
        raise CannotResume(f"run {run_dir.name} is still running" + (f" (its harness is pid {pid})" if pid else "")
                           + ": nothing to take over") from None

