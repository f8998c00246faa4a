"""The part of the Compose file format gamedrill runs, parsed once into frozen values.

Pydantic validates the raw YAML (after interpolation) so every error keeps its location;
the result is converted into the frozen dataclasses below, which the backends use. What
loads is what the backends can run: no empty argv, no NUL byte in an argument or the
environment, a stop signal the local backend knows, soft ulimits within their hard ones.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    model_validator,
)

from harness.stack.durations import parse_duration_s


@dataclass(frozen=True)
class PortBinding:
    host_ip: str | None
    published: int
    target: int
    protocol: str


@dataclass(frozen=True)
class Healthcheck:
    argv: tuple[str, ...]
    interval_s: float
    timeout_s: float
    retries: int
    start_period_s: float
    start_interval_s: float


@dataclass(frozen=True)
class Service:
    name: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    ports: tuple[PortBinding, ...]
    ulimits: Mapping[str, tuple[int, int]]
    healthcheck: Healthcheck | None
    depends_on: Mapping[str, str]  # dependency -> condition
    workdir: Path
    stop_signal: str
    stop_grace_s: float
    labels: Mapping[str, str]

    @property
    def port(self) -> int | None:
        """The service's main port: the first one it publishes."""
        return self.ports[0].published if self.ports else None


@dataclass(frozen=True)
class ComposeProject:
    path: Path
    name: str
    services: Mapping[str, Service]
    variables: Mapping[str, str]  # what the file was interpolated with (ports included)

    def allocated_ports(self) -> list[int]:
        """The numbers of every `*_PORT` variable (what `allocate_ports` reserved for the run)."""
        return [int(value) for name, value in self.variables.items() if name.endswith("_PORT") and value.isdigit()]


# ---- raw models: the YAML as written -------------------------------------------------

_PORT_SHORT = re.compile(
    r"^(?:(?P<ip>\[[^\]]+\]|[^:\[\]]+):)?(?:(?P<published>[0-9]+):)?(?P<target>[0-9]+)(?:/(?P<proto>tcp|udp))?$"
)
_DIGITS = re.compile(r"[0-9]{1,5}")  # ASCII only: "²" and "٣" are digits to str.isdigit()
PROTOCOLS = ("tcp", "udp")
MAX_RLIMIT = (1 << 63) - 1
SIGNAL_NAMES = tuple(sorted(name for name in signal.Signals.__members__ if not name.startswith("SIG_")))


def _port_number(value: object, what: str) -> int:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    number = int(text) if _DIGITS.fullmatch(text) else -1
    if not 1 <= number <= 65535:
        raise ValueError(f"{what} port {value!r} is not a number between 1 and 65535")
    return number


def _loopback_ip(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"host address {value!r} is not an IP address")
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        raise ValueError(f"host address {value!r} is not an IP address") from None
    if not address.is_loopback:
        raise ValueError(f"host address {value!r} is not loopback; gamedrill binds 127.0.0.1 / ::1 only")
    return str(address)


def parse_port(value: Any) -> PortBinding:
    if isinstance(value, dict):
        unknown = set(value) - {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} in a port mapping")
        target = _port_number(value.get("target"), "target")
        published = _port_number(value.get("published", target), "published")
        protocol = value.get("protocol", "tcp")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        return PortBinding(_loopback_ip(value.get("host_ip")), published, target, protocol)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not a port mapping like '127.0.0.1:8080:80'")
    match = _PORT_SHORT.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a port mapping like '127.0.0.1:8080:80'")
    ip, published_text = match["ip"], match["published"]
    if ip is not None and published_text is None and _DIGITS.fullmatch(ip):  # "8080:80" is HOST:CONTAINER
        ip, published_text = None, ip
    target = _port_number(match["target"], "target")
    published = _port_number(published_text, "published") if published_text else target
    return PortBinding(_loopback_ip(ip), published, target, match["proto"] or "tcp")


def _parse_command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        argv = shlex.split(value)
    elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        argv = [str(item) for item in value]
    else:
        raise ValueError(f"{value!r} is neither a string nor a list of strings")
    if not argv:
        raise ValueError("is empty")
    return tuple(_no_nul(arg, "an argument") for arg in argv)


def _no_nul(text: str, what: str) -> str:
    if "\0" in text:  # no process can be given it: exec would fail at start
        raise ValueError(f"{what} holds a NUL byte: {text!r}")
    return text


