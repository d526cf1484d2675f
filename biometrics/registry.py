"""A device registry: one config string ``scheme:argument`` picks a backend, and a wrong string is
refused with the valid choices. Scanner and camera each keep one (python-can's bus registry, in
miniature)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Device = TypeVar("Device")


class BackendRegistry(Generic[Device]):
    """Factories by scheme; ``resolve`` splits a config string and calls the scheme's factory."""

    def __init__(self, kind: str, examples: str, error: Callable[[str], Exception],
                 hints: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.examples = examples
        self._error = error
        self._hints = dict(hints or {})
        self._lock = threading.Lock()
        self._backends: dict[str, Callable[[str], Device]] = {}

    def register(self, scheme: str, factory: Callable[[str], Device]) -> None:
        """Make ``resolve(f"{scheme}:...")`` call ``factory(rest_of_config)``; replaces an earlier one."""
        if not scheme.isidentifier():
            raise ValueError(f"{self.kind} scheme {scheme!r} must be a plain word such as 'sim'")
        with self._lock:
            self._backends[scheme] = factory

    def schemes(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._backends))

    def resolve(self, config: str) -> Device:
        scheme, sep, rest = config.partition(":")
        scheme = scheme.strip()
        with self._lock:
            factory = self._backends.get(scheme)
            choices = sorted(self._backends)
        if not sep or factory is None:
            valid = ", ".join(f"'{c}:…'" for c in choices)
            hint = ""
            if scheme in self._hints and scheme not in choices:
                hint = f"; for '{scheme}:' {self._hints[scheme]}"
            raise self._error(
                f"{self.kind} config {config!r} names no known {self.kind} backend; valid choices are "
                f"{valid} (e.g. {self.examples}){hint}"
            )
        return factory(rest)
