"""A scenario's view of its stack checked against the compose file: every service it names
(entry, nodes, control plane, balancer, the targets of process faults) must be one, and
every link a network fault breaks must be one of the fault proxy's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.errors import Problem, SpecError
from harness.stack.compose_model import ComposeProject
from harness.yamlsrc import FieldPath, dotted

if TYPE_CHECKING:
    from harness.spec import Scenario


def stack_role_issues(scenario: Scenario, project: ComposeProject) -> list[tuple[FieldPath, str]]:
    """(field of the scenario, message) for each service it names that `project` does not have."""
    stack = scenario.stack
    named: list[tuple[FieldPath, str | None]] = [(("stack", "entry"), stack.entry),
                                                 (("stack", "control_plane"), stack.control_plane),
                                                 (("stack", "balancer"), stack.balancer)]
    named += [(("stack", "nodes", i), node) for i, node in enumerate(stack.nodes)]
    named += [(("faults", i, "service"), getattr(fault, "service", None)) for i, fault in enumerate(scenario.faults)]
    named += [(("stack", "metrics", service), service) for service in stack.metrics]  # scraped by Prometheus
    names = list(project.services)
    known = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    issues = [(field, f"{service!r} is not a service of this compose file, {project.path} (services: {known})")
              for field, service in named if service is not None and service not in project.services]
    return issues + _link_issues(scenario, project)


def _link_issues(scenario: Scenario, project: ComposeProject) -> list[tuple[FieldPath, str]]:
    links = proxy_links(project)
    if not links:  # no `--proxy` flags: links made another way (a -config file, the API) are not known here
        return []
    shown = ", ".join(f"{name} (service {service})" for name, service in links.items())
    broken = [(i, getattr(fault, "proxy", None)) for i, fault in enumerate(scenario.faults)]
    return [(("faults", i, "proxy"), f"{link!r} is not a link of the stack's fault proxy (links: {shown}, "
             f"from the `--proxy NAME=LISTEN=UPSTREAM` flags in {project.path})")
            for i, link in broken if link is not None and link not in links]


def proxy_links(project: ComposeProject) -> dict[str, str]:
    """Link name -> the service whose fault proxy makes it, from `--proxy NAME=...` flags."""
    links: dict[str, str] = {}
    for service in project.services.values():
        args = service.command
        flags = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--proxy"]
        flags += [arg.removeprefix("--proxy=") for arg in args if arg.startswith("--proxy=")]
        for flag in flags:
            links.setdefault(flag.split("=", 1)[0], service.name)
    return links


def check_stack_roles(scenario: Scenario, project: ComposeProject) -> None:
    """SpecError naming each field of the scenario that names no service of `project`."""
    problems = [Problem(str(project.path), None, None, f"scenario {scenario.name}: {dotted(field)}", message)
                for field, message in stack_role_issues(scenario, project)]
    if problems:
        raise SpecError(problems)
