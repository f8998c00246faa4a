"""`gamedrill scorecard show|rebuild|counterfactual|list|compare|trend` and `gamedrill actions`.

Thin: resolve the run or the history database, call one scorecards function, print.
RUN is a run directory, or a run id under --runs-dir, or a run id (or a prefix of one)
known to the history. The history is $GAMEDRILL_HISTORY, else --runs-dir/history.sqlite.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from harness.cliout import make_console, print_json
from harness.errors import GamedrillError
from harness.exitcodes import ExitCode
from scorecards import Scorecard, build_from_run_dir, history, render_markdown, render_postmortem, render_summary
from scorecards.families import family_of
from scorecards.followups import assign_action, close_action, list_actions
from scorecards.history import HistoryError
from scorecards.readiness import readiness as readiness_of
from scorecards.render_history import actions_table, comparison_table, runs_table, trend_chart, trend_table
from scorecards.render_readiness import readiness_html, readiness_table
from scorecards.trends import compare as compare_runs
from scorecards.trends import trend as trend_of
from scorecards.write import HTML_NAME, JSON_NAME, MARKDOWN_NAME, POSTMORTEM_NAME, write_scorecard

console = make_console()
errors = make_console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
RENDERERS: dict[str, Callable[[Scorecard], str]] = {
    "md": render_markdown, "postmortem": render_postmortem, "summary": lambda card: "\n".join(render_summary(card)),
}


def history_options(command: F) -> F:
    """--runs-dir / --history, and gamedrill's errors as one line with exit code 2 (an unknown
    run or action, a bad date) or 4 (the history cannot be read)."""

    @click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
                  show_default=True)
    @click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help=f"history database (default: ${history.ENV_VAR}, else RUNS_DIR/{history.FILE_NAME})")
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (HistoryError, ValueError) as exc:
            errors.print(f"error: {exc}", markup=False)
            sys.exit(ExitCode.BAD_INPUT)
        except GamedrillError as exc:
            errors.print(f"error: {exc}", markup=False)
            sys.exit(ExitCode.HARNESS_ERROR)

    return wrapper  # type: ignore[return-value]


def json_option(command: F) -> F:
    """--json: the same data as JSON on stdout, for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")(command)


def _db_path(runs_dir: Path, history_path: Path | None) -> Path:
    return history_path or history.default_path(runs_dir)


def _run_dir(ref: str, runs_dir: Path, history_path: Path | None) -> Path:
    for candidate in (Path(ref), runs_dir / ref):
        if (candidate / "journal.jsonl").is_file():
            return candidate
    db_path = _db_path(runs_dir, history_path)
    known = sorted(path.parent.name for path in runs_dir.glob("*/journal.jsonl")) if runs_dir.is_dir() else []
    if db_path.is_file():
        with history.connect(db_path) as db:
            try:
                return Path(history.get_run(db, ref).run_dir)
            except HistoryError as exc:
                stored = [run.run_id for run in history.list_runs(db)]
                raise click.BadParameter(f"{exc}; run directories under {runs_dir}: {', '.join(known) or 'none'}; "
                                         f"runs in the history: {', '.join(stored) or 'none'}",
                                         param_hint="RUN") from None
    raise click.BadParameter(f"{ref!r} is neither a run directory nor a run under {runs_dir}; known runs: "
                             f"{', '.join(known) or 'none'}", param_hint="RUN")


def _check_team(db: sqlite3.Connection, team: str | None) -> None:
    """A --team that names no team and no member of any stored run is a typo, not an empty list."""
    if team is None:
        return
    names = {row[0] for row in db.execute("SELECT team FROM runs UNION SELECT member FROM members")}
    if team not in names:
        raise click.BadParameter(f"no team or member {team!r} in the history; known: "
                                 f"{', '.join(sorted(names)) or 'none (no run stored yet)'}", param_hint="--team")


def _date(value: str | None) -> date | None:
    try:
        return None if value is None else date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected YYYY-MM-DD") from None


@click.group()
def scorecard() -> None:
    """Scorecards of finished runs: show, rebuild, list, compare, trend."""


@scorecard.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(["summary", "md", "postmortem", "json"]), default="summary",
              show_default=True)
