"""Fault injectors, registered by the `type` a scenario gives them (one module per family)."""

# Importing a family registers its types: one module per family.
from harness.faults import cpu_hog, fd_limit, kill, network, pause, restart, rollout
from harness.faults.base import FaultContext, FaultStack, Injected, injector_for, reattach, register

__all__ = ["FaultContext", "FaultStack", "Injected", "cpu_hog", "fd_limit", "injector_for", "kill", "network", "pause",
           "reattach", "register", "restart", "rollout"]
