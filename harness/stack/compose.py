"""Load a compose file into a ComposeProject, refusing it whole when anything is wrong.

Every `*_PORT` variable the file refers to is given a free loopback port for this run
(unless the caller sets it), so two runs of the same file never collide; two services of one
run publishing the same host port are refused (see compose_ports for what "same" means).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.errors import ComposeError, Problem
from harness.stack.compose_model import (
    COMPOSE_SERVICE_KEYS,
    COMPOSE_TOP_KEYS,
    MAX_RLIMIT,
    ComposeProject,
    Healthcheck,
    RawProject,
    RawService,
    Service,
)
from harness.stack.compose_ports import fixed_ports, port_clashes, publications
from harness.stack.interpolate import InterpolationError, interpolate, variables_in
from harness.stack.ports import allocate_ports
from harness.yamlsrc import FieldPath, YamlSource, load_yaml, path_in, said

PORT_SUFFIX = "_PORT"
ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
                "rss", "rtprio", "sigpending", "stack")
NR_OPEN = 1 << 20  # Linux's default fs.nr_open: setrlimit refuses more nofile than this
ULIMIT_MAX = {"nofile": NR_OPEN}  # setrlimit refuses more at start


def port_variables(source: YamlSource) -> set[str]:
    return {name for name in variables_in(source.data) if name.endswith(PORT_SUFFIX)}


def load_compose(
    path: str | Path,
    overrides: Mapping[str, str] | None = None,
    *,
    allocate: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ComposeProject:
    """Parse, interpolate and validate `path`; raises ComposeError listing every problem."""
    source = load_yaml(path, ComposeError)
    if not isinstance(source.data, dict):
        raise ComposeError([source.problem((), "a compose file is a mapping with a `services` key")])
    variables = dict(os.environ if environ is None else environ)
    variables.update(overrides or {})
    per_run = sorted(port_variables(source) - set(overrides or {}))  # what a run allocates, validated or not
    published = publications(source.data, variables, per_run)
    if allocate:
        allocated = allocate_ports(per_run, avoid=fixed_ports(published))
        variables.update({name: str(port) for name, port in allocated.items()})
    try:
        data = interpolate(source.data, variables)
    except InterpolationError as exc:
        raise ComposeError([source.problem(exc.where, str(exc))]) from None

    problems = [source.problem((key,), "unknown top-level key")
                for key in data if key not in COMPOSE_TOP_KEYS and not str(key).startswith("x-")]
    problems += _check_services(source, data.get("services"))
    problems += port_clashes(source, published)
    try:
        raw = RawProject.model_validate(data)
    except ValidationError as exc:
        problems += [source.problem(path_in(data, err["loc"]), said(err["type"], err["msg"], err.get("input")))
                     for err in exc.errors()]
    if problems:
        raise ComposeError(problems)
    name = raw.name or source.path.resolve().parent.name.lower()
    services = {key: _service(source.path, key, value) for key, value in raw.services.items()}
    return ComposeProject(path=source.path.resolve(), name=name, services=services,
                          variables={k: variables[k] for k in sorted(variables_in(source.data)) if k in variables})


def _check_services(source: YamlSource, services: Any) -> list[Problem]:
    """What pydantic cannot see: references between services, missing commands, typos."""
    if not isinstance(services, dict):
        return []  # the model reports the wrong shape
    problems: list[Problem] = []
    if not services:
        problems.append(source.problem(("services",), "no services defined"))
    for name, service in services.items():
        where = ("services", name)
        if not isinstance(service, dict):
            continue
        for key in service:
            if key not in COMPOSE_SERVICE_KEYS and not str(key).startswith("x-"):
                problems.append(source.problem((*where, key), "unknown key"))
        if service.get("command") is None:
            problems.append(source.problem((*where, "command"), "required: the local backend runs each service's "
                                                                 "command (an image's default is unknown to it)"))
        check = service.get("healthcheck")
        if isinstance(check, dict) and not check.get("disable") and not check.get("test"):
            problems.append(source.problem((*where, "healthcheck", "test"), "required unless disable: true"))
        problems += _unknown_dependencies(source, where, service.get("depends_on"), services)
        problems += _ulimit_problems(source, where, service.get("ulimits"))
    cycle = _dependency_cycle(services)
    if cycle:
        problems.append(source.problem(("services", cycle[0], "depends_on"),
                                       "dependency cycle: " + " -> ".join(cycle)))
    return problems


def _unknown_dependencies(source: YamlSource, where: FieldPath, dependencies: Any,
                          services: dict[Any, Any]) -> list[Problem]:
    """Each dependency naming no service (one that is not a name at all, the model reports)."""
    named = (list(enumerate(dependencies)) if isinstance(dependencies, list)
             else [(d, d) for d in dependencies] if isinstance(dependencies, dict) else [])
    known = ", ".join(sorted(str(name) for name in services))
    return [source.problem((*where, "depends_on", key), f"unknown service {name!r} (services: {known})")
            for key, name in named if isinstance(name, str) and name not in services]


def _ulimit_problems(source: YamlSource, where: FieldPath, ulimits: Any) -> list[Problem]:
    """Unknown ulimit names, and limits above what the kernel lets a process set."""
    problems: list[Problem] = []
    for name, value in ulimits.items() if isinstance(ulimits, dict) else []:
        if name not in ULIMIT_NAMES:
            problems.append(source.problem((*where, "ulimits", name),
                                           f"unknown ulimit {name!r} (known: {', '.join(ULIMIT_NAMES)})"))
            continue
        values = [value.get("soft"), value.get("hard")] if isinstance(value, dict) else [value]
        highest = max((v for v in values if isinstance(v, int) and not isinstance(v, bool)), default=0)
        if name in ULIMIT_MAX and ULIMIT_MAX[name] < highest <= MAX_RLIMIT:  # above MAX_RLIMIT: the model says so
            problems.append(source.problem((*where, "ulimits", name),
                                           f"{highest} is above the most a process may have ({ULIMIT_MAX[name]})"))
    return problems


def _dependency_cycle(services: dict[Any, Any]) -> list[str] | None:
    """The first dependency cycle found, as a trail of names; iterative, so any depth is fine."""
    state: dict[str, str] = {}

    def depends_on(name: str) -> list[str]:
        value = services[name].get("depends_on") if isinstance(services[name], dict) else None
        return [d for d in value if isinstance(d, str) and d in services] if isinstance(value, list | dict) else []

    for start in services:
        if not isinstance(start, str) or state.get(start):
            continue
        trail: list[str] = [start]
        pending: list[list[str]] = [depends_on(start)]
        state[start] = "active"
        while trail:
            if not pending[-1]:
                state[trail.pop()] = "done"
                pending.pop()
                continue
            dependency = pending[-1].pop(0)
            if state.get(dependency) == "active":
                return [*trail[trail.index(dependency):], dependency]
            if state.get(dependency) is None:
                state[dependency] = "active"
                trail.append(dependency)
                pending.append(depends_on(dependency))
    return None


def _service(compose_path: Path, name: str, raw: RawService) -> Service:
    base = compose_path.resolve().parent
    context = raw.build if isinstance(raw.build, str) else raw.build.context if raw.build else "."
    command = (*(raw.entrypoint or ()), *(raw.command or ()))
    depends = (raw.depends_on if isinstance(raw.depends_on, dict) else {d: None for d in raw.depends_on})
    return Service(
        name=name,
        command=_local_command(command),
        environment=dict(raw.environment),
        ports=tuple(raw.ports),
        ulimits={key: (value, value) if isinstance(value, int) else (value.soft, value.hard)
                 for key, value in raw.ulimits.items()},
        healthcheck=_healthcheck(raw),
        depends_on={dep: cond.condition if cond else "service_started" for dep, cond in depends.items()},
        workdir=(base / context).resolve(),
        stop_signal=raw.stop_signal,
        stop_grace_s=raw.stop_grace_period,
        labels=dict(raw.labels),
    )


def _healthcheck(raw: RawService) -> Healthcheck | None:
    check = raw.healthcheck
    if check is None or check.disable or not check.test or check.test == ["NONE"]:
        return None
    test = check.test
    if isinstance(test, str):
        argv: tuple[str, ...] = ("/bin/sh", "-c", test)
    elif test[0] == "CMD-SHELL":
        argv = ("/bin/sh", "-c", " ".join(test[1:]))
    else:
        argv = _local_command(tuple(test[1:] if test[0] == "CMD" else test))
    return Healthcheck(argv=argv, interval_s=check.interval, timeout_s=check.timeout, retries=check.retries,
                       start_period_s=check.start_period, start_interval_s=check.start_interval)


def _local_command(argv: tuple[str, ...]) -> tuple[str, ...]:
    # Service code is standard-library Python; locally it runs on the harness's own
    # interpreter, which is known to exist and to be new enough (a bare `python3` may not).
    if argv and argv[0] in ("python3", "python"):
        return (sys.executable, *argv[1:])
    return argv
