"""When each fault of a scenario comes and, if it has a `duration_s`, goes again.

Pure bookkeeping in drill seconds; the runner asks what is due and acts on it, so a
scenario can flap a link, come back with a second fault minutes later, or end a fault on
its own while the team is still at work. A `hold: true` fault is never due: only a drill's
inject brings it in (harness.injects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.spec import Fault


@dataclass
class FaultSchedule:
    start_t_s: float
    _pending: list[tuple[float, int, Fault]] = field(default_factory=list)  # (inject at, index, fault)
    _ends: list[tuple[float, int]] = field(default_factory=list)  # (revert at, index)

    @classmethod
    def of(cls, faults: tuple[Fault, ...], start_t_s: float, already: dict[int, float] | None = None,
           over: set[int] | None = None) -> FaultSchedule:
        """The schedule from `start_t_s`; `already` (index -> when) were injected, `over` reverted
        since (a resumed drill carries on from its journal)."""
        already, over = already or {}, over or set()
        pending = sorted(((start_t_s + fault.at_s, index, fault) for index, fault in enumerate(faults)
                          if index not in already and not fault.hold), key=lambda item: (item[0], item[1]))
        schedule = cls(start_t_s, pending)
        for index, at in already.items():
            if index not in over:
                schedule.injected(index, faults[index], at)
        return schedule

    def due_injections(self, now_t_s: float) -> list[tuple[int, Fault]]:
        due = [(index, fault) for at, index, fault in self._pending if at <= now_t_s]
        self._pending = [item for item in self._pending if item[0] > now_t_s]
        return due

    def injected(self, index: int, fault: Fault, now_t_s: float) -> None:
        if fault.duration_s is not None:
            self._ends.append((now_t_s + fault.duration_s, index))

    def due_ends(self, now_t_s: float) -> list[int]:
        due = sorted((at, index) for at, index in self._ends if at <= now_t_s)
        self._ends = [item for item in self._ends if item[0] > now_t_s]
        return [index for _, index in due]

    def next_due_t_s(self) -> float | None:
        times = [at for at, _, _ in self._pending] + [at for at, _ in self._ends]
        return min(times) if times else None
