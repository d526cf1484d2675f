"""Synthetic portraits that OpenCV's frontal-face Haar cascade finds, deterministic per person.

A person's look (skin tone, head shape, hair, clothes, wall colour) comes from a seed derived from their
key; a frame adds what changes from one moment to the next (a small sway, light flicker, sensor noise).
The drawing keeps the light-dark pattern the cascade was trained on: eye sockets and brows darker than
forehead and cheeks, a bright nose bridge between the eyes, a dark mouth line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

FRAME_SIZE = (640, 480)  # width, height: the usual webcam VGA stream

Colour = tuple[int, int, int]  # BGR


def person_seed(person_key: str) -> int:
    digest = hashlib.blake2b(person_key.encode(), digest_size=8, person=b"synthface").digest()
    return int.from_bytes(digest, "big") >> 1


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _scale(c: Colour, f: float) -> Colour:
    return tuple(int(np.clip(x * f, 0, 255)) for x in c)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Look:
    """Everything about a person's appearance that stays the same between frames."""

    skin: Colour
    hair: Colour
    shirt: Colour
    wall: Colour
    half_width: float  # head half-width in pixels at the reference distance
    half_height: float
    long_hair: bool
    eye_spacing: float  # fraction of half-width
    mouth_width: float

    @classmethod
    def of(cls, seed: int) -> Look:
        rng = np.random.default_rng([0xFACE, seed])
        # From light to deep brown skin (BGR).
        skin = _mix((150, 185, 225), (45, 75, 120), float(rng.uniform(0, 1)))
        hair = _mix((20, 20, 25), (60, 70, 85), float(rng.uniform(0, 1)))
        if rng.random() < 0.15:
            hair = (170, 170, 175)  # grey-haired elders
        shirt = tuple(int(v) for v in rng.integers(30, 230, 3))
        wall = _mix((205, 210, 215), tuple(int(v) for v in rng.integers(150, 235, 3)), 0.4)  # type: ignore[arg-type]
        return cls(
            skin=skin,
            hair=hair,
            shirt=shirt,  # type: ignore[arg-type]
            wall=wall,
            half_width=float(rng.uniform(66, 80)),
            half_height=float(rng.uniform(90, 104)),
            long_hair=bool(rng.random() < 0.45),
            eye_spacing=float(rng.uniform(0.36, 0.42)),
            mouth_width=float(rng.uniform(0.26, 0.36)),
        )


def _background(look: Look, rng: np.random.Generator) -> np.ndarray:
    w, h = FRAME_SIZE
    img = np.empty((h, w, 3), np.float32)
    img[:] = look.wall
    # A wall lit from above: a gentle vertical gradient.
    img *= np.linspace(1.05, 0.88, h, dtype=np.float32)[:, None, None]
    return img


