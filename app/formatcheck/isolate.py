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
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.formatcheck.report import CheckReport, Finding
from app.formatcheck.rules import RULESETS

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 5.0
DEFAULT_MEMORY_LIMIT_MB = 512
WORKER_START_TIMEOUT = 60.0
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _limit_report(ruleset: str, what: str) -> CheckReport:
    message = f"This file could not be checked: {what}. Export it again as a PDF and upload that."
    return CheckReport(ruleset=ruleset, pages=0, errors=[Finding("unreadable", message, [])])


class _Worker:
    """One worker process and the parent's ends of its pipes."""

    def __init__(self) -> None:
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
        assert self.process.stdin is not None and self.process.stdout is not None
        self.outbox = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.inbox = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.ready = False

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
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a SIGKILLed process always exits
            pass
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

    def warm(self) -> None:
        """Start the missing workers now (in parallel), so the first checks do not wait for them."""
        with self._lock:
            missing = self.size - len(self._idle)
        started = [_Worker() for _ in range(max(0, missing))]
        for worker in started:
            worker.wait_ready()
            self._give(worker)

    def _send(self, task: tuple[Any, ...]) -> _Worker:
        """Hand the task to a live worker; one that died while idle is replaced once."""
        for attempt in range(2):
            worker = self._take()
            try:
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

    def run(self, task: tuple[Any, ...], time_limit: float) -> tuple[str, Any]:
        """Send one task to a worker and wait at most time_limit seconds for its answer."""
        with self._slots:
            worker = self._send(task)
            try:
                if not worker.inbox.poll(time_limit):
                    worker.kill()
                    return ("timeout", None)
                try:
                    result = worker.inbox.recv()
                except (EOFError, OSError):
                    worker.kill()
                    return ("died", worker.process.returncode)
            except BaseException:
                worker.kill()
                raise
            if result[0] == "memory":
                worker.kill()
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


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide worker pool, created on first use."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
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
) -> CheckReport:
    """Check a PDF in a worker process; a file that overruns the limits gets an `unreadable` report."""
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
    status, value = (pool or default_pool()).run(task, time_limit)
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
