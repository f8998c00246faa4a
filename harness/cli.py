"""The `gamedrill` command. Thin: parse, call one library function, render, exit code.

Exit codes: 0 done, 1 the drill did not end well (aborted, timed out, not injected) or a
runtime error, 2 bad input (a file or an argument).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console

from harness.errors import GamedrillError, InputError

if TYPE_CHECKING:
    from harness.runner import RunOptions, RunResult

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM must unwind like Ctrl-C so every `finally` (fault revert, teardown) runs.
    raise KeyboardInterrupt


def reports_errors(command: F) -> F:
    """Turn gamedrill's errors into a clear message and an exit code, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                errors.print(str(problem), markup=False)
            sys.exit(2)
        except GamedrillError as exc:
            errors.print(f"error: {exc}", markup=False)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="gamedrill")
def main() -> None:
    """Game-day chaos drills: real faults, honest timings, scorecards people learn from."""
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check scenario and drill files; print every problem as file:line:col: field: message."""
    from harness.spec import validate_paths

    problems = validate_paths(paths)
    for problem in problems:
        errors.print(str(problem), markup=False)
    if problems:
        sys.exit(1)
    console.print(f"{len(paths)} file(s) valid")


@main.command()
@click.argument("drill_path", metavar="[DRILL]", required=False, type=click.Path(path_type=Path))
@click.option("--autopilot", is_flag=True, help="let the drill's responder play the team")
@click.option("--keep", is_flag=True, help="leave the stack up afterwards (faults are still reverted)")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where run directories go (default: the drill's runs_dir, else ./runs)")
@click.option("--seed", type=int, default=None, help="seed for the surprise window (replayable runs)")
@click.option("--dry-run", is_flag=True, help="validate and print the plan; start nothing")
@click.option("--listen", default="127.0.0.1", show_default=True, metavar="HOST",
              help="the control API's address; anything but loopback lets other machines reach it (a warning)")
@click.option("--resume", "resume_ref", default=None, metavar="RUN",
              help="take over a drill whose harness died, stack still up (run id or run directory)")
@reports_errors
def run(drill_path: Path | None, autopilot: bool, keep: bool, runs_dir: Path | None, seed: int | None,
        dry_run: bool, listen: str, resume_ref: str | None) -> None:
    """Run a drill: the stack under load, the fault, the team's response, the scorecard."""
    from harness.control.server import is_loopback
    from harness.runner import RunOptions

    if drill_path is None and resume_ref is None:
        raise click.UsageError("name a DRILL file to run, or --resume RUN to take one over")
    remote = not is_loopback(listen)
    if remote:
        errors.print(f"warning: the control API will listen on {listen}: anyone who can reach it and holds a "
                     "token can act on this drill (tokens.json in the run directory)", markup=False)
    options = RunOptions(runs_dir=runs_dir, autopilot=autopilot, keep=keep, seed=seed, listen=listen,
                         allow_remote=remote, drill_file=drill_path)
    if resume_ref is not None:
        from harness.liveview import live_view
        from harness.resume import prepare_resume

        candidate = Path(resume_ref)
        run_dir = candidate if candidate.is_dir() else (runs_dir or Path("runs")) / resume_ref
        the_run, journaled = prepare_resume(run_dir, options)
        console.print(f"resuming run {the_run.run_id}: {the_run.drill.title}  (run dir {the_run.run_dir})")
        with live_view(the_run.journal, the_run.drill.targets, console):
            result = the_run.resume(journaled)
        _finish(result)
    assert drill_path is not None
    _start(drill_path, options, dry_run)


def _start(drill_path: Path, options: RunOptions, dry_run: bool) -> None:
    from harness.liveview import live_view
    from harness.runner import prepare_run
    from harness.spec import load_drill

    drill = load_drill(drill_path)
    if dry_run:
        from harness.plan import describe_plan

        for line in describe_plan(drill):
            console.print(line, markup=False)
        return
    if options.autopilot and not drill.responder:
        raise click.UsageError(f"{drill_path} has no responder steps for --autopilot")
    the_run = prepare_run(drill, options)
    console.print(f"run {the_run.run_id}: {drill.title}  (run dir {the_run.run_dir})")
    if not options.autopilot:
        console.print("the team responds with `gamedrill ack|declare|update|act ...` from this directory, or in "
                      "the browser: `gamedrill console` prints the link (`--facilitator` for the facilitator's)")
    with live_view(the_run.journal, the_run.drill.targets, console):  # the facilitator's view
        result = the_run.execute()
    _finish(result)


def _finish(result: RunResult) -> NoReturn:
    from scorecards import build_from_run_dir, render_summary

    card = build_from_run_dir(result.run_dir)
    for line in render_summary(card):
        console.print(line, markup=False)
    console.print(f"outcome: {result.outcome} ({result.reason})", markup=False)
    console.print(f"scorecard: {result.run_dir / 'scorecard.md'}")
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True)
@click.option("--requests", type=click.IntRange(1, 100_000), default=600, show_default=True)
@reports_errors
def smoke(runs_dir: Path, requests: int) -> None:
    """Bring the sample stack up, check it healthy under a burst of traffic, take it down."""
    from harness.demo import render_stack_demo, run_stack_demo

    try:
        report = run_stack_demo(None, runs_dir, requests, progress=console.print)
    except KeyboardInterrupt:
        errors.print("interrupted: the stack was taken down")
        sys.exit(130)
    console.print(render_stack_demo(report))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("run_ids", nargs=-1)
@click.option("--all", "every_run", is_flag=True,
              help="clean up after every run on this machine whose harness is dead")
@reports_errors
def cleanup(run_ids: tuple[str, ...], every_run: bool) -> None:
    """Remove what earlier runs left behind (processes, containers), by run id."""
    from harness.cleanup import cleanup as remove_leftovers
    from harness.cleanup import cleanup_containers

    if not run_ids and not every_run:
        raise click.UsageError("name the run ids to clean up, or pass --all")
    found = [item for run_id in (run_ids or (None,)) for item in remove_leftovers(run_id)]
    projects = [project for run_id in (run_ids or (None,)) for project in cleanup_containers(run_id)]
    for item in found:
        console.print(f"stopped {item.service} (pid {item.pid}) of run {item.run_id}", markup=False)
    for project in projects:
        console.print(f"removed the containers of compose project {project}", markup=False)
    if every_run:
        from harness.cleanup import live_runs

        live = live_runs()
        if live:
            console.print(f"left alone (their harness is alive): {', '.join(live)}", markup=False)
    if not found and not projects:
        console.print("nothing left behind")
    else:
        console.print(f"{len(found)} process(es), {len(projects)} compose project(s) cleaned up")


def _register_subcommands() -> None:
    from harness.cli_scorecard import SCORECARD_COMMANDS
    from harness.cli_team import TEAM_COMMANDS

    for command in (*TEAM_COMMANDS, *SCORECARD_COMMANDS):
        main.add_command(command)


_register_subcommands()


if __name__ == "__main__":
    main()
