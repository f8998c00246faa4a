"""The scorecard's data: frozen, JSON-ready, and explainable part by part.

Every figure carries the journal `seq` numbers it was computed from (`evidence`), so a
reviewer can open `journal.jsonl` and check it. `passed` is three-valued: True or False
against a target, None when there is no target or the rule does not apply (no fault).
`SCHEMA_VERSION` changes whenever a field's meaning changes; adding a field keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

SCHEMA_VERSION: Final = "1"


@dataclass(frozen=True)
class Finding:
    """One explained observation: what happened, against what target, seen in which lines."""

    name: str
    what_happened: str
    target: str | None  # in words ("declare within 60 s"); None: nothing to hold it against
    passed: bool | None
    evidence: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "what_happened": self.what_happened, "target": self.target,
                "passed": self.passed, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(data["name"], data["what_happened"], data["target"], data["passed"], _seqs(data["evidence"]))


@dataclass(frozen=True)
class PhaseTiming:
    """Seconds from the fault to one phase of the response (None: it never happened)."""

    phase: str
    seconds_from_fault: float | None
    target_s: float | None
    passed: bool | None
    evidence: tuple[int, ...]  # the fault's seq, then the event that ended the phase

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "seconds_from_fault": self.seconds_from_fault, "target_s": self.target_s,
                "passed": self.passed, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhaseTiming:
        return cls(data["phase"], data["seconds_from_fault"], data["target_s"], data["passed"],
                   _seqs(data["evidence"]))


@dataclass(frozen=True)
class UpdateCadence:
    """The longest silence while the incident was open: from the declaration or first update
    to the next update, and from the last update to the resolution (or the journal's end)."""

    longest_gap_s: float | None  # None: no update and no declaration after the fault
    target_s: float | None
    passed: bool | None
    updates: int  # status updates after the fault and before the resolution
    evidence: tuple[int, ...]  # the two events bounding the longest gap

    def to_dict(self) -> dict[str, Any]:
        return {"longest_gap_s": self.longest_gap_s, "target_s": self.target_s, "passed": self.passed,
                "updates": self.updates, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UpdateCadence:
        return cls(data["longest_gap_s"], data["target_s"], data["passed"], data["updates"],
                   _seqs(data["evidence"]))


@dataclass(frozen=True)
class Impact:
    """Customer impact from the `slo.window` seconds overlapping [fault, restoration or end)."""

    start_t_s: float | None  # the fault; None: no fault, so no incident to measure
    end_t_s: float | None  # the restoration, or the journal's last event when there was none
    restored: bool
    windows: int  # one-second `slo.window`s counted
    total_requests: int
    failed_requests: int
    peak_error_rate: float | None  # worst failed share over `peak_window_s` of traffic
    peak_window_s: float
    p99_max_ms: float | None
    evidence: tuple[int, ...]  # first and last window counted, the peak's last window, the p99 max

    @property
    def error_rate(self) -> float | None:
        return self.failed_requests / self.total_requests if self.total_requests else None

    def to_dict(self) -> dict[str, Any]:
        return {"start_t_s": self.start_t_s, "end_t_s": self.end_t_s, "restored": self.restored,
                "windows": self.windows, "total_requests": self.total_requests,
                "failed_requests": self.failed_requests, "peak_error_rate": self.peak_error_rate,
                "peak_window_s": self.peak_window_s, "p99_max_ms": self.p99_max_ms,
                "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Impact:
        return cls(data["start_t_s"], data["end_t_s"], data["restored"], data["windows"], data["total_requests"],
                   data["failed_requests"], data["peak_error_rate"], data["peak_window_s"], data["p99_max_ms"],
                   _seqs(data["evidence"]))


@dataclass(frozen=True)
class Scorecard:
    run_id: str
    drill: str
    scenario: str
    fault_t_s: float | None  # journal seconds of the first fault.injected; None: none was injected
    phases: tuple[PhaseTiming, ...]
    cadence: UpdateCadence
    impact: Impact
    findings: tuple[Finding, ...]
    complete: bool  # False: no run.finished in the journal (a crash, or an abort that never finished)
    outcome: str
    schema_version: str = SCHEMA_VERSION

    def phase(self, name: str) -> PhaseTiming:
        for timing in self.phases:
            if timing.phase == name:
                return timing
        raise KeyError(f"no phase {name!r}; phases: {', '.join(t.phase for t in self.phases)}")

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.schema_version, "run_id": self.run_id, "drill": self.drill,
                "scenario": self.scenario, "fault_t_s": self.fault_t_s,
                "phases": [p.to_dict() for p in self.phases], "cadence": self.cadence.to_dict(),
                "impact": self.impact.to_dict(), "findings": [f.to_dict() for f in self.findings],
                "complete": self.complete, "outcome": self.outcome}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"scorecard schema_version {data.get('schema_version')!r}, expected {SCHEMA_VERSION!r}")
        return cls(data["run_id"], data["drill"], data["scenario"], data["fault_t_s"],
                   tuple(PhaseTiming.from_dict(p) for p in data["phases"]), UpdateCadence.from_dict(data["cadence"]),
                   Impact.from_dict(data["impact"]), tuple(Finding.from_dict(f) for f in data["findings"]),
                   data["complete"], data["outcome"], data["schema_version"])


def _seqs(values: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)
