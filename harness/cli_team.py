"""The team's commands: one per event of the control API, against the running drill.

They find the drill from its run directory (`--run`, else the newest live run under
`--runs-dir`) and talk to it through the same control API as the web console and the
autopilot. The server stamps the time; the CLI only says what happened and who did it.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
from rich.table import Table

from harness.cliout import make_console
from harness.control import Access, ControlClient, ControlError, Tokens, find_live_run
from harness.errors import GamedrillError
from harness.exitcodes import ExitCode
from harness.spec_steps import INCIDENT_STATUSES
from scorecards.policy import severity_table

console = make_console()
errors = make_console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def _default_person() -> str:
    return os.environ.get("GAMEDRILL_USER") or getpass.getuser()


def drill_options(command: F) -> F:
    """--run / --runs-dir / --by, and errors as one clear line: exit code 2 for a request the drill
    found invalid, 5 for one it refused, 4 when no harness answers (harness.exitcodes)."""

    @click.option("--run", "run_ref", default=None, help="run directory or run id (default: the newest live run)")
    @click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
                  show_default=True)
    @click.option("--by", default=_default_person, show_default="$GAMEDRILL_USER or your login",
                  help="who is doing this")
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ControlError as exc:
            if exc.status is None and not exc.sent:  # nothing listens: not a refusal, nothing was recorded
                errors.print(f"error: no harness answers for this drill, nothing was recorded ({exc}); if it "
                             "died, `gamedrill run --resume RUN` takes the drill over", markup=False)
                sys.exit(ExitCode.HARNESS_ERROR)
            if exc.status is None:  # sent, then cut off: it may be journaled (an act may be running)
                errors.print(f"error: {exc}; it may have been recorded: check `gamedrill status` or the "
                             "console's timeline before sending it again", markup=False)
                sys.exit(ExitCode.HARNESS_ERROR)
            errors.print(f"error: the drill refused it: {exc}", markup=False)
            sys.exit(ExitCode.BAD_INPUT if exc.status in (400, 404, 422) else ExitCode.REFUSED)
        except GamedrillError as exc:
            errors.print(f"error: {exc}", markup=False)
            sys.exit(ExitCode.HARNESS_ERROR)

    return wrapper  # type: ignore[return-value]


def run_dir_for(run_ref: str | None, runs_dir: Path) -> Path:
    if run_ref is None:
        return find_live_run(runs_dir)
    for candidate in (Path(run_ref), runs_dir / run_ref):
        if candidate.is_dir():
            return candidate
    known = sorted(path.parent.name for path in runs_dir.glob("*/journal.jsonl")) if runs_dir.is_dir() else []
    raise click.BadParameter(f"no run {run_ref!r} under {runs_dir}; known runs: {', '.join(known) or 'none'}",
                             param_hint="--run")


def client_for(run_ref: str | None, runs_dir: Path, role: Literal["team", "facilitator"] = "team") -> ControlClient:
    return ControlClient.from_run_dir(run_dir_for(run_ref, runs_dir), role)


def _said(event: Any) -> None:
    console.print(f"recorded {event.kind} at +{event.t_s:.3f} s (seq {event.seq})", markup=False)


@click.command()
@drill_options
def ack(run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Acknowledge the page."""
    _said(client_for(run_ref, runs_dir).ack(by))


