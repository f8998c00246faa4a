"""The `gamedrill` command. Thin: parse, call one library function, render, exit code.

Exit codes: one table for every command, in `harness.exitcodes` (shown by `gamedrill --help`).
"""

from __future__ import annotations

import ipaddress
import re
import signal
import socket
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from harness.cliout import make_console
from harness.errors import GamedrillError, InputError
from harness.exitcodes import EXIT_CODE_HELP, MEANINGS, ExitCode, for_outcome

if TYPE_CHECKING:
    from harness.runner import RunOptions, RunResult

console = make_console()
errors = make_console(stderr=True)
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
            sys.exit(ExitCode.BAD_INPUT)
        except GamedrillError as exc:
            errors.print(f"error: {exc}", markup=False)
            sys.exit(ExitCode.HARNESS_ERROR)
        except KeyboardInterrupt:
            errors.print("interrupted: every fault was reverted and the stack taken down", markup=False)
            sys.exit(ExitCode.INTERRUPTED)

    return wrapper  # type: ignore[return-value]


@click.group(epilog="\b\nExit codes (every command):\n" + EXIT_CODE_HELP,
             context_settings={"max_content_width": 120})
@click.version_option(package_name="gamedrill")
def main() -> None:
    """Game-day chaos drills: real faults, honest timings, scorecards people learn from.

    Files may be named as paths or as builtin:NAME (`gamedrill run builtin:demo`,
    `scenario: builtin:hung-workers` in a drill): the scenarios and drills shipped with gamedrill.
    """
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))  # str: Path("") is "."
@reports_errors
def validate(paths: tuple[str, ...]) -> None:
    """Check scenario and drill files; print every problem as file:line:col: field: message.

    Exit code 2 if any file has a problem; warnings (printed as `warning:`) do not fail it."""
    from harness.errors import Problem
    from harness.spec import validate_paths, validation_warnings

    files = [_input_path(Path(path)) for path in paths if path.strip()]
    problems = [Problem(f"argument {i}", None, None, "", f"an empty path ({path!r}): name a scenario or drill file")
                for i, path in enumerate(paths, 1) if not path.strip()]
    problems += validate_paths(files)
    for problem in problems:
        errors.print(str(problem), markup=False)
    if problems:
        sys.exit(ExitCode.BAD_INPUT)
    for warning in validation_warnings(files):
        errors.print(f"warning: {warning}", markup=False)
    console.print(f"{len(paths)} file(s) valid")


def _input_path(path: Path, kind: str | None = None) -> Path:
    """A path as given, or the shipped file `builtin:NAME` names (a drill first, then a scenario)."""
    from harness.builtin import BUILTIN_PREFIX, resolve_builtin

    written = str(path)
    if not written.startswith(BUILTIN_PREFIX):
        return path
    kinds = [kind] if kind else ["drill", "scenario"]
    for each in kinds:
        try:
            return resolve_builtin(written, each)
        except ValueError as exc:
            last = exc
    raise click.BadParameter(str(last), param_hint="PATH")


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


