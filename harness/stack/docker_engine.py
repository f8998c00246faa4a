"""The Docker engine as the docker backend needs it: a client, compose labels, images.

Kept apart from the backend so tests and benchmarks can ask "can the docker backend run
here, and if not, why?" without starting anything.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import docker
from docker.errors import DockerException, NotFound

from harness.errors import StackError
from harness.stack.compose_cli import built_images, find_compose_cli
from harness.stack.image_source import DIGEST_LABEL, source_digest

# The labels Compose puts on everything it creates for a project.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
PROJECT_PREFIX = "gamedrill-"


def project_name(run_id: str) -> str:
    """The run's compose project: Compose names are lowercase letters, digits, `-` and `_`."""
    return PROJECT_PREFIX + re.sub(r"[^a-z0-9_-]+", "-", run_id.lower()).strip("-")


def gamedrill_projects(client: docker.DockerClient) -> set[str]:
    """Compose projects of gamedrill runs that still have containers (a dead harness's, say)."""
    labels = (c.get("Labels") or {} for c in client.api.containers(all=True, filters={"label": PROJECT_LABEL}))
    return {name for label in labels if (name := label.get(PROJECT_LABEL, "")).startswith(PROJECT_PREFIX)}


def remove_project(client: docker.DockerClient, compose_project: str) -> None:
    """Remove every container, network and volume that carries the project's label."""
    labelled = {"label": [f"{PROJECT_LABEL}={compose_project}"]}
    for summary in client.api.containers(all=True, filters=labelled):
        with contextlib.suppress(NotFound):
            client.api.remove_container(summary["Id"], force=True, v=True)
    for network in client.networks.list(filters=labelled):
        with contextlib.suppress(NotFound):
            network.remove()
    for volume in client.volumes.list(filters=labelled):
        with contextlib.suppress(NotFound):
            volume.remove(force=True)


def docker_engine(timeout_s: float = 60.0) -> docker.DockerClient:
    """A client of the engine DOCKER_HOST (or the default socket) names; StackError if none answers."""
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except DockerException as exc:
        raise StackError(f"no Docker engine answers ({exc}); start one, e.g. `dockerd --bridge=none "
                         "--iptables=false`, or run the drill with `backend: local`") from None
    return client


def missing_images(client: docker.DockerClient, compose_path: Path, variables: Mapping[str, str]) -> None:
    """StackError naming the first image the file builds (rather than pulls) that is not there,
    or that gamedrill built from sources other than this checkout's (a stale image)."""
    for image, users in built_images(compose_path, variables).items():
        try:
            found = client.images.get(image)
        except NotFound:
            raise StackError(f"image {image} (services {', '.join(users)}) is not built: `make images` builds "
                             "it (see the README for the offline base image)") from None
        built_from = (found.labels or {}).get(DIGEST_LABEL)
        if built_from not in (None, "unknown", source_digest()):
            raise StackError(f"image {image} (services {', '.join(users)}) was built from other sources than "
                             "this checkout's compose/shop and harness/proxy: `make images` rebuilds it")


def unavailable_reason(compose_path: Path, variables: Mapping[str, str] | None = None) -> str | None:
    """Why the docker backend cannot run `compose_path` on this machine; None when it can."""
    try:
        client = docker_engine(timeout_s=10)
        try:
            find_compose_cli()
            missing_images(client, compose_path, dict(os.environ if variables is None else variables))
        finally:
            client.close()
    except StackError as exc:
        return str(exc)
    return None