@click.command()
@click.option("--sev", "severity", type=click.IntRange(1, 4), required=True, help="1 (worst) to 4")
@click.option("--commander", required=True, help="who leads the incident")
@drill_options
def declare(severity: int, commander: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Declare an incident with a severity and a commander."""
    _said(client_for(run_ref, runs_dir).declare(by, severity, commander))


# The table the scorecard grades the declaration against, shown where the severity is chosen.
declare.help = ((declare.help or "") + "\n\nThe scorecard measures the severity from the customer impact "
                "(bands tried worst first):\n\n\b\n" + "\n".join(f"  {row}" for row in severity_table()))


@click.command()
@click.argument("role_name", metavar="ROLE", type=click.Choice(["commander", "comms", "scribe", "ops"]))
@click.argument("who")
@drill_options
def role(role_name: str, who: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Say who holds a role."""
    _said(client_for(run_ref, runs_dir).role(by, role_name, who))


@click.command()
@click.argument("text", required=False)
@click.option("--impact", required=True, help="who is affected and how")
@click.option("--action", "doing", required=True, help="what we are doing about it")
@click.option("--next-update", "next_update_s", type=click.IntRange(min=1), default=None,
              help="seconds until the next update")
@click.option("--impact-pct", type=click.FloatRange(0, 100), default=None,
              help="share of requests failing, in % (checked against the measurements)")
@click.option("--component", "components", multiple=True, help="an affected node (repeat for several)")
@click.option("--status", "incident_status", type=click.Choice(INCIDENT_STATUSES), default=None,
              help="the status page's state from this update on")
@drill_options
def update(text: str | None, impact: str, doing: str, next_update_s: int | None, impact_pct: float | None,
           components: tuple[str, ...], incident_status: str | None, run_ref: str | None, runs_dir: Path,
           by: str) -> None:
    """Post a status update: impact, current action, next update time (and the status page's state).

    The scorecard fact-checks each update against what was measured when it was posted: a
    stated share (--impact-pct or "N %" in --impact), the components, "restored", and
    finished actions ("rolled back", "restarted") against what ran."""
    _said(client_for(run_ref, runs_dir).update(by, impact, doing, next_update_s, text, incident_status,
                                               impact_pct=impact_pct, components=list(components) or None))


@click.command()
@click.argument("text")
@drill_options
def note(text: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Add a note (a hypothesis, an observation) to the timeline."""
    _said(client_for(run_ref, runs_dir).note(by, text))


@click.command()
@click.argument("change")
@drill_options
def suspect(change: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Name the change you believe triggered it: 'script_push v2' as in `gamedrill changes`, a
    change id, or 'none' (the same as 'no change').

    Say 'none' when no recent change explains it (a defect that shipped long ago and shows
    only now); naming the old change that carries the defect is right too. The last
    suspect you record is your answer; record again to change it."""
    _said(client_for(run_ref, runs_dir).suspect(by, int(change) if change.isdigit() else change))


@click.command()
@click.argument("nodes", nargs=-1, required=True)
@drill_options
def scope(nodes: tuple[str, ...], run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Record which nodes are affected (names of the scenario's stack nodes)."""
    client = client_for(run_ref, runs_dir)
    known = list(client.status()["nodes"])
    unknown = [node for node in nodes if node not in known]
    if unknown:
        raise click.BadParameter(f"{', '.join(map(repr, unknown))}: not a node of this drill's stack; nodes: "
                                 f"{', '.join(known)}", param_hint="NODES")
    _said(client.scope(by, list(nodes)))


@click.command()
@click.argument("action")
@click.option("--canary", default=None, help="act on this node only, first")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="action parameter (repeatable)")
@drill_options
def act(action: str, canary: str | None, params: tuple[str, ...], run_ref: str | None, runs_dir: Path,
        by: str) -> None:
    """Run a mitigation from the toolkit (kill-hung-workers, rollback-script, restart, ...)."""
    parsed: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--param")
        parsed[key] = value
    outcome = client_for(run_ref, runs_dir).act(by, action, canary, parsed)
    _said(outcome.event)
    verdict = "done" if outcome.result.ok else "did not apply"
    console.print(f"{action} {verdict}: {outcome.result.detail}", markup=False)
    if not outcome.result.ok:
        sys.exit(ExitCode.REFUSED)


@click.command()
@click.argument("to")
@drill_options
def escalate(to: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Escalate to someone (a team, a manager, a vendor)."""
    _said(client_for(run_ref, runs_dir).escalate(by, to))


@click.command()
@drill_options
def resolve(run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Resolve the incident: this ends the drill."""
    _said(client_for(run_ref, runs_dir).resolve(by))


@click.command()
@click.argument("question", metavar="ID")
@click.argument("text")
@drill_options
def reply(question: str, text: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Answer a stakeholder's question (its id, e.g. Q1, is in the console and `gamedrill questions`)."""
    _said(client_for(run_ref, runs_dir).reply(by, question, text))


@click.command()
@drill_options
def questions(run_ref: str | None, runs_dir: Path, by: str) -> None:
    """The stakeholders' questions so far, and which are still unanswered."""
    events = client_for(run_ref, runs_dir).journal(0)
    answered = {str(e.data.get("question")) for e in events if e.kind == "team.reply"}
    table = Table("id", "at", "from", "question", "answered")
    for e in (e for e in events if e.kind == "stakeholder.asked"):
        table.add_row(str(e.data["id"]), f"+{e.t_s:.1f} s", f"{e.data['stakeholder']} ({e.data['title']})",
                      str(e.data["text"]), "yes" if str(e.data["id"]) in answered else "NO")
    console.print(table)


@click.command()
@drill_options
def status(run_ref: str | None, runs_dir: Path, by: str) -> None:
    """The SLO now, overall and per node, and the alerts firing."""
    view = client_for(run_ref, runs_dir).status()
    overall = view["overall"]
    console.print(f"run {view['run_id']} ({view.get('phase', '?')}) at +{view['t_s']:.1f} s: "
                  f"{overall['requests']} requests, error rate {overall['error_rate']:.1%}, "
                  f"p99 {overall['p99_ms']} ms; alerts firing: {', '.join(view['alerts_firing']) or 'none'}",
                  markup=False)
    load = view.get("load")
    if load:
        console.print(f"load: {load['offered_per_s']:g} arrivals/s offered, {load['achieved_per_s']:g}/s sent on "
                      f"time (open loop; the {load['window_s']:g} s that have all reported)", markup=False)
    table = Table("node", "requests", "errors", "error rate", "p99 ms", "probe")
    for node, row in view["nodes"].items():
        probe = {True: "ok", False: "FAILING", None: "-"}[row["probe_ok"]]
        table.add_row(node, str(row["requests"]), str(row["failures"]), f"{row['error_rate']:.1%}",
                      str(row["p99_ms"]), probe)
    console.print(table)


@click.command()
@drill_options
def changes(run_ref: str | None, runs_dir: Path, by: str) -> None:
    """The change log: every deploy, config push and script push, newest last."""
    table = Table("id", "at (UTC)", "kind", "version", "targets", "author", "description")
    for change in client_for(run_ref, runs_dir).changes():
        table.add_row(str(change["id"]), str(change.get("at_iso", "")), change["kind"], str(change["version"]),
                      ", ".join(change.get("targets", [])), str(change.get("author", "")),
                      str(change.get("description", "")))
    console.print(table)


@click.command()
@click.argument("reason")
@drill_options
def abort(reason: str, run_ref: str | None, runs_dir: Path, by: str) -> None:
    """Facilitator: stop the drill now; every fault is reverted."""
    client_for(run_ref, runs_dir, role="facilitator").abort(f"{reason} (by {by})")
    console.print("abort requested: faults are being reverted and the stack taken down")


@click.command(name="console")
@click.argument("run_arg", metavar="[RUN]", required=False)
@click.option("--facilitator", is_flag=True, help="the facilitator's view (ground truth, faults, abort)")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="a finished run: serve it on this port")
@drill_options
def console_link(run_arg: str | None, facilitator: bool, port: int, run_ref: str | None, runs_dir: Path,
                 by: str) -> None:
    """Print the link to the web console (the token rides in the #fragment) and the status page.

    A finished RUN is served read-only instead (scorecard, status page, timeline) until Ctrl-C."""
    run_dir = run_dir_for(run_arg or run_ref, runs_dir)
    if not (run_dir / "control.json").exists() and (run_dir / "journal.jsonl").exists():
        from harness.control.replay import serve_until_interrupted

        serve_until_interrupted(run_dir, port, console.print)
        return
    url = ControlClient.from_run_dir(run_dir).url  # also checks that the drill is live
    token = Tokens.read(run_dir).token_for(Access.FACILITATOR if facilitator else Access.TEAM)
    console.print(f"{url}/console#token={token}", markup=False, soft_wrap=True)
    console.print(f"status page: {url}/status", markup=False)


TEAM_COMMANDS = (ack, declare, role, update, note, suspect, scope, act, escalate, resolve, reply, questions, status,
                 changes, abort, console_link)