def _parse_environment(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        pairs = [str(item).partition("=") for item in value]
        variables = {key: val for key, _, val in pairs}
    elif isinstance(value, dict):
        if any(isinstance(val, dict | list) for val in value.values()):
            raise ValueError("a variable's value must be a string, number or boolean, not a mapping or list")
        variables = {str(key): "" if val is None else str(val).lower() if isinstance(val, bool) else str(val)
                     for key, val in value.items()}
    else:
        raise ValueError(f"{value!r} is neither a mapping nor a list of KEY=VALUE")
    for key, val in variables.items():
        if not key or "=" in key:
            raise ValueError(f"{key!r} is not a variable name (not empty, no '=')")
        _no_nul(key, "a variable name")
        _no_nul(val, f"variable {key}")
    return variables


def _signal_name(value: str) -> str:
    # The local backend sends `signal.Signals[name]`: a name it does not know would stop its teardown.
    if value not in SIGNAL_NAMES:
        raise ValueError(f"{value!r} is not a signal name (like SIGTERM, SIGINT, SIGQUIT)")
    return value


def _context(value: str) -> str:
    return _no_nul(value, "the build context")


def _by_shape(mapping: str, sequence: str, scalar: str) -> Discriminator:
    """Which member of a union validates a value, by its YAML shape: only its errors are reported."""

    def tag(value: Any) -> str:
        return mapping if isinstance(value, dict) else sequence if isinstance(value, list) else scalar

    return Discriminator(tag)


Duration = Annotated[float, BeforeValidator(parse_duration_s)]
Command = Annotated[tuple[str, ...], PlainValidator(_parse_command)]
Port = Annotated[PortBinding, PlainValidator(parse_port)]
Environment = Annotated[dict[str, str], PlainValidator(_parse_environment)]
Rlimit = Annotated[int, Field(strict=True, ge=-1, le=MAX_RLIMIT)]  # -1: unlimited


def _unlimited_last(value: int) -> float:
    return float("inf") if value < 0 else value


class _Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    soft: Rlimit
    hard: Rlimit

    @model_validator(mode="after")
    def _soft_within_hard(self) -> _Limit:
        if _unlimited_last(self.soft) > _unlimited_last(self.hard):  # setrlimit would refuse it at start
            raise ValueError(f"the soft limit {self.soft} is above the hard limit {self.hard}")
        return self


Ulimit = Annotated[Annotated[Rlimit, Tag("int")] | Annotated[_Limit, Tag("dict")], _by_shape("dict", "int", "int")]
HealthTest = Annotated[Annotated[list[str], Tag("list")] | Annotated[str, Tag("str")], _by_shape("list", "list", "str")]


class _Dependency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = "service_started"
    restart: bool = False
    required: bool = True


class _Healthcheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    test: HealthTest | None = None
    interval: Duration = 30.0
    timeout: Duration = 30.0
    retries: int = Field(3, ge=1, le=10_000)
    start_period: Duration = 0.0
    start_interval: Duration = 5.0
    disable: bool = False

    @model_validator(mode="after")
    def _a_command_to_run(self) -> _Healthcheck:
        test = self.test
        if isinstance(test, list) and test[:1] in (["CMD"], ["CMD-SHELL"]) and len(test) == 1:
            raise ValueError(f"test {test!r} has no command after {test[0]}")
        for arg in test if isinstance(test, list) else [test] if test else []:
            _no_nul(arg, "the test")
        return self


class _Build(BaseModel):
    model_config = ConfigDict(extra="allow")
    context: Annotated[str, AfterValidator(_context)] = "."


class RawService(BaseModel):
    # Compose has dozens of keys the local backend has no use for (image, labels, deploy...):
    # those are allowed, typos are caught by `unknown_service_keys`.
    model_config = ConfigDict(extra="allow")
    command: Command | None = None
    entrypoint: Command | None = None
    environment: Environment = Field(default_factory=dict)
    ports: list[Port] = Field(default_factory=list)
    ulimits: dict[str, Ulimit] = Field(default_factory=dict)
    healthcheck: _Healthcheck | None = None
    depends_on: Annotated[Annotated[list[str], Tag("list")] | Annotated[dict[str, _Dependency], Tag("dict")],
                          _by_shape("dict", "list", "list")] = Field(default_factory=list)
    build: Annotated[Annotated[str, AfterValidator(_context), Tag("str")] | Annotated[_Build, Tag("dict")],
                     _by_shape("dict", "str", "str")] | None = None
    working_dir: str | None = None
    stop_signal: Annotated[str, AfterValidator(_signal_name)] = "SIGTERM"
    stop_grace_period: Duration = 10.0
    labels: Environment = Field(default_factory=dict)


class RawProject(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    services: dict[str, RawService]


COMPOSE_SERVICE_KEYS = frozenset(
    """
annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name
cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset
credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname
driver_opts entrypoint env_file environment expose extends external_links extra_hosts gpus group_add
healthcheck hostname image init ipc isolation labels label_file links logging mac_address mem_limit
mem_reservation mem_swappiness memswap_limit network_mode networks oom_kill_disable oom_score_adj pid
pids_limit platform ports post_start pre_stop privileged profiles provider pull_policy read_only restart
runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls
tmpfs tty ulimits use_api_socket user userns_mode uts volumes volumes_from working_dir
"""
    .split()
)
COMPOSE_TOP_KEYS = frozenset({"version", "name", "services", "networks", "volumes", "configs", "secrets", "include"})
