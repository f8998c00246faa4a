"""What every CLI module prints through: consoles that never cut a line, JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from rich.console import Console

__all__ = ["dumps", "make_console", "print_json"]

_PIPE_WIDTH = 10_000  # to a pipe or a file, rich would cut tables to 80 columns (`20261…` run ids)


def make_console(stderr: bool = False) -> Console:
    """A console as wide as the terminal, or unbounded when the output is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """Dataclasses, lists and dicts as indented JSON (anything else as its string)."""
    return json.dumps(_plain(value), indent=2, default=str)


def print_json(value: Any) -> None:
    # Straight to stdout: rich would wrap or re-colour the JSON.
    sys.stdout.write(dumps(value) + "\n")
    sys.stdout.flush()
