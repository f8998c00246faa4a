"""Helpers shared by the docker tests (conftest modules cannot be imported by name)."""

from __future__ import annotations

import docker

from harness.stack.docker_engine import PROJECT_LABEL

UP_TIMEOUT_S = 90.0  # generous: the machine is shared with other suites


def leftovers(client: docker.DockerClient, compose_project: str) -> list[str]:
    """Every container, network and volume that still carries the compose project's label."""
    labelled = {"label": [f"{PROJECT_LABEL}={compose_project}"]}
    return ([f"container {c['Id'][:12]}" for c in client.api.containers(all=True, filters=labelled)]
            + [f"network {n.name}" for n in client.networks.list(filters=labelled)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=labelled)])
