"""Network faults on a link of the fault proxy: Toxiproxy toxics and a cut link.

Each carries the proxy's lease extension (`ttl_s`): the proxy itself removes the toxic
(or re-enables the link) when the harness stops renewing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import StackError
from harness.faults.base import FaultContext, held_lease_s, reattacher, register
from harness.shopapi import Toxiproxy
from harness.spec import LinkDownFault, ToxicFault


def _proxy(ctx: FaultContext) -> Toxiproxy:
    if ctx.proxy is None:
        raise StackError("this stack has no fault proxy API (a `proxy` service with PROXY_API_PORT)")
    return ctx.proxy


@dataclass
class InjectedToxic:
    name: str
    proxy: str
    toxic: str
    ttl_s: float
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted:
            _proxy(ctx).update_toxic(self.proxy, self.toxic, {"ttl_s": held_lease_s(self.ttl_s)})

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        _proxy(ctx).remove_toxic(self.proxy, self.toxic)
        return {"removed": self.toxic}


@register("toxic")
def add_toxic(spec: ToxicFault, ctx: FaultContext) -> InjectedToxic:
    name = toxic_name(spec)
    body = {"name": name, "type": spec.toxic, "stream": spec.stream, "toxicity": spec.toxicity,
            "attributes": dict(spec.attributes), "ttl_s": held_lease_s(spec.ttl_s)}
    created = _proxy(ctx).add_toxic(spec.proxy, body)
    return InjectedToxic("toxic", spec.proxy, name, spec.ttl_s,
                         {"proxy": spec.proxy, "toxic": spec.toxic, "stream": spec.stream,
                          "toxicity": spec.toxicity, "attributes": created.get("attributes", spec.attributes),
                          "lease": _lease_kept(created)})


@dataclass
class CutLink:
    name: str
    proxy: str
    ttl_s: float
    detail: dict[str, Any] = field(default_factory=dict)
    reverted: bool = False

    def renew(self, ctx: FaultContext) -> None:
        if not self.reverted:
            _proxy(ctx).set_enabled(self.proxy, False, ttl_s=held_lease_s(self.ttl_s))

    def revert(self, ctx: FaultContext) -> dict[str, Any]:
        if self.reverted:
            return {"already": True}
        self.reverted = True
        _proxy(ctx).set_enabled(self.proxy, True)
        return {"enabled": True}


@register("link_down")
def cut_link(spec: LinkDownFault, ctx: FaultContext) -> CutLink:
    answer = _proxy(ctx).set_enabled(spec.proxy, False, ttl_s=held_lease_s(spec.ttl_s))
    return CutLink("link_down", spec.proxy, spec.ttl_s, {"proxy": spec.proxy, "lease": _lease_kept(answer)})


def _lease_kept(answer: dict[str, Any]) -> str:
    """gamedrill's proxy answers with the lease it holds; the real Toxiproxy ignores `ttl_s`,
    so with it a dead harness leaves the fault in place: the journal says which it was."""
    if "ttl_s_left" in answer:
        return "held by the proxy"
    return "not enforced: this proxy ignores ttl_s (real Toxiproxy?); only the harness reverts it"


def toxic_name(spec: ToxicFault) -> str:
    return f"gamedrill-{spec.toxic}-{spec.stream}"


@reattacher("toxic")
def reattach_toxic(spec: ToxicFault, journaled: Mapping[str, Any], ctx: FaultContext) -> InjectedToxic | None:
    """The toxic again, if the proxy still has it (its lease may have run out meanwhile)."""
    name = toxic_name(spec)
    toxics = _proxy(ctx).proxies().get(spec.proxy, {}).get("toxics", [])
    if not any(toxic.get("name") == name for toxic in toxics):
        return None
    detail = {key: value for key, value in journaled.items() if key not in ("index", "type", "ttl_s")}
    return InjectedToxic("toxic", spec.proxy, name, spec.ttl_s, detail)


@reattacher("link_down")
def reattach_link(spec: LinkDownFault, journaled: Mapping[str, Any], ctx: FaultContext) -> CutLink | None:
    """The cut link again, if the proxy has not re-opened it (its lease may have run out)."""
    if _proxy(ctx).proxies().get(spec.proxy, {}).get("enabled", True):
        return None
    return CutLink("link_down", spec.proxy, spec.ttl_s, {"proxy": spec.proxy, "lease": journaled.get("lease")})
