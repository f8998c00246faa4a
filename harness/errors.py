"""Every error gamedrill raises on purpose.

    GamedrillError                 root: catch this to catch them all
    ├── InputError                 bad user input; names the file, line and field
    │   ├── ComposeError           a compose file gamedrill cannot run
    │   └── SpecError              a scenario or drill file that does not validate
    ├── StackError                 the stack would not start, stay up or go down
    │   └── HealthTimeout          a service did not turn healthy before its deadline
    ├── LoadError                  the load generator could not start or died
    ├── RunNotStarted              a run failed before its stack came up; nothing of it was kept
    └── UnknownServiceError        a name that is not a service of this stack
"""

from __future__ import annotations

from dataclasses import dataclass


class GamedrillError(Exception):
    """Root of gamedrill's errors."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    path: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def shown(value: object, limit: int = 40) -> str:
    """`repr(value)` for a message, cut short when long (a 4000-digit number, a whole script)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a number of {int(abs(value).bit_length() * 0.30103) + 1} digits"  # str() may refuse it
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 5]}...{text[-2:]}"


class InputError(GamedrillError):
    """A user-supplied file is wrong; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ComposeError(InputError):
    """A compose file that gamedrill refuses to run."""


class SpecError(InputError):
    """A scenario or drill file that does not validate."""


class StackError(GamedrillError):
    """The stack could not be started, kept running or stopped."""


class HealthTimeout(StackError):
    """A service did not become healthy before its deadline."""


class UnknownServiceError(GamedrillError):
    """A service name that the stack does not have."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown service {name!r}; this stack has: {', '.join(sorted(known))}")


class LoadError(GamedrillError):
    """The load generator could not start or died."""


class RunNotStarted(GamedrillError):
    """A run (a drill, the smoke check, the pytest stack fixture) failed before its stack came
    up: nothing happened, so nothing of it was kept, no run directory and no history entry
    (see harness.runner). The message names what failed."""
