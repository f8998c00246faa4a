"""Write a run's scorecard files next to its journal, each replaced atomically, and store
the run in the history database.

The files come first: a history database that cannot be written (locked, read-only) must
not cost the team its scorecard, so that failure is raised only after they are on disk.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Final

from scorecards import history
from scorecards.build import build_from_run_dir
from scorecards.counterfactual import load_outcome
from scorecards.model import Scorecard
from scorecards.render_html import render_html
from scorecards.render_md import render_markdown
from scorecards.render_postmortem import render_postmortem

JSON_NAME: Final = "scorecard.json"
MARKDOWN_NAME: Final = "scorecard.md"
HTML_NAME: Final = "scorecard.html"
POSTMORTEM_NAME: Final = "postmortem.md"
OUTPUT_NAMES: Final = (JSON_NAME, MARKDOWN_NAME, HTML_NAME, POSTMORTEM_NAME)
PLAN_WITHIN_LINES: Final = 5  # run.planned follows journal.opened


def write_scorecard(run_dir: Path, history_path: Path | None = None) -> Scorecard:
    """Build the scorecard from `run_dir`'s journal alone, write every output, store it in the history.

    `history_path` None: the one the run was planned into (a pytest run keeps its own), else
    `GAMEDRILL_HISTORY`, else `history.sqlite` beside the run directory.
    """
    card = build_from_run_dir(run_dir)
    write_files(run_dir, card)
    chosen = history_path or planned_history(run_dir) or history.default_path(run_dir.parent)
    with history.connect(chosen) as db:
        history.store(db, card, run_dir.resolve())
    return card


def planned_history(run_dir: Path) -> Path | None:
    """The history run.planned names (the journal's second line; None: the default one)."""
    try:
        with (run_dir / "journal.jsonl").open(encoding="utf-8") as journal:
            for line, _ in zip(journal, range(PLAN_WITHIN_LINES), strict=False):
                event = json.loads(line)
                if event.get("kind") == "run.planned":
                    named = event.get("data", {}).get("history")
                    return Path(named) if isinstance(named, str) and named else None
    except (OSError, ValueError, AttributeError):
        return None  # the scorecard was built from this journal: whatever is wrong, it says so
    return None


def write_files(run_dir: Path, card: Scorecard) -> None:
    counterfactual = load_outcome(run_dir)  # what the delay cost, once `scorecard counterfactual` measured it
    _write_atomic(run_dir / JSON_NAME, json.dumps(card.to_dict(), indent=2, sort_keys=True) + "\n")
    _write_atomic(run_dir / MARKDOWN_NAME, render_markdown(card, counterfactual))
    _write_atomic(run_dir / HTML_NAME, render_html(card, counterfactual))
    _write_atomic(run_dir / POSTMORTEM_NAME, render_postmortem(card))


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
