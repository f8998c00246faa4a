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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from harness.errors import InputError, Problem, shown

PathItem = str | int
FieldPath = tuple[PathItem, ...]
Position = tuple[int, int]  # 0-based (line, column), as ruamel keeps them
MAX_BYTES = 2 << 20  # a drill, scenario or compose file is a few kilobytes
MAX_VALUES = 100_000  # after aliases are expanded: a "billion laughs" file stops here
MERGE_TAG = "tag:yaml.org,2002:merge"
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


class _MergeKeysKept(RoundTripConstructor):
    """The round-trip constructor, also keeping where each mapping's merge key (`<<:`) is written:
    ruamel keeps the mappings merged in but drops that line, which a problem in a merged key names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merge_keys: dict[int, Position] = {}  # id() of a mapping -> its `<<` key

    # The round-trip signature, which ruamel's own RoundTripConstructor overrides its base with.
    def construct_mapping(self, node: Any, maptyp: Any, deep: bool = False) -> Any:  # type: ignore[override]
        merge = next((key.start_mark for key, _ in node.value if key.tag == MERGE_TAG), None)
        constructed = super().construct_mapping(node, maptyp, deep=deep)  # removes the `<<` key from `node`
        if merge is not None:
            self.merge_keys[id(maptyp)] = (merge.line, merge.column)
        return constructed


@dataclass(frozen=True)
class YamlSource:
    """A loaded YAML file: plain data for validation, the node tree for locations."""

    path: Path
    data: Any
    _tree: Any
    _merge_keys: Mapping[int, Position] = field(default_factory=dict)  # see _MergeKeysKept

    def locate(self, where: Sequence[PathItem]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest node of `where` that exists in the file."""
        line, col, _ = self._trace(where)
        return line, col

    def problem(self, where: Sequence[PathItem], message: str) -> Problem:
        line, col, merge = self._trace(where)
        return Problem(str(self.path), line, col, dotted(where), f"{message} {merge}" if merge else message)

    def _trace(self, where: Sequence[PathItem]) -> tuple[int | None, int | None, str]:
        """`locate`, and the first merge on the way, if any: a key merged in (`<<: *anchor`) is
        located where the anchored mapping writes it, shared by every mapping merging it, so
        which of them is meant is said: `(merged into services.api from line 21)`."""
        node = self._tree
        line, col = _own_position(node)
        merge = ""
        for depth, item in enumerate(where):
            position = _child_position(node, item)
            if position is None:
                break
            if not merge and _is_merged(node, item):
                merge = self._merge_note(where[:depth], node)
            line, col = position
            node = node[item]
        return line, col, merge

    def _merge_note(self, where: Sequence[PathItem], mapping: CommentedMap) -> str:
        into = dotted(where) or "the top level"
        merge_key = self._merge_keys.get(id(mapping))
        return f"(merged into {into} from line {merge_key[0] + 1})" if merge_key else f"(merged into {into})"


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
        tree, merge_keys = _parse(text)
        data = to_plain(tree, [MAX_VALUES])
    except _Refused as exc:
        line, col = (exc.position[0] + 1, exc.position[1] + 1) if exc.position else (None, None)
        raise error_type([Problem(str(path), line, col, dotted(exc.where), str(exc))]) from None
    except _TooLarge:
        raise error_type([Problem(str(path), None, None, "", f"more than {MAX_VALUES} values once its aliases "
                                  "are expanded: refused")]) from None
    except RecursionError:
        raise error_type([Problem(str(path), None, None, "", "nested too deeply")]) from None
    return YamlSource(path=path, data=data, _tree=tree, _merge_keys=merge_keys)


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


def _parse(text: str) -> tuple[Any, dict[int, Position]]:
    """The round-trip tree of `text`, and where its merge keys are (see _MergeKeysKept)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _MergeKeysKept
    try:
        return yaml.load(text), yaml.constructor.merge_keys
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
                children = [(key, _at(_key_positions(node).get(key), 2)) for key in node]
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
            position = _key_positions(_written_in(node, item)).get(item)
            if position is None:  # not found through its merges: the mapping is the closest place
                return _own_position(node)  # type: ignore[return-value]
            return position[0] + 1, position[1] + 1
        if isinstance(node, CommentedSeq) and isinstance(item, int) and 0 <= item < len(node):
            line, col = node.lc.item(item)
            return line + 1, col + 1
    except (KeyError, TypeError):
        return None
    return None


def _key_positions(mapping: CommentedMap) -> dict[Any, list[int]]:
    """Where each of the mapping's own keys is written (none of the keys merged into it)."""
    return mapping.lc.data or {}  # ruamel leaves it None for a mapping without keys of its own


def _is_merged(node: Any, item: PathItem) -> bool:
    """Whether `item` is a key `node` has from a merge (`<<: *anchor`), not one of its own."""
    return isinstance(node, CommentedMap) and item in node and item not in _key_positions(node)


def _written_in(mapping: CommentedMap, key: PathItem) -> CommentedMap:
    """The mapping whose text holds `key` of `mapping`: itself, or the anchored mapping merged
    into it (through nested merges too) that gives the key its value; as YAML says, of a list
    of merged mappings (`<<: [*a, *b]`) the first holding the key wins."""
    seen: set[int] = set()
    while key not in _key_positions(mapping) and id(mapping) not in seen:
        seen.add(id(mapping))
        mapping = next((merged for merged in getattr(mapping, merge_attrib, ()) if key in merged), mapping)
    return mapping
