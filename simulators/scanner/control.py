"""The simulator's control interface: JSON lines on a UNIX socket beside the device link.

Requests (one JSON object per line, one JSON reply per line)::

    {"op": "place", "person": "household-7/member-2", "finger": "right thumb", "impression": 3}
    {"op": "place", "file": "101_1.tif", "condition": "smudged"}      # from the --bank folder
    {"op": "lift"}
    {"op": "fault", "name": "timeout", "value": true}   # also no_finger, corrupt_checksum, garbage (counts), wet, dry
    {"op": "reset"}            {"op": "unplug"}            {"op": "replug"}            {"op": "status"}

Replies are ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``; a bad request changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from pathlib import Path

from simulators.scanner.glass import ControlError, list_images
from simulators.scanner.server import ScannerSimulator

MAX_LINE = 64 * 1024


def control_path(link: Path | str) -> Path:
    link = Path(link)
    return link.with_name(link.name + ".ctl")


def handle(sim: ScannerSimulator, request: object) -> dict:
    """Apply one control request to ``sim``; never raises for bad requests."""
    try:
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            raise ControlError('a control request is a JSON object with an "op" field')
        op = request["op"]
        condition = request.get("condition", "normal")
        if op == "place":
            if "file" in request:
                sim.glass.place_file(str(request["file"]), condition)
            elif "person" in request:
                sim.glass.place_finger(
                    str(request["person"]), request.get("finger", 2), int(request.get("impression", 0)), condition
                )
            else:
                raise ControlError('"place" needs "person" (+ "finger", "impression") or "file"')
        elif op == "lift":
            sim.glass.lift()
        elif op == "fault":
            sim.glass.set_fault(str(request.get("name")), request.get("value", True))
        elif op == "reset":
            sim.reset(bool(request.get("erase_flash", False)))
        elif op == "unplug":
            sim.unplug()
        elif op == "replug":
            sim.replug()
        elif op != "status":
            raise ControlError(f"unknown op {op!r}; valid: place, lift, fault, reset, unplug, replug, status")
        images = [p.name for p in list_images(sim.bank)] if sim.bank else []
        return {"ok": True, **sim.glass.status(), "plugged": sim.plugged, "templates": len(sim.module.library),
                "images": images}  # fmt: skip
    except (ControlError, ValueError, TypeError, ImportError) as exc:
        return {"ok": False, "error": str(exc)}


class ControlServer:
    """Accepts control connections on a UNIX socket; each connection may send many lines."""

    def __init__(self, sim: ScannerSimulator, path: Path | str | None = None) -> None:
        self.sim = sim
        self.path = Path(path) if path else control_path(sim.link)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ControlServer:
        self.path.unlink(missing_ok=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        os.chmod(self.path, 0o600)  # only the user running the tests may move fingers around
        self._sock.listen(4)
        self._thread = threading.Thread(target=self._accept, name="zfm-sim control", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # a never-connected listener cannot always be shut down
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                if len(line) > MAX_LINE:
                    reply = {"ok": False, "error": "control request too long"}
                else:
                    try:
                        reply = handle(self.sim, json.loads(line))
                    except json.JSONDecodeError:
                        reply = {"ok": False, "error": "control request is not valid JSON"}
                stream.write(json.dumps(reply).encode() + b"\n")
                stream.flush()


def send(path: Path | str, request: dict, timeout: float = 10.0) -> dict:
    """Client helper: send one request to a running simulator's control socket, return its reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as stream:
            return json.loads(stream.readline())
