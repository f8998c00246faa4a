"""Fault injectors, registered by the `type` a scenario gives them."""

from harness.faults import rollout as _rollout  # noqa: F401  (registers "rollout")
from harness.faults.base import FaultContext, FaultStack, Injected, injector_for, register

__all__ = ["FaultContext", "FaultStack", "Injected", "injector_for", "register"]