def _check_listen(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An address of this machine, or a name of one: checked by binding a throwaway socket to
    it, so a typo is refused now and not once the stack is up and the control API starts."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.fullmatch(value) or value.replace(".", "").isdigit():
            raise click.BadParameter(f"{value!r} is neither an IP address nor a host name", ctx, param) from None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(value, 0, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise click.BadParameter(f"{value!r} does not resolve to an address ({exc})", ctx, param) from None
    with socket.socket(family, kind, proto) as probe:
        try:
            probe.bind(address)
        except OSError as exc:
            resolved = "" if address[0] == value else f" ({address[0]})"
            raise click.BadParameter(f"{value!r}{resolved} cannot be listened on here: {exc.strerror}",
                                     ctx, param) from None
    return value


@main.command()
@click.argument("drill_path", metavar="[DRILL]", required=False, type=click.Path(path_type=str))
@click.option("--autopilot", is_flag=True, help="let the drill's responder play the team")
@click.option("--keep", is_flag=True, help="leave the stack up afterwards (faults are still reverted)")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where run directories go (default: the drill's runs_dir, else ./runs)")
@click.option("--seed", type=int, default=None, help="seed for the surprise window (replayable runs)")
@click.option("--dry-run", is_flag=True, help="validate and print the plan; start nothing")
@click.option("--listen", default="127.0.0.1", show_default=True, metavar="HOST", callback=_check_listen,
              help="the control API's address; anything but loopback lets other machines reach it (a warning)")
@click.option("--resume", "resume_ref", default=None, metavar="RUN",
              help="take over a drill whose harness died, stack still up (run id or run directory)")
@reports_errors
def run(drill_path: str | None, autopilot: bool, keep: bool, runs_dir: Path | None, seed: int | None,
        dry_run: bool, listen: str, resume_ref: str | None) -> None:
    """Run a drill: the stack under load, the fault, the team's response, the scorecard."""
    from harness.control.server import is_loopback
    from harness.runner import RunOptions

    if drill_path is None and resume_ref is None:
        raise click.UsageError("name a DRILL file to run, or --resume RUN to take one over")
    if resume_ref is not None and (dry_run or drill_path is not None):
        raise click.UsageError("--resume takes over a drill already running: it goes without a DRILL file "
                               "and without --dry-run")
    remote = not is_loopback(listen)
    if remote:
        errors.print(f"warning: the control API will listen on {listen}: anyone who can reach it and holds a "
                     "token can act on this drill (tokens.json in the run directory)", markup=False)
    options = RunOptions(runs_dir=runs_dir, autopilot=autopilot, keep=keep, seed=seed, listen=listen,
                         allow_remote=remote, drill_file=None if drill_path is None else Path(drill_path))
    if resume_ref is not None:
        from harness.liveview import live_view
        from harness.resume import prepare_resume

        run_dir = _resume_dir(resume_ref, runs_dir or Path("runs"))
        the_run, journaled = prepare_resume(run_dir, options)
        console.print(f"resuming run {the_run.run_id}: {the_run.drill.title}  (run dir {the_run.run_dir})")
        with live_view(the_run.journal, the_run.drill.targets, console):
            result = the_run.resume(journaled)
        _finish(result)
    assert drill_path is not None
    if not drill_path.strip():
        raise click.BadParameter(f"an empty path ({drill_path!r}): name a drill file", param_hint="DRILL")
    _start(_input_path(Path(drill_path), "drill"), options, dry_run)


def _resume_dir(ref: str, runs_dir: Path) -> Path:
    for candidate in (Path(ref), runs_dir / ref):
        if candidate.is_dir():
            return candidate
    known = sorted(path.parent.name for path in runs_dir.glob("*/journal.jsonl")) if runs_dir.is_dir() else []
    raise click.BadParameter(f"no run {ref!r} under {runs_dir}; known runs: {', '.join(known) or 'none'}",
                             param_hint="--resume")


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
    missed = any(phase.passed is False for phase in card.phases) or card.cadence.passed is False
    code = for_outcome(result.outcome, result.reason, missed)
    console.print(f"outcome: {result.outcome} ({result.reason})", markup=False)
    console.print(f"scorecard: {result.run_dir / 'scorecard.md'}")
    console.print(f"exit code {int(code)}: {MEANINGS[code]}", markup=False)
    sys.exit(code)


@main.command()
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True)
@click.option("--seed", type=int, default=None, help="seed for the surprise window (replayable runs)")
@reports_errors
def demo(runs_dir: Path, seed: int | None) -> None:
    """Run the one-minute demo drill from any directory: the sample shop, hung workers, the autopilot."""
    from harness.builtin import resolve_builtin
    from harness.runner import RunOptions

    options = RunOptions(runs_dir=runs_dir, autopilot=True, keep=False, seed=seed, listen="127.0.0.1",
                         allow_remote=False, drill_file=resolve_builtin("demo", "drill"))
    _start(resolve_builtin("demo", "drill"), options, dry_run=False)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="write into a directory that is not empty (never overwrites a file)")
@reports_errors
def init(directory: Path, force: bool) -> None:
    """Scaffold a project to drill your own stack: compose file, scenario, drills, pytest file, README."""
    from harness.scaffold import scaffold

    written = scaffold(directory, force=force)
    for path in written:
        console.print(f"wrote {path}", markup=False)
    console.print(f"next: cd {directory} && gamedrill validate scenario.yaml drills/*.yaml && "
                  "gamedrill run drills/gameday.yaml", markup=False)


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
        sys.exit(ExitCode.INTERRUPTED)
    console.print(render_stack_demo(report))
    sys.exit(ExitCode.OK if report.ok else ExitCode.HARNESS_ERROR)


@main.command()
@click.argument("run_ids", nargs=-1)
@click.option("--all", "every_run", is_flag=True,
              help="clean up after every run on this machine whose harness is dead")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True, help="where to look for the run ids named")
@reports_errors
def cleanup(run_ids: tuple[str, ...], every_run: bool, runs_dir: Path) -> None:
    """Remove what earlier runs left behind (processes, containers), by run id."""
    from harness.cleanup import cleanup as remove_leftovers
    from harness.cleanup import cleanup_containers

    if not run_ids and not every_run:
        raise click.UsageError("name the run ids to clean up, or pass --all")
    found = [item for run_id in (run_ids or (None,)) for item in remove_leftovers(run_id)]
    projects = [project for run_id in (run_ids or (None,)) for project in cleanup_containers(run_id)]
    _check_run_ids(run_ids, runs_dir, {item.run_id for item in found}, projects)
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


def _check_run_ids(run_ids: tuple[str, ...], runs_dir: Path, cleaned: set[str], projects: list[str]) -> None:
    """A run id that names no run directory and left nothing behind is a typo: say which runs exist."""
    from harness.cleanup import find_leftovers

    unknown = [run_id for run_id in run_ids
               if run_id not in cleaned and not any(run_id in project for project in projects)
               and not (runs_dir / run_id).is_dir()]
    if unknown:
        known = sorted({path.name for path in runs_dir.iterdir() if path.is_dir()} if runs_dir.is_dir() else set())
        known += sorted({item.run_id for item in find_leftovers()} - set(known))
        raise click.BadParameter(f"no run {', '.join(map(repr, unknown))} under {runs_dir} and nothing of it "
                                 f"left on this machine; known runs: {', '.join(known) or 'none'}",
                                 param_hint="RUN_IDS")


def _register_subcommands() -> None:
    from harness.cli_scorecard import SCORECARD_COMMANDS
    from harness.cli_team import TEAM_COMMANDS

    for command in (*TEAM_COMMANDS, *SCORECARD_COMMANDS):
        main.add_command(command)


_register_subcommands()


if __name__ == "__main__":
    main()
