"""A toxic as configured through the API (frozen: an update makes a new one)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.proxy.stream import Direction
from harness.proxy.toxics import Toxic


@dataclass(frozen=True)
class ToxicSpec:
    name: str
    type: str
    stream: str  # as the client wrote it; Toxiproxy echoes it back unchanged
    direction: Direction
    toxicity: float  # the chance that a link runs the toxic (rolled per link, per start)
    toxic: Toxic  # the attributes, and the pipe stage built from them
