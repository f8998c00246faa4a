"""A user in the `docker` group who is not root, to run the harness as (the docker backend
must need nothing more). Created here when the tests run as root (CI's .ci/run creates it
too); a non-root test run uses itself, if it may reach the engine."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine_relay import ENGINE_SOCKET

USER = "gamedrill-nonroot"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DockerGroupUser:
    name: str
    uid: int
    gid: int
    docker_gid: int
    python: str  # an interpreter this user may run, of the test run's Python version

    def run(self, argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        """Run `argv` (after the interpreter) as this user, with the checkout and its packages on the path."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tempfile.gettempdir(),
               "PYTHONPATH": os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]),
               **{key: os.environ[key] for key in ("DOCKER_HOST",) if key in os.environ}}
        switch = {} if os.geteuid() != 0 else {"user": self.uid, "group": self.gid, "extra_groups": [self.docker_gid]}
        return subprocess.run([self.python, *argv], env=env, cwd=tempfile.gettempdir(), capture_output=True,
                              text=True, timeout=timeout_s, check=False, **switch)  # type: ignore[call-overload]

    def workdir(self) -> Path:
        """A fresh directory this user owns (a root test's tmp_path is closed to it)."""
        path = Path(tempfile.mkdtemp(prefix="gamedrill-nonroot-"))
        os.chown(path, self.uid, self.gid)
        return path


def docker_group_user() -> DockerGroupUser | str:
    """The user, or why there is none."""
    try:
        docker_gid = grp.getgrnam("docker").gr_gid
    except KeyError:
        return "there is no `docker` group (.ci/run creates it before starting dockerd)"
    if os.stat(ENGINE_SOCKET).st_gid != docker_gid:
        return f"{ENGINE_SOCKET} does not belong to the docker group"
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        if docker_gid not in os.getgroups():
            return f"this non-root user ({me.pw_name}) is not in the docker group"
        return DockerGroupUser(me.pw_name, me.pw_uid, me.pw_gid, docker_gid, sys.executable)
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", "docker",
                        USER], check=True, capture_output=True)
    entry = pwd.getpwnam(USER)
    user = DockerGroupUser(USER, entry.pw_uid, entry.pw_gid, docker_gid, "")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (os.path.realpath(sys.executable), shutil.which(f"python{version}"), f"/usr/bin/python{version}"):
        if candidate and _runs(user, candidate, version):
            return DockerGroupUser(USER, entry.pw_uid, entry.pw_gid, docker_gid, candidate)
    return f"no python{version} that {USER} may run (the test run's own lives where only root can read)"


def _runs(user: DockerGroupUser, python: str, version: str) -> bool:
    probe = DockerGroupUser(user.name, user.uid, user.gid, user.docker_gid, python)
    try:
        done = probe.run(["-c", "import sys, docker, pydantic; print('%d.%d' % sys.version_info[:2])"], 30)
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.strip() == version
