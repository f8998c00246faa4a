"""The part of the Compose file format gamedrill runs, parsed once into frozen values.

Pydantic validates the raw YAML (after interpolation) so every error keeps its location;
the result is converted into the frozen dataclasses below, which the backends use.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

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
    r"^(?:(?P<ip>\[[^\]]+\]|[^:\[\]]+):)?(?:(?P<published>\d+):)?(?P<target>\d+)(?:/(?P<proto>tcp|udp))?$"
)


def _port_number(value: object, what: str) -> int:
    number = int(str(value)) if str(value).isdigit() else -1
    if not 1 <= number <= 65535:
        raise ValueError(f"{what} port {value!r} is not a number between 1 and 65535")
    return number


def _loopback_ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        raise ValueError(f"host address {value!r} is not an IP address") from None
    if not address.is_loopback:
        raise ValueError(f"host address {value!r} is not loopback; gamedrill binds 127.0.0.1 / ::1 only")
    return str(address)


def _parse_port(value: Any) -> PortBinding:
    if isinstance(value, dict):
        unknown = set(value) - {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} in a port mapping")
        target = _port_number(value.get("target"), "target")
        published = _port_number(value.get("published", target), "published")
        return PortBinding(_loopback_ip(value.get("host_ip")), published, target, value.get("protocol", "tcp"))
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not a port mapping like '127.0.0.1:8080:80'")
    match = _PORT_SHORT.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a port mapping like '127.0.0.1:8080:80'")
    target = _port_number(match["target"], "target")
    published = _port_number(match["published"], "published") if match["published"] else target
    return PortBinding(_loopback_ip(match["ip"]), published, target, match["proto"] or "tcp")


def _parse_command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        argv = shlex.split(value)
    elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        argv = [str(item) for item in value]
    else:
        raise ValueError(f"{value!r} is neither a string nor a list of strings")
    if not argv:
        raise ValueError("is empty")
    return tuple(argv)


def _parse_environment(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        pairs = [str(item).partition("=") for item in value]
        return {key: val for key, _, val in pairs}
    if isinstance(value, dict):
        return {str(key): "" if val is None else str(val).lower() if isinstance(val, bool) else str(val)
                for key, val in value.items()}
    raise ValueError(f"{value!r} is neither a mapping nor a list of KEY=VALUE")


Duration = Annotated[float, BeforeValidator(parse_duration_s)]
Command = Annotated[tuple[str, ...], PlainValidator(_parse_command)]
Port = Annotated[PortBinding, PlainValidator(_parse_port)]
Environment = Annotated[dict[str, str], PlainValidator(_parse_environment)]


class _Limit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    soft: int = Field(ge=-1)
    hard: int = Field(ge=-1)


class _Dependency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = "service_started"
    restart: bool = False
    required: bool = True


class _Healthcheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    test: list[str] | str | None = None
    interval: Duration = 30.0
    timeout: Duration = 30.0
    retries: int = Field(3, ge=1)
    start_period: Duration = 0.0
    start_interval: Duration = 5.0
    disable: bool = False


class _Build(BaseModel):
    model_config = ConfigDict(extra="allow")
    context: str = "."


class RawService(BaseModel):
    # Compose has dozens of keys the local backend has no use for (image, labels, deploy...):
    # those are allowed, typos are caught by `unknown_service_keys`.
    model_config = ConfigDict(extra="allow")
    command: Command | None = None
    entrypoint: Command | None = None
    environment: Environment = Field(default_factory=dict)
    ports: list[Port] = Field(default_factory=list)
    ulimits: dict[str, int | _Limit] = Field(default_factory=dict)
    healthcheck: _Healthcheck | None = None
    depends_on: list[str] | dict[str, _Dependency] = Field(default_factory=list)
    build: str | _Build | None = None
    working_dir: str | None = None
    stop_signal: str = "SIGTERM"
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