@history_options
@json_option
def show(run_ref: str, fmt: str, runs_dir: Path, history_path: Path | None, as_json: bool) -> None:
    """Show a run's scorecard (from scorecard.json, else computed from the journal)."""
    run_dir = _run_dir(run_ref, runs_dir, history_path)
    if as_json or fmt == "json":
        stored = run_dir / JSON_NAME
        print_json(json.loads(stored.read_text(encoding="utf-8")) if stored.is_file()
                   else build_from_run_dir(run_dir).to_dict())
        return
    card = build_from_run_dir(run_dir)
    console.print(RENDERERS[fmt](card), markup=False)
    if fmt == "summary":
        for name in (MARKDOWN_NAME, HTML_NAME, POSTMORTEM_NAME):
            console.print(f"  {name}: {run_dir / name}" if (run_dir / name).is_file() else f"  {name}: not written "
                          "yet (`gamedrill scorecard rebuild RUN`)", markup=False)


@scorecard.command()
@click.argument("run_ref", metavar="RUN")
@history_options
def rebuild(run_ref: str, runs_dir: Path, history_path: Path | None) -> None:
    """Recompute every scorecard file from the journal alone and store the run in the history."""
    run_dir = _run_dir(run_ref, runs_dir, history_path)
    card = write_scorecard(run_dir, history_path)  # None: $GAMEDRILL_HISTORY, else beside the run directory
    for line in render_summary(card):
        console.print(line, markup=False)
    console.print(f"rebuilt {run_dir} and stored run {card.run_id} in the history", markup=False)


@scorecard.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--variant", "variants", type=click.Choice(["target", "ideal"]), multiple=True,
              help="which response to play again (default: both): the team's actions moved to the targets, "
                   "or the ground truth's best response")
@history_options
@json_option
def counterfactual(run_ref: str, variants: tuple[str, ...], runs_dir: Path, history_path: Path | None,
                   as_json: bool) -> None:
    """What the delay cost: play RUN's drill again, for real, with a faster response; add it to the scorecard.

    Each replay is a real drill on a fresh stack (a minute or more each), kept under
    RUN/counterfactual/ with a history of its own; the figures go to RUN/counterfactual.json
    and into scorecard.md and scorecard.html."""
    from harness.counterfactual import VARIANTS, CounterfactualError, ReplayNotInjected
    from harness.counterfactual import counterfactual as play_again
    from scorecards.counterfactual import sentences
    from scorecards.write import write_files

    run_dir = _run_dir(run_ref, runs_dir, history_path)
    progress = errors.print if as_json else console.print
    try:
        outcome = play_again(run_dir, variants or VARIANTS, progress=lambda line: progress(line, markup=False))
    except (CounterfactualError, ReplayNotInjected) as exc:
        errors.print(f"error: {exc}", markup=False)
        sys.exit(ExitCode.BAD_INPUT if isinstance(exc, CounterfactualError) else ExitCode.NOT_INJECTED)
    write_files(run_dir, build_from_run_dir(run_dir))
    if as_json:
        print_json(outcome.to_dict())
        return
    for sentence in sentences(outcome):
        console.print(sentence, markup=False)
    console.print(f"added to {run_dir / MARKDOWN_NAME} and {run_dir / HTML_NAME}", markup=False)


@scorecard.command(name="list")
@click.option("--team", default=None, help="a team name or a member")
@click.option("--scenario", default=None)
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="runs started on or after this day (UTC)")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="runs started on or before this day (UTC)")
@history_options
@json_option
def list_(team: str | None, scenario: str | None, since: str | None, until: str | None, runs_dir: Path,
          history_path: Path | None, as_json: bool) -> None:
    """List stored runs, oldest first."""
    with history.connect(_db_path(runs_dir, history_path)) as db:
        _check_team(db, team)
        runs = history.list_runs(db, team, scenario, _date(since), _date(until))
    if as_json:
        print_json(runs)
        return
    console.print(runs_table(runs))


@scorecard.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@click.option("--force", is_flag=True, help="compare runs of different scenarios anyway (refused by default)")
@history_options
@json_option
def compare(run_a: str, run_b: str, force: bool, runs_dir: Path, history_path: Path | None, as_json: bool) -> None:
    """What improved and what regressed from RUN_A to RUN_B (an incomplete run's unknowns are left out).

    Both runs must be of the same scenario: a different fault is a different test."""
    with history.connect(_db_path(runs_dir, history_path)) as db:
        comparison = compare_runs(db, run_a, run_b, force=force)
    if as_json:
        print_json(comparison)
        return
    console.print(comparison_table(comparison))


@scorecard.command()
@click.option("--team", required=True, help="a team name or a member")
@click.option("--scenario", default=None)
@click.option("--since", default=None, metavar="YYYY-MM-DD")
@click.option("--rows", type=click.IntRange(min=1), default=20, show_default=True,
              help="runs listed in the table (the chart shows them all)")
