"""Toxiproxy's JSON, in and out: the one module that knows its wire names and Go's decoding rules.

Go's decoder is mirrored where clients can tell: keys match case-insensitively, unknown
keys are ignored, `null` leaves a field alone, data after the first JSON value is ignored,
an integer field refuses `1.5` and `1.0`, and a wrong type is reported as
`json: cannot unmarshal string into Go struct field Proxy.name of type string`.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from harness.proxy.errors import ApiError, bad_request_body
from harness.proxy.model import ToxicSpec
from harness.proxy.toxics import ValidatedToxic, wire_fields

INT_BOUND = 1 << 63  # Go's int and int64 on the 64-bit platforms Toxiproxy ships for
FLOAT32_MAX = 3.4028234663852886e38
MAX_TTL_S = 1e6  # leases are for drills; a longer one is a mistake (and must stay a finite number)
JsonObject = dict[str, Any]


class Missing:
    """A key absent from the body (JSON null counts as absent too, as in Go)."""


MISSING = Missing()


def parse_body(body: bytes) -> Any:
    """The first JSON value of the body; numbers with a fraction or exponent stay Decimal."""
    text = body.decode("utf-8", errors="replace").lstrip()
    if not text:
        raise bad_request_body("EOF")
    try:
        value, _ = json.JSONDecoder(parse_float=Decimal).raw_decode(text)
    except json.JSONDecodeError as exc:
        raise bad_request_body(f"invalid JSON: {exc}") from exc
    except RecursionError:  # Go's decoder stops at a depth of 10,000; ours sooner
        raise bad_request_body("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise bad_request_body(f"invalid JSON: {exc}") from exc
    return value


def json_kind(value: Any) -> str:
    """The JSON type of a value, as Go's error messages name it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def type_error(value: Any, where: str, go_type: str) -> ApiError:
    return bad_request_body(f"json: cannot unmarshal {json_kind(value)} into Go {where} of type {go_type}")


def expect_object(value: Any, go_type: str) -> JsonObject:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request_body(f"json: cannot unmarshal {json_kind(value).split()[0]} into Go value of type {go_type}")
    return value


def get(obj: JsonObject, key: str) -> Any:
    """obj[key], matching the key case-insensitively like Go; MISSING when absent or null."""
    value = obj.get(key, MISSING)
    if value is MISSING:
        for name, candidate in obj.items():
            if name.lower() == key:
                value = candidate
    return MISSING if value is None else value


def get_str(obj: JsonObject, key: str, struct: str, default: str) -> str:
    value = get(obj, key)
    if value is MISSING:
        return default
    if not isinstance(value, str):
        raise type_error(value, f"struct field {struct}.{key}", "string")
    return value


def get_bool(obj: JsonObject, key: str, struct: str, default: bool) -> bool:
    value = get(obj, key)
    if value is MISSING:
        return default
    if not isinstance(value, bool):
        raise type_error(value, f"struct field {struct}.{key}", "bool")
    return value


def get_float(obj: JsonObject, key: str, struct: str, default: float) -> float:
    value = get(obj, key)
    if value is MISSING:
        return default
    number = None if isinstance(value, bool) or not isinstance(value, int | Decimal) else float(value)
    if number is None or abs(number) > FLOAT32_MAX:
        raise type_error(value, f"struct field {struct}.{key}", "float32")
    return number


def get_int(obj: JsonObject, key: str, struct: str, go_type: str, default: int) -> int:
    value = get(obj, key)
    if value is MISSING:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not -INT_BOUND <= value < INT_BOUND:
        raise type_error(value, f"struct field {struct}.{key}", go_type)
    return value


def get_ttl_s(obj: JsonObject) -> float | Missing | None:
    """gamedrill's lease extension: a positive number of seconds, null to drop the lease."""
    if "ttl_s" not in obj:
        return MISSING
    value = obj["ttl_s"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or not 0 < value <= MAX_TTL_S:
        shown = str(value) if isinstance(value, Decimal) else json.dumps(value)
        raise bad_request_body(
            f"ttl_s: must be a number of seconds above 0 and up to {MAX_TTL_S:g}, or null; got {shown}"
        )
    return float(value)


# ---- toxics ------------------------------------------------------------------------------


def go_struct_name(toxic_type: str) -> str:
    return "".join(part.title() for part in toxic_type.split("_")) + "Toxic"


def decode_attributes(toxic_type: str, base: Any, raw: Any) -> Any:
    """`base` with the attributes in `raw` applied; only the keys present change."""
    struct = go_struct_name(toxic_type)
    if raw is MISSING:
        raw = {}
    if not isinstance(raw, dict):
        raise type_error(raw, "struct field ToxicWrapper.attributes", f"toxics.{struct}")
    changes = {
        f.name: get_int(raw, f.metadata["wire"], f"{struct}.attributes", f.metadata["go_type"], getattr(base, f.name))
        for f in wire_fields(type(base))
    }
    toxic = dataclasses.replace(base, **changes)
    if isinstance(toxic, ValidatedToxic):
        try:
            toxic.validate()
        except ValueError as exc:
            raise bad_request_body(str(exc)) from exc
    return toxic


def render_proxy(
    name: str, listen: str, upstream: str, enabled: bool, toxics: list[JsonObject], ttl_s_left: float | None
) -> JsonObject:
    """Go's field order. `Logger` is Toxiproxy's too: its Proxy struct exports `Logger *zerolog.Logger`
    without a json tag, and a zerolog.Logger, having no exported fields, marshals as `{}`."""
    rendered: JsonObject = {
        "name": name,
        "listen": listen,
        "upstream": upstream,
        "enabled": enabled,
        "Logger": {},
        "toxics": toxics,
    }
    if ttl_s_left is not None:
        rendered["ttl_s_left"] = round(ttl_s_left, 3)
    return rendered


def render_toxic(spec: ToxicSpec, ttl_s_left: float | None) -> JsonObject:
    attributes = {f.metadata["wire"]: getattr(spec.toxic, f.name) for f in wire_fields(type(spec.toxic))}
    rendered: JsonObject = {
        "attributes": attributes,
        "name": spec.name,
        "type": spec.type,
        "stream": spec.stream,
        "toxicity": render_float(spec.toxicity),
    }
    if ttl_s_left is not None:
        rendered["ttl_s_left"] = round(ttl_s_left, 3)
    return rendered


def render_float(value: float) -> float | int:
    """Go prints a whole float32 without a fraction (`1`, not `1.0`)."""
    return int(value) if value.is_integer() else value


def dumps(value: Any) -> bytes:
    """Compact, like Go's json.Marshal."""
    return json.dumps(value, separators=(",", ":")).encode()
