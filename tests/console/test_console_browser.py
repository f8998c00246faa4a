"""The incident room in a real browser (Debian's headless Chromium, driven by Playwright),
on a real drill: the page, the forms, the journal behind them, the two views.

Screenshots go to the test's own output directory (its tmp_path) and their paths are
attached to the test report as `screenshot_*` properties.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from liverun import running_drill
from playwright.sync_api import Browser, Page, expect, sync_playwright

from harness.control import Access, Tokens
from harness.timeline import Event, read_journal
from harness.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "tests" / "data" / "hung-manual.yaml"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root in a sandbox-less container, with nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():  # fail, never skip: CI installs it
        pytest.fail("headless Chromium is not installed: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def console_url(run_dir: Path, access: Access) -> str:
    link = subprocess.run([sys.executable, "-m", "harness.cli", "console", "--run", str(run_dir),
                           *(["--facilitator"] if access is Access.FACILITATOR else [])],
                          capture_output=True, text=True, timeout=30, check=True, cwd=ROOT)
    return link.stdout.splitlines()[0].strip()


def open_console(browser: Browser, url: str, name: str, errors: list[str]) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.fill("#whoami-name", name)
    page.click("#f-whoami button[type=submit]")
    expect(page.locator("#me")).to_have_text(name)
    return page


def http_status(url: str, token: str | None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def journal_has(run_dir: Path, match: Callable[[Event], bool]) -> Event:
    return wait_until(lambda: next((e for e in read_journal(run_dir / "journal.jsonl") if match(e)), None), 15,
                      "the event in the journal")


@pytest.mark.timeout(300)
def test_the_team_runs_the_incident_from_the_browser(browser: Browser, tmp_path: Path,
                                                     record_property: Callable[[str, object], None]) -> None:
    team_errors: list[str] = []
    with running_drill(tmp_path / "runs", DRILL) as (proc, run_dir):
        team_url = console_url(run_dir, Access.TEAM)
        assert "#token=" in team_url and Tokens.read(run_dir).team in team_url
        page = open_console(browser, team_url, "alice", team_errors)
        assert "#token=" not in page.url, "the token leaves the address bar once read"
        expect(page.locator("#access")).to_have_text("team")

        # The page goes out when the alert fires.
        expect(page.locator("#page-banner")).to_be_visible(timeout=60_000)
        expect(page.locator("#page-text")).to_contain_text("high-error-rate")
        alert = journal_has(run_dir, lambda e: e.kind == "alert.fired")
        shot = tmp_path / "team-paged.png"
        page.screenshot(path=str(shot), full_page=True)
        record_property("screenshot_team_paged", str(shot))

        # Declare: the event carries the person's name and the server's timestamp.
        page.select_option("#declare-severity", "1")
        page.fill("#declare-commander", "alice")
        page.click("#f-declare button[type=submit]")
        declared = journal_has(run_dir, lambda e: e.kind == "team.declare")
        assert declared.data["by"] == "alice" and declared.data["severity"] == 1
        assert declared.t_s > alert.t_s and declared.wall > alert.wall
        expect(page.locator("#timeline")).to_contain_text("alice declared SEV1")

        # A status update with its three parts.
        page.fill("#update-impact", "product pages failing on every node")
        page.fill("#update-action", "rolling back script v2")
        page.fill("#update-next", "10")
        page.click("#f-update button[type=submit]")
        update = journal_has(run_dir, lambda e: e.kind == "team.update")
        assert update.data == {"by": "alice", "impact": "product pages failing on every node",
                               "action": "rolling back script v2", "next_update_s": 600, "text": None}
        expect(page.locator("#updates")).to_contain_text("product pages failing on every node")

        # A mitigation on a canary runs there only.
        page.select_option("#act-action", "rollback-script")
        page.select_option("#act-canary", "web-1")
        page.click("#f-act button[type=submit]")
        acted = journal_has(run_dir, lambda e: e.kind == "action.result" and e.data["action"] == "rollback-script")
        assert acted.data["ok"] and acted.data["nodes"] == ["web-1"], acted.data
        asked = journal_has(run_dir, lambda e: e.kind == "team.act")
        assert asked.data["by"] == "alice" and asked.data["canary"] == "web-1"
        expect(page.locator("#timeline")).to_contain_text("rollback-script on canary web-1")

        # The team's view has no ground truth, and the API refuses it to the team's token.
        assert page.locator("#facilitator").is_hidden()
        base = team_url.split("/console")[0]
        assert http_status(f"{base}/v1/truth", Tokens.read(run_dir).team) == 403
        assert http_status(f"{base}/v1/truth", None) == 401

        # The facilitator sees what the team does not.
        facilitator_errors: list[str] = []
        facilitator = open_console(browser, console_url(run_dir, Access.FACILITATOR), "fran", facilitator_errors)
        expect(facilitator.locator("#access")).to_have_text("facilitator")
        expect(facilitator.locator("#truth")).to_contain_text("script_push v2")
        expect(facilitator.locator("#faults")).to_contain_text("rollout")
        expect(facilitator.locator("#phases tr[data-phase=declare]")).not_to_contain_text("running")
        shot = tmp_path / "facilitator.png"
        facilitator.screenshot(path=str(shot), full_page=True)
        record_property("screenshot_facilitator", str(shot))
        assert page.locator("#truth").inner_text() == "" and "Ground truth" not in page.content(), \
            "the team's page never received the ground truth"

        # The status page shows the posted update, without any token.
        status = browser.new_page()
        status.goto(team_url.split("/console")[0] + "/status")
        expect(status.locator("#updates")).to_contain_text("product pages failing on every node")
        expect(status.locator("body")).not_to_contain_text("rollback-script on canary")

        # Resolving from the browser ends the drill.
        page.check("#resolve-sure")
        page.click("#f-resolve button[type=submit]")
        expect(page.locator("#state-banner")).to_contain_text("The drill is over: resolved", timeout=60_000)
        proc.wait(timeout=60)
        shot = tmp_path / "team-resolved.png"
        page.screenshot(path=str(shot), full_page=True)
        record_property("screenshot_team_resolved", str(shot))
    assert team_errors == [] and facilitator_errors == [], (team_errors, facilitator_errors)
    events = read_journal(run_dir / "journal.jsonl")
    assert events[-1].kind == "run.finished" and events[-1].data["outcome"] == "resolved"
