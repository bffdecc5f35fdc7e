"""Computed dashboards shared for a moment by everyone polling them.

A 1,000-group dashboard costs a good part of a second of CPU to build; TAs poll it on deadline
night. Each process keeps the last answer per (course, milestone) for TRACKER_DASHBOARD_CACHE_S
seconds and forgets it as soon as this process commits any write, and concurrent requests for a
missing entry build it once while the others wait for that build (the builder needs nothing they
hold). So a poller sees this process's writes at once and other processes' within the TTL.
"""

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.db import write_generation

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V | None = None
    generation: int = -1
    stamp: float = 0.0
    building: threading.Event | None = None
    done: list[bool] = field(default_factory=list)


class SharedAnswers(Generic[V]):
    """Answers by key, fresh for `ttl` seconds and while no write was committed in this process."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[Hashable, _Entry[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The fresh answer for `key`, built by `build()` when there is none (once for concurrent callers)."""
        if self.ttl <= 0:
            return build()
        while True:
            with self._lock:
                entry = self._entries.setdefault(key, _Entry())
                if entry.value is not None and self._fresh(entry):
                    return entry.value
                waiting_for = entry.building
                if waiting_for is None:
                    entry.building = threading.Event()
                    break
            waiting_for.wait(timeout=30)
        generation, stamp = write_generation(), time.monotonic()
        try:
            value = build()
            with self._lock:
                entry.value, entry.generation, entry.stamp = value, generation, stamp
            return value
        finally:
            with self._lock:
                event, entry.building = entry.building, None
            if event is not None:
                event.set()

    def _fresh(self, entry: _Entry[V]) -> bool:
        return entry.generation == write_generation() and time.monotonic() - entry.stamp < self.ttl