@click.option("--include-incomplete", is_flag=True,
              help="also runs the harness did not finish (left out by default: their later phases are unknown)")
@history_options
@json_option
def trend(team: str, scenario: str | None, since: str | None, rows: int, include_incomplete: bool, runs_dir: Path,
          history_path: Path | None, as_json: bool) -> None:
    """Per-phase timings over a team's finished runs, as a table and a chart."""
    with history.connect(_db_path(runs_dir, history_path)) as db:
        _check_team(db, team)
        result = trend_of(db, team, scenario, _date(since), include_incomplete=include_incomplete)
    if as_json:
        print_json(result)
        return
    console.print(trend_table(result, rows))
    for line in trend_chart(result):
        console.print(line, markup=False)


@scorecard.command()
@click.option("--team", default=None, help="a team name or a member (default: every finished run)")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the matrix as an HTML page")
@history_options
def readiness(team: str | None, html_path: Path | None, runs_dir: Path, history_path: Path | None) -> None:
    """Who has led, run comms and operated, for which kinds of incident; and what to drill next."""
    with history.connect(_db_path(runs_dir, history_path)) as db:
        ready = readiness_of(db, team, builtin_families())
    console.print(readiness_table(ready))
    if html_path is not None:
        html_path.write_text(readiness_html(ready), encoding="utf-8")
        console.print(f"wrote {html_path}", markup=False)


def builtin_families() -> dict[str, str]:
    """The shipped scenarios' families, so a family nobody has run yet is suggested too."""
    from harness.spec import load_scenario  # the spec models are only needed here

    found: dict[str, str] = {}
    from harness.builtin import builtin_dir

    for path in sorted(builtin_dir("scenarios").glob("*.yaml")):
        try:
            scenario = load_scenario(path)
        except GamedrillError:
            continue  # a broken scenario file is `validate`'s business, not readiness's
        trigger = scenario.truth.trigger
        kind = "" if trigger.none else str(trigger.kind or "")
        found[scenario.name] = family_of(kind, {fault.type for fault in scenario.faults})
    return found


@click.group(invoke_without_command=True)
@click.option("--all", "include_closed", is_flag=True, help="closed ones too")
@click.option("--team", default=None, help="a team name or a member")
@history_options
@json_option
@click.pass_context
def actions(ctx: click.Context, include_closed: bool, team: str | None, runs_dir: Path,
            history_path: Path | None, as_json: bool) -> None:
    """Follow-up actions from postmortems across drills (open ones unless --all)."""
    ctx.obj = _db_path(runs_dir, history_path)
    if ctx.invoked_subcommand is None:
        with history.connect(ctx.obj) as db:
            _check_team(db, team)
            found = list_actions(db, include_closed, team)
        if as_json:
            print_json(found)
            return
        console.print(actions_table(found))


@actions.command()
@click.argument("action_id", metavar="ID", type=int)
@click.option("--note", default=None, help="what was done")
@click.pass_obj
def close(db_path: Path, action_id: int, note: str | None) -> None:
    """Close a follow-up action."""
    with _errors_as_exit(), history.connect(db_path) as db:
        done = close_action(db, action_id, note)
    console.print(f"closed #{done.id}: {done.text}", markup=False)


@actions.command()
@click.argument("action_id", metavar="ID", type=int)
@click.option("--owner", default=None)
@click.option("--due", default=None, metavar="YYYY-MM-DD")
@click.pass_obj
def assign(db_path: Path, action_id: int, owner: str | None, due: str | None) -> None:
    """Give a follow-up action an owner and a due date."""
    due_day = _date(due)
    with _errors_as_exit(), history.connect(db_path) as db:
        done = assign_action(db, action_id, owner, due_day.isoformat() if due_day else None)
    console.print(f"#{done.id}: owner {done.owner or '—'}, due {done.due or '—'}", markup=False)


@contextmanager
def _errors_as_exit() -> Iterator[None]:
    """Subcommands of `actions` get no decorator of their own: same one-line errors."""
    try:
        yield
    except HistoryError as exc:
        errors.print(f"error: {exc}", markup=False)
        sys.exit(ExitCode.BAD_INPUT)
    except GamedrillError as exc:
        errors.print(f"error: {exc}", markup=False)
        sys.exit(ExitCode.HARNESS_ERROR)


SCORECARD_COMMANDS = (scorecard, actions)
