"""What /proc says about a process: parent, group, CPU time, open files.

Read straight from /proc so it works for any process of ours, in a container (through the
host's /proc when the container shares the pid namespace) or not, without psutil.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    pgid: int
    state: str
    cpu_s: float


def read_stat(pid: int) -> ProcStat | None:
    """None when the process is gone (or a zombie nobody asked about)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2:].split()
    state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
    utime, stime = int(fields[11]), int(fields[12])
    return ProcStat(pid=pid, ppid=ppid, pgid=pgid, state=state, cpu_s=(utime + stime) / CLOCK_TICKS)


def all_pids() -> Iterator[int]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            yield int(entry.name)


def group_members(pgid: int) -> list[ProcStat]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for pid in all_pids():
        stat = read_stat(pid)
        if stat is not None and stat.pgid == pgid and stat.state != "Z":
            members.append(stat)
    return members


def open_fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def environ_of(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            raw = handle.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


RUN_ID_ENV = "GAMEDRILL_RUN_ID"  # every process gamedrill starts for a run carries it


def run_processes(run_id: str | None = None) -> Iterator[tuple[ProcStat, dict[str, str]]]:
    """Live processes started for `run_id` (for any run when None), with their environment."""
    for pid in all_pids():
        if pid == os.getpid():
            continue
        env = environ_of(pid)
        owner = env.get(RUN_ID_ENV)
        if not owner or (run_id is not None and owner != run_id):
            continue
        stat = read_stat(pid)
        if stat is not None and stat.state != "Z":
            yield stat, env


def is_alive(pid: int) -> bool:
    stat = read_stat(pid)
    return stat is not None and stat.state != "Z"
