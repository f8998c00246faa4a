"""What a web worker runs: the assignment the master wrote, and the compiled node script.

The master replaces the state file atomically; a worker stats it on every request (cheap)
and reloads when the inode or mtime changed, so a new assignment applies on the next
request without the master having to signal anyone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, cast

from shop.httpkit import HTTPError

Adjust = Callable[[dict[str, Any], dict[str, Any]], Any]


class Assignment:
    """One generation of the node's release, config and script (the full artifacts)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.generation: int = raw.get("generation", 0)
        self.release: dict[str, Any] = raw["release"]
        self.config: dict[str, Any] = raw["config"]
        self.script: dict[str, Any] = raw["script"]
        self.flags: dict[str, Any] = self.release.get("flags") or {}
        self.data: dict[str, Any] = self.config.get("data") or {}
        schema, supported = self.config.get("schema_version"), self.release.get("supported_schema")
        # The release's code reads config of the schemas it knows; any other is a hard failure.
        self.problem: str | None = None
        if schema not in (supported if isinstance(supported, list) else [supported]):
            self.problem = (f"config {self.config.get('version')} schema {schema} unsupported by "
                            f"release {self.release.get('version')} (supports {supported})")

    def summary(self) -> dict[str, Any]:
        return {"generation": self.generation, "release": self.release.get("version"),
                "config_version": self.config.get("version"), "script_version": self.script.get("version")}


class NodeState:
    def __init__(self, path: str) -> None:
        self.path = path
        self.current: Assignment | None = None
        self._key: tuple[int, int] | None = None
        self._scripts: dict[str, Adjust | str] = {}  # version -> adjust, or why it failed

    def refresh(self) -> Assignment | None:
        """The latest assignment (None before the master's first successful poll)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self.current
        key = (st.st_ino, st.st_mtime_ns)
        if key != self._key:
            with open(self.path) as f:  # can raise EMFILE in a leaking worker: that is real
                self.current = Assignment(json.load(f))
            self._key = key
        return self.current

    def adjust(self, assignment: Assignment) -> Adjust:
        """The script's adjust(), compiled and executed once per script version."""
        version = str(assignment.script.get("version"))
        if version not in self._scripts:
            self._scripts[version] = load_script(version, assignment.script.get("source", ""))
        fn = self._scripts[version]
        if isinstance(fn, str):
            raise HTTPError(500, fn)
        return fn


def load_script(version: str, source: str) -> Adjust | str:
    """Run the script's source; its adjust() or the reason there is none."""
    namespace: dict[str, Any] = {"__name__": f"shop_script_{version}"}
    try:
        exec(compile(source, f"<script {version}>", "exec"), namespace)
    except Exception as exc:
        return f"script {version} failed to load: {type(exc).__name__}: {exc}"
    fn = namespace.get("adjust")
    if not callable(fn):
        return f"script {version} defines no adjust(product, request)"
    return cast(Adjust, fn)
