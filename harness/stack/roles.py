"""A scenario's view of its stack checked against the compose file: every service it names
(entry, nodes, control plane, balancer, the targets of process faults) must be one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import Problem, SpecError
from harness.stack.compose_model import ComposeProject

if TYPE_CHECKING:
    from harness.spec import Scenario


def check_stack_roles(scenario: Scenario, project: ComposeProject) -> None:
    """SpecError naming each field of the scenario that names no service of `project`."""
    stack = scenario.stack
    named: list[tuple[str, str | None]] = [("stack.entry", stack.entry), ("stack.control_plane", stack.control_plane),
                                           ("stack.balancer", stack.balancer)]
    named += [(f"stack.nodes[{i}]", node) for i, node in enumerate(stack.nodes)]
    named += [(f"faults[{i}].service", getattr(fault, "service", None)) for i, fault in enumerate(scenario.faults)]
    known = ", ".join(project.services)
    problems = [Problem(str(project.path), None, None, f"scenario {scenario.name}: {field}",
                        f"{service!r} is not a service of this compose file (services: {known})")
                for field, service in named if service is not None and service not in project.services]
    if problems:
        raise SpecError(problems)
