"""Desktop app start-up time and memory, on simulators, offscreen.

    .venv/bin/python benchmarks/app_startup.py [--runs 3]

Each run is a fresh process (imports included, as an operator's double-click would pay):

* **first window shown** — from process start until the event loop has handled the start-up window
  (the splash :class:`station.ui.app.Launcher` shows while the heavy modules import on a thread);
* **main window shown** — the same for the main window (sign-in screen); the database and the
  simulated camp are then still being prepared in the background;
* **ready to sign in** — the background start-up done (database opened and migrated; on simulators the
  camp built the first time, reopened afterwards);
* **RSS** — resident memory after start-up, and after one household (3 members, one with worn fingers)
  was enrolled through the UI: photos, fingers, FKO unlock, card written and authorised.

The baseline, measured in the same run, is a bare ``QApplication`` showing an empty ``QMainWindow``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _until(app, done, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.005)


def child_baseline() -> dict:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(["baseline"])
    window = QMainWindow()
    window.resize(1100, 720)
    shown: dict[str, float] = {}
    window.show()
    QTimer.singleShot(0, lambda: (shown.setdefault("t", time.perf_counter() - T0), app.quit()))
    app.exec()
    return {"shown_s": shown["t"], "rss_start_mib": rss_mib()}


def child_app(data_dir: str) -> dict:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from station.config import load_config
    from station.ui.app import Launcher

    app = QApplication(["station"])
    config = load_config(path=None, env={}, overrides={"data_dir": data_dir})
    launcher = Launcher(app, config, families=3, members=3)  # what `station run` does
    shown: dict[str, float] = {}
    shown["splash"] = launcher.splash_shown - T0
    _until(app, lambda: launcher.window is not None or launcher.error is not None)
    if launcher.error is not None:
        raise launcher.error
    window = launcher.window
    QTimer.singleShot(0, lambda: shown.setdefault("t", time.perf_counter() - T0))
    _until(app, lambda: "t" in shown)
    _until(app, lambda: window.login.sign_in.isEnabled())
    ready = time.perf_counter() - T0
    rss_start = rss_mib()
    from station.ui.simcamp import PASSWORD  # imported by the launcher by now; not before it, or it costs


    w = window
    w.login.password.setText(PASSWORD)
    w.login.submit()
    _until(app, lambda: len(w.setup.statuses) == 4)
    if w.setup.village.count() == 0:  # a restarted station has its list already
        w.setup.import_list()
        _until(app, lambda: w.setup.banner.level in ("ok", "error") and w.setup.import_button.isEnabled())
    w.setup.open_camp()
    w.setup.proceed.emit()
    urn = next(h.urn for h in w.backend.search("") if h.status.value == "listed")
    t_enrol = time.perf_counter()
    w.households.search.setText(urn)
    w.households.enrol_selected()
    w.wizard.go_next()
    cap = w.wizard.capture
    insured = len(cap.view.insured)
    for row in range(insured):
        cap.members.setCurrentRow(row)
        if row == insured - 1:
            cap.worn.setChecked(True)
        cap.take_photo()
        _until(app, lambda: cap.task is None)
        cap.members.setCurrentRow(row)
        cap.capture_fingers()
        _until(app, lambda: cap.task is None)
    w.wizard.go_next()
    card = w.wizard.card
    card.unlock()
    _until(app, lambda: card.task is None)
    card.write()
    _until(app, lambda: card.task is None)
    if card.result is None:
        raise RuntimeError(f"the card was not issued: {card.banner.text()}")
    enrol_s = time.perf_counter() - t_enrol
    w.wizard.go_next()
    result = {"splash_s": shown["splash"], "shown_s": shown["t"], "ready_s": ready, "rss_start_mib": rss_start,
              "rss_after_enrolment_mib": rss_mib(), "enrolment_s": enrol_s}
    window.close()
    return result


def run_child(mode: str, data_dir: str | None = None) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    if data_dir:
        env["XDG_CACHE_HOME"] = str(Path(data_dir) / "cache")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode] + ([data_dir] if data_dir else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=data_dir or None, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} run failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description="desktop app start-up time and memory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child_baseline() if args.child[0] == "baseline" else child_app(args.child[1])
        print(json.dumps(result), flush=True)
        os._exit(0)  # skip PySide's teardown at interpreter exit; the figures are printed

    base, first, again = [], [], []
    for _ in range(args.runs):
        base.append(run_child("baseline"))
        with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
            first.append(run_child("app", tmp))  # a new station: the simulated camp is built
            again.append(run_child("app", tmp))  # the same station started again: everything reopened

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    b_shown, b_rss = med(base, "shown_s"), med(base, "rss_start_mib")
    print(f"desktop app start-up, offscreen, median of {args.runs} fresh processes (imports included)")
    print(f"  baseline (empty QMainWindow):      shown {b_shown * 1000:6.0f} ms   RSS {b_rss:6.1f} MiB")
    for label, rows in (("new station (camp built)", first), ("restart (camp reopened)", again)):
        shown, ready = med(rows, "shown_s"), med(rows, "ready_s")
        rss0, rss1 = med(rows, "rss_start_mib"), med(rows, "rss_after_enrolment_mib")
        splash = med(rows, "splash_s")
        print(f"  {label + ':':<34} first window (splash) {splash * 1000:6.0f} ms ({splash / b_shown:.1f}x baseline), "
              f"main window {shown * 1000:6.0f} ms, ready to sign in {ready:5.2f} s")
        print(f"  {'':<34} RSS after start {rss0:6.1f} MiB ({rss0 / b_rss:.1f}x), after one enrolment "
              f"{rss1:6.1f} MiB (+{rss1 - rss0:.1f}); enrolment through the UI {med(rows, 'enrolment_s'):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
