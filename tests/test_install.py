"""Adopted outside this repository: the wheel, installed into a fresh virtualenv, runs the
demo's help and the sample shop's smoke check, scaffolds a project with `gamedrill init`,
validates it, runs its regression drill on autopilot and its pytest suite, all from a
directory that is not a clone.

The wheel is installed without its dependencies, which the fresh virtualenv borrows from
this one through a .pth line (no download per run); gamedrill itself, its shop, scenarios,
drills and schemas come from the wheel only (the test checks where `harness` was imported).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    said = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}\n{said}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(REPO)], check=True, timeout=180)
    (built,) = out.glob("gamedrill-*.whl")
    return built


def test_the_wheel_carries_the_shop_the_scenarios_the_drills_and_the_schemas(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("harness/builtin/compose/shop.yml", "harness/builtin/compose/shop/web.py",
                   "harness/builtin/scenarios/hung-workers.yaml", "harness/builtin/drills/demo.yaml",
                   "harness/builtin/drills/regression/hung-workers.yaml",
                   "harness/builtin/scenarios/scenario.schema.json", "harness/builtin/drills/drill.schema.json",
                   "harness/scaffold/templates/compose.yml.tmpl", "harness/control/static/console.html",
                   "scorecards/templates/scorecard.html.j2"):
        assert needed in names, needed
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


@pytest.mark.timeout(600)
def test_installed_into_a_fresh_venv_init_validate_run_and_pytest(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(wheel)], check=True, timeout=120)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GAMEDRILL_", "PYTHON", "VIRTUAL"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "elsewhere"
    work.mkdir()
    gamedrill = str(venv / "bin" / "gamedrill")

    where = _run([str(python), "-c", "import harness; print(harness.__file__)"], work, env).stdout
    assert where.startswith(str(site)), f"harness came from {where}, not the wheel"
    assert "demo" in _run([gamedrill, "demo", "--help"], work, env).stdout
    assert "hung-workers" in _run([gamedrill, "run", "--dry-run", "builtin:demo"], work, env).stdout
    smoked = _run([gamedrill, "smoke", "--requests", "100"], work, env)
    assert "4xx/5xx and unanswered: " in smoked.stdout, smoked.stdout
    _run([gamedrill, "init", "myproject"], work, env)
    project = work / "myproject"
    _run([gamedrill, "validate", "scenario.yaml", "drills/gameday.yaml", "drills/regression.yaml"], project, env)
    ran = _run([gamedrill, "run", "drills/regression.yaml", "--autopilot"], project, env, timeout_s=240)
    assert "outcome: resolved" in ran.stdout
    tested = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env, timeout_s=300)
    assert "2 passed" in tested.stdout, tested.stdout
