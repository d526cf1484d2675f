"""Long operations as objects: a progress callback and cooperative cancellation between steps."""

from __future__ import annotations

import threading
from collections.abc import Callable

from station.errors import Cancelled

ProgressFn = Callable[[int, int, str], None]


def _ignore(done: int, total: int, message: str) -> None:
    pass


class Job:
    """Base for long workflow steps. ``cancel()`` may be called from any thread; the job stops at
    the next checkpoint, keeping every step it already committed."""

    def __init__(self, progress: ProgressFn | None = None) -> None:
        self._progress = progress or _ignore
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def checkpoint(self, done: int, total: int, message: str) -> None:
        if self._cancel.is_set():
            raise Cancelled(f"cancelled by the operator while {message.lower()}; what was saved stays saved")
        self._progress(done, total, message)
