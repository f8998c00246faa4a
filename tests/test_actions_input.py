"""The toolkit's actions on the real shop, given whatever `params` and canary a team (or the
control API's body) may send: each either acts or refuses with a ValueError naming the
field; nothing else escapes, which the session would journal as an internal error (a 500).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.actions import acts_per_node, run_action
from harness.cleanup import cleanup
from harness.errors import GamedrillError
from harness.faults import FaultContext
from harness.session import ActionResult
from harness.shopapi import ControlPlane, LoadBalancer
from harness.stack import LocalBackend

NODES = ("web-1", "web-2", "web-3")
# The actions that read params; the others ignore them (and restart or kill real processes).
PARAM_ACTIONS = ("isolate", "restore", "pause-rollout", "flag-on", "flag-off")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
param_values = json_values | st.sampled_from(["web-1", "web-1,web-2", "config", "script", "2", "-1", "1e400",
                                              "serve_cached_stock", "x" * 65, "a/b", "9" * 5000])
params = st.dictionaries(st.sampled_from(["weight", "nodes", "kind", "flag"]) | st.text(max_size=8),
                         param_values, max_size=3)
canaries = st.none() | st.sampled_from([*NODES, "web-9", "", "lb"])


@pytest.fixture
def ctx(shop: LocalBackend, tmp_path: Path) -> Iterator[FaultContext]:
    try:
        yield FaultContext(shop, ControlPlane(shop.endpoint("config").port), LoadBalancer(shop.endpoint("lb").port),
                           NODES, shop.run_id, tmp_path / "leases")
    finally:
        cleanup(shop.run_id)


def test_any_params_act_or_are_refused_naming_the_field(ctx: FaultContext) -> None:
    outcomes: dict[str, int] = {"acted": 0, "refused": 0}

    @given(action=st.sampled_from(PARAM_ACTIONS), canary=canaries, params=params)
    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def acts_or_refuses(action: str, canary: str | None, params: dict[str, Any]) -> None:
        try:
            result = run_action(action, ctx, canary, params)
        except ValueError as exc:
            outcomes["refused"] += 1
            assert "params." in str(exc) or "canary" in str(exc) or "nodes" in str(exc), str(exc)
            return
        except GamedrillError:  # the stack said no (e.g. a node already at that weight): a failed act
            outcomes["acted"] += 1
            return
        assert isinstance(result, ActionResult) and result.action == action
        outcomes["acted"] += 1

    acts_or_refuses()
    # Both paths were really taken: good params reached the stack, bad ones were refused.
    assert outcomes["acted"] > 0 and outcomes["refused"] > 0, outcomes
    assert all(0 <= weight <= 1000 for weight in ctx.lb.weights().values())


def test_a_bad_weight_is_refused_before_any_node_changes(ctx: FaultContext) -> None:
    for bad in ([1], None, 1.5, "1e400", "9" * 5000, -1, 10**6, True):
        with pytest.raises(ValueError, match=r"params\.weight"):
            run_action("restore", ctx, "web-1", {"weight": bad})
    done = run_action("restore", ctx, "web-1", {"weight": "3"})
    assert done.ok and done.changed == {"weights_before": {"web-1": 1}}


def test_an_action_with_no_per_node_meaning_refuses_a_canary(ctx: FaultContext) -> None:
    with pytest.raises(ValueError, match="pause-rollout takes no canary"):
        run_action("pause-rollout", ctx, "web-1", {})
    assert not acts_per_node("pause-rollout") and acts_per_node("restart")
    nothing = run_action("pause-rollout", ctx, None, {})  # without one it runs (nothing is baking here)
    assert not nothing.ok and "no rollout is baking" in nothing.detail
