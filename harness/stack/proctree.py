"""A container's service processes, picked out of everything /proc inside it shows.

Only the service's own tree is wanted: `docker exec` processes (healthchecks, our own
scans and `kill`s) have a parent outside the container's pid namespace (ppid 0), not
the container's init, so they never count.
"""

from __future__ import annotations

from harness.stack.procfs import ProcStat

DOCKER_INIT = "docker-init"  # what `init: true` runs as the container's pid 1


def descendants(stats: list[ProcStat], root: int) -> list[ProcStat]:
    """`root` and every live process below it, parents before children."""
    children: dict[int, list[ProcStat]] = {}
    root_stat = None
    for stat in stats:
        if stat.state == "Z":
            continue
        if stat.pid == root:
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


def service_tree(stats: list[ProcStat], pid1_name: str) -> list[ProcStat]:
    """The service's processes: its main process first, then everything below it.

    With `init: true` the container's pid 1 is docker-init, which only forwards signals and
    reaps; the service's main process is its child. Without it, pid 1 is the service.
    """
    tree = descendants(stats, 1)
    return tree[1:] if tree and pid1_name == DOCKER_INIT else tree
