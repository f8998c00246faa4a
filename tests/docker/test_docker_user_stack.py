"""The user's own compose stack on containers: the same drills as on the local backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_user_stack import check_cut_link_fails_every_node, check_frozen_node_restarted, run_user_drill

pytestmark = pytest.mark.docker


@pytest.mark.timeout(300)
def test_a_frozen_node_of_a_users_stack_is_restarted_on_docker(tmp_path: Path) -> None:
    check_frozen_node_restarted(run_user_drill("pause", tmp_path, backend="docker"))


@pytest.mark.timeout(300)
def test_a_network_fault_through_a_users_own_proxy_on_docker(tmp_path: Path) -> None:
    check_cut_link_fails_every_node(run_user_drill("link", tmp_path, backend="docker"))
