"""The facilitator's live view in the `gamedrill run` terminal.

In a terminal, a rich `Live` panel refreshing in place: the phase clocks against the
drill's targets, the SLO now and the alerts firing, the faults and their leases, the last
events in plain words. Not a terminal (a log file, CI): one plain line per event, and the
SLO once a minute. Everything comes from the journal as it is written, so what the
facilitator sees is what the scorecard will be built from.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.eventwords import in_words
from harness.spec_drill import Targets
from harness.timeline import Event, Journal

# Phase, its target in the drill's `targets`, the event that ends it (clocks run from the fault).
PHASES: Final = (("detect", "detect_s", "alert.fired"), ("ack", "ack_s", "team.ack"),
                 ("declare", "declare_s", "team.declare"), ("first update", "first_update_s", "team.update"),
                 ("mitigate", "mitigate_s", "restoration.detected"), ("resolve", "resolve_s", "team.resolve"))
PHASE_ENDS: Final = frozenset(kind for _, _, kind in PHASES)
LAST_EVENTS: Final = 8
PLAIN_SLO_EVERY_S: Final = 60


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


@dataclass
class LiveState:
    """What the view shows, folded from the journal's events (fed under the journal's lock: cheap)."""

    targets: Targets
    fault_t_s: float | None = None
    phase_done_t_s: dict[str, float] = field(default_factory=dict)  # event kind -> first time
    slo: Mapping[str, Any] | None = None
    firing: dict[tuple[str, str | None], float] = field(default_factory=dict)
    faults: dict[int, tuple[str, float, float]] = field(default_factory=dict)  # index -> type, ttl_s, since
    last: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=LAST_EVENTS))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(self, event: Event) -> None:
        data = event.data
        with self.lock:
            if event.kind == "slo.window":
                self.slo = data
                return
            if event.kind == "fault.injected":
                self.fault_t_s = event.t_s if self.fault_t_s is None else self.fault_t_s
                self.faults[int(data.get("index", -1))] = (str(data.get("type")), float(data.get("ttl_s", 0)),
                                                          event.t_s)
            elif event.kind == "fault.reverted":
                self.faults.pop(int(data.get("index", -1)), None)
            elif event.kind == "alert.fired":
                self.firing[(str(data.get("name")), data.get("node"))] = event.t_s
            elif event.kind == "alert.cleared":
                self.firing.pop((str(data.get("name")), data.get("node")), None)
            if event.kind in PHASE_ENDS and self.fault_t_s is not None:
                self.phase_done_t_s.setdefault(event.kind, event.t_s)
            words = in_words(event)
            if words:
                self.last.append((event.t_s, words))


def render(state: LiveState, now_t_s: float) -> RenderableType:
    """The whole view at `now_t_s` (seconds since the drill started): pure, for tests and Live alike."""
    with state.lock:
        return Group(_phases(state, now_t_s), _slo(state), _faults(state, now_t_s), _events(state))


def _phases(state: LiveState, now_t_s: float) -> Table:
    title = "waiting for the fault" if state.fault_t_s is None else f"fault live for {clock(now_t_s - state.fault_t_s)}"
    table = Table(title=f"drill {clock(now_t_s)} · {title}", title_justify="left", expand=True)
    for column in ("phase", "target", "clock", ""):
        table.add_column(column)
    for name, target_field, kind in PHASES:
        target = getattr(state.targets, target_field)
        target_text = "-" if target is None else clock(target)
        if state.fault_t_s is None:
            table.add_row(name, target_text, "-", "")
            continue
        done = state.phase_done_t_s.get(kind)
        took = (done if done is not None else now_t_s) - state.fault_t_s
        late = target is not None and took > target
        verdict = ("[red]late[/]" if late else "[green]done[/]") if done is not None else (
            "[red]overdue[/]" if late else "running")
        table.add_row(name, target_text, clock(took), verdict)
    return table


def _slo(state: LiveState) -> Text:
    if state.slo is None:
        return Text("SLO: no traffic yet")
    requests, failures = int(state.slo.get("requests") or 0), int(state.slo.get("failures") or 0)
    rate = failures / requests if requests else 0.0
    p99 = state.slo.get("p99_ms")
    alerts = ", ".join(f"{name}{'@' + node if node else ''}" for name, node in state.firing) or "none"
    style = "red" if rate > 0.05 else "green"
    return Text.from_markup(f"SLO now: [{style}]{rate:.1%} errors[/] of {requests} req/s, p99 "
                            f"{'-' if p99 is None else f'{p99:.0f} ms'} · alerts firing: {alerts}")


def _faults(state: LiveState, now_t_s: float) -> Text:
    if not state.faults:
        return Text("faults: none live")
    live = [f"#{index} {kind}, live {clock(now_t_s - since)}, lease {ttl_s:g} s renewed every second"
            for index, (kind, ttl_s, since) in sorted(state.faults.items())]
    return Text("faults: " + "; ".join(live))


def _events(state: LiveState) -> Table:
    table = Table(title="last events", title_justify="left", show_header=False, expand=True, box=None)
    table.add_column(width=8)
    table.add_column()
    for t_s, words in state.last:
        table.add_row(clock(t_s), words)
    return table


def plain_lines(event: Event, state: LiveState) -> list[str]:
    """The lines a non-terminal output gets for one event (the state already fed with it)."""
    if event.kind == "slo.window":
        start = int(event.data.get("start_t_s", 0))
        if start % PLAIN_SLO_EVERY_S or state.fault_t_s is None:
            return []
        return [f"[{clock(event.t_s)}] {_slo(state).plain}"]
    words = in_words(event)
    return [] if words is None else [f"[{clock(event.t_s)}] {words}"]


@contextlib.contextmanager
def live_view(journal: Journal, targets: Targets, console: Console) -> Iterator[LiveState]:
    """Show the drill while the block runs: a Live panel in a terminal, plain lines otherwise."""
    state = LiveState(targets)
    if console.is_terminal:
        def on_event(event: Event) -> None:
            state.feed(event)

        journal.subscribe(on_event)
        try:
            with Live(get_renderable=lambda: render(state, journal.now_s()), console=console,
                      refresh_per_second=2, transient=False):
                yield state
        finally:
            journal.unsubscribe(on_event)
        return
    lines: queue.Queue[str | None] = queue.Queue()

    def on_plain(event: Event) -> None:  # under the journal's lock: fold and enqueue, never print
        state.feed(event)
        for line in plain_lines(event, state):
            lines.put(line)

    def printer() -> None:
        while (line := lines.get()) is not None:
            console.print(line, markup=False, highlight=False)

    thread = threading.Thread(target=printer, name="live-view", daemon=True)
    thread.start()
    journal.subscribe(on_plain)
    try:
        yield state
    finally:
        journal.unsubscribe(on_plain)
        lines.put(None)
        thread.join(timeout=5)
