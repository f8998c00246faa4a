"""Frozen dataclasses <-> JSON-ready dicts, driven by their type hints.

One generic codec instead of a hand-written to_dict/from_dict per class: a field added to
the model is serialised and read back without touching this file. Tuples become lists on
the way out and come back as tuples, so `decode(cls, json.loads(json.dumps(encode(x)))) == x`.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class DecodeError(ValueError):
    """A dict that does not fit the dataclass: names the path of the bad field."""


def encode(value: Any) -> Any:
    """A dataclass (or anything inside one) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: encode(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    return value


def decode(cls: type[T], data: Any, path: str = "$") -> T:
    """Build `cls` from what `encode` produced; a missing or mistyped field raises DecodeError."""
    if not isinstance(data, Mapping):
        raise DecodeError(f"{path}: expected an object for {cls.__name__}, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]  # classes are hashable
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in data:
            if field.default is not dataclasses.MISSING:  # a field added since: older cards keep decoding
                continue
            raise DecodeError(f"{path}.{field.name}: missing")
        kwargs[field.name] = _value(hints[field.name], data[field.name], f"{path}.{field.name}")
    return cls(**kwargs)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _value(hint: Any, value: Any, path: str) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _value(options[0], value, path)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return decode(hint, value, path)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise DecodeError(f"{path}: expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item, f"{path}[{i}]") for i, item in enumerate(value))
        return tuple(_value(arg, item, f"{path}[{i}]") for i, (arg, item) in enumerate(zip(args, value, strict=True)))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise DecodeError(f"{path}: expected an object, got {type(value).__name__}")
        return {str(key): _value(args[1], item, f"{path}.{key}") for key, item in value.items()}
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 2.0 as 2
    if hint in (str, int, float, bool) and (not isinstance(value, hint) or (hint is int and isinstance(value, bool))):
        raise DecodeError(f"{path}: expected {hint.__name__}, got {value!r}")
    return value
