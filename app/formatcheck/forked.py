"""Worker processes forked from a parent that has already imported the checker.

`tracker check` over many files pays the checker's imports (pypdf, pdfium: a quarter of a
second of CPU) once in the parent instead of once per worker, and its workers are ready at
once. Forking is only safe while the parent runs a single thread (a lock held by another
thread at the fork would stay locked in the child forever) and is small (its address space
counts against the worker's memory cap), so the pool otherwise starts
`python -m app.formatcheck.worker` as before.

The checker's imports take as long as typer's start-up and parse of the command line, so
`tracker` starts a template process before it imports typer (template_start, from app.launch);
commands other than `check` stop it at once. The template imports the checker while the parent parses, then forks the
workers the parent asks for and exits. The parent makes itself a child subreaper (Linux) first,
so those workers become its own children, which it waits for and stops like any other.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

_MAX_FD = 65536
_PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
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


ForkedWorker = tuple[ForkedProcess, Connection, Connection]  # (process, answers from it, tasks to it)
_Pipes = tuple[int, int, int, int]  # (task read, task write, answer read, answer write)


def fork_workers(count: int) -> list[ForkedWorker] | None:
    """`count` forked workers: from the template when one was started, else from this process
    when that is safe; None when neither can fork (the caller starts fresh interpreters)."""
    global _TEMPLATE
    template, _TEMPLATE = _TEMPLATE, None
    if template is not None:
        workers = template.spawn(count)
        if workers is not None:
            return workers
    if not fork_is_safe():
        return None
    from app.formatcheck import worker  # the checker is imported here, before the fork, once for all workers

    made = [_new_pipes() for _ in range(count)]
    return [_connect(_fork_one(pipes, worker.quiet_process, worker.serve), pipes) for pipes in made]


def template_start(slots: int) -> None:
    """Fork the template now, while this process is small and has one thread, so the checker is
    imported beside the parent's own start-up; it will fork up to `slots` workers.

    Nothing happens where that is not safe or this process could not adopt the workers (not Linux)."""
    global _TEMPLATE
    if _TEMPLATE is None and sys.platform.startswith("linux") and fork_is_safe():
        _TEMPLATE = _Template(max(1, slots))
        atexit.register(template_discard)


def template_discard() -> None:
    """Stop and reap the template, if one waits: the command needs no workers (or has ended)."""
    global _TEMPLATE
    template, _TEMPLATE = _TEMPLATE, None
    if template is not None:
        template.stop()


class _Template:
    """The parent's ends of a template process: its orders, its answer and the workers' pipes."""

    def __init__(self, slots: int) -> None:
        order_read, self.orders = os.pipe()
        self.answers, answer_write = os.pipe()
        self.pipes = [_new_pipes() for _ in range(slots)]
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child; tests check the workers it forks
            try:
                # The parent's ends: held open here, they would hide from each side that the other has gone.
                for fd in (self.orders, self.answers, *(p[i] for p in self.pipes for i in (1, 2))):
                    os.close(fd)
                _template_main(order_read, answer_write, self.pipes)
            finally:
                os._exit(0)
        for fd in (order_read, answer_write, *(p[i] for p in self.pipes for i in (0, 3))):
            os.close(fd)

    def spawn(self, count: int) -> list[ForkedWorker] | None:
        """Have the template fork `count` workers (at most its slots) and exit; None if it failed."""
        count = min(count, len(self.pipes))
        pids: list[int] = []
        if not _become_subreaper():
            self.stop()
            return None
        orders, answers = Connection(self.orders, readable=False), Connection(self.answers, writable=False)
        with contextlib.suppress(OSError, EOFError), orders, answers:
            orders.send(count)
            pids = answers.recv()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)  # once it has gone, its workers are this process's children
        workers = [_connect(pid, pipes) for pid, pipes in zip(pids, self.pipes, strict=False)]
        _close_parent_ends(self.pipes[len(workers) :])
        if len(workers) == count:
            return workers
        _abandon(workers)
        return None

    def stop(self) -> None:
        """Kill the template, reap it, and close this process's ends of its pipes."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.orders)
        os.close(self.answers)
        _close_parent_ends(self.pipes)


def _abandon(workers: list[ForkedWorker]) -> None:
    """Stop the workers of a template that failed half-way; the pool starts fresh ones instead."""
    for process, inbox, outbox in workers:
        process.kill()
        process.wait()
        inbox.close()
        outbox.close()


def _template_main(order_read: int, answer_write: int, pipes: list[_Pipes]) -> None:  # pragma: no cover
    """The template: import the checker, wait for the number of workers, fork them, report their pids."""
    from app.formatcheck import worker

    try:
        count = Connection(order_read, writable=False).recv()
    except (EOFError, OSError):
        return  # the parent needs no workers (a usage error, --help) or has gone
    # The imported modules' objects move out of the collector's reach: a worker's collections then
    # neither scan them nor touch their pages, which stay shared with the other workers.
    gc.freeze()
    pids = [_fork_one(p, worker.quiet_process, worker.serve) for p in pipes[:count]]
    Connection(answer_write, readable=False).send(pids)


def _become_subreaper() -> bool:
    """Make this process the one that adopts its descendants' orphans (Linux); False elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _close_parent_ends(pipes: list[_Pipes]) -> None:
    """Close this process's ends of pipes no worker was forked for."""
    for pipe in pipes:
        os.close(pipe[1])
        os.close(pipe[2])


def _new_pipes() -> _Pipes:
    task_read, task_write = os.pipe()
    answer_read, answer_write = os.pipe()
    return task_read, task_write, answer_read, answer_write


def _connect(pid: int, pipes: _Pipes) -> ForkedWorker:
    """The worker `pid` with the parent's ends of its pipes."""
    return ForkedProcess(pid), Connection(pipes[2], writable=False), Connection(pipes[1], readable=False)


def _fork_one(pipes: _Pipes, quiet: Callable[[], None], serve: Callable[[Connection, Connection], None]) -> int:
    """Fork a worker serving on `pipes` and close its ends here; returns its pid."""
    task_read, _, _, answer_write = pipes
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected; tests check what it answers
        try:
            _close_other_fds(keep=(task_read, answer_write))
            quiet()
            serve(Connection(task_read, writable=False), Connection(answer_write, readable=False))
        finally:
            os._exit(0)  # never run the parent's atexit handlers or flush its buffers
    os.close(task_read)
    os.close(answer_write)
    return pid


_TEMPLATE: _Template | None = None


def _close_other_fds(keep: tuple[int, int]) -> None:
    """Close every descriptor but stdio and `keep`: a pipe end of a sibling held open here would
    hide from that sibling that the parent has gone."""
    low, high = sorted(keep)
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, _MAX_FD)
