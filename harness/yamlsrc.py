"""YAML loading that remembers where every value came from.

PyYAML and pydantic forget line numbers; a person fixing a drill file needs them. We load
with ruamel.yaml's round-trip loader, hand plain Python values to the validators, and keep
the source document so that any error path (``services.web-1.ports[0]``) can be mapped
back to a line and column.

Only regular files are read, and at most `MAX_BYTES` of them: a FIFO, a device or
`/dev/zero` is refused before it is opened, never read until memory runs out.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from harness.errors import InputError, Problem, shown

PathItem = str | int
FieldPath = tuple[PathItem, ...]
Position = tuple[int, int]  # 0-based (line, column), as ruamel keeps them
MAX_BYTES = 2 << 20  # a drill, scenario or compose file is a few kilobytes
MAX_VALUES = 100_000  # after aliases are expanded: a "billion laughs" file stops here
_NOT_REGULAR = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
                stat.S_IFSOCK: "a socket"}


class _TooLarge(Exception):
    pass


class _Refused(Exception):
    """Why a file is not read: a Problem's message, located at `position` when known."""

    def __init__(self, message: str, position: Position | None = None, where: FieldPath = ()) -> None:
        super().__init__(message)
        self.position = position
        self.where = where


@dataclass(frozen=True)
class YamlSource:
    """A loaded YAML file: plain data for validation, the node tree for locations."""

    path: Path
    data: Any
    _tree: Any

    def locate(self, where: Sequence[PathItem]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest node of `where` that exists in the file."""
        node = self._tree
        line, col = _own_position(node)
        for item in where:
            position = _child_position(node, item)
            if position is None:
                break
            line, col = position
            node = node[item]
        return line, col

    def problem(self, where: Sequence[PathItem], message: str) -> Problem:
        line, col = self.locate(where)
        return Problem(str(self.path), line, col, dotted(where), message)


# How pydantic names the members of a union in error locations (`float`, `list[str]`,
# `function-plain[...]`, a model's class name); no key of a gamedrill or compose file looks so.
_UNION_LABEL = re.compile(r"int|float|str|bool|none|list|dict|tuple|set|[\w-]*\[.*\]|_?[A-Z]\w*")


def is_union_label(item: PathItem) -> bool:
    """Whether an item of a pydantic error location names a union member, not a key of the file."""
    return isinstance(item, str) and _UNION_LABEL.fullmatch(item) is not None


# Pydantic errors whose message does not quote the value it refused: `said` adds it.
_SAY_THE_VALUE = frozenset({
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number", "int_type",
    "int_parsing", "int_from_float", "float_type", "float_parsing", "bool_type", "bool_parsing", "string_type",
    "literal_error", "string_pattern_mismatch", "string_too_long", "multiple_of", "enum",
})


def said(error_type: str, message: str, value: Any) -> str:
    """A pydantic error's message with the refused value quoted (`..., got inf`) where it lacks it."""
    message = message.removeprefix("Value error, ")
    if error_type in _SAY_THE_VALUE and not isinstance(value, dict | list | tuple):
        message += f", got {shown(value)}"
    return message


def path_in(data: Any, loc: Sequence[PathItem], skip: Callable[[Any, PathItem], bool] | None = None) -> FieldPath:
    """Pydantic's error location as a path in the file: `[key]` markers, union members' labels
    and what `skip(node, item)` says is not in the file (asked first) are dropped; a key
    missing from the file (a required field) ends the path as pydantic named it."""
    path: list[PathItem] = []
    node = data
    for index, item in enumerate(loc):
        if item == "[key]":
            continue
        if skip is not None and skip(node, item):
            continue
        in_map = isinstance(node, dict) and item in node
        in_list = isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)
        if in_map or in_list:
            node = node[item]
            path.append(item)
        elif is_union_label(item):
            continue
        else:
            path.extend(part for part in loc[index:] if part != "[key]" and not is_union_label(part))
            break
    return tuple(path)


def dotted(where: Sequence[PathItem]) -> str:
    """`("services", "web-1", "ports", 0)` -> `services.web-1.ports[0]`."""
    text = ""
    for item in where:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


def load_yaml(path: str | Path, error_type: type[InputError] = InputError) -> YamlSource:
    """Read and parse `path`; syntax errors and unreadable files raise `error_type`."""
    path = Path(path)
    try:
        text = read_text(path)
        tree = _parse(text)
        data = to_plain(tree, [MAX_VALUES])
    except _Refused as exc:
        line, col = (exc.position[0] + 1, exc.position[1] + 1) if exc.position else (None, None)
        raise error_type([Problem(str(path), line, col, dotted(exc.where), str(exc))]) from None
    except _TooLarge:
        raise error_type([Problem(str(path), None, None, "", f"more than {MAX_VALUES} values once its aliases "
                                  "are expanded: refused")]) from None
    except RecursionError:
        raise error_type([Problem(str(path), None, None, "", "nested too deeply")]) from None
    return YamlSource(path=path, data=data, _tree=tree)


