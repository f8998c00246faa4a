"""Write a run's scorecard files next to its journal, each replaced atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Final

from scorecards.build import build_from_run_dir
from scorecards.model import Scorecard
from scorecards.render_md import render_markdown

JSON_NAME: Final = "scorecard.json"
MARKDOWN_NAME: Final = "scorecard.md"


def write_scorecard(run_dir: Path) -> Scorecard:
    """Build the scorecard from `run_dir`'s journal and write scorecard.json and scorecard.md."""
    card = build_from_run_dir(run_dir)
    _write_atomic(run_dir / JSON_NAME, json.dumps(card.to_dict(), indent=2, sort_keys=True) + "\n")
    _write_atomic(run_dir / MARKDOWN_NAME, render_markdown(card))
    return card


def _write_atomic(path: Path, text: str) -> None:
    """A reader (or a rebuild after a crash) sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the run directory already keeps strangers out
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
