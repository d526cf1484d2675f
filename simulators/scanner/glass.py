"""What lies on a simulated scanner's glass, and the scanner's fault switches.

Shared by the ZFM module simulator (serial) and the in-process ``sim:`` scanner, so a test or the demo
says "member 2, right thumb, impression 3", "smudged" or "no finger" the same way for both.

Finger images come from ``simulators.fingers`` (synthetic, deterministic) or from a folder of PNG/TIFF
images (e.g. an FVC set), or are handed over directly as arrays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from biometrics.fingers import FingerPosition

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".pgm")
CONDITIONS = ("normal", "dry", "wet", "smudged", "worn", "partial", "no finger")


class ControlError(ValueError):
    """A control request names no known finger, file, condition or fault; nothing was changed."""


def parse_position(value: object) -> FingerPosition:
    """'right thumb', 'RIGHT_THUMB', 'right-thumb' or 1 -> FingerPosition.RIGHT_THUMB."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return FingerPosition(value)
        except ValueError:
            pass
    elif isinstance(value, str):
        key = value.strip().upper().replace(" ", "_").replace("-", "_")
        if key in FingerPosition.__members__:
            return FingerPosition[key]
        if key.isdigit():
            return parse_position(int(key))
    valid = ", ".join(p.label for p in FingerPosition if p)
    raise ControlError(f"unknown finger {value!r}; use a code 1..10 or one of: {valid}")


