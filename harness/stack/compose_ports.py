"""The host ports a compose file publishes, and which two of them are the same port at run time.

Every `*_PORT` variable the harness allocates gets its own port per run, whatever its default
says, so "the same port" is decided as the run will see it, not by the numbers the file shows:

- a port published as one such variable (`${API_PORT:-19110}`, `$API_PORT`) is that
  variable's port: two publications of API_PORT are the same port; API_PORT and WEB_PORT
  never are, even with the same default;
- any other port (a number, a variable the caller sets, one not named *_PORT) is the number
  it reads as: two 8080s are the same port, 8080 and 8081 are not. Allocation never hands a
  variable one of these numbers (`fixed_ports`), so a variable and a number never meet either.

Two publications clash when they are the same port and protocol, whatever their host
addresses: the harness reaches every service at 127.0.0.1:<port>, so a second loopback
address with the same port would be a service it cannot tell from the first.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import Problem
from harness.stack.compose_model import PortBinding, parse_port
from harness.stack.interpolate import interpolate
from harness.yamlsrc import FieldPath, YamlSource

# Two sets of stand-in values for the allocated variables, ports of five digits (a digit written
# next to a variable makes six: no port): a port that takes a variable's value in both is
# published as that variable; one that reads the same in both is a fixed number.
_FIRST_STAND_IN, _SECOND_STAND_IN = 10_000, 40_000


@dataclass(frozen=True)
class Publication:
    """One host port a service publishes: `port` names its allocated variable, or is its number."""

    where: FieldPath  # ("services", service, "ports", index)
    service: str
    port: str | int
    protocol: str

    @property
    def shown(self) -> str:
        """`8080`, `8080/udp`, `${API_PORT} (one port per run)`."""
        shown = f"${{{self.port}}}" if isinstance(self.port, str) else str(self.port)
        shown += "" if self.protocol == "tcp" else f"/{self.protocol}"
        return f"{shown} (one port per run)" if isinstance(self.port, str) else shown


def publications(data: Any, variables: Mapping[str, str], allocated: Collection[str]) -> list[Publication]:
    """Every host port the services of `data` (the file before interpolation) publish, in file order.

    `allocated` are the variables the run allocates; the other `variables` are read as they are.
    A port that does not parse is left out: the model reports it."""
    names = sorted(allocated)
    first, second = _stand_ins(names, _FIRST_STAND_IN), _stand_ins(names, _SECOND_STAND_IN)
    variable_of = {int(value): name for name, value in first.items()}
    found: list[Publication] = []
    for where, written in _written_ports(data):
        binding, again = _binding(written, {**variables, **first}), _binding(written, {**variables, **second})
        if binding is None or again is None:
            continue
        variable = variable_of.get(binding.published)
        if variable is not None and again.published != int(second[variable]):
            variable = None  # a number written as such, equal to a stand-in by chance
        port = binding.published if variable is None else variable
        found.append(Publication(where, str(where[1]), port, binding.protocol))
    return found


def fixed_ports(published: Sequence[Publication]) -> set[int]:
    """The numbers published as themselves: what no allocated variable may be given."""
    return {publication.port for publication in published if isinstance(publication.port, int)}


def port_clashes(source: YamlSource, published: Sequence[Publication]) -> list[Problem]:
    """Each publication of a port (and protocol) an earlier one already publishes: at run time
    the second service cannot bind it."""
    first_of: dict[tuple[str | int, str], Publication] = {}
    problems: list[Problem] = []
    for publication in published:
        earlier = first_of.setdefault((publication.port, publication.protocol), publication)
        if earlier is not publication:
            line, _ = source.locate(earlier.where)
            problems.append(source.problem(publication.where, f"host port {publication.shown} is already published "
                                                              f"by service {earlier.service!r} at line {line}"))
    return problems


def _stand_ins(names: Sequence[str], first: int) -> dict[str, str]:
    return {name: str(first + index) for index, name in enumerate(names)}


def _binding(written: Any, variables: Mapping[str, str]) -> PortBinding | None:
    try:
        return parse_port(interpolate(written, variables))
    except ValueError:  # InterpolationError too
        return None


def _written_ports(data: Any) -> Iterator[tuple[FieldPath, Any]]:
    services = data.get("services") if isinstance(data, dict) else None
    for name, service in services.items() if isinstance(services, dict) else ():
        ports = service.get("ports") if isinstance(service, dict) else None
        for index, written in enumerate(ports) if isinstance(ports, list) else ():
            yield ("services", name, "ports", index), written
