"""The control API fuzzed from its own OpenAPI document (schemathesis): whatever the paths,
bodies, queries and tokens, it never answers 5xx.

The session behind it is a real `Run`, prepared but not started: the real validation,
error mapping and journal answer every case (nothing is injected, no stack runs).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from harness.control import Tokens, create_app
from harness.runner import RunOptions, prepare_run
from harness.spec import load_drill

DRILL = Path(__file__).parent / "data" / "hung-manual.yaml"


@pytest.fixture(scope="module")
def control() -> Iterator[tuple[schemathesis.BaseSchema, Tokens]]:
    with tempfile.TemporaryDirectory(prefix="gamedrill-fuzz-") as runs:
        run = prepare_run(load_drill(DRILL), RunOptions(runs_dir=Path(runs)))
        tokens = Tokens.generate()
        try:
            schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(run, tokens))
            # The stream is endless by design (its query parameter is tested with the console).
            yield schema.exclude(path="/v1/stream"), tokens
        finally:
            run.journal.close()


def operations() -> list[str]:
    app = create_app(_NoSession(), Tokens.generate())  # the document only; nothing is called
    return sorted(f"{method.upper()} {path}" for path, item in app.openapi()["paths"].items()
                  for method in item if path != "/v1/stream")


class _NoSession:
    run_id = "schema-only"


@pytest.mark.parametrize("label", operations())
def test_no_request_gets_a_server_error(control: tuple[schemathesis.BaseSchema, Tokens], label: str) -> None:
    schema, tokens = control
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def never_5xx(case: schemathesis.Case) -> None:
        for token in (tokens.team, tokens.facilitator, None, "x" * 43):  # team, facilitator, no token, forged
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
            case.validate_response(response, checks=[not_a_server_error])

    never_5xx()