def degrade(image: np.ndarray, condition: str, seed: int = 0) -> np.ndarray:
    """Make a folder image look wet, dry or smudged (synthetic fingers render conditions themselves)."""
    rng = np.random.default_rng(seed)
    img = image.astype(np.float32)
    if condition == "wet":  # ridges flood into the valleys: darker, merged
        img = cv2.erode(img, np.ones((5, 5), np.uint8)) * 0.6
        img = cv2.GaussianBlur(img, (0, 0), 2.5)
    elif condition == "dry":  # faint, broken ridges
        broken = rng.random(img.shape) < 0.45
        img = np.where(broken, 255.0, 255.0 - (255.0 - img) * 0.35)
    elif condition == "smudged":
        img = cv2.GaussianBlur(img, (0, 0), 5.0) * 0.85 + rng.normal(0, 12, img.shape)
    elif condition == "partial":
        img[:, : img.shape[1] * 3 // 5] = 255.0
    elif condition == "worn":
        img = 255.0 - (255.0 - cv2.GaussianBlur(img, (0, 0), 1.5)) * 0.5
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Placement:
    """One finger on the glass: a label for status reports and a renderer per condition."""

    label: str
    render: Callable[[str], np.ndarray | None] = field(repr=False)
    condition: str = "normal"


@dataclass
class Faults:
    """Switches a test flips to make the scanner misbehave; ``Glass.reset()`` clears them."""

    no_finger: bool = False  # the sensor sees nothing whatever is placed
    timeout: bool = False  # the device stops answering (serial: no reply bytes at all)
    corrupt_checksum: int = 0  # corrupt the checksum of this many next replies (-1: all of them)
    garbage: int = 0  # line noise before this many next replies (-1: all of them)
    condition: str | None = None  # force "wet" / "dry" / "smudged" on every capture

    def as_dict(self) -> dict:
        return {
            "no_finger": self.no_finger,
            "timeout": self.timeout,
            "corrupt_checksum": self.corrupt_checksum,
            "garbage": self.garbage,
            "condition": self.condition,
        }


class Glass:
    """Thread-safe: the control socket thread writes, the device thread reads."""

    def __init__(self, image_dir: Path | None = None) -> None:
        self.image_dir = image_dir
        self._lock = threading.Lock()
        self._placement: Placement | None = None
        self.faults = Faults()

    # --- what is on the glass ------------------------------------------------------------------

    def place_image(self, image: np.ndarray, label: str = "image", condition: str = "normal") -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 2 or image.dtype != np.uint8:
            raise ControlError("an image placed on the glass must be a 2-D uint8 array")
        frozen = image.copy()
        self._set(Placement(label, lambda cond: _from_image(frozen, cond), self._condition(condition)))

    def place_file(self, name: str, condition: str = "normal") -> None:
        path = Path(name)
        if not path.is_absolute() and self.image_dir is not None:
            path = self.image_dir / name
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
        if image is None:
            where = self.image_dir or "the working directory"
            raise ControlError(f"no readable fingerprint image {name!r} in {where}")
        self.place_image(image, label=path.name, condition=condition)

    def place_finger(
        self, person: str, position: object, impression: int = 0, condition: str = "normal"
    ) -> None:
        """A synthetic finger: ``simulators.fingers`` renders it (and the condition) deterministically."""
        from simulators.fingers import Condition, SyntheticFinger, finger_seed

        pos = parse_position(position)
        if not isinstance(impression, int) or impression < 0:
            raise ControlError(f"impression must be a non-negative integer, got {impression!r}")
        finger = SyntheticFinger(finger_seed(str(person), pos))

        def render(cond: str) -> np.ndarray | None:
            return None if cond == "no finger" else finger.impression(impression, Condition(cond))

        label = f"{person} {pos.label} #{impression}"
        self._set(Placement(label, render, self._condition(condition)))

    def lift(self) -> None:
        self._set(None)

    def _set(self, placement: Placement | None) -> None:
        with self._lock:
            self._placement = placement

    @staticmethod
    def _condition(condition: str | None) -> str:
        if condition not in CONDITIONS:
            raise ControlError(f"unknown condition {condition!r}; valid: {', '.join(CONDITIONS)}")
        return condition

    # --- faults --------------------------------------------------------------------------------

    def set_fault(self, name: str, value: object = True) -> None:
        with self._lock:
            if name in ("no_finger", "timeout"):
                setattr(self.faults, name, bool(value))
            elif name in ("corrupt_checksum", "garbage"):
                setattr(self.faults, name, -1 if value is True else int(value))  # type: ignore[arg-type]
            elif name in ("wet", "dry", "smudged"):
                self.faults.condition = name if value else None
            elif name == "condition":
                self.faults.condition = None if value in (None, "normal") else self._condition(str(value))
            else:
                raise ControlError(
                    f"unknown fault {name!r}; valid: no_finger, timeout, corrupt_checksum, garbage, wet, dry, smudged"
                )

    def take_corruption(self) -> bool:
        """Whether the next reply must carry a bad checksum (counts the switch down)."""
        with self._lock:
            if self.faults.corrupt_checksum == 0:
                return False
            if self.faults.corrupt_checksum > 0:
                self.faults.corrupt_checksum -= 1
            return True

    def take_garbage(self) -> bool:
        """Whether line noise must go out before the next reply (counts the switch down)."""
        with self._lock:
            if self.faults.garbage == 0:
                return False
            if self.faults.garbage > 0:
                self.faults.garbage -= 1
            return True

    def reset(self) -> None:
        with self._lock:
            self._placement = None
            self.faults = Faults()

    # --- reading -------------------------------------------------------------------------------

    def read(self) -> np.ndarray | None:
        """The image the sensor sees now, or None when no finger is on the glass."""
        with self._lock:
            placement, faults = self._placement, Faults(**self.faults.as_dict())
        if placement is None or faults.no_finger:
            return None
        return placement.render(faults.condition or placement.condition)

    def present(self) -> bool:
        """Whether the sensor would see a finger now (cheap: renders nothing)."""
        with self._lock:
            placement, faults = self._placement, self.faults
            if placement is None or faults.no_finger:
                return False
            return (faults.condition or placement.condition) != "no finger"

    def status(self) -> dict:
        with self._lock:
            placement = self._placement
            return {
                "finger": None if placement is None else placement.label,
                "condition": None if placement is None else placement.condition,
                "faults": self.faults.as_dict(),
            }


def _from_image(image: np.ndarray, condition: str) -> np.ndarray | None:
    if condition == "no finger":
        return None
    return image if condition == "normal" else degrade(image, condition)


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
