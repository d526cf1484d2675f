"""The desktop app on simulators, for pytest-qt: a fresh station and simulated camp per test."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from station.config import StationConfig, load_config
from station.ui.app import build_window
from station.ui.window import MainWindow

PASSWORD = "demo-operator-pass"


def make_config(data_dir: Path, **overrides: str) -> StationConfig:
    # Only the test's own settings: a developer's station.toml or STATION_* variables must not leak in.
    return load_config(path=None, env={}, overrides={"data_dir": str(data_dir), **overrides})


def open_window(qtbot, config: StationConfig, families: int = 2, members: int = 2) -> MainWindow:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    window = build_window(QApplication.instance(), config, families=families, members=members, start=False)
    qtbot.addWidget(window)
    window.show()
    # The same start-up the app runs in the background, here on the test thread (it is deterministic).
    window.backend.start(lambda done, total, message: None)
    window.login.set_starting(False)
    return window


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no ./station.toml from the developer's checkout
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    win = open_window(qtbot, make_config(tmp_path / "station"))
    yield win
    win.close()
