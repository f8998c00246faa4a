"""Which kind of incident a run was, for readiness: who has practised what.

Read from the journal alone: the faults injected and the ground truth's trigger. A bad
change (release, script or config) is told apart from a defect that shipped long ago (no
recent change triggered it), a failing dependency (a sick or cut network link) and a
resource or process failure (descriptor limits, CPU, paused or killed processes).
"""

from __future__ import annotations

from typing import Final

from scorecards.journalview import RunView

BAD_RELEASE: Final = "bad release"
BAD_CONFIG: Final = "bad config"
LATENT_DEFECT: Final = "latent defect"
DEPENDENCY: Final = "dependency failure"
RESOURCES: Final = "resource exhaustion"
FAMILIES: Final = (BAD_RELEASE, BAD_CONFIG, LATENT_DEFECT, DEPENDENCY, RESOURCES)
_NETWORK: Final = frozenset({"toxic", "link_down"})
_RESOURCE: Final = frozenset({"fd_limit", "cpu_hog", "pause", "kill", "signal", "restart"})


def incident_family(run: RunView) -> str:
    """The run's family, or "" when nothing was injected."""
    types = {str(e.data.get("type")) for e in run.of_kind("fault.injected")}
    if not types:
        return ""
    trigger = run.truth.get("trigger")
    kind = str(trigger.get("kind", "")) if isinstance(trigger, dict) and not trigger.get("none") else ""
    return family_of(kind, types)


def family_of(trigger_kind: str, fault_types: set[str]) -> str:
    """From the ground truth's trigger kind ("" for none) and the types of the faults."""
    kind, types = trigger_kind, fault_types
    if kind == "config_push":
        return BAD_CONFIG
    if kind in ("deploy", "script_push"):
        return BAD_RELEASE
    if types & _NETWORK:
        return DEPENDENCY
    if "rollout" in types:
        return LATENT_DEFECT
    return RESOURCES if types & _RESOURCE else LATENT_DEFECT
