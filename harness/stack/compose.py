"""Load a compose file into a ComposeProject, refusing it whole when anything is wrong.

Every `*_PORT` variable the file refers to is given a free loopback port for this run
(unless the caller sets it), so two runs of the same file never collide.
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
    ComposeProject,
    Healthcheck,
    RawProject,
    RawService,
    Service,
)
from harness.stack.interpolate import InterpolationError, interpolate, variables_in
from harness.stack.ports import allocate_ports
from harness.yamlsrc import YamlSource, load_yaml

PORT_SUFFIX = "_PORT"


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
    if allocate:
        wanted = sorted(port_variables(source) - set(overrides or {}))
        variables.update({name: str(port) for name, port in allocate_ports(wanted).items()})
    try:
        data = interpolate(source.data, variables)
    except InterpolationError as exc:
        raise ComposeError([source.problem(exc.where, str(exc))]) from None

    problems = [source.problem((key,), "unknown top-level key")
                for key in data if key not in COMPOSE_TOP_KEYS and not str(key).startswith("x-")]
    problems += _check_services(source, data.get("services"))
    try:
        raw = RawProject.model_validate(data)
    except ValidationError as exc:
        problems += [source.problem(tuple(err["loc"]), _message(err["msg"])) for err in exc.errors()]
    if problems:
        raise ComposeError(problems)
    name = raw.name or source.path.resolve().parent.name.lower()
    services = {key: _service(source.path, key, value) for key, value in raw.services.items()}
    return ComposeProject(path=source.path.resolve(), name=name, services=services,
                          variables={k: variables[k] for k in sorted(variables_in(source.data)) if k in variables})


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


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
        if "command" not in service:
            problems.append(source.problem((*where, "command"), "required: the local backend runs each service's "
                                                                 "command (an image's default is unknown to it)"))
        check = service.get("healthcheck")
        if isinstance(check, dict) and not check.get("disable") and not check.get("test"):
            problems.append(source.problem((*where, "healthcheck", "test"), "required unless disable: true"))
        dependencies = service.get("depends_on") or []
        for dependency in dependencies if isinstance(dependencies, list | dict) else []:
            if dependency not in services:
                known = ", ".join(sorted(services))
                problems.append(source.problem((*where, "depends_on", dependency),
                                               f"unknown service {dependency!r} (services: {known})"))
        ulimits = service.get("ulimits")
        for limit in ulimits if isinstance(ulimits, dict) else []:
            if limit not in ULIMIT_NAMES:
                problems.append(source.problem((*where, "ulimits", limit),
                                               f"unknown ulimit {limit!r} (known: {', '.join(ULIMIT_NAMES)})"))
    cycle = _dependency_cycle(services)
    if cycle:
        problems.append(source.problem(("services", cycle[0], "depends_on"),
                                       "dependency cycle: " + " -> ".join(cycle)))
    return problems


ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
                "rss", "rtprio", "sigpending", "stack")


def _dependency_cycle(services: dict[str, Any]) -> list[str] | None:
    state: dict[str, str] = {}

    def depends_on(name: str) -> list[str]:
        value = services[name].get("depends_on") if isinstance(services[name], dict) else None
        return [str(d) for d in value] if isinstance(value, list | dict) else []

    def visit(name: str, trail: list[str]) -> list[str] | None:
        if state.get(name) == "done" or name not in services:
            return None
        if state.get(name) == "active":
            return [*trail[trail.index(name):], name]
        state[name] = "active"
        for dependency in depends_on(name):
            found = visit(dependency, [*trail, name])
            if found:
                return found
        state[name] = "done"
        return None

    for service_name in services:
        found = visit(service_name, [])
        if found:
            return found
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