def draw_person(img: np.ndarray, look: Look, cx: float, cy: float, scale: float = 1.0) -> None:
    """Draw one head-and-shoulders figure centred on the face at (cx, cy), in place."""
    a = look.half_width * scale
    b = look.half_height * scale

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(cx + x * a), round(cy + y * b)

    def ax(x: float, y: float) -> tuple[int, int]:
        return max(1, round(x * a)), max(1, round(y * b))

    aa = cv2.LINE_AA
    skin = look.skin
    # Shoulders and torso, neck, long hair behind them.
    if look.long_hair:
        cv2.ellipse(img, pt(0, 0.45), ax(1.2, 1.15), 0, 0, 360, look.hair, -1, aa)
    cv2.ellipse(img, pt(0, 2.75), ax(3.0, 1.4), 0, 180, 360, look.shirt, -1, aa)
    cv2.rectangle(img, pt(-0.42, 0.6), pt(0.42, 1.5), _scale(skin, 0.82), -1, aa)
    cv2.ellipse(img, pt(0, 1.4), ax(0.5, 0.25), 0, 0, 180, _scale(skin, 0.8), -1, aa)
    # Hair behind the head, ears, head.
    cv2.ellipse(img, pt(0, -0.12), ax(1.1, 1.05), 0, 0, 360, look.hair, -1, aa)
    for side in (-1, 1):
        cv2.ellipse(img, pt(side * 0.98, 0.02), ax(0.17, 0.27), 0, 0, 360, _scale(skin, 0.9), -1, aa)
    cv2.ellipse(img, pt(0, 0), ax(1.0, 1.0), 0, 0, 360, skin, -1, aa)
    # Hairline: a cap over the top of the head.
    cv2.ellipse(img, pt(0, -0.6), ax(1.02, 0.45), 0, 180, 360, look.hair, -1, aa)
    # Eye sockets (the cascade keys on these dark bands), eyes, brows.
    ex = look.eye_spacing
    for side in (-1, 1):
        cv2.ellipse(img, pt(side * ex, -0.12), ax(0.33, 0.19), 0, 0, 360, _scale(skin, 0.62), -1, aa)
        cv2.ellipse(
            img, pt(side * ex, -0.09), ax(0.17, 0.065), 0, 0, 360, _mix(skin, (200, 205, 210), 0.5), -1, aa
        )
        r = max(2, round(0.085 * a))
        cv2.circle(img, pt(side * ex, -0.09), r, (30, 45, 65), -1, aa)
        cv2.circle(img, pt(side * ex, -0.09), max(1, r // 2), (10, 10, 10), -1, aa)
        cv2.ellipse(
            img, pt(side * ex, -0.1), ax(0.2, 0.085), 0, 190, 350, (25, 25, 30), max(1, int(0.03 * a)), aa
        )
        brow_y = -0.27
        cv2.line(
            img, pt(side * 0.14, brow_y), pt(side * 0.62, brow_y - 0.03), look.hair, max(2, int(0.08 * b)), aa
        )
    # Nose: bright bridge, shadowed sides, dark nostrils.
    cv2.ellipse(img, pt(0, 0.1), ax(0.09, 0.3), 0, 0, 360, _scale(skin, 1.1), -1, aa)
    for side in (-1, 1):
        cv2.line(
            img, pt(side * 0.1, 0.0), pt(side * 0.15, 0.3), _scale(skin, 0.75), max(1, int(0.04 * a)), aa
        )
        cv2.ellipse(img, pt(side * 0.1, 0.36), ax(0.06, 0.035), 0, 0, 360, _scale(skin, 0.45), -1, aa)
    # Mouth.
    mw = look.mouth_width
    cv2.ellipse(
        img, pt(0, 0.58), ax(mw, 0.07), 0, 0, 360, _mix(_scale(skin, 0.6), (60, 60, 150), 0.35), -1, aa
    )
    cv2.line(img, pt(-mw, 0.58), pt(mw, 0.58), _scale(skin, 0.35), max(1, int(0.025 * b)), aa)


def _light(img: np.ndarray, look: Look, cx: float, cy: float, scale: float = 1.0) -> None:
    """Frontal light: the middle of the face brightest, falling off towards the sides, in place."""
    h, w = img.shape[:2]
    ys, xs = np.ogrid[0:h, 0:w]
    sx, sy = 0.85 * look.half_width * scale, 1.1 * look.half_height * scale
    r2 = ((xs - cx) / sx) ** 2 + ((ys - cy + 0.1 * look.half_height * scale) / sy) ** 2
    img *= (0.82 + 0.26 * np.exp(-r2 / 2)).astype(np.float32)[:, :, None]


def shade_and_noise(img: np.ndarray, rng: np.random.Generator, noise: float = 3.0) -> np.ndarray:
    """Soften the drawing like a lens, add sensor noise, return uint8."""
    img = cv2.GaussianBlur(img, (0, 0), 1.1)
    img += rng.normal(0.0, noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def portrait(seed: int, frame: int = 0) -> np.ndarray:
    """Frame ``frame`` of person ``seed`` sitting in front of the camera, centred, well lit."""
    from simulators.camera.scenes import scene

    return scene(seed, frame)
