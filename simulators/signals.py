"""Stopping a simulator command cleanly: SIGTERM (tests, demos) and Ctrl-C (a person) both end it."""

from __future__ import annotations

import signal
import threading


def stop_event_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so the command's main loop can tidy up before it exits."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
