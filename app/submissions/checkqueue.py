"""Fair scheduling of format checks: a bounded number run at once, and waiting holds no thread.

A check runs in a worker process for up to its CPU budget; while it waits for a free worker the
request is parked on the event loop (an asyncio future), not in a worker thread, so a queue of
slow checks cannot starve the thread pool that every other request needs. Each user has at most
`check_per_user` checks queued or running across all their requests (the rest get 429 before
their body is read), uploads go ahead of dry runs, and dry runs never take the last free worker,
so one student's dry runs cannot hold up another group's upload.
"""

import asyncio
import heapq
import itertools
import math
import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

from fastapi.concurrency import run_in_threadpool

from app.config import get_settings
from app.errors import BadRequest, TooManyRequests

T = TypeVar("T")
UPLOAD = 0
DRY_RUN = 1
ERR_CLIENT_GONE = "The connection closed while the file waited for its check; nothing was stored."


def err_too_many_checks(limit: int) -> str:
    """The 429 message for a per-user limit."""
    return (
        f"You already have {limit} format check{'s' if limit != 1 else ''} in progress; "
        "wait for one to finish, then send this file again."
    )


class CheckQueue:
    """At most `workers` checks at once (dry runs at most workers − 1), uploads first, `per_user` per user."""

    def __init__(self, *, workers: int, per_user: int, retry_after: int = 5) -> None:
        self.workers = workers
        self.per_user = per_user
        self.retry_after = retry_after
        self.dry_run_cap = max(1, workers - 1)
        self._lock = threading.Lock()
        self._users: Counter[int] = Counter()
        self._running = 0
        self._dry_running = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._granted: set[asyncio.Future[None]] = set()

    @property
    def running(self) -> int:
        """Checks running now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Checks waiting for a worker."""
        return sum(1 for *_, f in self._waiters if not f.done())

    def in_progress(self, user_id: int) -> int:
        """The user's checks queued or running."""
        return self._users[user_id]

    def admit(self, user_id: int) -> None:
        """Count one check against the user; 429 when they already have `per_user` queued or running."""
        with self._lock:
            if self._users[user_id] >= self.per_user:
                raise TooManyRequests(
                    err_too_many_checks(self.per_user), retry_after=self.retry_after, code="too_many_checks"
                )
            self._users[user_id] += 1

    def leave(self, user_id: int) -> None:
        """The user's check is over (done, refused or abandoned)."""
        with self._lock:
            self._users[user_id] -= 1
            if self._users[user_id] <= 0:
                del self._users[user_id]

    @asynccontextmanager
    async def admitted(self, user_id: int) -> AsyncIterator[None]:
        """One check of the user's, counted for the duration of the block (see admit)."""
        self.admit(user_id)
        try:
            yield
        finally:
            self.leave(user_id)

    async def run(
        self,
        work: Callable[..., T],
        /,
        *,
        priority: int,
        gone: Callable[[], Awaitable[bool]] | None = None,
        **kwargs: Any,
    ) -> T:
        """Wait for a worker (on the event loop), then run `work(**kwargs)` in a thread.

        `gone()` is asked once a worker is free: a client that stopped waiting (a timeout under
        load) gets no check, so abandoned requests do not slow down the ones still waiting.
        """
        await self._acquire(priority)
        try:
            if gone is not None and await gone():
                raise BadRequest(ERR_CLIENT_GONE, code="client_gone")
            return await run_in_threadpool(work, **kwargs)
        finally:
            self._release(priority)

    def _can_start(self, priority: int) -> bool:
        return self._running < self.workers and (priority == UPLOAD or self._dry_running < self.dry_run_cap)

    def _take(self, priority: int) -> None:
        self._running += 1
        self._dry_running += priority == DRY_RUN

    async def _acquire(self, priority: int) -> None:
        with self._lock:
            if not self._waiters and self._can_start(priority):
                self._take(priority)
                return
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (priority, next(self._order), future))
            self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                granted = future in self._granted
                self._granted.discard(future)
                future.cancel()
            if granted:
                self._release(priority)
            raise
        with self._lock:
            self._granted.discard(future)

    def _release(self, priority: int) -> None:
        with self._lock:
            self._running -= 1
            self._dry_running -= priority == DRY_RUN
            self._dispatch()

    def _dispatch(self) -> None:
        # Called with the lock held: hand free workers to the best waiters, uploads before dry runs.
        while self._waiters:
            priority, _, future = self._waiters[0]
            if future.done():
                heapq.heappop(self._waiters)
                continue
            if not self._can_start(priority):
                return
            heapq.heappop(self._waiters)
            self._take(priority)
            self._granted.add(future)
            _grant(future)


def _grant(future: "asyncio.Future[None]") -> None:
    loop = future.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        future.set_result(None)
    else:  # released from another thread or loop: resolve it where it is awaited
        loop.call_soon_threadsafe(lambda: None if future.done() else future.set_result(None))


@lru_cache
def get_check_queue() -> CheckQueue:
    """The process-wide check queue, sized by TRACKER_CHECK_WORKERS and TRACKER_CHECK_PER_USER."""
    settings = get_settings()
    return CheckQueue(
        workers=settings.check_workers,
        per_user=settings.check_per_user,
        retry_after=math.ceil(settings.check_time_limit_s),
    )
