"""Collection and settings of the pytest plugin: which files become tests, what bad input says.

Nothing here starts a drill (`--collect-only` or settings only), so these run inline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from plugin_project import GOOD_RUNBOOK, SCENARIO, SCENARIO_PATH, drill_yaml

from harness.pytest_run import configured
from harness.pytest_settings import GamedrillSettings
from harness.spec import load_drill

pytest_plugins = ["pytester"]


def collected(result: pytest.RunResult) -> list[str]:
    return sorted(line for line in result.outlines if "::" in line)


def test_drill_files_with_a_responder_are_collected_and_scenarios_are_not(project: pytest.Pytester) -> None:
    drills = project.path / "drills"
    (drills / "suite").mkdir()
    (drills / "suite" / "good.yaml").write_text(drill_yaml("good-runbook", GOOD_RUNBOOK,
                                                           scenario=f"../../{SCENARIO_PATH}"))
    (drills / "people.yaml").write_text(drill_yaml("people-play", "[]").replace("responder:\n  []\n", ""))
    (drills / "scenario.yaml").write_text(SCENARIO)
    (project.path / "suites").mkdir()
    (project.path / "suites" / "elsewhere.yaml").write_text(drill_yaml("outside-the-globs", GOOD_RUNBOOK))

    result = project.runpytest("--collect-only", "-q")

    assert collected(result) == ["drills/suite/good.yaml::good-runbook"]
    assert result.ret == pytest.ExitCode.OK


def test_a_file_named_on_the_command_line_is_collected_whatever_the_globs(project: pytest.Pytester) -> None:
    (project.path / "suites").mkdir()
    (project.path / "suites" / "elsewhere.yaml").write_text(drill_yaml("outside-the-globs", GOOD_RUNBOOK))

    result = project.runpytest("--collect-only", "-q", "suites/elsewhere.yaml")

    assert collected(result) == ["suites/elsewhere.yaml::outside-the-globs"]


def test_the_drill_globs_come_from_the_ini_file(project: pytest.Pytester) -> None:
    project.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:locust -p no:cacheprovider"\n'
                              'gamedrill_drills = ["suites/*.yml"]\n')
    (project.path / "suites").mkdir()
    (project.path / "suites" / "a.yml").write_text(drill_yaml("in-suites", GOOD_RUNBOOK))
    (project.path / "drills" / "b.yaml").write_text(drill_yaml("in-drills", GOOD_RUNBOOK))

    result = project.runpytest("--collect-only", "-q")

    assert collected(result) == ["suites/a.yml::in-suites"]


def test_bad_yaml_is_a_collection_error_naming_the_file_and_line(project: pytest.Pytester) -> None:
    (project.path / "drills" / "broken.yaml").write_text("kind: drill\nname: broken\nteam: [unclosed\n")

    result = project.runpytest("-q")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting drills/broken.yaml*",
                                 "*drills/broken.yaml is not a valid drill:",
                                 "*drills/broken.yaml:4:1: *"])
    assert "Traceback" not in result.stdout.str()


def test_an_invalid_drill_lists_every_problem_with_its_field(project: pytest.Pytester) -> None:
    text = drill_yaml("typos", GOOD_RUNBOOK).replace("baseline_s: 4", "baseline_s: four")
    text = text.replace("action: rollback-config, canary", "action: rollback-cnofig, canary")
    (project.path / "drills" / "typos.yaml").write_text(text)
    (project.path / "drills" / "good.yaml").write_text(drill_yaml("good", GOOD_RUNBOOK))

    result = project.runpytest("-q", "--collect-only")

    result.stdout.fnmatch_lines(["*drills/typos.yaml:6:*: baseline_s: *"])
    assert "drills/good.yaml::good" in result.stdout.str()  # one bad file does not hide the others
    assert result.ret == pytest.ExitCode.INTERRUPTED
    text = text.replace("baseline_s: four", "baseline_s: 4")
    (project.path / "drills" / "typos.yaml").write_text(text)

    result = project.runpytest("-q", "--collect-only")

    result.stdout.fnmatch_lines(
        ["*drills/typos.yaml:*: responder[[]8[]].act.action: unknown action 'rollback-cnofig'; actions: *; "
         "did you mean 'rollback-config'?"])


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--gamedrill-backend=dokcer"], {}, "--gamedrill-backend: expected one of local, docker, got 'dokcer'"),
    (["--gamedrill-time-compression=0.5"], {}, "--gamedrill-time-compression: expected a number >= 1*"),
    ([], {"GAMEDRILL_KEEP": "perhaps"}, "environment GAMEDRILL_KEEP: expected true or false, got 'perhaps'"),
    (["--gamedrill-stack-scope=forever"], {}, "--gamedrill-stack-scope: expected one of function, *"),
    (["--gamedrill-history=mine"], {}, "--gamedrill-history: expected one of own, shared, got 'mine'"),
])
def test_a_bad_setting_is_a_usage_error_naming_where_it_came_from(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str],
        message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    result = project.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_settings_precedence_is_marker_option_environment_ini(project: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:locust -p no:cacheprovider"\n'
                              'gamedrill_runs_dir = "from-ini"\ngamedrill_time_compression = "2"\n'
                              'gamedrill_keep = true\ngamedrill_stack_scope = "module"\n')
    monkeypatch.setenv("GAMEDRILL_TIME_COMPRESSION", "3")
    monkeypatch.setenv("GAMEDRILL_BACKEND", "docker")
    project.makepyfile(test_settings="""
        import pytest
        from harness.pytest_settings import settings_for

        def test_session(gamedrill_settings, request):
            s = gamedrill_settings
            assert (s.runs_dir, s.time_compression, s.keep, s.stack_scope, s.backend) == (
                request.config.rootpath / "from-ini", 3.0, True, "module", "local")

        @pytest.mark.gamedrill(time_compression=5, keep=False)
        def test_marker(request):
            s = settings_for(request.node)
            assert (s.time_compression, s.keep, s.backend) == (5.0, False, "local")
        """)

    result = project.runpytest("--gamedrill-backend=local", "-q")

    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(("ini", "args", "expected"), [
    ("", [], "own"),
    ('gamedrill_history = "shared"\n', [], "shared"),
    ('gamedrill_history = "shared"\n', ["--gamedrill-history=own"], "own"),
    ("", ["--gamedrill-history=shared"], "shared"),
])
def test_the_history_is_the_plugins_own_unless_told_to_share(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ini: str, args: list[str], expected: str) -> None:
    monkeypatch.setenv("GAMEDRILL_HISTORY", "/elsewhere/history.sqlite")  # the shared file's name: never a setting
    project.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:locust -p no:cacheprovider"\n' + ini)
    project.makepyfile(test_history=f"""
        from harness.pytest_settings import PYTEST_HISTORY_NAME

        def test_history(gamedrill_settings, request):
            runs = request.config.rootpath / "runs"
            assert gamedrill_settings.history == {expected!r}
            assert gamedrill_settings.history_for(runs) == (
                None if {expected!r} == "shared" else runs / PYTEST_HISTORY_NAME)
        """)

    project.runpytest(*args, "-q").assert_outcomes(passed=1)


def test_glob_matching_spans_directories_only_with_double_star(tmp_path: Path) -> None:
    settings = GamedrillSettings(rootdir=tmp_path, drill_globs=("drills/**/*.yaml", "one/*.yml"))

    assert settings.is_drill_path(tmp_path / "drills" / "a.yaml")
    assert settings.is_drill_path(tmp_path / "drills" / "x" / "y" / "a.yaml")
    assert settings.is_drill_path(tmp_path / "one" / "a.yml")
    assert not settings.is_drill_path(tmp_path / "one" / "two" / "a.yml")
    assert not settings.is_drill_path(tmp_path / "drillsx" / "a.yaml")
    assert not settings.is_drill_path(tmp_path.parent / "drills" / "a.yaml")


def test_the_backend_and_time_compression_settings_reach_the_drill(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / SCENARIO_PATH).write_text(SCENARIO)
    (tmp_path / "drills").mkdir()
    path = tmp_path / "drills" / "d.yaml"
    path.write_text(drill_yaml("d", GOOD_RUNBOOK))
    drill = load_drill(path)

    changed = configured(drill, GamedrillSettings(rootdir=tmp_path, backend="docker", time_compression=4.0))

    assert (changed.backend, changed.time_compression) == ("docker", 4.0)
    assert (drill.backend, drill.time_compression) == ("local", 1.0)  # the loaded drill is untouched
    unset = configured(drill, GamedrillSettings(rootdir=tmp_path))
    assert (unset.backend, unset.time_compression) == ("local", 1.0)  # the drill's own
    docker_drill = drill.model_copy(update={"backend": "docker"})
    assert configured(docker_drill, GamedrillSettings(rootdir=tmp_path)).backend == "docker"


def test_drill_tests_carry_the_gamedrill_marker_and_an_empty_glob_list_collects_none(
        project: pytest.Pytester) -> None:
    (project.path / "drills" / "good.yaml").write_text(drill_yaml("good", GOOD_RUNBOOK))
    project.makepyfile(test_plain="def test_plain():\n    pass\n")

    assert collected(project.runpytest("--collect-only", "-q", "-m", "gamedrill")) == ["drills/good.yaml::good"]
    assert collected(project.runpytest("--collect-only", "-q", "-m", "not gamedrill")) == [
        "test_plain.py::test_plain"]
    project.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:locust -p no:cacheprovider"\n'
                              "gamedrill_drills = []\n")
    assert collected(project.runpytest("--collect-only", "-q")) == ["test_plain.py::test_plain"]
