"""The photo check for the card: one face, centred, in focus and well lit, cropped to the photo slot.

``check_photo(frame)`` finds faces with OpenCV's bundled frontal-face Haar cascade, measures focus
(variance of the Laplacian over the face, at a fixed face size so near and far faces compare) and
light (face brightness, clipped highlights, left/right balance), crops a head-and-shoulders portrait
at 3:4 around the face and compresses it to at most 4,096 bytes of JPEG — the card's photo slot —
lowering quality, then size, until it fits. Every refusal carries its reasons, so the operator knows
what to change.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import cv2
import numpy as np

from biometrics.camera import Frame
from biometrics.errors import BiometricsError

CARD_PHOTO_MAX_BYTES = 4096
PORTRAIT_ASPECT = 3 / 4  # width / height of the card's photo
PORTRAIT_SIZES = ((120, 160), (108, 144), (96, 128), (84, 112), (72, 96), (60, 80))
JPEG_QUALITIES = (85, 75, 65, 55, 45, 38, 30, 24)

# Thresholds, measured on webcam-like pictures (see tests/biometrics/test_photo.py for the cases).
MIN_FACE_FRACTION = 1 / 8  # smallest face searched for, as a fraction of the frame's short side
COMPANION_FACE_RATIO = 0.45  # a second face at least this big (vs the largest) is a second person
MAX_OFFSET_X = 0.18  # face centre distance from frame centre, in frame widths
MAX_OFFSET_Y = 0.22  # ... in frame heights
FOCUS_FACE_WIDTH = 128  # focus is measured on the face scaled to this width
MIN_SHARPNESS = 45.0  # variance of the Laplacian below this: out of focus
MIN_BRIGHTNESS = 55.0  # mean grey of the face
MAX_BRIGHTNESS = 205.0
MAX_CLIPPED = 0.2  # fraction of face pixels at 250+ (blown-out highlights)
MAX_SIDE_IMBALANCE = 0.28  # |left - right| / brighter half of the face


class PhotoFormatError(BiometricsError, ValueError):
    """The picture handed to the photo check is not an 8-bit grey or BGR image."""


class PhotoIssue(enum.Enum):
    NO_FACE = "no face found: ask the member to face the camera"
    SEVERAL_FACES = "more than one face: only the member may be in the picture"
    OFF_CENTRE = "face not centred: ask the member to move to the middle of the picture"
    OUT_OF_FOCUS = "out of focus: hold still, clean the lens or refocus"
    TOO_DARK = "too dark: add light in front of the member"
    TOO_BRIGHT = "too bright: move out of direct sunlight or away from the lamp"
    UNEVEN_LIGHT = "uneven light: one side of the face is in shadow; turn the member towards the light"


@dataclass(frozen=True, slots=True)
class FaceBox:
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class PhotoCheck:
    """The verdict on one picture.

    ``jpeg`` is the card portrait (≤ 4,096 bytes) whenever exactly one face was found, even when the
    photo is refused, so the station can show the operator what would be stored; it is empty when no
    single face was found. ``ok`` is true only when there are no ``reasons``.
    """

    reasons: tuple[PhotoIssue, ...]
    jpeg: bytes
    face: FaceBox | None
    sharpness: float  # variance of the Laplacian over the face (0 when there is no face)
    brightness: float  # mean grey of the face (of the whole picture when there is no face)

    @property
    def ok(self) -> bool:
        return not self.reasons


@functools.cache
def _cascade() -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise BiometricsError(
            f"OpenCV's face detector {path} is missing; reinstall opencv-python-headless 4.x"
        )
    return cascade


def _as_bgr(picture: Frame | np.ndarray) -> np.ndarray:
    image = picture.pixels if isinstance(picture, Frame) else picture
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise PhotoFormatError("the photo must be a uint8 image (a camera Frame or an OpenCV array)")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise PhotoFormatError(f"the photo must be grey (H x W) or BGR (H x W x 3), got shape {image.shape}")
    if min(image.shape[:2]) < 64:
        raise PhotoFormatError(f"a photo of {image.shape[1]}x{image.shape[0]} pixels is too small to check")
    return image


def find_faces(grey: np.ndarray) -> list[FaceBox]:
    """Frontal faces, largest first; much smaller detections (posters, false hits) are dropped."""
    side = int(min(grey.shape) * MIN_FACE_FRACTION)
    found = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    if len(found) == 0:
        # Dim or flat pictures: equalising the contrast lets the detector see the face, so the
        # operator hears "too dark" rather than "no face".
        clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
        found = _cascade().detectMultiScale(clahe.apply(grey), 1.1, 5, minSize=(side, side))
    boxes = sorted((FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in found), key=lambda b: -b.width)
    if not boxes:
        return []
    return [b for b in boxes if b.width >= COMPANION_FACE_RATIO * boxes[0].width]


def _light_issues(face_grey: np.ndarray) -> tuple[list[PhotoIssue], float]:
    h, w = face_grey.shape
    inner = face_grey[h // 5 : h - h // 10, w // 6 : w - w // 6].astype(np.float32)
    mean = float(inner.mean())
    issues = []
    if mean < MIN_BRIGHTNESS:
        issues.append(PhotoIssue.TOO_DARK)
    elif mean > MAX_BRIGHTNESS or float((inner >= 250).mean()) > MAX_CLIPPED:
        issues.append(PhotoIssue.TOO_BRIGHT)
    half = inner.shape[1] // 2
    left, right = float(inner[:, :half].mean()), float(inner[:, half:].mean())
    if abs(left - right) > MAX_SIDE_IMBALANCE * max(left, right, 1.0):
        issues.append(PhotoIssue.UNEVEN_LIGHT)
    return issues, mean


def sharpness(face_grey: np.ndarray) -> float:
    """Variance of the Laplacian of the face, scaled to a fixed width so distance does not matter."""
    scale = FOCUS_FACE_WIDTH / face_grey.shape[1]
    sized = cv2.resize(face_grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(sized, cv2.CV_64F).var())


def portrait_crop(image: np.ndarray, face: FaceBox) -> np.ndarray:
    """Head and shoulders at 3:4, the face centred across and a little above the middle."""
    crop_w = 2.0 * face.width
    crop_h = crop_w / PORTRAIT_ASPECT
    cx, cy = face.centre
    x0 = round(cx - crop_w / 2)
    y0 = round(cy - 0.42 * crop_h)
    x1, y1 = x0 + round(crop_w), y0 + round(crop_h)
    h, w = image.shape[:2]
    pad = max(0, -x0, -y0, x1 - w, y1 - h)
    if pad:  # face near an edge: repeat the border rather than shift the face off centre
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return image[y0:y1, x0:x1]


def encode_portrait(crop: np.ndarray, max_bytes: int = CARD_PHOTO_MAX_BYTES, colour: bool = True) -> bytes:
    """The best JPEG of ``crop`` that fits ``max_bytes``: highest quality first, then smaller sizes."""
    source = crop if colour else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    for size in PORTRAIT_SIZES:
        scaled = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
        for quality in JPEG_QUALITIES:
            ok, buf = cv2.imencode(
                ".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
            )
            if ok and len(buf) <= max_bytes:
                return buf.tobytes()
    raise BiometricsError(
        f"the portrait does not fit {max_bytes} bytes even at {PORTRAIT_SIZES[-1]} and JPEG quality "
        f"{JPEG_QUALITIES[-1]}; use a grey portrait or a larger photo slot"
    )


def check_photo(
    picture: Frame | np.ndarray, *, colour: bool = True, max_bytes: int = CARD_PHOTO_MAX_BYTES
) -> PhotoCheck:
    """Check one picture for the card and make its portrait; see :class:`PhotoCheck`."""
    if max_bytes < 1024:
        raise ValueError(f"a card photo slot of {max_bytes} bytes is too small for a recognisable portrait")
    image = _as_bgr(picture)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    faces = find_faces(grey)
    if len(faces) != 1:
        mean = float(grey.mean())
        reasons = [PhotoIssue.NO_FACE if not faces else PhotoIssue.SEVERAL_FACES]
        if mean < MIN_BRIGHTNESS * 0.7:
            reasons.append(PhotoIssue.TOO_DARK)
        elif mean > MAX_BRIGHTNESS + 15:
            reasons.append(PhotoIssue.TOO_BRIGHT)
        return PhotoCheck(tuple(reasons), b"", None, 0.0, mean)

    face = faces[0]
    reasons = []
    h, w = grey.shape
    cx, cy = face.centre
    if abs(cx - w / 2) > MAX_OFFSET_X * w or abs(cy - h / 2) > MAX_OFFSET_Y * h:
        reasons.append(PhotoIssue.OFF_CENTRE)
    face_grey = grey[face.y : face.y + face.height, face.x : face.x + face.width]
    focus = sharpness(face_grey)
    if focus < MIN_SHARPNESS:
        reasons.append(PhotoIssue.OUT_OF_FOCUS)
    light, brightness = _light_issues(face_grey)
    reasons.extend(light)
    jpeg = encode_portrait(portrait_crop(image, face), max_bytes, colour)
    return PhotoCheck(tuple(reasons), jpeg, face, focus, brightness)
