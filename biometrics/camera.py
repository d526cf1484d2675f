"""One interface for every camera that takes members' photos, chosen by one config string.

``open_camera("opencv:0")`` (any webcam OpenCV's ``VideoCapture`` can open: an index or a device
path such as ``/dev/video2``) and, once ``simulators`` is imported, ``open_camera("sim:faces")`` or
``open_camera("sim:folder:/path/to/portraits")`` return an open :class:`Camera`. Backends are resolved
by the scheme before the first colon; :func:`register_backend` adds more (the simulators register
``sim`` that way, because ``biometrics`` must not import ``simulators``).

A camera gives live preview frames (for the operator's screen) and still photos (for the card); the
photo check and the card crop are :func:`biometrics.photo.check_photo`'s job, not the camera's.
"""

from __future__ import annotations

import glob
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from biometrics.errors import BiometricsError
from biometrics.registry import BackendRegistry


class CameraError(BiometricsError):
    """Base class of every camera error."""


class CameraConfigError(CameraError, ValueError):
    """The camera config string names no known backend or is malformed."""


class CameraNotFound(CameraError):
    """The configured camera is not there (no such device index, path or folder)."""


class CameraClosed(CameraError):
    """The camera was used after ``close()``; open it again with ``open()`` or ``open_camera``."""


class CameraReadError(CameraError):
    """The camera is open but delivered no frame (unplugged, or taken by another program)."""


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One colour picture from a camera: BGR uint8 (OpenCV's order), with when it was taken."""

    pixels: np.ndarray
    timestamp: float  # time.monotonic() seconds at capture
    sequence: int = 0  # frame counter since the camera was opened

    def __post_init__(self) -> None:
        p = self.pixels
        if not isinstance(p, np.ndarray) or p.dtype != np.uint8 or p.ndim != 3 or p.shape[2] != 3:
            raise CameraReadError(
                "a camera frame must be an H x W x 3 uint8 BGR array; the backend sent another shape"
            )
        if p.shape[0] < 16 or p.shape[1] < 16:
            raise CameraReadError(f"a camera frame of {p.shape[1]}x{p.shape[0]} pixels is too small to use")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """What the station shows and logs about the camera in use."""

    backend: str  # registry scheme: "opencv", "sim"
    model: str
    identifier: str  # device index/path, simulator name or folder
    width: int  # frame size the camera delivers now
    height: int
    details: tuple[tuple[str, str], ...] = field(default=())

    def detail(self, key: str) -> str | None:
        return dict(self.details).get(key)


class Camera(ABC):
    """A camera. Not thread-safe: one workflow (or one preview timer) drives it at a time."""

    config: str = ""

    def __init__(self) -> None:
        self._open = False
        self._sequence = 0

    # -- life cycle --------------------------------------------------------------------------------
    def open(self) -> None:
        """Acquire the device; raises ``CameraNotFound`` when it is not there. Opening twice is harmless."""
        if not self._open:
            self._acquire()
            self._open = True
            self._sequence = 0

    def close(self) -> None:
        """Release the device; ``open()`` may acquire it again later."""
        if self._open:
            self._open = False
            self._release()

    @property
    def is_open(self) -> bool:
        return self._open

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pictures ----------------------------------------------------------------------------------
    def preview_frame(self) -> Frame:
        """The next live frame, for the operator's preview."""
        self._require_open()
        return self._frame(self._grab_preview())

    def frames(self, count: int | None = None) -> Iterator[Frame]:
        """Live frames one after another: ``count`` of them, or for as long as the caller iterates."""
        if count is not None and count < 0:
            raise ValueError(f"frame count must be >= 0, got {count}")
        n = 0
        while count is None or n < count:
            yield self.preview_frame()
            n += 1

    def take_photo(self) -> Frame:
        """A still for the card: backends let exposure settle or use their best resolution here."""
        self._require_open()
        return self._frame(self._grab_still())

    @abstractmethod
    def device_info(self) -> CameraInfo:
        """Describe the camera (frame size is what it delivers now)."""

    # -- backend hooks -----------------------------------------------------------------------------
    @abstractmethod
    def _acquire(self) -> None: ...

    @abstractmethod
    def _release(self) -> None: ...

    @abstractmethod
    def _grab_preview(self) -> np.ndarray:
        """One BGR image; called only while open."""

    def _grab_still(self) -> np.ndarray:
        return self._grab_preview()

    def _frame(self, grab: np.ndarray) -> Frame:
        self._sequence += 1
        return Frame(grab, time.monotonic(), self._sequence)

    def _require_open(self) -> None:
        if not self._open:
            raise CameraClosed(f"camera {self.config or type(self).__name__} is closed; call open() first")


# --- the OpenCV backend ---------------------------------------------------------------------------


class OpenCVCamera(Camera):
    """A webcam through OpenCV's ``VideoCapture`` (V4L2 on Linux)."""

    WARM_UP_FRAMES = 5  # auto exposure needs a few frames after the stream starts

    def __init__(self, device: int | str, size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.device = device
        self.size = size
        self._cap = None

    def _acquire(self) -> None:
        import cv2

        cap = cv2.VideoCapture(self.device)
        if not cap.isOpened():
            cap.release()
            present = sorted(glob.glob("/dev/video*"))
            seen = ", ".join(present) if present else "none"
            raise CameraNotFound(
                f"no camera at {self.device!r} (video devices present: {seen}); plug the webcam in, check "
                "that no other program holds it, and set camera = 'opencv:<index or /dev/videoN>'"
            )
        if self.size:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        self._cap = cap
        for _ in range(self.WARM_UP_FRAMES):
            cap.read()

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _grab_preview(self) -> np.ndarray:
        ok, image = self._cap.read()
        if not ok or image is None:
            raise CameraReadError(
                f"camera {self.device!r} delivered no frame; check its cable, then close and open it again"
            )
        if image.ndim == 2:  # some grey-only USB cameras
            image = np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])

    def device_info(self) -> CameraInfo:
        import cv2

        self._require_open()
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        return CameraInfo(
            backend="opencv",
            model=f"VideoCapture ({self._cap.getBackendName()})",
            identifier=str(self.device),
            width=w,
            height=h,
            details=(("fps", f"{self._cap.get(cv2.CAP_PROP_FPS):g}"),),
        )


