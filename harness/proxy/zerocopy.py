"""Moving bytes from one socket to another when no toxic is in the way.

On Linux the bytes go socket -> pipe -> socket with `os.splice` and never enter Python
(zero-copy); elsewhere a `recv_into` + `send` copy loop does the same job. Bytes the
destination cannot take yet stay in a `Backlog` owned by the link, which stops reading
until the backlog has drained (that is the backpressure).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Protocol

HAS_SPLICE = hasattr(os, "splice")
FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)
PIPE_BYTES = 1 << 20  # the most one splice moves; Linux's default pipe-max-size
COPY_BYTES = 256 * 1024
SPARE_PIPES = 8  # empty pipes kept for reuse; more would only hold descriptors


class Backlog(Protocol):
    size: int  # bytes still to write

    def drain(self, dst: int) -> bool:
        """Write what `dst` takes now; True once empty. Raises OSError if `dst` failed."""

    def close(self) -> None: ...


class Mover(Protocol):
    def move(self, src: int, dst: int) -> tuple[int, Backlog | None]:
        """Read once from socket `src`, write to socket `dst`: (bytes read, 0 at EOF; what is left).

        Raises BlockingIOError when `src` has nothing, other OSErrors when a socket failed.
        """


class Pipe:
    __slots__ = ("read_fd", "write_fd")

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # a smaller pipe only means more rounds
            fcntl.fcntl(self.write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def close(self) -> None:
        os.close(self.read_fd)
        os.close(self.write_fd)


class PipeBacklog:
    __slots__ = ("_mover", "pipe", "size")

    def __init__(self, mover: SpliceMover, pipe: Pipe, size: int) -> None:
        self._mover, self.pipe, self.size = mover, pipe, size

    def drain(self, dst: int) -> bool:
        try:
            while self.size:
                self.size -= os.splice(self.pipe.read_fd, dst, self.size, None, None, FLAGS)
        except BlockingIOError:
            return False
        self._mover.give_back(self.pipe)
        return True

    def close(self) -> None:
        if self.size:
            self.pipe.close()


class SpliceMover:
    """Borrows an empty pipe for each move; a move that completes leaves it empty for the next."""

    def __init__(self) -> None:
        self._spare: list[Pipe] = []

    def move(self, src: int, dst: int) -> tuple[int, Backlog | None]:
        # The hot path of the proxy: positional arguments, no attribute lookups we can avoid.
        spare = self._spare
        pipe = spare.pop() if spare else Pipe()
        try:
            nread = os.splice(src, pipe.write_fd, PIPE_BYTES, None, None, FLAGS)
        except OSError:
            self.give_back(pipe)  # still empty
            raise
        left = nread
        try:
            while left:
                left -= os.splice(pipe.read_fd, dst, left, None, None, FLAGS)
        except BlockingIOError:
            return nread, PipeBacklog(self, pipe, left)
        except OSError:
            pipe.close()  # holds bytes nobody will read
            raise
        self.give_back(pipe)
        return nread, None

    def give_back(self, pipe: Pipe) -> None:
        if len(self._spare) < SPARE_PIPES:
            self._spare.append(pipe)
        else:
            pipe.close()


class BytesBacklog:
    __slots__ = ("_data", "size")

    def __init__(self, data: bytes) -> None:
        self._data, self.size = data, len(data)

    def drain(self, dst: int) -> bool:
        try:
            while self._data:
                self._data = self._data[os.write(dst, self._data) :]
        except BlockingIOError:
            return False
        finally:
            self.size = len(self._data)
        return True

    def close(self) -> None:
        self._data = b""


class CopyMover:
    """The portable fallback: one shared buffer, copied through Python."""

    def __init__(self) -> None:
        self._buffer = bytearray(COPY_BYTES)
        self._view = memoryview(self._buffer)

    def move(self, src: int, dst: int) -> tuple[int, Backlog | None]:
        nread = os.readv(src, [self._buffer])
        sent = 0
        try:
            while sent < nread:
                sent += os.write(dst, self._view[sent:nread])
        except BlockingIOError:
            return nread, BytesBacklog(bytes(self._view[sent:nread]))
        return nread, None


def make_mover(zero_copy: bool = True) -> Mover:
    return SpliceMover() if zero_copy and HAS_SPLICE else CopyMover()
