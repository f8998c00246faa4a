"""A container's processes, seen from the host's /proc.

A container's processes are ordinary host processes in their own pid namespace: the host
/proc shows them under host pids, with CPU time and descriptors, without entering the
container. Only the service's own tree is wanted: `docker exec` processes (healthchecks,
our own `kill`) hang off the container runtime, not off the container's init.
"""

from __future__ import annotations

from harness.stack import procfs
from harness.stack.procfs import ProcStat

DOCKER_INIT = "docker-init"  # what `init: true` runs as the container's pid 1


def command_name(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def descendants(root: int) -> list[ProcStat]:
    """`root` and every live process below it, parents before children."""
    children: dict[int, list[ProcStat]] = {}
    root_stat = None
    for pid in procfs.all_pids():
        stat = procfs.read_stat(pid)
        if stat is None or stat.state == "Z":
            continue
        if pid == root:
            root_stat = stat
        children.setdefault(stat.ppid, []).append(stat)
    if root_stat is None:
        return []
    found, frontier = [root_stat], [root_stat]
    while frontier:
        below = sorted((c for p in frontier for c in children.get(p.pid, [])), key=lambda s: s.pid)
        found += below
        frontier = below
    return found


def service_tree(container_init: int) -> list[ProcStat]:
    """The service's processes: its main process first, then everything below it.

    With `init: true` the container's pid 1 is docker-init, which only forwards signals and
    reaps; the service's main process is its child. Without it, pid 1 is the service.
    """
    tree = descendants(container_init)
    if tree and command_name(container_init) == DOCKER_INIT:
        return tree[1:]
    return tree


def namespaced_pid(host_pid: int) -> int | None:
    """The pid a host process has inside its own (innermost) pid namespace."""
    try:
        with open(f"/proc/{host_pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None
