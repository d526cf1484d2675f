"""TaskRunner: work off the UI thread, every signal back on it, and nothing kept once a task has ended."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

from station.ui.tasks import TaskRunner


def test_signals_arrive_on_the_ui_thread_even_for_lambdas(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=2)
    seen: dict[str, object] = {}

    def work(progress):  # type: ignore[no-untyped-def]
        seen["worker"] = threading.current_thread()
        progress(1, 2, "half")
        return 42

    task = runner.start(work, "answer")
    task.progress.connect(lambda d, t, m: seen.setdefault("progress", (threading.current_thread(), d, t, m)))
    task.succeeded.connect(lambda value: seen.setdefault("result", (threading.current_thread(), value)))
    qtbot.waitUntil(lambda: "result" in seen, timeout=5_000)
    main = threading.main_thread()
    assert seen["worker"] is not main
    assert seen["progress"] == (main, 1, 2, "half")
    assert seen["result"] == (main, 42)


def test_a_failure_is_reported_with_its_message(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    failures: list[str] = []

    def work(progress):  # type: ignore[no-untyped-def]
        raise ValueError("the scanner is unplugged; plug it in")

    task = runner.start(work, "broken")
    task.failed.connect(lambda message, exc: failures.append(message))
    qtbot.waitUntil(lambda: bool(failures), timeout=5_000)
    assert failures == ["the scanner is unplugged; plug it in"]


def test_finished_tasks_are_not_kept_alive_by_their_slots(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    refs = []
    done: list[int] = []
    for i in range(5):
        task = runner.start(lambda progress, i=i: bytearray(1_000_000), f"frame {i}")
        # A slot that refers to the task itself: the pattern that used to leak every result.
        task.succeeded.connect(lambda value, task=task: done.append(len(value) + 0 * id(task)))
        refs.append(weakref.ref(task))
    del task
    qtbot.waitUntil(lambda: len(done) == 5, timeout=5_000)
    qtbot.wait(50)
    gc.collect()
    assert [r() for r in refs] == [None] * 5



def test_signals_do_not_use_up_the_interpreters_bools(qtbot) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 drops a reference to True or False on every emit() and disconnect(); a camera
    preview's worth of tasks later the interpreter aborts (bool_dealloc). pyproject.toml keeps it out."""
    runner = TaskRunner()
    done: list[int] = []
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):
        runner.start(lambda progress, i=i: progress(1, 1, "frame") or i, f"frame {i}").succeeded.connect(done.append)
    qtbot.waitUntil(lambda: len(done) == 200, timeout=10_000)
    qtbot.wait(50)
    gc.collect()
    after = sys.getrefcount(True), sys.getrefcount(False)
    # A few references may be held elsewhere at either moment; 200 tasks emit and disconnect ~2,000 times.
    assert after[0] >= before[0] - 20 and after[1] >= before[1] - 20, (before, after)
