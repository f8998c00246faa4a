"""Property-based tests (hypothesis) of the proxy API's input layer: whatever JSON (or bytes)
a client sends, parsing ends in a value or a client error (4xx) with Toxiproxy's message,
never in another exception (which the server would answer with a 500)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.proxy import wire
from harness.proxy.collection import entries_from_json
from harness.proxy.errors import ApiError
from harness.proxy.toxic_input import new_toxic, updated_toxic
from harness.proxy.toxics import REGISTRY

KEYS = st.sampled_from(["name", "type", "stream", "toxicity", "attributes", "ttl_s", "listen", "upstream",
                        "enabled", "latency", "jitter", "rate", "delay", "timeout", "average_size",
                        "size_variation", "bytes", "Type", "STREAM", ""])
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from([*REGISTRY, "upstream", "downstream", "127.0.0.1:0"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
                    max_leaves=20)
TOXIC_BODIES = st.dictionaries(KEYS, JSON, max_size=7) | JSON


def client_error_or_value(parse: Any, *args: Any) -> None:
    try:
        parse(*args)
    except ApiError as error:
        assert 400 <= error.status < 500, (error.status, error.message)
        assert error.message


@settings(max_examples=400, deadline=None, database=None)
@given(body=TOXIC_BODIES)
def test_a_new_toxic_from_any_body_is_a_toxic_or_a_client_error(body: Any) -> None:
    client_error_or_value(new_toxic, body, {"latency_downstream"})


@settings(max_examples=400, deadline=None, database=None)
@given(body=TOXIC_BODIES, toxic_type=st.sampled_from(sorted(REGISTRY)))
def test_updating_a_toxic_with_any_body_is_a_toxic_or_a_client_error(body: Any, toxic_type: str) -> None:
    valid = {"slicer": {"average_size": 64}}.get(toxic_type, {})  # Go's zero values, where they are valid
    spec, _ = new_toxic({"type": toxic_type, "attributes": valid}, set())
    client_error_or_value(updated_toxic, spec, body)


@settings(max_examples=400, deadline=None, database=None)
@given(body=st.lists(st.dictionaries(KEYS, JSON, max_size=5), max_size=4) | JSON)
def test_any_populate_body_is_entries_or_a_client_error(body: Any) -> None:
    client_error_or_value(entries_from_json, body)


@settings(max_examples=400, deadline=None, database=None)
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_any_request_bytes_parse_or_are_a_client_error(raw: bytes) -> None:
    client_error_or_value(wire.parse_body, raw)


def test_bodies_past_the_parsers_limits_are_client_errors() -> None:
    for raw in (b"[" * 100_000, b'{"latency": ' + b"9" * 5000 + b"}", b"{" * 50_000):
        client_error_or_value(wire.parse_body, raw)
