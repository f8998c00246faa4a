"""The generated prometheus.yml, alerts.rules.yml and alertmanager.yml pass the tools' own checks."""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from promstack import PROMTOOL, require

from harness.errors import SpecError
from harness.observability import (
    ALERTMANAGER_FILE,
    PROMETHEUS_FILE,
    RULES_FILE,
    WEBHOOK_TOKEN_FILE,
    DrillObserver,
    ObservabilitySettings,
    ObservabilitySettingsError,
    webhook_token,
)
from harness.spec import Scenario, load_scenario
from harness.stack import load_compose
from harness.stack.roles import check_stack_roles
from harness.timeline import Journal

ROOT = Path(__file__).parents[2]
SCENARIOS = [*sorted(ROOT.glob("scenarios/*.yaml")), Path(__file__).parent / "data" / "promql-config-rollout.yaml"]
AMTOOL = shutil.which("amtool")


def check(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def written(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, Scenario]]:
    scenario = load_scenario(request.param)
    settings = ObservabilitySettings(alertmanager="127.0.0.1:9093", scrape_interval_s=0.5)
    with Journal.open(tmp_path / "journal.jsonl") as journal:
        observer = DrillObserver.start(journal, "run-1", tmp_path, scenario, 25.0, settings)
        try:
            ports = {name: 20000 + i for i, name in enumerate(
                [scenario.stack.entry, *scenario.stack.nodes, "config", "inventory", *scenario.stack.metrics])}
            observer.write_files("http://127.0.0.1:18080", "facilitator-secret", ports.__getitem__)
            yield tmp_path, scenario
        finally:
            observer.stop()


@pytest.mark.parametrize("written", SCENARIOS, ids=lambda p: p.stem, indirect=True)
def test_promtool_and_amtool_accept_the_generated_files(written: tuple[Path, Scenario]) -> None:
    run_dir, scenario = written
    promtool = require(PROMTOOL, "prometheus")
    out = check(promtool, "check", "rules", str(run_dir / RULES_FILE))
    assert f"SUCCESS: {len(scenario.alerts)} rules found" in out
    check(promtool, "check", "config", str(run_dir / PROMETHEUS_FILE))  # also checks the rule file it names
    check(require(AMTOOL, "prometheus-alertmanager"), "check-config", str(run_dir / ALERTMANAGER_FILE))


@pytest.mark.parametrize("written", SCENARIOS[-1:], ids=["promql"], indirect=True)
def test_the_webhook_credential_is_private_and_is_not_the_facilitator_token(written: tuple[Path, Scenario]) -> None:
    run_dir, _ = written
    for name in (ALERTMANAGER_FILE, WEBHOOK_TOKEN_FILE):
        assert stat.S_IMODE((run_dir / name).stat().st_mode) == 0o600, name
    token = (run_dir / WEBHOOK_TOKEN_FILE).read_text().strip()
    assert token == webhook_token("facilitator-secret") and "facilitator-secret" not in token
    for path in run_dir.iterdir():
        assert "facilitator-secret" not in path.read_text(errors="replace"), path
    config = (run_dir / PROMETHEUS_FILE).read_text()
    assert "127.0.0.1:9093" in config and "__metrics_path__: /metrics" in config
    assert "127.0.0.1:18080/v1/alerts/alertmanager" in (run_dir / ALERTMANAGER_FILE).read_text()


@pytest.mark.parametrize("env, message", [
    ({"GAMEDRILL_ALERTMANAGER": "http://am:9093/"}, "GAMEDRILL_ALERTMANAGER: expected host:port"),
    ({"GAMEDRILL_SCRAPE_INTERVAL_S": "fast"}, "GAMEDRILL_SCRAPE_INTERVAL_S"),
    ({"GAMEDRILL_GRAFANA_URL": "http://127.0.0.1:3000"}, "go together"),
    ({"GAMEDRILL_GRAFANA_URL": "grafana:3000", "GAMEDRILL_GRAFANA_TOKEN": "t"}, "expected an http(s) URL"),
])
def test_bad_settings_name_the_variable_and_the_value(env: dict[str, str], message: str) -> None:
    with pytest.raises(ObservabilitySettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ObservabilitySettings.from_env(env)


def test_a_metrics_service_the_stack_lacks_is_refused_naming_the_field() -> None:
    scenario = load_scenario(SCENARIOS[-1])
    scenario = scenario.model_copy(update={"stack": scenario.stack.model_copy(update={"metrics": {"nope": "/m"}})})
    with pytest.raises(SpecError, match=r"stack\.metrics\.nope: 'nope' is not a service"):
        check_stack_roles(scenario, load_compose(scenario.stack.compose_file))
