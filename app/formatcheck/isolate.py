"""Run check_pdf in warm worker processes with a time limit and a memory limit.

A hostile upload (a decompression bomb, a reference loop, a file built to be slow) must
never take the service down, so parsing happens in a separate process whose address
space is capped with RLIMIT_AS and which is killed and replaced when it overruns its
time. Workers are plain `python -m app.formatcheck.worker` processes kept warm and
reused, so a call costs a pipe round trip, not a process start. (multiprocessing's
spawn and forkserver contexts would re-run the caller's __main__ module in every
worker, which is slow for a web server and wrong for scripts without a main guard.)
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.formatcheck.forked import ForkedProcess, ForkedWorker, fork_workers
from app.formatcheck.report import CheckReport, Finding
from app.formatcheck.rulesets import RULESETS

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 5.0
DEFAULT_MEMORY_LIMIT_MB = 512
WORKER_START_TIMEOUT = 60.0
# A worker that has not used its CPU budget after this many times the limit on the clock was starved.
# Generous: on a 2-core machine with a load of 13 a worker gets about a seventh of a core.
OVERLOAD_FACTOR = 10.0
_POLL_S = 0.25
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class CheckOverloaded(RuntimeError):
    """The machine was too busy to check the file (twice): the file is not at fault; try again later."""


def _limit_report(ruleset: str, what: str) -> CheckReport:
    message = f"This file could not be checked: {what}. Export it again as a PDF and upload that."
    return CheckReport(ruleset=ruleset, pages=0, errors=[Finding("unreadable", message, [])])


class _Worker:
    """One worker process and the parent's ends of its pipes."""

    def __init__(self, forked: ForkedWorker | None = None) -> None:
        self.ready = False
        self.process: subprocess.Popen[bytes] | ForkedProcess
        if forked is not None:
            self.process, self.inbox, self.outbox = forked
            return
        env = dict(os.environ)
        # The worker must import this very package, wherever the caller found it.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.formatcheck.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.outbox = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.inbox = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()

    def wait_ready(self) -> None:
        """Block until the worker has imported the checker."""
        if self.ready:
            return
        try:
            if self.inbox.poll(WORKER_START_TIMEOUT):
                status, _ = self.inbox.recv()
                if status == "ready":
                    self.ready = True
                    return
        except (EOFError, OSError):
            pass
        self.kill()
        raise RuntimeError("the format check worker did not start")

    def alive(self) -> bool:
        """Whether the process still runs and its pipe is open."""
        return self.process.poll() is None and not self.inbox.closed

    def kill(self) -> None:
        """Stop the process for good and close the pipes."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a SIGKILLed process always exits
            self.process.wait(timeout=5)
        for conn in (self.inbox, self.outbox):
            if not conn.closed:
                conn.close()


class WorkerPool:
    """At most `size` busy workers; further callers wait; overrunning workers are replaced."""

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, size or os.cpu_count() or 1)
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
        worker = _Worker()
        worker.wait_ready()
        return worker

    def _give(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                worker.kill()
            else:
                self._idle.append(worker)

    def warm(self, count: int | None = None, *, fork: bool = False) -> None:
        """Start the missing workers (up to `count`, default the pool's size) now, in parallel,
        so the first checks do not wait for them.

        With `fork`, they are forked (from the template process if one was started, else from this
        process after it imports the checker) instead of started as fresh interpreters: for a
        short-lived command like `tracker check`, not for the server. It is done only where it is
        safe (see forked.fork_is_safe).
        """
        with self._lock:
            missing = max(0, min(self.size, count or self.size) - len(self._idle))
        forked = fork_workers(missing) if fork and missing else None
        started = [_Worker(f) for f in forked] if forked is not None else [_Worker() for _ in range(missing)]
        for worker in started:
            worker.wait_ready()
            self._give(worker)

    def _send(self, task: tuple[Any, ...], nice: int = 0) -> _Worker:
        """Hand the task to a live worker; one that died while idle is replaced once."""
        for attempt in range(2):
            worker = self._take()
            try:
                _renice(worker, nice)
                worker.outbox.send(task)
                return worker
            except (BrokenPipeError, ConnectionResetError):
                worker.kill()
                if attempt:
                    raise
            except BaseException:
                worker.kill()
                raise
        raise AssertionError("unreachable")

    def run(self, task: tuple[Any, ...], time_limit: float, nice: int = 0) -> tuple[str, Any]:
        """Send one task to a worker; it may use time_limit seconds of CPU (see _await_answer).

        `nice` > 0 runs the task at a lower CPU priority (dry runs), so it gives way to uploads.
        """
        with self._slots:
            worker = self._send(task, nice)
            try:
                status = _await_answer(worker, time_limit)
                if status is not None:
                    worker.kill()
                    return status
                try:
                    result: tuple[str, Any] = worker.inbox.recv()
                except (EOFError, OSError):
                    worker.kill()
                    return ("died", worker.process.returncode)
            except BaseException:
                worker.kill()
                raise
            if result[0] == "memory" or not _renice(worker, 0):
                worker.kill()  # a worker that cannot get its priority back is not reused
            else:
                self._give(worker)
            return result

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their caller hands them back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


def _renice(worker: _Worker, nice: int) -> bool:
    """Set the worker's CPU priority; False when it cannot be done (raising it back needs privilege)."""
    if not hasattr(os, "setpriority"):
        return True
    try:
        if os.getpriority(os.PRIO_PROCESS, worker.process.pid) != nice:
            os.setpriority(os.PRIO_PROCESS, worker.process.pid, nice)
    except (PermissionError, ProcessLookupError):
        return False
    return True


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _await_answer(worker: _Worker, time_limit: float) -> tuple[str, Any] | None:
    """Wait for the worker's answer: None when it is ready, else ("timeout"|"overloaded", cpu seconds).

    The limit is on the worker's CPU time, not on the clock: on a busy machine a normal file may wait
    for a core for seconds, and that is not the file's fault. A file that really is slow burns its CPU
    budget and gets "timeout". A worker that reaches the wall-clock cap (OVERLOAD_FACTOR times the
    limit) without using its budget was starved: "overloaded", which the caller retries.
    """
    start = time.monotonic()
    cpu_start = _cpu_seconds(worker.process.pid)
    while True:
        elapsed = time.monotonic() - start
        if worker.inbox.poll(min(_POLL_S, max(0.0, time_limit * OVERLOAD_FACTOR - elapsed))):
            return None
        cpu_now = _cpu_seconds(worker.process.pid)
        used = cpu_now - cpu_start if cpu_now is not None and cpu_start is not None else None
        if used is None:  # no /proc: fall back to the clock alone
            if time.monotonic() - start >= time_limit:
                return ("timeout", None)
            continue
        if used >= time_limit:
            return ("timeout", used)
        if time.monotonic() - start >= time_limit * OVERLOAD_FACTOR:
            return ("overloaded", used)


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def default_pool(size: int | None = None) -> WorkerPool:
    """The process-wide worker pool, created on first use with `size` workers (default: one per CPU)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool(size)
            atexit.register(_POOL.close)
        return _POOL


def check_pdf_isolated(
    source: str | os.PathLike[str] | bytes,
    ruleset: str = "report",
    *,
    required_sections: Sequence[str] | None = None,
    synonyms: Mapping[str, Iterable[str]] | None = None,
    page_limit: int | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    pool: WorkerPool | None = None,
    nice: int = 0,
) -> CheckReport:
    """Check a PDF in a worker process; a file that overruns the limits gets an `unreadable` report.

    `time_limit` is CPU seconds. A check starved of CPU is retried once, then CheckOverloaded is raised:
    a busy machine never makes a file `unreadable`.
    """
    if ruleset not in RULESETS:
        raise ValueError(f"unknown ruleset {ruleset!r}; expected one of {', '.join(RULESETS)}")
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    elif not isinstance(source, bytes):
        source = str(Path(source).resolve())  # the worker may not share our working directory
    kwargs: dict[str, Any] = {
        "required_sections": list(required_sections) if required_sections is not None else None,
        "synonyms": {k: list(v) for k, v in synonyms.items()} if synonyms is not None else None,
        "page_limit": page_limit,
    }
    task = ("check", source, ruleset, kwargs, int(memory_limit_mb) * 1024 * 1024)
    status, value = (pool or default_pool()).run(task, time_limit, nice)
    if status == "overloaded":
        logger.warning(
            "format check starved of CPU (%.2f s used in %g s); retrying once", value, time_limit * OVERLOAD_FACTOR
        )
        status, value = (pool or default_pool()).run(task, time_limit, nice)
        if status == "overloaded":
            raise CheckOverloaded(
                f"the server is too busy to check this file now ({value:.2f} s of CPU in "
                f"{time_limit * OVERLOAD_FACTOR:g} s)"
            )
    if status == "ok":
        return CheckReport.from_dict(value)
    if status == "raise":
        raise value
    if status == "timeout":
        return _limit_report(ruleset, f"reading it took longer than {time_limit:g} s")
    if status in ("memory", "died"):
        if status == "died":
            logger.warning("format check worker died (exit status %s)", value)
        return _limit_report(ruleset, f"reading it needed more than {memory_limit_mb} MB of memory")
    if status == "recursion":
        return _limit_report(ruleset, "its structure is nested too deeply to read")
    logger.error("format check failed: %s", value)
    return _limit_report(ruleset, "the checker could not make sense of its structure")


class RenderFailed(Exception):
    """A page picture could not be made: the page is missing, or the file overran the limits."""


def render_page_isolated(
    source: str | os.PathLike[str] | bytes,
    page: int,
    boxes: Sequence[Mapping[str, Any]] = (),
    *,
    width_px: int = 600,
    display_size: Sequence[float] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB,
    pool: WorkerPool | None = None,
) -> bytes:
    """A PNG of one page with the boxes outlined, made in a worker under the same limits as a check."""
    if not isinstance(source, bytes):
        source = str(Path(source).resolve())
    options = {"width_px": int(width_px), "display_size": list(display_size) if display_size else None}
    task = ("render", source, int(page), [dict(b) for b in boxes], options, int(memory_limit_mb) * 1024 * 1024)
    status, value = (pool or default_pool()).run(task, time_limit)
    if status == "ok":
        return bytes(value)
    if status == "raise":
        raise RenderFailed(str(value))
    raise RenderFailed(f"the page could not be drawn within the limits ({status})")
