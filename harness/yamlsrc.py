"""YAML loading that remembers where every value came from.

PyYAML and pydantic forget line numbers; a person fixing a drill file needs them. We load
with ruamel.yaml's round-trip loader, hand plain Python values to the validators, and keep
the source document so that any error path (``services.web-1.ports[0]``) can be mapped
back to a line and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from harness.errors import InputError, Problem

PathItem = str | int
FieldPath = tuple[PathItem, ...]
MAX_BYTES = 2 << 20  # a drill, scenario or compose file is a few kilobytes
MAX_VALUES = 100_000  # after aliases are expanded: a "billion laughs" file stops here


class _TooLarge(Exception):
    pass


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
        if path.stat().st_size > MAX_BYTES:
            raise error_type([Problem(str(path), None, None, "", f"larger than {MAX_BYTES >> 20} MiB: not a "
                                      "drill, scenario or compose file")])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error_type([Problem(str(path), None, None, "", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise error_type([Problem(str(path), None, None, "", "not UTF-8 text")]) from exc
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        raise error_type([Problem(str(path), line, col, "", message or "invalid YAML")]) from exc
    except RecursionError as exc:
        raise error_type([Problem(str(path), None, None, "", "invalid YAML: nested too deeply")]) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad anchors)
        raise error_type([Problem(str(path), None, None, "", f"invalid YAML: {exc}")]) from exc
    try:
        data = to_plain(tree, [MAX_VALUES])
    except _TooLarge:
        raise error_type([Problem(str(path), None, None, "", f"more than {MAX_VALUES} values once its aliases "
                                  "are expanded: refused")]) from None
    except RecursionError:
        raise error_type([Problem(str(path), None, None, "", "nested too deeply")]) from None
    return YamlSource(path=path, data=data, _tree=tree)


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
