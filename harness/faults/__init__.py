"""Fault injectors, registered by the `type` a scenario gives them (one module per family)."""

from harness.faults import network, process, rollout  # importing a family registers its types
from harness.faults.base import FaultContext, FaultStack, Injected, injector_for, register

__all__ = ["FaultContext", "FaultStack", "Injected", "injector_for", "network", "process", "register", "rollout"]
