"""The control plane's state: artifacts, per-node assignments, staged rollouts, change log.

Everything sits behind one lock; a single scheduler thread finishes staged rollouts when
their bake time is up. Methods raise HTTPError so the HTTP layer (shop.config) stays thin.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from shop import httpkit
from shop.httpkit import HTTPError

# artifact kind -> the change-log kind of rolling it out
CHANGE_KIND = {"release": "deploy", "config": "config_push", "script": "script_push"}
DEFAULT_BAKE_S = 30.0

INITIAL_SCRIPT = '''\
def adjust(product, request):
    # Price = base price times the node's configured multiplier.
    multiplier = request["config"].get("price_multiplier", 1.0)
    product["price"] = round(product["base_price"] * multiplier, 2)
    return product
'''
INITIAL: dict[str, dict[str, Any]] = {
    "release": {"version": "v1.0.0", "flags": {}, "supported_schema": 2},
    "config": {"version": "v1", "schema_version": 2,
               "data": {"price_multiplier": 1.0, "serve_cached_stock": False}},
    "script": {"version": "v1", "source": INITIAL_SCRIPT},
}


def stamp(ago_s: float = 0.0) -> tuple[float, str]:
    """(unix seconds, UTC ISO 8601 with microseconds) of now, or of `ago_s` seconds ago."""
    at = time.time() - ago_s
    return at, datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="microseconds")


def want(body: dict[str, Any], field: str, types: type | tuple[type, ...], what: str,
         default: Any = ..., check: Any = None) -> Any:
    """body[field] if it is of `types` (bools are never ints) and passes `check`, else a 400."""
    if field not in body or body[field] is None:
        if default is ...:
            raise HTTPError(400, f"{field}: required ({what})")
        return default
    value = body[field]
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in _tuple(types))
    if not ok or (check is not None and not check(value)):
        raise HTTPError(400, f"{field}: expected {what}, got {value!r}"[:300])
    return value


def _schema_versions(value: int | list[Any]) -> bool:
    """A release reads one config schema (2) or several ([2, 3]: new code, old config too)."""
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values)


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def validate_artifact(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    version = want(body, "version", str, "a non-empty version string without spaces",
                   check=lambda v: 0 < len(v) <= 64 and not any(c.isspace() or c == "/" for c in v))
    artifact: dict[str, Any] = {"version": version}
    if kind == "release":
        artifact["flags"] = want(body, "flags", dict, "an object of flags", default={})
        artifact["supported_schema"] = want(body, "supported_schema", (int, list),
                                            "a schema version or a non-empty list of them",
                                            check=_schema_versions)
    elif kind == "config":
        artifact["schema_version"] = want(body, "schema_version", int, "an integer")
        artifact["data"] = want(body, "data", dict, "an object", default={})
    else:
        source = want(body, "source", str, "Python source defining adjust(product, request)")
        try:  # catch typos at push time; never exec here (a script may loop at import)
            compile(source, f"<script {version}>", "exec")
        except SyntaxError as exc:
            raise HTTPError(400, f"source: SyntaxError: {exc.msg} (line {exc.lineno})") from None
        artifact["source"] = source
    artifact["author"] = want(body, "author", str, "a string", default="unknown")
    artifact["description"] = want(body, "description", str, "a string", default="")
    return artifact


class ControlPlane:
    def __init__(self, nodes: list[str]) -> None:
        self.lock = threading.Condition()  # the scheduler waits on it for the next bake deadline
        at, at_iso = stamp()
        self.artifacts: dict[str, dict[str, dict[str, Any]]] = {
            kind: {a["version"]: {**a, "author": "initial", "description": "initial state",
                                  "registered_at": at, "registered_at_iso": at_iso}}
            for kind, a in INITIAL.items()
        }
        self.nodes: dict[str, dict[str, Any]] = {
            node: {"generation": 1, "recycle": 0, **{kind: a["version"] for kind, a in INITIAL.items()}}
            for node in nodes
        }
        self.rollouts: dict[int, dict[str, Any]] = {}
        self.changes: list[dict[str, Any]] = []

    # ---- reads -------------------------------------------------------------------------

    def node(self, name: str) -> dict[str, Any]:
        with self.lock:
            assignment = self._known_node(name)
            return {"node": name, "generation": assignment["generation"], "recycle": assignment["recycle"],
                    **{kind: self.artifacts[kind][assignment[kind]] for kind in CHANGE_KIND}}

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"artifacts": {kind: list(versions.values()) for kind, versions in self.artifacts.items()},
                    "nodes": {name: dict(a) for name, a in self.nodes.items()},
                    "rollouts": [self._view(r) for r in self.rollouts.values()]}

    def artifact_list(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.artifacts[kind].values())

    def rollout(self, rollout_id: int) -> dict[str, Any]:
        with self.lock:
            return self._view(self._known_rollout(rollout_id))

    def rollout_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._view(r) for r in self.rollouts.values()]

    def change_list(self, since: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.changes if c["id"] > since]

    # ---- writes --------------------------------------------------------------------------

    def register(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        artifact = validate_artifact(kind, body)
        with self.lock:
            if artifact["version"] in self.artifacts[kind]:
                raise HTTPError(409, f"{kind} {artifact['version']} already exists")
            artifact["registered_at"], artifact["registered_at_iso"] = stamp()
            self.artifacts[kind][artifact["version"]] = artifact
        httpkit.log("config", f"registered {kind} {artifact['version']}")
        return artifact

    def start_rollout(self, body: dict[str, Any]) -> dict[str, Any]:
        kind = want(body, "kind", str, "one of release, config, script", check=lambda k: k in CHANGE_KIND)
        version = want(body, "version", str, "a version string")
        canary = want(body, "canary", str, "a node name", default=None)
        bake_s = float(want(body, "bake_s", (int, float), "a number >= 0", default=DEFAULT_BAKE_S,
                            check=lambda b: 0 <= b <= 86400))
        author = want(body, "author", str, "a string", default="unknown")
        description = want(body, "description", str, "a string", default="")
        ttl_s = want(body, "ttl_s", (int, float), "a lease in seconds > 0", default=None, check=lambda t: t > 0)
        # A change made long ago, logged at its real time: a latent bug nobody remembers shipping.
        backdate_s = float(want(body, "backdate_s", (int, float), "seconds >= 0", default=0.0,
                                check=lambda b: 0 <= b <= 10 * 365 * 86400))
        with self.lock:
            if version not in self.artifacts[kind]:
                raise HTTPError(404, f"version: no {kind} {version}")
            if canary is not None:
                self._known_node(canary)
            for other in self.rollouts.values():  # a newer rollout of a kind wins over a pending one
                if other["kind"] == kind and other["state"] in ("baking", "paused"):
                    other["state"], other["pending"] = "superseded", []
            at, at_iso = stamp()
            rollout: dict[str, Any] = {
                "id": len(self.rollouts) + 1, "kind": kind, "version": version, "canary": canary,
                "bake_s": bake_s if canary else 0.0, "author": author, "description": description,
                "state": "baking", "created_at": at, "created_at_iso": at_iso,
                "reached": [], "pending": [], "previous": {}, "rolled_back": [], "change_ids": [],
                "_due": None, "_remaining": None,
                "ttl_s": ttl_s, "_lease_due": None if ttl_s is None else time.monotonic() + ttl_s,
                "_backdate_s": backdate_s,
            }
            self.rollouts[rollout["id"]] = rollout
            if canary is None:
                self._apply(rollout, list(self.nodes), "all")
                rollout["state"] = "complete"
            else:
                self._apply(rollout, [canary], "canary")
                rollout["pending"] = [n for n in self.nodes if n != canary]
                if rollout["pending"]:
                    rollout["_due"] = time.monotonic() + bake_s
                    self.lock.notify_all()
                else:
                    rollout["state"] = "complete"
            self.lock.notify_all()  # the scheduler may have a new deadline (bake or lease)
            return self._view(rollout)

    def pause(self, rollout_id: int) -> dict[str, Any]:
        with self.lock:
            rollout = self._known_rollout(rollout_id)
            self._expect_state(rollout, "baking")
            rollout["state"] = "paused"
            rollout["_remaining"] = max(0.0, rollout["_due"] - time.monotonic())
            return self._view(rollout)

    def resume(self, rollout_id: int) -> dict[str, Any]:
        with self.lock:
            rollout = self._known_rollout(rollout_id)
            self._expect_state(rollout, "paused")
            rollout["state"] = "baking"  # the rest of the bake time, not a fresh one
            rollout["_due"] = time.monotonic() + rollout["_remaining"]
            self.lock.notify_all()
            return self._view(rollout)

    def rollback(self, rollout_id: int, body: dict[str, Any]) -> dict[str, Any]:
        nodes = want(body, "nodes", list, "a list of node names", default=None,
                     check=lambda ns: all(isinstance(n, str) for n in ns))
        author = want(body, "author", str, "a string", default="unknown")
        description = want(body, "description", str, "a string", default=f"rollback of rollout {rollout_id}")
        with self.lock:
            rollout = self._known_rollout(rollout_id)
            live = [n for n in rollout["reached"] if n not in rollout["rolled_back"]]
            if nodes is None:
                nodes = live
            for name in nodes:
                self._known_node(name)
                if name not in live:
                    raise HTTPError(400, f"nodes: {name} is not running rollout {rollout_id}")
            if not nodes:
                raise HTTPError(409, f"rollout {rollout_id} has no node left to roll back")
            rollout["state"], rollout["pending"] = "rolled_back", []
            self._apply(rollout, nodes, "rollback", author, description)
            return self._view(rollout)

    def renew(self, rollout_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Extend a rollout's lease by `ttl_s` from now; 0 makes the rollout permanent."""
        ttl_s = want(body, "ttl_s", (int, float), "seconds >= 0", check=lambda t: t >= 0)
        with self.lock:
            rollout = self._known_rollout(rollout_id)
            if rollout["_lease_due"] is None:
                raise HTTPError(409, f"rollout {rollout_id} has no live lease to renew")
            rollout["ttl_s"] = ttl_s or None
            rollout["_lease_due"] = time.monotonic() + ttl_s if ttl_s else None
            self.lock.notify()
            return self._view(rollout)

    # ---- scheduling ----------------------------------------------------------------------

    def run_scheduler(self) -> None:
        """Thread body: finish staged rollouts when their bake is up; undo those whose lease ran out."""
        with self.lock:
            while True:
                now = time.monotonic()
                baking = [r for r in self.rollouts.values() if r["state"] == "baking" and r["pending"]]
                for rollout in baking:
                    if rollout["_due"] <= now:
                        self._apply(rollout, rollout["pending"], "rest")
                        rollout["state"], rollout["pending"] = "complete", []
                leased = [r for r in self.rollouts.values() if r["_lease_due"] is not None]
                for rollout in leased:
                    if rollout["_lease_due"] <= now:
                        self._expire(rollout)
                deadlines = [r["_due"] for r in baking if r["state"] == "baking"]
                deadlines += [r["_lease_due"] for r in leased if r["_lease_due"] is not None]
                self.lock.wait(max(0.0, min(deadlines) - now) if deadlines else None)

    def _expire(self, rollout: dict[str, Any]) -> None:
        """A fault's lease ran out (its harness died): undo it and give the nodes fresh workers,
        which also clears what the fault left inside them (stuck loops, leaked descriptors)."""
        rollout["_lease_due"] = None
        live = [n for n in rollout["reached"] if n not in rollout["rolled_back"]]
        rollout["state"], rollout["pending"] = "rolled_back", []
        if live:
            self._apply(rollout, live, "rollback", "lease", f"lease of rollout {rollout['id']} expired")
        for name in rollout["reached"]:
            self.nodes[name]["recycle"] += 1
            self.nodes[name]["generation"] += 1
        httpkit.log("config", f"rollout {rollout['id']}: lease expired; rolled back {live}, workers recycled")

    # ---- internals (lock held) -----------------------------------------------------------

    def _apply(self, rollout: dict[str, Any], targets: list[str], stage: str,
               author: str | None = None, description: str | None = None) -> None:
        kind = rollout["kind"]
        before = {n: self.nodes[n][kind] for n in targets}
        if stage == "rollback":
            after = {n: rollout["previous"][n] for n in targets}
            rollout["rolled_back"].extend(targets)
        else:
            after = dict.fromkeys(targets, rollout["version"])
            for n in targets:
                rollout["previous"].setdefault(n, before[n])
                rollout["reached"].append(n)
        for n in targets:
            if self.nodes[n][kind] != after[n]:
                self.nodes[n][kind] = after[n]
                self.nodes[n]["generation"] += 1
        at, at_iso = stamp(rollout.get("_backdate_s", 0.0) if stage != "rollback" else 0.0)
        change = {
            "id": len(self.changes) + 1, "at": at, "at_iso": at_iso,
            "kind": "rollback" if stage == "rollback" else CHANGE_KIND[kind], "artifact_kind": kind,
            "version": Counter(after.values()).most_common(1)[0][0],
            "previous": Counter(before.values()).most_common(1)[0][0], "previous_by_node": before,
            "targets": list(targets), "stage": stage, "author": author or rollout["author"],
            "description": rollout["description"] if description is None else description,
            "rollout_id": rollout["id"],
        }
        self.changes.append(change)
        rollout["change_ids"].append(change["id"])
        httpkit.log("config", f"change {change['id']}: {change['kind']} {kind} {change['version']} "
                              f"(was {change['previous']}) -> {','.join(targets)} "
                              f"[rollout {rollout['id']} {stage}]")

    def _view(self, rollout: dict[str, Any]) -> dict[str, Any]:
        view = {k: (list(v) if isinstance(v, list) else v)
                for k, v in rollout.items() if not k.startswith("_")}
        view["previous"] = dict(rollout["previous"])
        if rollout["_lease_due"] is not None:
            view["ttl_s_left"] = round(max(0.0, rollout["_lease_due"] - time.monotonic()), 3)
        if rollout["state"] == "baking" and rollout["pending"]:
            view["next_stage_in_s"] = round(max(0.0, rollout["_due"] - time.monotonic()), 3)
        elif rollout["state"] == "paused":
            view["next_stage_in_s"] = round(rollout["_remaining"], 3)
        return view

    def _known_node(self, name: str) -> dict[str, Any]:
        if name not in self.nodes:
            raise HTTPError(404, f"unknown node {name!r}")
        return self.nodes[name]

    def _known_rollout(self, rollout_id: int) -> dict[str, Any]:
        if rollout_id not in self.rollouts:
            raise HTTPError(404, f"unknown rollout {rollout_id}")
        return self.rollouts[rollout_id]

    @staticmethod
    def _expect_state(rollout: dict[str, Any], state: str) -> None:
        if rollout["state"] != state:
            raise HTTPError(409, f"rollout {rollout['id']} is {rollout['state']}, not {state}")
