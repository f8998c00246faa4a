"""A whole game day played through the console alone, in a real browser (Debian's Chromium).

drills/gameday/hung-workers.yaml, twenty times faster (time compression: the baseline, the
surprise window and the targets shrink; the pace, leases and alert windows do not): two
people in two browser pages, and the status page in a third. At each step the test checks
the page, the incident header and the status page, and keeps a screenshot under the run's
`artifacts/screenshots/` for review (set GAMEDRILL_TEST_RUNS_DIR to keep the run beyond
pytest's own temporary directories, which it prunes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from liverun import running_drill
from playwright.sync_api import Browser, Page, expect
from test_console_browser import browser, console_url, journal_has, open_console  # noqa: F401 (fixture)

from harness.control import Access
from harness.timeline import read_journal

ROOT = Path(__file__).resolve().parents[2]
GAME_DAY = ROOT / "drills" / "gameday" / "hung-workers.yaml"
LAPTOP = {"width": 1366, "height": 768}
COMMON_FORMS = ("#f-ack", "#f-declare", "#f-role", "#f-update", "#f-act")


def fast_copy(tmp_path: Path) -> Path:
    text = GAME_DAY.read_text().replace("scenario: ../../scenarios/", f"scenario: {ROOT / 'scenarios'}/")
    path = tmp_path / "hung-workers-fast.yaml"
    path.write_text(text + "time_compression: 20\n")
    return path


class Shots:
    """Screenshots kept in the run directory, numbered in the order of the game day."""

    def __init__(self, run_dir: Path, record: Callable[[str, object], None]) -> None:
        self.dir = run_dir / "artifacts" / "screenshots"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.record, self.count = record, 0

    def take(self, page: Page, name: str) -> None:
        self.count += 1
        path = self.dir / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.record(f"screenshot_{name}", str(path))


def submit(page: Page, form: str) -> None:
    page.click(f"{form} button[type=submit]")


@pytest.mark.timeout(300)
def test_a_game_day_played_through_the_console_alone(browser: Browser, tmp_path: Path,  # noqa: F811
                                                     record_property: Callable[[str, object], None]) -> None:
    errors: list[str] = []
    runs = Path(os.environ.get("GAMEDRILL_TEST_RUNS_DIR") or tmp_path / "runs")
    with running_drill(runs, fast_copy(tmp_path), "--seed", "3") as (proc, run_dir):
        shots = Shots(run_dir, record_property)
        team_url = console_url(run_dir, Access.TEAM)
        base = team_url.split("/console")[0]
        alice = open_console(browser, team_url, "alice", errors)
        alice.set_viewport_size(LAPTOP)
        status = browser.new_page()
        status.goto(f"{base}/status")
        expect(status.locator("#summary")).to_have_attribute("data-status", "none")

        # The common actions fit a laptop screen without a long scroll.
        for form in COMMON_FORMS:
            box = alice.locator(f"{form} button[type=submit]").bounding_box()
            assert box is not None and box["y"] + box["height"] <= LAPTOP["height"], (form, box)

        # The page goes out.
        expect(alice.locator("#page-banner")).to_be_visible(timeout=90_000)
        expect(alice.locator("#inc-ack")).to_have_text("paging, not acknowledged")
        shots.take(alice, "paged")

        # Bob opens the console mid-incident: his charts cover the drill from its start, with a legend.
        bob = open_console(browser, team_url, "bob", errors)
        windows = [e for e in read_journal(run_dir / "journal.jsonl") if e.kind == "slo.window"]
        expect(bob.locator("#legend-errors")).to_contain_text("web-1")
        expect(bob.locator("#legend-errors")).to_contain_text("all nodes")
        points = bob.locator("#chart-errors polyline.overall").get_attribute("points") or ""
        assert len(points.split()) >= len(windows) > 5, (len(points.split()), len(windows))
        expect(bob.locator("#errors-range")).to_contain_text("0:00 to")  # every window since the drill started

        # Bob acknowledges: the page goes quiet for everyone, and says who has it.
        bob.click("#page-ack")
        journal_has(run_dir, lambda e: e.kind == "team.ack" and e.data["by"] == "bob")
        for page in (alice, bob):
            expect(page.locator("#page-banner")).to_be_hidden()
            expect(page.locator("#inc-ack")).to_contain_text("acknowledged by bob")
        shots.take(alice, "acknowledged")

        # Alice declares and takes command; the header says so.
        alice.select_option("#declare-severity", "1")
        expect(alice.locator("#declare-help")).to_contain_text("SEV1")
        alice.fill("#declare-commander", "alice")
        submit(alice, "#f-declare")
        expect(bob.locator("#inc-severity")).to_have_text("SEV1")
        expect(bob.locator("#inc-commander")).to_have_text("alice")
        expect(bob.locator("#inc-status")).to_have_text("investigating")
        expect(bob.locator("#inc-since")).to_contain_text("ago")

        # Roles, each explained where it is chosen.
        for role, who in (("comms", "bob"), ("ops", "dave"), ("scribe", "carol")):
            alice.select_option("#role-role", role)
            expect(alice.locator("#role-help")).not_to_be_empty()
            alice.fill("#role-who", who)
            submit(alice, "#f-role")
            expect(alice.locator("#inc-roles")).to_contain_text(f"{role} {who}")
        shots.take(alice, "declared")

        # Comms posts an update that moves the status page to identified.
        bob.fill("#update-impact", "Product pages failing for most customers")
        bob.fill("#update-action", "We found the change behind it and are undoing it")
        bob.select_option("#update-status", "identified")
        submit(bob, "#f-update")
        expect(status.locator("#summary")).to_have_attribute("data-status", "identified", timeout=10_000)
        expect(status.locator("#summary")).to_contain_text("Product pages failing for most customers")
        expect(status.locator("#components")).to_contain_text("Storefront")
        expect(alice.locator("#inc-status")).to_have_text("identified")
        shots.take(status, "status-identified")

        # Suspect and scope.
        alice.fill("#suspect-change", "script_push v2")
        submit(alice, "#f-suspect")
        for node in ("web-1", "web-2", "web-3"):
            alice.check(f"#scope-nodes input[value={node}]")
        submit(alice, "#f-scope")
        journal_has(run_dir, lambda e: e.kind == "team.scope")

        # Act on a canary, then everywhere; each action explained where it is chosen.
        for action in ("rollback-script", "kill-hung-workers"):
            for canary in ("web-1", ""):
                alice.select_option("#act-action", action)
                expect(alice.locator("#act-help")).to_contain_text("Canary")
                alice.select_option("#act-canary", canary)
                submit(alice, "#f-act")
                asked = journal_has(run_dir, lambda e, a=action, c=canary: e.kind == "team.act"
                                    and e.data["action"] == a and e.data["canary"] == (c or None))
                result = journal_has(run_dir, lambda e, after=asked.seq: e.kind == "action.result"
                                     and e.seq > after)
                assert result.data["ok"], result.data
                if canary:  # the canary first: that node only (everywhere then covers the rest)
                    assert result.data["nodes"] == [canary], result.data
        expect(alice.locator("#timeline")).to_contain_text("kill-hung-workers on canary web-1")
        expect(alice.locator("#timeline")).to_contain_text("service restored", timeout=60_000)
        shots.take(alice, "restored")

        # Comms closes the status page; the commander resolves.
        bob.fill("#update-impact", "Product pages work again")
        bob.fill("#update-action", "Service restored; we keep watching")
        bob.select_option("#update-status", "resolved")
        submit(bob, "#f-update")
        expect(status.locator("#summary")).to_have_attribute("data-status", "resolved", timeout=10_000)
        shots.take(status, "status-resolved")
        alice.check("#resolve-sure")
        submit(alice, "#f-resolve")
        expect(alice.locator("#state-banner")).to_contain_text("The drill is over: resolved", timeout=60_000)
        expect(alice.locator("#inc-status")).to_have_text("resolved")
        proc.wait(timeout=90)
        shots.take(alice, "resolved")

    timeline = alice.locator("#timeline").inner_text()
    assert "webhooks[" not in timeline and "team." not in timeline, timeline  # plain words only
    assert errors == [], errors
    events = read_journal(run_dir / "journal.jsonl")
    assert events[-1].kind == "run.finished" and events[-1].data["outcome"] == "resolved"
    assert [e.data.get("status") for e in events if e.kind == "team.update"] == ["identified", "resolved"]
    page = (run_dir / "status.html").read_text()
    assert 'data-status="resolved"' in page and "Product pages failing for most customers" in page
    assert len(list(shots.dir.glob("*.png"))) == shots.count >= 6