def _open_opencv(rest: str) -> Camera:
    """``<index>``, ``/dev/videoN`` or either with ``@WIDTHxHEIGHT`` (e.g. ``0@1280x720``)."""
    target, _, size_text = rest.strip().partition("@")
    size = None
    if size_text:
        w, _, h = size_text.lower().partition("x")
        if not (w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
            raise CameraConfigError(f"camera size {size_text!r} must look like 1280x720")
        size = (int(w), int(h))
    if target.isdigit():
        return OpenCVCamera(int(target), size)
    if target.startswith("/"):
        return OpenCVCamera(target, size)
    raise CameraConfigError(
        f"opencv camera {target!r} must be a device index such as 0 or a path such as /dev/video0"
    )


# --- registry -------------------------------------------------------------------------------------

CameraFactory = Callable[[str], Camera]

_registry: BackendRegistry[Camera] = BackendRegistry(
    "camera", "'opencv:0', 'sim:faces'", CameraConfigError,
    hints={"sim": "import simulators first (it registers the camera simulator)"},
)


def register_backend(scheme: str, factory: CameraFactory) -> None:
    """Make ``open_camera(f"{scheme}:...")`` call ``factory(rest_of_config)``; replaces an earlier one."""
    _registry.register(scheme, factory)


def available_backends() -> tuple[str, ...]:
    return _registry.schemes()


def open_camera(config: str) -> Camera:
    """Resolve ``config`` (``scheme:argument``) and return the camera, opened."""
    camera = _registry.resolve(config)
    camera.config = config
    camera.open()
    return camera


register_backend("opencv", _open_opencv)
