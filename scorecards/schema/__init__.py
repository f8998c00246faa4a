"""The published JSON Schema of scorecard.json, one file per schema version."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from scorecards.model import SCHEMA_VERSION


def schema_path(version: str = SCHEMA_VERSION) -> Path:
    """`scorecards/schema/scorecard.v<version>.json` inside the installed package."""
    return Path(str(files("scorecards.schema") / f"scorecard.v{version}.json"))
