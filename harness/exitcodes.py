"""The `gamedrill` exit codes: one table, the same for every command, for scripts and CI.

`run` and `demo` map a finished drill's outcome to a code here; every other command exits 0
only when it did what was asked.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["EXIT_CODE_HELP", "MEANINGS", "ExitCode", "for_outcome"]


class ExitCode(IntEnum):
    OK = 0  # done: the command did what was asked (a drill resolved with every target met)
    TARGETS_MISSED = 1  # the drill ran, and the team missed a target, timed out or hit a safety limit
    BAD_INPUT = 2  # a file, an argument or a name (run id, team, node) is wrong: nothing was started
    NOT_INJECTED = 3  # the stack was not healthy before injection: no fault went in, nothing to score
    HARNESS_ERROR = 4  # the harness or the stack failed (would not start, crashed), or no harness answered
    REFUSED = 5  # the drill or the stack refused the request, or it did not take effect (a failed act)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: everything was reverted and taken down


_OUTCOMES = {
    "not_injected": ExitCode.NOT_INJECTED,
    "timed_out": ExitCode.TARGETS_MISSED,
    "failed": ExitCode.HARNESS_ERROR,
}


def for_outcome(outcome: str, reason: str, targets_missed: bool) -> ExitCode:
    """The code of a finished drill: its outcome, then (resolved) whether every target was met."""
    if outcome == "resolved":
        return ExitCode.TARGETS_MISSED if targets_missed else ExitCode.OK
    if outcome == "aborted":
        return ExitCode.INTERRUPTED if reason.startswith("interrupted") else ExitCode.TARGETS_MISSED
    return _OUTCOMES.get(outcome, ExitCode.HARNESS_ERROR)


MEANINGS = {
    ExitCode.OK: "done (a drill: resolved, every target met)",
    ExitCode.TARGETS_MISSED: "the drill ran; a target was missed, it timed out or a safety limit stopped it",
    ExitCode.BAD_INPUT: "bad input: a file, an argument, an unknown run id, team or node; nothing started",
    ExitCode.NOT_INJECTED: "not injected: the stack was not healthy first, so no fault went in",
    ExitCode.HARNESS_ERROR: "harness or stack error (would not start, crashed, no harness answers)",
    ExitCode.REFUSED: "refused or without effect: the drill refused it, or an action did not apply",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C, SIGTERM); faults reverted, stack down",
}
EXIT_CODE_HELP = "\n".join(f"{int(code):>5}  {MEANINGS[code]}" for code in ExitCode)
