"""Shared fixtures: a real sample stack on the local backend, torn down even on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.stack import LocalBackend, load_compose
from harness.stack.factory import SHOP_COMPOSE


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[LocalBackend]:
    """The sample shop, up and healthy; every process it started is gone afterwards."""
    backend = LocalBackend(load_compose(SHOP_COMPOSE), tmp_path / "run", run_id=f"test-{tmp_path.name}")
    backend.up(timeout_s=30)
    try:
        yield backend
    finally:
        backend.down()
