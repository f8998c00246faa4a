"""Compose durations (`1m30s`, `100ms`, `2s`, or a bare number of seconds)."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration_s(value: object) -> float:
    """Seconds in `value`; raises ValueError quoting the value when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return float(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a duration (like '2s', '100ms', '1m30s')")
    parts = _PART.findall(value)
    if "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"{value!r} is not a duration (like '2s', '100ms', '1m30s')")
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)
