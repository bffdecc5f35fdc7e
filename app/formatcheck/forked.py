"""Worker processes forked from a parent that has already imported the checker.

`tracker check` over many files pays the checker's imports (pypdf, pdfium: a quarter of a
second of CPU) once in the parent instead of once per worker, and its workers are ready at
once. Forking is only safe while the parent runs a single thread (a lock held by another
thread at the fork would stay locked in the child forever) and is small (its address space
counts against the worker's memory cap), so the pool otherwise starts
`python -m app.formatcheck.worker` as before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

_MAX_FD = 65536
# A forked worker starts with its parent's address space, which counts against the worker's
# memory cap (RLIMIT_AS, 512 MB by default); a parent larger than this starts workers instead.
FORK_MAX_ADDRESS_SPACE = 256 * 1024 * 1024


def fork_is_safe() -> bool:
    """Whether this process may fork workers: it runs one thread and its address space is small."""
    if threading.active_count() != 1:
        return False  # a lock held by another thread at the fork would stay locked in the child
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return pages * os.sysconf("SC_PAGE_SIZE") <= FORK_MAX_ADDRESS_SPACE


class ForkedProcess:
    """What the pool uses of subprocess.Popen (pid, poll, kill, wait, returncode), for a forked child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit status once the child has ended (and been reaped), else None."""
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: it is gone all the same
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        """Send SIGKILL (a child that already ended is left alone)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """Reap the child; raise subprocess.TimeoutExpired when it has not ended within `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
            time.sleep(0.005)
        assert self.returncode is not None
        return self.returncode


def fork_worker() -> tuple[ForkedProcess, Connection, Connection]:
    """Fork a worker serving on two new pipes; returns (process, answers from it, tasks to it)."""
    from app.formatcheck import worker  # the checker is imported here, before the fork, once for all workers

    task_read, task_write = os.pipe()
    answer_read, answer_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected; tests check what it answers
        try:
            _close_other_fds(keep=(task_read, answer_write))
            worker.quiet_process()
            worker.serve(Connection(task_read, writable=False), Connection(answer_write, readable=False))
        finally:
            os._exit(0)  # never run the parent's atexit handlers or flush its buffers
    os.close(task_read)
    os.close(answer_write)
    return ForkedProcess(pid), Connection(answer_read, writable=False), Connection(task_write, readable=False)


def _close_other_fds(keep: tuple[int, int]) -> None:
    """Close every descriptor but stdio and `keep`: a pipe end of a sibling held open here would
    hide from that sibling that the parent has gone."""
    low, high = sorted(keep)
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, _MAX_FD)
