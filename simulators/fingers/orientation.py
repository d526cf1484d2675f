"""Fingerprint class, singular points and the ridge orientation field of a master print.

The orientation follows the zero-pole model (Sherlock and Monro): each core turns the ridge flow by
-1/2 of its polar angle and each delta by +1/2. Left alone, that model gives ridges that are too
regular around the singularities, so each singular point's polar angle goes through a smooth, random,
periodic correction (in the spirit of Vizcaya and Gerhardt's piecewise-linear correction), and a
low-frequency random field bends the flow a little everywhere. Arches have no singular points and use
a separate bump model.

Angles are in radians, image coordinates (x right, y down), ridge orientation in [0, pi).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from simulators.fingers.noise import smooth_field


class FingerClass(Enum):
    ARCH = "arch"
    TENTED_ARCH = "tented arch"
    LEFT_LOOP = "left loop"
    RIGHT_LOOP = "right loop"
    WHORL = "whorl"


# Approximate natural frequencies of the classes (Wilson et al., NIST): loops dominate.
CLASS_WEIGHTS: tuple[tuple[FingerClass, float], ...] = (
    (FingerClass.ARCH, 0.04),
    (FingerClass.TENTED_ARCH, 0.04),
    (FingerClass.LEFT_LOOP, 0.33),
    (FingerClass.RIGHT_LOOP, 0.31),
    (FingerClass.WHORL, 0.28),
)


@dataclass(frozen=True, slots=True)
class SingularPoint:
    x: float
    y: float
    is_core: bool
    # Fourier coefficients (amplitude, phase) of the smooth correction of this point's polar angle.
    correction: tuple[tuple[float, float], ...] = ()


def pick_class(rng: np.random.Generator) -> FingerClass:
    classes = [c for c, _ in CLASS_WEIGHTS]
    weights = np.array([w for _, w in CLASS_WEIGHTS])
    return classes[int(rng.choice(len(classes), p=weights / weights.sum()))]


def _correction(rng: np.random.Generator, strength: float = 0.22) -> tuple[tuple[float, float], ...]:
    # Harmonics 1..3 keep g(a + 2pi) = g(a) + 2pi, so the field stays continuous around the point.
    return tuple((float(rng.normal(0.0, strength / k)), float(rng.uniform(0, 2 * np.pi))) for k in (1, 2, 3))


def place_singular_points(
    kind: FingerClass, cx: float, cy: float, rng: np.random.Generator
) -> tuple[SingularPoint, ...]:
    """Cores and deltas for a class, around the finger centre (cx, cy), in master pixels."""

    def jitter(s: float) -> float:
        return float(rng.normal(0.0, s))

    def point(x: float, y: float, core: bool) -> SingularPoint:
        return SingularPoint(x, y, core, _correction(rng))

    if kind is FingerClass.ARCH:
        return ()
    if kind is FingerClass.TENTED_ARCH:
        x = cx + jitter(12)
        y = cy - 20 + jitter(15)
        return (point(x, y, True), point(x + jitter(6), y + 55 + abs(jitter(12)), False))
    if kind in (FingerClass.LEFT_LOOP, FingerClass.RIGHT_LOOP):
        side = -1.0 if kind is FingerClass.RIGHT_LOOP else 1.0
        core = point(cx + jitter(18), cy - 30 + jitter(18), True)
        delta = point(core.x + side * (95 + abs(jitter(18))), core.y + 115 + jitter(18), False)
        return (core, delta)
    # Whorl: two cores close together, a delta on each side below them.
    x = cx + jitter(14)
    y = cy - 25 + jitter(15)
    gap = 18 + abs(jitter(10))
    tilt = jitter(10)
    return (
        point(x - tilt, y - gap / 2, True),
        point(x + tilt, y + gap / 2, True),
        point(x - 115 + jitter(15), y + 120 + jitter(18), False),
        point(x + 115 + jitter(15), y + 120 + jitter(18), False),
    )


def _corrected_angle(alpha: np.ndarray, correction: tuple[tuple[float, float], ...]) -> np.ndarray:
    out = alpha.copy()
    for k, (amp, phase) in enumerate(correction, start=1):
        out += amp * np.sin(k * alpha + phase)
    return out


def orientation_field(
    shape: tuple[int, int],
    kind: FingerClass,
    points: tuple[SingularPoint, ...],
    cx: float,
    cy: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Ridge orientation in [0, pi) for every pixel of a ``shape`` (rows, cols) master."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    if kind is FingerClass.ARCH:
        theta = _arch(xs, ys, cx, cy, h, rng)
    else:
        # Doubled angles avoid the pi-wrap; the zero-pole sum is taken on them directly.
        doubled = np.zeros(shape, np.float64)
        for p in points:
            # y is flipped so that "counter-clockwise" means what it does on paper.
            alpha = np.arctan2(-(ys - p.y), xs - p.x)
            alpha = _corrected_angle(alpha, p.correction)
            doubled += alpha if p.is_core else -alpha
        theta = -doubled / 2.0  # back to image orientation (y down)
    theta = theta + 0.12 * smooth_field(rng, shape, scale=140.0)
    return np.mod(theta, np.pi).astype(np.float32)


def _arch(
    xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, h: int, rng: np.random.Generator
) -> np.ndarray:
    # Ridges follow y = y0 - A(y0) * exp(-((x - cx) / s)^2): high bumps near the top, flat at the bottom.
    s = float(rng.uniform(90, 130))
    amp = float(rng.uniform(45, 75))
    rise = amp * np.clip((h * 0.85 - ys) / (h * 0.6), 0.0, 1.0)
    u = (xs - cx) / s
    slope = rise * 2 * u / s * np.exp(-(u**2))
    return np.arctan(slope)
