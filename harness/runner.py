"""One drill, start to finish: up -> baseline -> inject -> respond -> revert -> teardown.

`Run` holds every collaborator (backend, journal, monitor, load, probes, faults, control
API, responder, clock, RNG). The CLI, the pytest plugin and the tests all build it with
`prepare_run` and call `execute()`. Whatever happens (a bad step, Ctrl-C, SIGTERM, an
abort), every injected fault is reverted and the stack is taken down, in `finally`.

A run that fails before its stack came up never happened: it leaves nothing behind, no
run directory and no history entry, and `execute()` raises `RunNotStarted` (or the
KeyboardInterrupt) instead of returning a result. From the moment the stack is up, the run
is a record and is kept whatever follows (see `Run.execute`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.compression import compress
from harness.control import ControlClient, ControlServer, Tokens, create_app, issue_tokens
from harness.control.server import ControlServerError, check_listen, control_port
from harness.control.statuspage import write_status_page
from harness.drillsession import DrillSessionMixin
from harness.errors import GamedrillError, RunNotStarted
from harness.faults import FaultContext, FaultStack
from harness.faults.rollout import push
from harness.gamemaster import GameMaster
from harness.liveruns import LiveMark
from harness.load import LoadGenerator, RequestRecord, sample_of
from harness.load_replay import replay_unwritten
from harness.load_steady import SteadyState, judge_steady_state
from harness.monitor import Monitor
from harness.observability import DrillObserver
from harness.paging import Pager
from harness.probes import NodeProbes
from harness.responder import Responder
from harness.rundir import DEFAULT_RUNS_DIR, create_run_dir, discard_run_dir
from harness.runstate import RunState, StateMachine
from harness.schedule import FaultSchedule
from harness.shopapi import ControlPlane, LoadBalancer, Toxiproxy
from harness.spec import Drill, Step
from harness.stack.base import StackBackend
from harness.stack.compose import load_compose
from harness.stack.factory import backend_for
from harness.stack.ports import release_ports
from harness.stack.roles import check_stack_roles
from harness.takeover import stop_decided, take_over_faults
from harness.timeline import Event, Journal, SystemClock

log = logging.getLogger(__name__)
TICK_S = 0.1
LOAD_TIMEOUT_S = 2.0  # a stalled stack shows up as failures within two seconds
REPORT_SLACK_S = 0.3  # a healthy request has reported this long after its start (record flush: 0.1 s)


@dataclass(frozen=True)
class RunOptions:
    runs_dir: Path | None = None
    autopilot: bool = False
    keep: bool = False
    seed: int | None = None
    drill_file: Path | None = None  # journaled in run.planned: `--resume` reloads the drill from it
    listen: str = "127.0.0.1"  # the control API's address; anything but loopback needs allow_remote
    allow_remote: bool = False
    history: Path | None = None  # the history database; None: $GAMEDRILL_HISTORY, else <runs dir>/history.sqlite


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_dir: Path
    outcome: str  # resolved | timed_out | aborted | not_injected | failed
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "resolved"


@dataclass
class Run(DrillSessionMixin):
    drill: Drill
    run_id: str
    run_dir: Path
    journal: Journal
    backend: StackBackend
    options: RunOptions
    rng: random.Random
    clock: SystemClock = field(default_factory=SystemClock)
    live: LiveMark | None = None  # held while this process runs the drill (see harness.liveruns)
    states: StateMachine = field(init=False)
    monitor: Monitor = field(init=False)
    faults: FaultStack | None = None
    load: LoadGenerator | None = None
    probes: NodeProbes | None = None
    control: ControlServer | None = None
    tokens: Tokens | None = None
    responder: Responder | None = None
    pager: Pager | None = None
    schedule: FaultSchedule | None = None
    ctx: FaultContext | None = None
    observer: DrillObserver | None = None  # Prometheus, Alertmanager and Grafana (harness.observability)
    game_master: GameMaster | None = None  # the drill's inject rules, when it has any
    _stop: threading.Event = field(default_factory=threading.Event)
    _resolved: threading.Event = field(default_factory=threading.Event)
    _changes_seen: list[dict[str, Any]] = field(default_factory=list)  # the change log as last read
    _ticker: threading.Thread | None = None
    _outcome: tuple[str, str] | None = None
    _finish_lock: threading.Lock = field(default_factory=threading.Lock)
    _origin_mono: float = 0.0
    _load_started_t_s: float = 0.0
    _stack_came_up: bool = False  # the line between a run that happened and one that never started
    _start_error: BaseException | None = None  # what stopped the run before its stack came up
    _start_outcome: tuple[str, str] = ("failed", "no outcome recorded")  # and the outcome it would give

    def __post_init__(self) -> None:
        scenario = self.drill.scenario
        self.states = StateMachine(self.journal)
        self.monitor = Monitor(self.journal, scenario.alerts, scenario.restoration, scenario.stack.nodes)
        self._origin_mono = time.monotonic() - self.journal.now_s()
        if self.drill.injects:
            self.game_master = GameMaster(self.drill, self.journal, self.rng)

    # ---- the drill --------------------------------------------------------------------

    def execute(self) -> RunResult:
        """Run the drill to its end and return how it ended.

        Where a run starts to count: when its stack came up (`backend.up()` returned). Before
        that, nothing of the drill happened: no load, no control API, no token handed out, no
        fault, nobody paged; the run directory holds only the plan and the logs of services
        that would not start, whose tails the error carries. So a run whose stack does not
        come up (no Docker engine, a command that does not exist or exits at once, a port in
        use, a service never healthy, a control API address that cannot be bound, Ctrl-C or
        SIGTERM meanwhile) is taken back whole: the run directory is removed, nothing goes
        into the history, and RunNotStarted (or the KeyboardInterrupt) is raised naming what
        failed. From the moment the stack is up, whatever follows is a record: the run
        directory, the journal, the scorecard and the history entry stay, the outcome saying
        how it ended (`failed`, `aborted`, ...). So does a run whose stack failed to come up
        but cannot be shown to be down: what is left of it must stay findable.
        """
        discarded = False
        try:
            self._start()
            if self._baseline_and_decoys():
                self._inject()
                self._respond()
        except KeyboardInterrupt as exc:
            self._stopped_by(exc, "aborted", "interrupted (Ctrl-C or SIGTERM)")
        except GamedrillError as exc:  # said in words: no traceback for a stack that would not start
            if self._stack_came_up:  # else the error raised below says it
                log.error("drill failed: %s", exc)
            self._stopped_by(exc, "failed", f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("drill failed" if self._stack_came_up else "the stack did not come up")
            self._stopped_by(exc, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            discarded = not self._stack_came_up and self._discard()
            if not discarded:
                if self._start_error is not None and not self._stack_came_up:  # kept after all: say why
                    self._finish(*self._start_outcome)
                self._wind_down()
        if discarded:
            raise self._not_started()
        outcome, reason = self._outcome or ("failed", "no outcome recorded")
        return RunResult(self.run_id, self.run_dir, outcome, reason)

    def resume(self, journaled: Sequence[Event]) -> RunResult:
        """Carry on a drill whose harness died, from its journal so far (see harness.resume):
        the stack is adopted, live faults are taken over, people carry on. Winds down as execute()."""
        try:
            self.states.move(RunState.RESUMING)
            self._connect()
            assert self.faults is not None and self.ctx is not None
            if self.game_master is not None:
                self.game_master.catch_up(list(journaled))
            taken = take_over_faults(self.drill.scenario.faults, journaled, self.faults, self.ctx, self.journal)
            self.schedule = taken.schedule
            if (taken.held or taken.lapsed) and not any(e.kind == "restoration.detected" for e in journaled):
                self.monitor.arm_restoration(taken.start_t_s)  # also when only leases undid them
            # The seconds the dead harness never wrote, from its request log (after arming: they count).
            replay_unwritten(self.monitor, self.run_dir, journaled, self._origin_mono)
            stopping = stop_decided(journaled)
            self.journal.append("run.resumed", pid=os.getpid(), faults_held=taken.held, faults_lapsed=taken.lapsed,
                                winding_down=stopping is not None)
            if stopping is not None:  # the dead harness was ending the drill: end it, never carry on
                self._outcome = stopping
                self._stop.set()
            else:
                self._serve(Tokens.read(self.run_dir), port=control_port(self.run_dir))
                self.states.move(RunState.INJECTED)
                self._respond()
        except KeyboardInterrupt:
            self._finish("aborted", "interrupted (Ctrl-C or SIGTERM)")
        except Exception as exc:
            log.exception("resumed drill failed")
            self._finish("failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._wind_down()
        outcome, reason = self._outcome or ("failed", "no outcome recorded")
        return RunResult(self.run_id, self.run_dir, outcome, reason)

    def _start(self) -> None:
        self.states.move(RunState.STARTING)
        check_listen(self.options.listen)  # before the stack: an address that cannot be bound is a failed start
        began = time.monotonic()
        self.backend.up()
        self._stack_came_up = True  # from here on, the run is kept (see execute)
        self.journal.append("stack.up", services=self.backend.services(), up_s=round(time.monotonic() - began, 3))
        self._connect()
        self._serve(issue_tokens(self.run_dir))

    def _connect(self) -> None:
        """The fault context and the fault stack, on the stack that is up."""
        stack = self.drill.scenario.stack
        self.ctx = FaultContext(self.backend, ControlPlane(self._port_of(stack.control_plane)),
                                LoadBalancer(self._port_of(stack.balancer)), stack.nodes, self.run_id,
                                self.run_dir / "leases", self._proxy_api())
        self.faults = FaultStack(self.journal, self.ctx)

    def _serve(self, tokens: Tokens, port: int = 0) -> None:
        """Paging, the control API (on `port`, else any free one), the monitor's clock, the load and the probes."""
        stack = self.drill.scenario.stack
        nodes = stack.nodes
        self.pager = Pager(self.journal, self.drill.paging, self.run_id, self.drill.title)
        self.pager.start()
        self.tokens = tokens
        self.observer = DrillObserver.start(self.journal, self.run_id, self.run_dir, self.drill.scenario,
                                            self.drill.load.rate_per_s)
        self.control = self._control_server(port)
        self.observer.write_files(self.control.url, tokens.facilitator, lambda s: self.backend.endpoint(s).port)
        self.pager.console_url = f"{self.control.url}/console"
        self._ticker = threading.Thread(target=self._tick_loop, name="monitor-tick", daemon=True)
        self._ticker.start()
        load = self.drill.load
        self.load = LoadGenerator(self.backend.endpoint(self.drill.scenario.stack.entry).port, load.users,
                                  load.rate_per_s, self.run_dir, self._on_record,
                                  max_s=self._max_duration_s() + 60, mix=load.mix, paths=load.paths,
                                  timeout_s=LOAD_TIMEOUT_S, ramp_s=self.drill.ramp_s, arrivals=load.arrivals)
        self.load.start()
        origin = self.load.origin_mono
        self._load_started_t_s = self.journal.now_s() if origin is None else origin - self._origin_mono
        # Arrivals of the ramp never alert: the load's first seconds are not the fault's doing.
        self.monitor.ignore_alerts_before(self._load_started_t_s + self.drill.ramp_s)
        self.journal.append("load.started", users=load.users, rate_per_s=load.rate_per_s, arrivals=load.arrivals,
                            ramp_s=self.drill.ramp_s, origin_t_s=round(self._load_started_t_s, 6),
                            in_flight_limit=self.load.in_flight_limit)
        self.probes = NodeProbes({n: self.backend.endpoint(n).port for n in nodes}, self.monitor.feed_probe,
                                 self.journal.now_s, path=stack.probe_path)
        self.probes.start()

    def _control_server(self, port: int) -> ControlServer:
        def serving(on_port: int) -> ControlServer:
            assert self.tokens is not None
            alerts = self.observer.receiver if self.observer is not None else None
            return ControlServer(create_app(self, self.tokens, alerts), run_dir=self.run_dir, run_id=self.run_id,
                                 host=self.options.listen, port=on_port,
                                 allow_remote=self.options.allow_remote).start()
        if port:
            try:
                return serving(port)
            except ControlServerError as exc:  # taken meanwhile: open consoles must be opened again
                log.warning("the control API cannot have its old port back (%s): serving on a new one", exc)
        return serving(0)

    def _baseline_and_decoys(self) -> bool:
        """Healthy traffic, then the decoy changes; False when the steady state is not healthy."""
        self.states.move(RunState.BASELINE)
        inject_at = self.journal.now_s() + self.drill.baseline_s + self.drill.inject_delay_s(self.rng)
        decoys = sorted(self.drill.scenario.changes, key=lambda d: -d.before_fault_s)
        for decoy in decoys:
            self._wait_until(inject_at - decoy.before_fault_s)
            assert self.ctx is not None
            rollout = push(self.ctx, decoy)
            self.journal.append("change.pushed", artifact_kind=decoy.artifact.kind, version=decoy.artifact.version,
                                rollout_id=rollout["id"], change_ids=rollout["change_ids"], decoy=True)
        self._wait_until(inject_at)
        if self._stop.is_set():
            return False
        steady = self._steady_state()
        self.journal.append("steady_state.checked", **steady.journal_fields())
        self.journal.append("baseline.recorded", requests=steady.requests, error_rate=round(steady.error_rate, 4),
                            p50_ms=steady.p50_ms, p99_ms=steady.p99_ms)
        if not steady.healthy:
            self._finish("not_injected", "the stack was not healthy before injection, so nothing was injected: "
                                         + "; ".join(steady.reasons))
        return steady.healthy

    def _steady_state(self) -> SteadyState:
        """The steady state over the arrivals after the load's ramp (see harness.load_steady)."""
        limits = self.drill.scenario.safety.steady_state
        to_t_s = self.journal.now_s() - REPORT_SLACK_S
        from_t_s = max(self._load_started_t_s + self.drill.ramp_s, to_t_s - limits.window_s)
        offered, achieved = self.monitor.arrivals(from_t_s, to_t_s)
        expected = 0.0
        if self.load is not None:
            origin = self._load_started_t_s
            expected = self.load.schedule.expected(from_t_s - origin, to_t_s - origin)
        overdue = self.load.status.overdue if self.load is not None and self.load.status is not None else 0
        return judge_steady_state(self.monitor.started_between(from_t_s, to_t_s), overdue, offered, achieved,
                                  expected, max_error_rate=limits.max_error_rate, max_p99_ms=limits.max_p99_ms)

    def _inject(self) -> None:
        """The faults due now; later ones (and the ends of those with a duration) come in _respond."""
        self.states.move(RunState.INJECTED)
        self.schedule = FaultSchedule.of(self.drill.scenario.faults, self.journal.now_s())
        self._follow_schedule()
        if self.options.autopilot and self.drill.responder and self.control and self.tokens:
            client = ControlClient(self.control.url, self.tokens.team)
            self.responder = Responder(self.drill.responder, client, on_step=self._on_step)
            threading.Thread(target=self._run_responder, name="responder", daemon=True).start()

    def _follow_schedule(self) -> None:
        assert self.faults is not None and self.schedule is not None
        now = self.journal.now_s()
        for index, fault in self.schedule.due_injections(now):
            injected = self.faults.inject(index, fault)
            if len(self.faults.active) == 1:  # the first fault, or the first since the others went
                self.monitor.arm_restoration(self.schedule.start_t_s if index == 0 else now)
            self.schedule.injected(index, fault, now)
            log.info("injected %s", injected.detail)
        for index in self.schedule.due_ends(now):
            self.faults.revert(index, "duration")

    def _respond(self) -> None:
        limit_s = self._max_duration_s()
        burn_limit = self.drill.scenario.safety.max_error_budget_burn
        while not self._stop.is_set():
            self._follow_schedule()
            if self.game_master is not None and self.faults is not None:
                self.game_master.step(self.faults, self.monitor, self.schedule)
            if self._resolved.is_set():
                self._finish("resolved", "the team resolved the incident")
            elif self.journal.now_s() >= limit_s:
                self.journal.append("safety.tripped", limit="max_duration_s", value=limit_s)
                self._finish("timed_out", f"no resolution within {limit_s:g} s")
            elif self.monitor.since_fault["requests"] >= 100 and self.monitor.error_budget_burn() > burn_limit:
                burn = self.monitor.error_budget_burn()
                self.journal.append("safety.tripped", limit="max_error_budget_burn", value=round(burn, 4))
                self._finish("aborted", f"error budget burn {burn:.0%} over the limit of {burn_limit:.0%}")
            else:
                due = _earliest(self.schedule.next_due_t_s() if self.schedule is not None else None,
                                self.game_master.next_due_t_s() if self.game_master is not None else None)
                self._stop.wait(TICK_S if due is None else min(TICK_S, max(0.0, due - self.journal.now_s())))

    def _stopped_by(self, error: BaseException, outcome: str, reason: str) -> None:
        if self._stack_came_up:
            self._finish(outcome, reason)
        else:  # journaled only if the run is kept after all (see execute)
            self._start_error, self._start_outcome = error, (outcome, reason)

    def _discard(self) -> bool:
        """Take back a run whose stack never came up: the stack down (again: Ctrl-C may have come
        just after up() returned), its ports, the journal, the live mark, the run directory.
        Before the stack is up nothing else was started. False, and nothing taken back, if the
        stack will not go down: then the run is wound down and kept like any other."""
        with _signals_held():
            try:
                self.backend.down()
            except Exception:
                log.exception("the stack that did not come up would not go down either; the run is kept")
                return False
            release_ports(self.backend.project.allocated_ports())  # a backend that never got to up() holds them
            self.journal.close()
            if self.live is not None:
                self.live.release()
            discard_run_dir(self.run_dir)
        return True

    def _not_started(self) -> BaseException:
        """What the caller gets for a run that never started: the interrupt itself, or an error
        naming what failed (the stack's own message carries the failing services' log tails)."""
        error = self._start_error
        if isinstance(error, KeyboardInterrupt):
            log.warning("interrupted before the stack came up: run %s left nothing behind", self.run_id)
            return error
        if error is None:
            what = "the stack did not come up"
        elif isinstance(error, ControlServerError):
            what = str(error)  # the listen check: it names the control API and the address
        else:
            said = str(error) if isinstance(error, GamedrillError) else f"{type(error).__name__}: {error}"
            what = f"the stack did not come up: {said}"
        failure = RunNotStarted(f"{what}\nthe drill never started: run {self.run_id} left nothing behind "
                                f"(no run directory, no history entry)")
        failure.__cause__ = error
        return failure

    def _wind_down(self) -> None:
        """Revert every fault, stop everything, tear the stack down; each step runs whatever failed."""
        with _signals_held():
            self._unwind()

    def _unwind(self) -> None:
        self._stop.set()
        if self.responder is not None:
            self.responder.stop()
        if self.states.state in (RunState.BASELINE, RunState.INJECTED, RunState.RESUMING):
            self.states.move(RunState.REVERTING)
        if self.faults is not None:
            self.faults.revert_all("end of drill" if self._outcome and self._outcome[0] == "resolved" else "abort")
        for stopper in (self.load, self.probes):
            if stopper is not None:
                _quietly(stopper.stop)
        if self.load is not None:
            self.journal.append("load.stopped", requests=self.load.requests, failures=self.load.failures)
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        _quietly(lambda: self.monitor.flush(self.journal.now_s()))
        if self.pager is not None:
            _quietly(self.pager.stop)
        if self.observer is not None:
            _quietly(self.observer.stop)
        self.states.move(RunState.TEARING_DOWN)
        _quietly(self._save_change_log)
        if not self.options.keep:
            _quietly(self.backend.down)
        self.journal.append("stack.down", kept=self.options.keep)
        outcome, reason = self._outcome or ("failed", "no outcome recorded")
        if outcome != "resolved":
            self.journal.append("run.aborted", reason=reason, outcome=outcome)
        self.states.move(RunState.FINISHED)
        self.journal.append("run.finished", outcome=outcome, reason=reason, run_dir=str(self.run_dir))
        if self.control is not None:  # last: the consoles' streams end with run.finished
            _quietly(self.control.stop)
        _quietly(lambda: _write_scorecard(self.run_dir, self.options.history))
        _quietly(lambda: write_status_page(self.run_dir, self.drill.title, self.drill.scenario.stack.nodes))
        self.journal.close()  # lets go of the writer's lock: the run is over
        if self.live is not None:
            self.live.release()

    # ---- helpers ----------------------------------------------------------------------

    def _finish(self, outcome: str, reason: str) -> None:
        """The first outcome wins; it is journaled at once, so a harness killed while winding
        down leaves the decision behind for `--resume`."""
        with self._finish_lock:
            first = self._outcome is None
            if first:
                self._outcome = (outcome, reason)
        try:
            if first:
                self.journal.append("run.stopping", outcome=outcome, reason=reason)
        finally:
            self._stop.set()

    def _port_of(self, service: str | None) -> int | None:
        return None if service is None else self.backend.endpoint(service).port

    def _save_change_log(self) -> None:
        """The change log as the team saw it, kept with the run (the stack's copy dies with it)."""
        if self.ctx is not None and self.drill.scenario.stack.control_plane is not None:
            changes = self.ctx.control_plane.changes()
            (self.run_dir / "changes.json").write_text(json.dumps({"changes": changes}, indent=1))

    def _proxy_api(self) -> Toxiproxy | None:
        port = self.backend.project.variables.get("PROXY_API_PORT")
        return Toxiproxy(int(port)) if port else None

    def _max_duration_s(self) -> float:
        return self.drill.duration_limit_s

    def _wait_until(self, t_s: float) -> None:
        self._stop.wait(max(0.0, t_s - self.journal.now_s()))

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                status = self.load.status if self.load is not None else None
                if status is not None and status.complete_before is not None:
                    self.monitor.records_complete_before(status.complete_before - self._origin_mono)
                self.monitor.tick(self.journal.now_s())
            except Exception:  # the monitor must never take the drill down
                log.exception("monitor tick failed")

    def _on_record(self, record: RequestRecord) -> None:
        self.monitor.feed(sample_of(record, self._origin_mono))
        if self.observer is not None:
            self.observer.observe(record.node, record.ok, record.latency_ms)

    def _on_step(self, index: int, step: Step) -> None:
        self.journal.append("responder.step", index=index, step=step.step)

    def _run_responder(self) -> None:
        assert self.responder is not None
        try:
            self.responder.run()
        except Exception as exc:
            if not self._stop.is_set():
                log.warning("autopilot stopped: %s", exc)
                self._finish("failed", f"autopilot: {exc}")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """A second Ctrl-C (or SIGTERM) must not cut the revert and teardown short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _earliest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _quietly(step: object) -> None:
    try:
        step()  # type: ignore[operator]
    except Exception:
        log.exception("wind-down step failed; carrying on")


def _write_scorecard(run_dir: Path, history: Path | None) -> None:
    from scorecards import write_scorecard

    write_scorecard(run_dir, history)


def prepare_run(drill: Drill, options: RunOptions) -> Run:
    """Create the run directory and journal and parse the stack; nothing starts yet.

    If any of it fails, nothing is left behind: no run directory, no port reserved."""
    drill = compress(drill)  # the run plays (and journals) the schedule it really keeps
    project = load_compose(drill.scenario.stack.compose_file)  # a bad compose file: nothing is created
    try:
        check_stack_roles(drill.scenario, project)
        run_id, run_dir = create_run_dir(options.runs_dir or drill.runs_dir or DEFAULT_RUNS_DIR)
    except BaseException:
        release_ports(project.allocated_ports())
        raise
    rng = random.Random(options.seed)
    live: LiveMark | None = None
    journal: Journal | None = None
    try:
        live = LiveMark(run_id)
        backend = backend_for(project, run_dir, run_id, drill.backend)
        journal = Journal.open(run_dir / "journal.jsonl")
        run = Run(drill=drill, run_id=run_id, run_dir=run_dir, journal=journal, backend=backend, options=options,
                  rng=rng, live=live)
        run.plan(options.drill_file, options.history)
    except BaseException:
        if journal is not None:
            journal.close()
        if live is not None:
            live.release()
        release_ports(project.allocated_ports())
        discard_run_dir(run_dir)
        raise
    return run
