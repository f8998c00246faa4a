"""Compose durations (`1m30s`, `100ms`, `2s`, or a bare number of seconds)."""

from __future__ import annotations

import math
import re

MAX_DURATION_S = 24 * 3600.0  # a healthcheck interval or stop grace period of more than a day is a mistake
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration_s(value: object) -> float:
    """Seconds in `value`; raises ValueError quoting the value when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        seconds = float(min(value, MAX_DURATION_S + 1))  # an int too large for a float is too long anyway
    elif not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a duration (like '2s', '100ms', '1m30s')")
    else:
        parts = _PART.findall(value)
        if "".join(number + unit for number, unit in parts) != value:
            raise ValueError(f"{value!r} is not a duration (like '2s', '100ms', '1m30s')")
        seconds = sum(float(number) * _UNIT_S[unit] for number, unit in parts)
    if math.isnan(seconds):
        raise ValueError(f"{value!r} is not a number of seconds")
    if seconds > MAX_DURATION_S:
        shown = f"{value!r}" if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
        raise ValueError(f"{shown} is longer than {MAX_DURATION_S / 3600:g} hours")
    return seconds
