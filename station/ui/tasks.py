"""Run long operations off the UI thread and report their progress back to it.

Workflows in the Qt-free core take a ``progress(done, total, message)`` callback and may raise; this
module turns such a call into a Qt object whose signals arrive on the UI thread (queued connections),
so views only connect signals and never block.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


def _finished(progress: ProgressFn) -> Any:
    raise RuntimeError("this task has already run; start a new one")


class Cancelled(Exception):
    """Raised inside a task's progress callback once the user asked to cancel."""


class Task(QObject):
    """One background call. Its public signals are always emitted on the thread that created the task.

    A worker thread never emits them itself: it emits private signals connected to this object's own
    methods, which Qt queues to the object's thread, and those re-emit the public ones there. So any
    slot — including a lambda, which PySide would otherwise run on the emitting worker thread — runs
    on the UI thread and may touch widgets.
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str, object)  # user-facing message, the exception
    ended = Signal()
    _worker_progress = Signal(int, int, str)
    _worker_finished = Signal()

    def __init__(self, fn: Callable[[ProgressFn], Any], name: str = "task") -> None:
        super().__init__()
        self._fn = fn
        self.name = name
        self._cancel = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        # Called with the task on its own thread after ``ended`` (plain Python: no Qt connection to leak).
        self.on_done: Callable[[Task], None] | None = None
        self._worker_progress.connect(self._relay_progress)
        self._worker_finished.connect(self._relay_finished)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, done: int, total: int, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled(f"{self.name} cancelled")
        self._worker_progress.emit(int(done), int(total), str(message))

    def run_here(self) -> None:
        """Execute on the calling thread (the pool calls this on a worker thread)."""
        try:
            self.result = self._fn(self._report)
        except BaseException as exc:  # report every failure to the UI instead of losing it in a thread
            self.error = exc
            # The message shown to the operator is the exception text, which by convention says what
            # happened and what to do; the traceback goes to the log only.
            log.debug("task %s failed:\n%s", self.name, traceback.format_exc())
        finally:
            self.done.set()
            self._worker_finished.emit()

    # -- on the task's own (UI) thread ---------------------------------------------------------------
    def _relay_progress(self, done: int, total: int, message: str) -> None:
        self.progress.emit(done, total, message)

    def _relay_finished(self) -> None:
        if self.error is not None:
            self.failed.emit(str(self.error) or type(self.error).__name__, self.error)
        else:
            self.succeeded.emit(self.result)
        self.ended.emit()
        if self.on_done is not None:
            self.on_done(self)
        self._release()

    def _release(self) -> None:
        """Drop the connections and the work function once the task has reported.

        A slot connected to a task often refers to the task (or to a widget holding it); Qt keeps
        that slot alive from C++, where Python's collector cannot see the cycle, so without this
        every finished task — a camera preview frame, say — would stay in memory for good.
        """
        self._fn = _finished
        self.on_done = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "nothing to disconnect"
            for signal in (self.progress, self.succeeded, self.failed, self.ended, self._worker_progress,
                           self._worker_finished):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect()


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task: Task | None = task
        self.setAutoDelete(True)

    def run(self) -> None:
        task, self.task = self.task, None
        # The pool deletes the runnable (and PySide its wrapper) some time after run() returns, on the
        # worker thread: until then a kept reference would keep the finished task and its result alive.
        if task is not None:
            task.run_here()


class TaskRunner:
    """Starts tasks on a private pool; keeps references so Python does not collect running tasks."""

    def __init__(self, max_threads: int = 2) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._running: set[Task] = set()

    def start(self, fn: Callable[[ProgressFn], Any], name: str = "task") -> Task:
        task = Task(fn, name)
        self._running.add(task)
        task.on_done = self._running.discard
        self.pool.start(_Runnable(task))
        return task

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
