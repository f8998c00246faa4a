"""`--gamedrill-counterfactual`: a regression suite measures what each drill's delay cost.

The drill rolls the bad config back 6 s after the alert, against a 4 s mitigation target:
both replays (its rollback at the target, and the ground truth's fix at the alert) are real
drills on fresh stacks, and what they spared is in the report and the scorecard.
"""

from __future__ import annotations

import json

import pytest
from plugin_project import drill_yaml, run_inner

pytest_plugins = ["pytester"]

LATE_ROLLBACK = """
- wait_for: {event: alert, timeout_s: 40}
- ack: {by: alice}
- pause: 6
- act: {by: dave, action: rollback-config}
- wait_for: {event: restored, timeout_s: 45}
- resolve: {by: alice}
"""


@pytest.mark.timeout(600)
def test_the_flag_adds_what_the_delay_cost_to_the_report_and_the_scorecard(project: pytest.Pytester) -> None:
    (project.path / "drills" / "late.yaml").write_text(
        drill_yaml("late", LATE_ROLLBACK, targets="{detect_s: 30, mitigate_s: 4}"))

    result = run_inner(project, "--gamedrill-counterfactual")

    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1, result.outlines  # missed mitigate_s: failed
    result.stdout.fnmatch_lines(["*gamedrill: what the delay cost*", "late:",
                                 "  Mitigating at the target (4 s) instead of fault + * would have spared *",
                                 "  The ground truth's best response (act rollback-config everywhere) would have *"])
    [run_dir] = [path for path in (project.path / "runs").iterdir() if path.is_dir()]
    outcome = json.loads((run_dir / "counterfactual.json").read_text())
    assert [v["name"] for v in outcome["variants"]] == ["target", "ideal"]
    assert outcome["failed_requests"] > min(v["failed_requests"] for v in outcome["variants"]), outcome
    assert "## What the delay cost" in (run_dir / "scorecard.md").read_text()