def read_text(path: Path) -> str:
    """The UTF-8 text of a regular file of at most MAX_BYTES (symlinks followed); else _Refused."""
    try:
        mode = os.stat(path).st_mode  # before opening: opening a FIFO blocks, a device may act
        if stat.S_ISDIR(mode):
            raise _Refused("cannot read: Is a directory")
        if not stat.S_ISREG(mode):
            raise _Refused(f"not a regular file ({_NOT_REGULAR.get(stat.S_IFMT(mode), 'special')}): refused")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # swapped since the stat above
                raise _Refused("not a regular file: refused")
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _Refused(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _Refused(f"larger than {MAX_BYTES >> 20} MiB: not a drill, scenario or compose file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        position = (raw.count(b"\n", 0, exc.start), exc.start - line_start)
        raise _Refused(f"not UTF-8 text (byte {raw[exc.start]:#04x})", position) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it


def _parse(text: str) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except DuplicateKeyError as exc:
        raise _Refused(_marked_message(exc), _mark(exc), _duplicate_key_path(text, exc)) from None
    except MarkedYAMLError as exc:
        raise _Refused(_marked_message(exc) or "invalid YAML", _mark(exc)) from None
    except ReaderError as exc:  # a control character: ruamel gives its offset in the text
        start = text.rfind("\n", 0, exc.position) + 1
        position = (text.count("\n", 0, exc.position), exc.position - start)
        raise _Refused(f"unacceptable character #x{exc.character:04x}: {exc.reason}", position) from None
    except RecursionError:
        raise _Refused("invalid YAML: nested too deeply") from None
    except ValueError as exc:
        found = _huge_integer(text) if "integer string conversion" in str(exc) else None
        if found is None:
            raise _Refused(f"invalid YAML: {exc}") from None
        raise _Refused(f"an integer of more than {sys.get_int_max_str_digits()} digits: refused", *found) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad anchors)
        raise _Refused(f"invalid YAML: {exc}") from None


def _mark(exc: MarkedYAMLError) -> Position | None:
    mark = exc.problem_mark or exc.context_mark
    return (mark.line, mark.column) if mark is not None else None


def _marked_message(exc: MarkedYAMLError) -> str:
    return " ".join(part for part in (exc.context, exc.problem) if part)


def _duplicate_key_path(text: str, exc: DuplicateKeyError) -> FieldPath:
    """The field of a duplicate key: the path of the mapping holding it, and the key."""
    key = re.search(r'duplicate key "(.*)" with value', exc.problem or "")
    mapping = exc.context_mark
    if key is None or mapping is None:
        return ()
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        tree = yaml.load(text)
    except Exception:
        return ()
    for where, node, position in _walk(tree):
        if isinstance(node, CommentedMap) and position == (mapping.line, mapping.column):
            return (*where, next((k for k in node if str(k) == key[1]), key[1]))
    return ()


_DIGITS = re.compile(r"(?<![\w.])[-+]?[0-9][0-9_]*")


def _huge_integer(text: str) -> tuple[Position, FieldPath] | None:
    """Where an integer too long for Python's int() conversion is, and its field (if found)."""
    limit = sys.get_int_max_str_digits()
    spans = [m.span() for m in _DIGITS.finditer(text) if limit and m.group().count("_") + limit < len(m.group())]
    if not spans:
        return None
    start, end = spans[0]
    line_start = text.rfind("\n", 0, start) + 1
    position = (text.count("\n", 0, start), start - line_start)
    try:  # the same document with a small number there: its tree says which field it is
        tree = YAML(typ="rt").load(text[:start] + "0" + text[end:])
    except Exception:
        return position, ()
    where = next((w for w, _node, at in _walk(tree) if at == position), ())
    return position, where


def _walk(tree: Any) -> Iterator[tuple[FieldPath, Any, Position | None]]:
    """Every node with its path and 0-based position; an aliased node is visited once."""
    seen: set[int] = set()
    stack: list[tuple[FieldPath, Any, Position | None]] = [((), tree, None)]
    while stack:
        where, node, position = stack.pop()
        if isinstance(node, CommentedMap | CommentedSeq):
            if id(node) in seen:
                continue
            seen.add(id(node))
            own = (node.lc.line, node.lc.col)
            yield where, node, own
            if isinstance(node, CommentedMap):
                children = [(key, _at(node.lc.data.get(key), 2)) for key in node]
            else:
                children = [(index, _at(node.lc.data.get(index), 0)) for index in range(len(node))]
            stack.extend(((*where, key), node[key], at) for key, at in reversed(children)
                         if isinstance(key, str | int))
        else:
            yield where, node, position


def _at(data: Any, offset: int) -> Position | None:
    return (data[offset], data[offset + 1]) if data else None


def to_plain(node: Any, budget: list[int] | None = None) -> Any:
    """Round-trip nodes -> dict/list/str/int/float/bool/None (merge keys resolved).

    Aliases become copies, so `budget` (a one-item counter of values still allowed) bounds
    the expansion."""
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooLarge
    if isinstance(node, dict):
        return {to_plain(key, budget): to_plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [to_plain(item, budget) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _own_position(node: Any) -> tuple[int | None, int | None]:
    if isinstance(node, CommentedMap | CommentedSeq):
        return node.lc.line + 1, node.lc.col + 1
    return None, None


def _child_position(node: Any, item: PathItem) -> tuple[int, int] | None:
    try:
        if isinstance(node, CommentedMap) and item in node:
            # Keys pulled in by a merge (`<<: *anchor`) have no position in this map.
            position = node.lc.data.get(item)
            if position is None:
                return _own_position(node)  # type: ignore[return-value]
            return position[0] + 1, position[1] + 1
        if isinstance(node, CommentedSeq) and isinstance(item, int) and 0 <= item < len(node):
            line, col = node.lc.item(item)
            return line + 1, col + 1
    except (KeyError, TypeError):
        return None
    return None
