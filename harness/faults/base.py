"""The fault protocol: inject() returns an Injected whose revert() is idempotent.

Faults are registered by their spec `type`; a new fault family is a new module that
calls `register`. Injected faults go on a FaultStack that is unwound last-in-first-out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness.shopapi import ControlPlane, LoadBalancer, Toxiproxy
from harness.stack.base import StackBackend
from harness.timeline import Journal

log = logging.getLogger(__name__)
LEASE_RENEW_S = 1.0  # every lease held is at least three times this (see held_lease_s)
HEAL_MARGIN_S = 5.0  # after a lease lapses: its undo, and the service taking traffic again


def held_lease_s(ttl_s: float) -> float:
    """How long the enforcers (control plane, proxy, lease watcher) hold a fault's lease.

    A fault's `ttl_s` promises that a dead harness's fault is gone *and the shop healthy*
    within ttl_s, so the lease itself lapses sooner: by the time the undo takes, or half
    the TTL for the shortest ones (6 s -> 3 s, still three renewals)."""
    return max(ttl_s - HEAL_MARGIN_S, ttl_s / 2)


@dataclass(frozen=True)
class FaultContext:
    backend: StackBackend
    control_plane: ControlPlane
    lb: LoadBalancer
    nodes: tuple[str, ...]
    run_id: str
    lease_dir: Path  # lease files of process faults (see harness.leasewatch)
    proxy: Toxiproxy | None = None  # the fault proxy's API, when the stack has one


class Injected(Protocol):
    name: str
    ttl_s: float
    detail: dict[str, Any]  # what inject() did, for the journal

    def renew(self, ctx: FaultContext) -> None:
        """Extend the fault's lease by its TTL; whoever holds the lease undoes it if not renewed."""

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        """Undo the fault; calling it twice does nothing the second time."""


Injector = Callable[[Any, FaultContext], Injected]
# (the spec, what fault.injected journaled, ctx) -> the live fault, or None if its lease undid it
Reattacher = Callable[[Any, Mapping[str, Any], FaultContext], "Injected | None"]
_REGISTRY: dict[str, Injector] = {}
_REATTACHERS: dict[str, Reattacher] = {}


def register(fault_type: str) -> Callable[[Injector], Injector]:
    def decorate(injector: Injector) -> Injector:
        _REGISTRY[fault_type] = injector
        return injector
    return decorate


def reattacher(fault_type: str) -> Callable[[Reattacher], Reattacher]:
    """Register how a resumed harness takes over a live fault of this type (`gamedrill run --resume`)."""
    def decorate(function: Reattacher) -> Reattacher:
        _REATTACHERS[fault_type] = function
        return function
    return decorate


def reattach(spec: Any, journaled: Mapping[str, Any], ctx: FaultContext) -> Injected | None:
    return _REATTACHERS[spec.type](spec, journaled, ctx)


def injector_for(fault_type: str) -> Injector:
    try:
        return _REGISTRY[fault_type]
    except KeyError:
        raise ValueError(f"unknown fault type {fault_type!r}; known: {', '.join(sorted(_REGISTRY))}") from None


class FaultStack:
    """Injected faults, reverted last-in-first-out exactly once, whatever goes wrong."""

    def __init__(self, journal: Journal, ctx: FaultContext) -> None:
        self.journal = journal
        self.ctx = ctx
        self._stack: list[tuple[int, Injected]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._keeper = threading.Thread(target=self._keep_leases, name="fault-leases", daemon=True)
        self._keeper.start()

    def inject(self, index: int, spec: Any) -> Injected:
        injector = injector_for(spec.type)
        service = getattr(spec, "service", None)  # process faults name theirs: a resume must expect it down
        self.journal.append("fault.injecting", index=index, type=spec.type, ttl_s=spec.ttl_s,
                            **({"service": service} if service else {}))
        injected = injector(spec, self.ctx)
        with self._lock:
            self._stack.append((index, injected))
        self.journal.append("fault.injected", index=index, type=spec.type, ttl_s=spec.ttl_s, **injected.detail)
        return injected

    @property
    def active(self) -> list[Injected]:
        return [injected for _, injected in self._stack]

    def adopt(self, index: int, injected: Injected) -> None:
        """A fault a dead harness injected and a resumed one holds now (no new fault.injected)."""
        with self._lock:
            self._stack.append((index, injected))

    def revert(self, index: int, how: str) -> None:
        """Revert one fault now (its duration is over); the others stay."""
        with self._lock:
            found = [entry for entry in self._stack if entry[0] == index]
            self._stack = [entry for entry in self._stack if entry[0] != index]
        for entry in found:
            self._revert(*entry, how)

    def revert_all(self, how: str) -> None:
        # The keeper renews until the last revert is done: the faults still waiting their
        # turn must not lapse (a lease watcher and the harness undoing one fault at once).
        while True:
            with self._lock:
                if not self._stack:
                    break
                index, injected = self._stack.pop()
            self._revert(index, injected, how)
        self._stop.set()
        self._keeper.join(timeout=5)

    def _revert(self, index: int, injected: Injected, how: str) -> None:
        try:
            done = injected.revert(self.ctx)
            self.journal.append("fault.reverted", index=index, type=injected.name, how=how, ok=True, **done)
        except Exception as exc:  # one failed revert must not leave the others injected
            log.exception("reverting fault %d failed", index)
            self.journal.append("fault.reverted", index=index, type=injected.name, how=how, ok=False,
                                error=str(exc))

    def _keep_leases(self) -> None:
        """Renew every live fault's lease at a third of its TTL, so one missed renewal is harmless."""
        while not self._stop.wait(LEASE_RENEW_S):
            with self._lock:
                live = [injected for _, injected in self._stack]
            for injected in live:
                try:
                    injected.renew(self.ctx)
                except Exception:  # the next round tries again; the lease is three times longer
                    log.warning("renewing the lease of %s failed", injected.name, exc_info=True)
