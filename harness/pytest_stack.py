"""The `gamedrill_stack` fixture's body: the sample shop up and healthy, gone afterwards.

Each stack gets its own run directory (logs, stack.json) and ports from the OS, so
parallel pytest-xdist workers never share one. With `--gamedrill-keep`, a stack whose
tests failed stays up for debugging and the report says how to take it down.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import pytest

from harness.pytest_report import GamedrillReporter, kept_note
from harness.pytest_settings import SETTINGS_KEY, settings_for

if TYPE_CHECKING:
    from harness.stack.base import StackBackend

STACK_UP_S: Final = 120.0  # generous: other tests may be loading this 2-core machine


def shop_stack(request: pytest.FixtureRequest) -> Iterator[StackBackend]:
    from harness.liveruns import LiveMark
    from harness.rundir import create_run_dir, discard_run_dir
    from harness.stack.factory import SHOP_COMPOSE, open_backend, up_or_discard

    item = request.node if isinstance(request.node, pytest.Item) else None
    settings = settings_for(item) if item is not None else request.config.stash[SETTINGS_KEY]
    run_id, run_dir = create_run_dir(settings.runs_dir_for(None))
    try:
        live = LiveMark(run_id)  # in use: `gamedrill cleanup --all` leaves it alone
    except BaseException:
        discard_run_dir(run_dir)
        raise
    try:
        try:
            backend = open_backend(SHOP_COMPOSE, run_dir, run_id, settings.backend or "local")
        except BaseException:
            discard_run_dir(run_dir)
            raise
        up_or_discard(backend, run_dir, timeout_s=STACK_UP_S)  # one that does not come up leaves nothing
        reporter = GamedrillReporter.of(request.config)
        reporter.note(item, f"stack run dir: {run_dir} (logs/, stack.json)")
        if settings.keep:
            reporter.note(item, kept_note(run_dir))  # shown only if the test fails, when it is true
        failed_before = request.session.testsfailed
        try:
            yield backend
        finally:
            if settings.keep and request.session.testsfailed > failed_before:
                reporter.kept.append(kept_note(run_dir))
            else:
                backend.down()
    finally:
        live.release()

