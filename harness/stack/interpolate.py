"""Compose-style variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
`${VAR:?message}`, `${VAR?message}` and `$$` for a literal dollar, as the Compose spec defines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.yamlsrc import FieldPath

_BRACED = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
_BARE = re.compile(r"\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
_TOKEN = re.compile(r"\$\$|" + _BRACED.pattern + r"|" + _BARE.pattern.replace("?P<name>", "?P<bare>") + r"|\$")


class InterpolationError(ValueError):
    def __init__(self, where: FieldPath, message: str) -> None:
        self.where = where
        super().__init__(message)


def variables_in(data: Any) -> set[str]:
    """Every variable name any string value (or key) of `data` refers to."""
    found: set[str] = set()
    for text in _strings(data):
        for match in _TOKEN.finditer(text):
            name = match.group("name") or match.group("bare")
            if name:
                found.add(name)
    return found


def interpolate(data: Any, env: Mapping[str, str], where: FieldPath = ()) -> Any:
    """A copy of `data` with every string interpolated from `env`; raises InterpolationError."""
    if isinstance(data, dict):
        return {key: interpolate(value, env, (*where, key)) for key, value in data.items()}
    if isinstance(data, list):
        return [interpolate(item, env, (*where, index)) for index, item in enumerate(data)]
    if isinstance(data, str):
        return _substitute(data, env, where)
    return data


def _substitute(text: str, env: Mapping[str, str], where: FieldPath) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$$":
            return "$"
        if token == "$":
            raise InterpolationError(where, f"invalid interpolation format in {text!r}; use $$ for a dollar")
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset_or_empty = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if unset_or_empty else value or ""
        if op in (":?", "?"):
            if unset_or_empty:
                raise InterpolationError(where, f"required variable {name} is missing: {arg or 'no message'}")
            return value or ""
        return value or ""  # Compose substitutes an unset variable with an empty string

    return _TOKEN.sub(replace, text)


def _strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for key, value in data.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(data, list):
        return [s for item in data for s in _strings(item)]
    return [data] if isinstance(data, str) else []
