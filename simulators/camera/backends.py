"""The ``sim:`` camera backends: synthetic faces steered by a control, and a folder of pictures.

``sim:faces`` shows whoever the in-process :func:`camera_control` says sits in front of it;
``sim:faces:<state.json>`` reads subject and fault from that file instead, so another process (a demo
script, a test harness) can steer a station's camera. ``sim:folder:<dir>`` plays the pictures in a
folder, one per still photo.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from biometrics.camera import Camera, CameraConfigError, CameraInfo, CameraNotFound, CameraReadError
from keymgmt.files import write_atomic
from simulators.camera.faces import FRAME_SIZE, person_seed
from simulators.camera.scenes import CameraFault, scene

DEFAULT_SUBJECT = "demo/member-1"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STILL_FRAMES = 1_000_000  # stills use their own frame numbers, so previews do not change them


@dataclass(frozen=True, slots=True)
class CameraState:
    subject: str = DEFAULT_SUBJECT  # person key: who sits in front of the camera
    fault: CameraFault = CameraFault.NONE


class CameraControl:
    """Who is in front of a simulated camera and what goes wrong; optionally kept in a file.

    With a ``state_file`` every change is written atomically (temp file, fsync, rename) and every
    reader picks it up on its next frame, across processes.
    """

    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self.state_file = Path(state_file) if state_file is not None else None
        self._lock = threading.Lock()
        self._state = CameraState()
        self._loaded_mtime: int | None = None

    @property
    def state(self) -> CameraState:
        with self._lock:
            if self.state_file is not None:
                self._reload()
            return self._state

    def set(self, subject: str | None = None, fault: CameraFault | str | None = None) -> CameraState:
        """Change the subject and/or fault; the rest stays as it is."""
        with self._lock:
            if self.state_file is not None:
                self._reload()
            new = CameraState(
                subject=self._state.subject if subject is None else _check_subject(subject),
                fault=self._state.fault if fault is None else CameraFault(fault),
            )
            self._state = new
            self._save()
            return new

    def reset(self) -> CameraState:
        """Back to the default subject and no fault."""
        with self._lock:
            self._state = CameraState()
            self._save()
            return self._state

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = json.dumps({"subject": self._state.subject, "fault": self._state.fault.value}).encode()
        write_atomic(self.state_file, data)
        self._loaded_mtime = self.state_file.stat().st_mtime_ns

    def _reload(self) -> None:
        assert self.state_file is not None
        try:
            mtime = self.state_file.stat().st_mtime_ns
        except FileNotFoundError:
            return  # nothing written yet: defaults
        if mtime == self._loaded_mtime:
            return
        try:
            raw = json.loads(self.state_file.read_text())
            self._state = CameraState(_check_subject(raw["subject"]), CameraFault(raw["fault"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise CameraReadError(
                f"camera simulator state file {self.state_file} is damaged ({type(exc).__name__}); "
                "delete it or write it again with CameraControl.set()"
            ) from exc
        self._loaded_mtime = mtime


def _check_subject(subject: str) -> str:
    if not isinstance(subject, str) or not subject.strip():
        raise ValueError("the camera subject must be a non-empty person key")
    return subject


_default_control = CameraControl()


def camera_control() -> CameraControl:
    """The control shared by every ``sim:faces`` camera of this process."""
    return _default_control


class FaceCamera(Camera):
    """A webcam looking at synthetic people; frames are reproducible from (subject, frame number)."""

    def __init__(self, control: CameraControl, identifier: str = "faces") -> None:
        super().__init__()
        self.control = control
        self.identifier = identifier
        self._stills = 0

    def _acquire(self) -> None:
        self._stills = 0
        self.control.state  # noqa: B018 - a damaged state file should fail at open, not mid-capture

    def _release(self) -> None:
        pass

    def _grab_preview(self) -> np.ndarray:
        state = self.control.state
        return scene(person_seed(state.subject), self._sequence, state.fault)

    def _grab_still(self) -> np.ndarray:
        state = self.control.state
        self._stills += 1
        return scene(person_seed(state.subject), STILL_FRAMES + self._stills, state.fault)

    def device_info(self) -> CameraInfo:
        state = self.control.state
        return CameraInfo(
            backend="sim",
            model="simulated webcam (synthetic faces)",
            identifier=self.identifier,
            width=FRAME_SIZE[0],
            height=FRAME_SIZE[1],
            details=(("fault", state.fault.value),),
        )


class FolderCamera(Camera):
    """Plays the pictures of a folder in name order: the preview shows the next still, slightly alive."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self._files: list[Path] = []
        self._position = 0
        self._current: np.ndarray | None = None

    def _acquire(self) -> None:
        if not self.folder.is_dir():
            raise CameraNotFound(
                f"camera folder {self.folder} does not exist; create it and put pictures in it"
            )
        files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise CameraNotFound(
                f"camera folder {self.folder} holds no pictures ({', '.join(IMAGE_SUFFIXES)}); add some"
            )
        self._files = files
        self._position = 0
        self._current = None

    def _release(self) -> None:
        self._current = None

    def _load(self) -> np.ndarray:
        if self._current is None:
            path = self._files[self._position % len(self._files)]
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise CameraReadError(
                    f"picture {path.name} in {self.folder} cannot be decoded; replace or remove it"
                )
            self._current = image
        return self._current

    def _grab_preview(self) -> np.ndarray:
        image = self._load().astype(np.int16)
        rng = np.random.default_rng([0xF01D, self._position, self._sequence])
        live = image + rng.integers(-2, 3, image.shape, dtype=np.int16)  # sensor noise: looks live
        return np.clip(live, 0, 255).astype(np.uint8)

    def _grab_still(self) -> np.ndarray:
        image = self._load()
        self._position += 1
        self._current = None
        return image.copy()

    def device_info(self) -> CameraInfo:
        image = self._load()
        return CameraInfo(
            backend="sim",
            model="simulated webcam (folder of pictures)",
            identifier=f"folder:{self.folder}",
            width=int(image.shape[1]),
            height=int(image.shape[0]),
            details=(("pictures", str(len(self._files))),),
        )


def open_sim_camera(rest: str) -> Camera:
    """Factory for ``sim:faces``, ``sim:faces:<state file>`` and ``sim:folder:<dir>``."""
    kind, _, argument = rest.partition(":")
    if kind == "faces":
        if argument:
            return FaceCamera(CameraControl(argument), identifier=f"faces:{argument}")
        return FaceCamera(camera_control())
    if kind == "folder":
        if not argument:
            raise CameraConfigError("'sim:folder:' needs a folder, e.g. 'sim:folder:/srv/portraits'")
        return FolderCamera(Path(argument).expanduser())
    raise CameraConfigError(
        f"simulated camera {kind!r} is unknown; valid choices are 'sim:faces', 'sim:faces:<state file>' "
        "and 'sim:folder:<dir>'"
    )
