"""The pytest plugin's settings, resolved once into a frozen object.

Each setting comes from, weakest first: its default, the ini file (`gamedrill_*` keys),
the environment (`GAMEDRILL_*`), the command line (`--gamedrill-*`), and for one test the
`@pytest.mark.gamedrill(...)` marker. A bad value is a usage error naming where it came
from, before anything starts.

Runs started by pytest keep a history of their own (`gamedrill_history = own`, the default:
`pytest-history.sqlite` in the runs directory), so a regression suite never fills the run
history of the team's game days; `gamedrill_history = shared` stores them where `gamedrill
run` does. That one has no `GAMEDRILL_*` variable: `GAMEDRILL_HISTORY` already names the
shared history's file, and setting it must not pull pytest's runs in.

Standard library and pytest only: pytest imports this in every run of every project that
has gamedrill installed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import pytest

Backend = Literal["local", "docker"]
StackScope = Literal["function", "class", "module", "package", "session"]
History = Literal["own", "shared"]
BACKENDS: Final[tuple[str, ...]] = get_args(Backend)
STACK_SCOPES: Final[tuple[str, ...]] = get_args(StackScope)
HISTORIES: Final[tuple[str, ...]] = get_args(History)
PYTEST_HISTORY_NAME: Final = "pytest-history.sqlite"  # the plugin's own history, in the runs directory
DEFAULT_DRILL_GLOBS: Final = ("drills/**/*.yaml", "drills/**/*.yml")
MARKER: Final = "gamedrill"
MARKER_HELP: Final = ("gamedrill(backend=None, keep=None, time_compression=None): per-test overrides of "
                      "the gamedrill settings; every drill file's test carries it")


@dataclass(frozen=True)
class GamedrillSettings:
    rootdir: Path
    backend: Backend | None = None  # None: each drill's own (gamedrill_stack: local)
    runs_dir: Path | None = None  # None: the drill's own runs_dir, else <rootdir>/runs
    keep: bool = False  # leave the stack up when a test fails, for debugging
    time_compression: float | None = None  # None: what each drill says
    stack_scope: StackScope = "function"
    drill_globs: tuple[str, ...] = DEFAULT_DRILL_GLOBS
    history: History = "own"  # own: <runs dir>/pytest-history.sqlite; shared: the one `gamedrill run` uses
    counterfactual: bool = False  # after each drill file's run, measure what the delay cost (slow: real replays)

    def runs_dir_for(self, drill_runs_dir: Path | None) -> Path:
        return self.runs_dir or drill_runs_dir or self.rootdir / "runs"

    def history_for(self, runs_dir: Path) -> Path | None:
        """The history database a run in `runs_dir` is stored in (None: the shared one,
        $GAMEDRILL_HISTORY, else <runs dir>/history.sqlite, as for `gamedrill run`)."""
        return None if self.history == "shared" else runs_dir / PYTEST_HISTORY_NAME

    def is_drill_path(self, path: Path) -> bool:
        """Does `path` match one of the drill globs (relative to the rootdir)?"""
        try:
            relative = path.resolve().relative_to(self.rootdir.resolve()).as_posix()
        except ValueError:
            return False
        return any(_glob_regex(pattern).fullmatch(relative) for pattern in self.drill_globs)


SETTINGS_KEY: Final = pytest.StashKey[GamedrillSettings]()
_NODE_SETTINGS_KEY: Final = pytest.StashKey[GamedrillSettings]()


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("gamedrill", "game-day drills")
    group.addoption("--gamedrill-backend", default=None, metavar="local|docker",
                    help="stack backend for drills and gamedrill_stack (default: each drill's own; local)")
    group.addoption("--gamedrill-runs-dir", default=None, metavar="DIR",
                    help="where run directories go (default: the drill's runs_dir, else <rootdir>/runs)")
    group.addoption("--gamedrill-keep", action="store_const", const=True, default=None,
                    help="leave the stack up when a drill or test fails, for debugging")
    group.addoption("--gamedrill-time-compression", default=None, metavar="FACTOR",
                    help="run drill schedules FACTOR times faster (>= 1; default: each drill's own)")
    group.addoption("--gamedrill-stack-scope", default=None, metavar="SCOPE",
                    help=f"scope of the gamedrill_stack fixture: {', '.join(STACK_SCOPES)} (default: function)")
    group.addoption("--gamedrill-history", default=None, metavar="own|shared",
                    help=f"run history for drills run by pytest: own (default: <runs dir>/{PYTEST_HISTORY_NAME}) "
                         "or shared (the one `gamedrill run` uses: $GAMEDRILL_HISTORY, else <runs dir>/history.sqlite)")
    group.addoption("--gamedrill-counterfactual", action="store_const", const=True, default=None,
                    help="after each drill file's run, play it again with the team's actions at the targets and "
                         "with the best response, and add what the delay cost to its scorecard (real replays: slow)")
    parser.addini("gamedrill_drills", type="linelist", default=list(DEFAULT_DRILL_GLOBS),
                  help="globs (relative to the rootdir) of drill files collected as tests")
    parser.addini("gamedrill_backend", default="", help="stack backend: local or docker")
    parser.addini("gamedrill_runs_dir", default="", help="where run directories go (relative to the ini file)")
    parser.addini("gamedrill_keep", type="bool", default=False, help="leave the stack up when a test fails")
    parser.addini("gamedrill_time_compression", default="", help="run drill schedules this many times faster")
    parser.addini("gamedrill_stack_scope", default="", help="scope of the gamedrill_stack fixture")
    parser.addini("gamedrill_counterfactual", type="bool", default=False,
                  help="measure what the delay cost after each drill file's run")
    parser.addini("gamedrill_history", default="",
                  help=f"run history for drills run by pytest: own (<runs dir>/{PYTEST_HISTORY_NAME}) or shared")


def resolve_settings(config: pytest.Config) -> GamedrillSettings:
    """Every source, weakest first, checked; a bad value raises pytest.UsageError."""
    ini_dir = config.inipath.parent if config.inipath is not None else config.rootpath
    raw: dict[str, tuple[str, Any, Path]] = {}  # field -> (where it came from, value, base dir)
    for name in ("backend", "runs_dir", "time_compression", "stack_scope", "history"):
        value = config.getini(f"gamedrill_{name}")
        if value:
            raw[name] = (f"ini gamedrill_{name}", value, ini_dir)
    for flag in ("keep", "counterfactual"):
        if config.getini(f"gamedrill_{flag}"):
            raw[flag] = (f"ini gamedrill_{flag}", True, ini_dir)
    for name in ("backend", "runs_dir", "keep", "time_compression"):  # not history: see the module's docstring
        value = os.environ.get(f"GAMEDRILL_{name.upper()}", "")
        if value:
            raw[name] = (f"environment GAMEDRILL_{name.upper()}", value, Path.cwd())
    for name in ("backend", "runs_dir", "keep", "time_compression", "stack_scope", "history", "counterfactual"):
        value = config.getoption(f"gamedrill_{name}")
        if value is not None:
            raw[name] = (f"--gamedrill-{name.replace('_', '-')}", value, config.invocation_params.dir)
    fields = {name: _parse(name, where, value, base) for name, (where, value, base) in raw.items()}
    globs = tuple(str(g) for g in config.getini("gamedrill_drills"))  # set but empty: collect no drill files
    return GamedrillSettings(rootdir=config.rootpath, drill_globs=globs, **fields)


def settings_for(node: pytest.Item) -> GamedrillSettings:
    """The session's settings with the test's `gamedrill` marker applied (resolved once per test)."""
    cached = node.stash.get(_NODE_SETTINGS_KEY, None)
    if cached is not None:
        return cached
    settings = node.config.stash[SETTINGS_KEY]
    marker = node.get_closest_marker(MARKER)
    if marker is not None:
        settings = apply_marker(settings, marker.kwargs, f"{node.nodeid}: @pytest.mark.{MARKER}")
    node.stash[_NODE_SETTINGS_KEY] = settings
    return settings


def apply_marker(settings: GamedrillSettings, kwargs: Mapping[str, Any], where: str) -> GamedrillSettings:
    allowed = ("backend", "keep", "time_compression")
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise pytest.UsageError(f"{where}: unknown argument(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    fields = {name: _parse(name, where, value, settings.rootdir) for name, value in kwargs.items()}
    return dataclasses.replace(settings, **fields)


def _parse(name: str, where: str, value: Any, base: Path) -> Any:
    if name == "runs_dir":
        return base / Path(str(value))
    if name in ("keep", "counterfactual"):
        return _parse_bool(where, value)
    if name == "time_compression":
        return _parse_compression(where, value)
    choices = {"backend": BACKENDS, "history": HISTORIES}.get(name, STACK_SCOPES)
    if value not in choices:
        raise pytest.UsageError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _parse_bool(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise pytest.UsageError(f"{where}: expected true or false, got {value!r}")


def _parse_compression(where: str, value: Any) -> float:
    try:
        factor = float(value)
    except (TypeError, ValueError):
        factor = float("nan")
    if isinstance(value, bool) or not factor >= 1.0:  # also refuses NaN
        raise pytest.UsageError(f"{where}: expected a number >= 1 (how many times faster), got {value!r}")
    return factor


@functools.lru_cache(maxsize=64)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**/` spans any number of directories (none included); `*` and `?` stay inside one."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))
