"""Near-miss suggestions for scenario and drill files: `unknown key 'timout_s'; did you mean
'timeout_s'?`, and the same for enum values and tags (`event: alrt`, `type: toxc`).

A key's candidates are the fields of the models that could sit at that place: those whose
fields include every other key of the same mapping; when none fits, every field name of the
file's models. Nothing here changes what is valid, only what the message says.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["closest", "key_hint", "value_hint"]

_CUTOFF = 0.6  # `akc` for `ack` (0.67); `latncy` for `latency`


def closest(word: str, candidates: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=_CUTOFF)
    return found[0] if found else None


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {}
    pending: list[Any] = [root]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                continue
            seen[annotation] = None
            pending += [field.annotation for field in annotation.model_fields.values()]
            continue
        pending += [arg for arg in typing.get_args(annotation) if not isinstance(arg, str | int | float | bool)]
        if isinstance(annotation, types.UnionType):
            pending += list(annotation.__args__)
    return list(seen)


def _keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def key_hint(root: type[BaseModel], key: str, mapping: Mapping[Any, Any] | None) -> str:
    """`; did you mean 'x'?` for an unknown `key` in `mapping`, or an empty string."""
    models = _models(root)
    others = {other for other in (mapping or {}) if isinstance(other, str) and other != key}
    fitting = [model for model in models if others <= _keys(model)]
    pool: list[str] = [name for model in (fitting or models) for name in _keys(model)]
    if key in pool:  # right elsewhere (`source` of a script, not of a release): no look-alike helps
        return ""
    match = closest(key, pool)
    return f"; did you mean {match!r}?" if match else ""


def value_hint(value: Any, expected: str) -> str:
    """`; did you mean 'x'?` for a value refused as not one of `expected` ("'a', 'b' or 'c'")."""
    if not isinstance(value, str):
        return ""
    match = closest(value, re.findall(r"'([^']*)'", expected))
    return f"; did you mean {match!r}?" if match else ""
