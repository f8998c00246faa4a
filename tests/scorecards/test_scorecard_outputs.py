"""The files a run leaves for review: scorecard.json (valid against the published JSON
Schema), scorecard.md, scorecard.html (self-contained, opened in headless Chromium) and
postmortem.md."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from scorecard_journals import FAULT_T_S, good_run, killed_run, planned, seq_of, traffic, window, write_run

from scorecards import (
    OUTPUT_NAMES,
    Scorecard,
    render_html,
    render_markdown,
    render_postmortem,
    schema_path,
    write_scorecard,
)
from scorecards import model as scorecard_model

CHROMIUM_INSTALL = "apt-get install -y chromium"  # Debian's package; .ci/run installs it
CHROMIUM_TIMEOUT_S = 120  # generous: the machine is shared and busy


def relapse_run() -> list[tuple[float, str, dict[str, Any]]]:
    return [*good_run(), *traffic(10, 185, 30, 20), *traffic(186, 200, 30, 0),
            (201.0, "slo.breached", {"window_end_t_s": 200.0, "error_rate": 0.6, "relapse": True}),
            *traffic(200, 230, 30, 18)]


JOURNALS = {
    "good": lambda: [*good_run(), *traffic(5, 200, 30, 6)],
    "relapse": relapse_run,
    "aborted_before_fault": lambda: [planned(), (5.0, "run.aborted", {"reason": "facilitator"}),
                                     (6.0, "run.finished", {"outcome": "aborted", "run_dir": "r"})],
    "crashed_before_plan": list,
    "killed_mid_incident": lambda: [*killed_run(), *traffic(5, 98, 30, 12)],
}


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", sorted(JOURNALS))
def test_write_scorecard_writes_every_output_and_json_that_validates(tmp_path: Path, name: str) -> None:
    run_dir = write_run(tmp_path, JOURNALS[name]())
    card = write_scorecard(run_dir)

    assert sorted(p.name for p in run_dir.iterdir()) == sorted(["journal.jsonl", *OUTPUT_NAMES])
    text = (run_dir / "scorecard.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert data == card.to_dict() and data["schema_version"] == "1"
    assert Scorecard.from_dict(data) == card
    assert (run_dir / "scorecard.md").read_text(encoding="utf-8") == render_markdown(card)
    assert (run_dir / "scorecard.html").read_text(encoding="utf-8") == render_html(card)
    assert (run_dir / "postmortem.md").read_text(encoding="utf-8") == render_postmortem(card)
    assert (tmp_path / "history.sqlite").is_file()  # beside the run directory by default

    write_scorecard(run_dir)  # rebuilding replaces the files with the same content
    assert (run_dir / "scorecard.json").read_text(encoding="utf-8") == text


def test_the_schema_rejects_what_the_model_would_not_write(tmp_path: Path) -> None:
    data = write_scorecard(write_run(tmp_path, JOURNALS["good"]())).to_dict()
    validator = jsonschema.Draft202012Validator(schema())
    for broken in ({**data, "schema_version": "2"}, {**data, "surprise": 1},
                   {**data, "findings": [{**data["findings"][0], "passed": "yes"}]},
                   {k: v for k, v in data.items() if k != "grade"}):
        assert not validator.is_valid(broken)
    with pytest.raises(ValueError, match=r"\$\.grade: missing"):
        Scorecard.from_dict({k: v for k, v in data.items() if k != "grade"})


def test_the_schema_covers_every_field_of_the_model() -> None:
    definitions = {"Scorecard": schema(), **schema()["$defs"]}
    classes = [cls for cls in vars(scorecard_model).values() if isinstance(cls, type)
               and dataclasses.is_dataclass(cls) and cls.__module__ == scorecard_model.__name__]
    assert {cls.__name__ for cls in classes} == set(definitions)
    for cls in classes:
        fields = [f.name for f in dataclasses.fields(cls)]
        assert list(definitions[cls.__name__]["properties"]) == fields, cls.__name__
        assert definitions[cls.__name__]["required"] == fields and not definitions[cls.__name__][
            "additionalProperties"]


def test_the_html_is_one_self_contained_file(tmp_path: Path) -> None:
    card = write_scorecard(write_run(tmp_path, [*good_run(), *traffic(5, 200, 30, 6)]))
    page = (tmp_path / "r-1" / "scorecard.html").read_text(encoding="utf-8")

    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"] * 3  # SVG namespaces only
    assert "default-src 'none'" in page and "@media print" in page
    assert page.count("<svg") == 3 and page.count('class="series"') >= 2
    # Every incident event is a numbered marker on each chart, with its label as the tooltip.
    incident = [e for e in card.timeline if e.kind.startswith(("fault.", "alert.", "team.", "action.", "restoration."))]
    assert page.count('<g class="marker') == 3 * len(incident)
    assert "1. FAULT injected" in page and "alice declared SEV2" in page
    assert all(f">{node}</text>" in page for node in ("web-1", "web-2", "web-3"))


def test_the_postmortem_is_a_blameless_draft(tmp_path: Path) -> None:
    script = [*good_run(), *traffic(5, 200, 30, 6), (171.0, "team.act", {"by": "alice", "action": "restart",
                                                                       "canary": None, "params": {}})]
    card = write_scorecard(write_run(tmp_path, script))
    text = (tmp_path / "r-1" / "postmortem.md").read_text(encoding="utf-8")

    for heading in ("## Summary", "## Impact", "## Timeline (UTC)", "## Trigger", "## Contributing factors",
                    "## What went well", "## What went poorly", "## Action items"):
        assert heading in text
    assert "Blameless" in text
    fault_seq = seq_of(card, "fault.injected")
    assert f"| 00:00:10 | +0 s | {fault_seq} | FAULT injected: rollout script v2 |" in text  # to the second
    assert "| 00:00:41 | +31 s |" in text
    assert "The trigger was **script_push v2**" in text
    assert card.action_items and all(f"| {item.text} (" in text for item in card.action_items)
    assert text.count("_owner?_") == len(card.action_items) == text.count("_due YYYY-MM-DD?_")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:  # fail, never skip: CI must install it
        pytest.fail(f"headless Chromium is not installed; install it with `{CHROMIUM_INSTALL}`")
    return found


def open_headless(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--window-size=1100,1600", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)


def console_messages(stderr: str) -> list[str]:
    # Chromium logs every console message (errors, CSP violations, uncaught exceptions) as CONSOLE.
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_the_html_opens_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    write_scorecard(write_run(tmp_path, [*relapse_run(), window(FAULT_T_S, 30, 3)]))
    screenshot = tmp_path / "scorecard.png"

    shown = open_headless(tmp_path / "r-1" / "scorecard.html", tmp_path, f"--screenshot={screenshot}")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert console_messages(shown.stderr) == []
    assert screenshot.is_file() and screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    dom = open_headless(tmp_path / "r-1" / "scorecard.html", tmp_path, "--dump-dom")
    assert dom.returncode == 0 and dom.stdout.count("<polyline") >= 2 and dom.stdout.count("<svg") == 3


def test_the_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    """The detector above must see what it is meant to see, or its silence proves nothing."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                    "<img src=\"http://127.0.0.1:9/x.png\"><p>broken</p>", encoding="utf-8")
    shown = open_headless(page, tmp_path, f"--screenshot={tmp_path / 'broken.png'}")
    assert shown.returncode == 0
    assert any("Content Security Policy" in line for line in console_messages(shown.stderr))
