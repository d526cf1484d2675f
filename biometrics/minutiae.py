"""The minutia and template types shared by the extractor, the codecs and the matcher.

Conventions (the same as ISO/IEC 19794-2 so records convert without loss of meaning):
- ``x``/``y`` are pixel coordinates in the captured image, origin top-left, y pointing down.
- ``angle`` is in radians in [0, 2*pi), measured counter-clockwise from the positive x axis as
  seen on screen (so, with y pointing down, a ridge running "up" the image has angle pi/2), and
  points along the ridge *away from* the minutia, as ISO 19794-2 defines it for ridge endings.
- Resolution travels with the template (``dpi``); the matcher rescales to 500 dpi itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum


class MinutiaType(IntEnum):
    """ISO/IEC 19794-2 minutia type codes (two bits in the record)."""

    OTHER = 0
    ENDING = 1
    BIFURCATION = 2


@dataclass(frozen=True, slots=True)
class Minutia:
    x: int
    y: int
    angle: float
    kind: MinutiaType = MinutiaType.OTHER
    quality: int = 0  # 0..100, 0 = not reported (ISO semantics)

    def __post_init__(self) -> None:
        if not (0 <= self.quality <= 100):
            raise ValueError(f"minutia quality must be 0..100, got {self.quality}")
        if not math.isfinite(self.angle):
            raise ValueError("minutia angle must be a finite number of radians")


@dataclass(frozen=True, slots=True)
class FingerprintTemplate:
    """One finger's minutiae as captured, independent of any wire format."""

    width: int
    height: int
    dpi: int
    minutiae: tuple[Minutia, ...]
    quality: int = 0  # 0..100 overall impression quality, 0 = unknown
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError("template image size must be positive")
        if not (100 <= self.dpi <= 2000):
            raise ValueError(f"template resolution {self.dpi} dpi is outside 100..2000")


def most_reliable(template: FingerprintTemplate, limit: int) -> list[int]:
    """Indices of the ``limit`` minutiae most worth keeping, in their original order: highest quality
    first, then nearest the print's centre (where ridges are most reliable)."""
    ms = template.minutiae
    if len(ms) <= limit:
        return list(range(len(ms)))
    cx = sum(m.x for m in ms) / len(ms)
    cy = sum(m.y for m in ms) / len(ms)
    ranked = sorted(range(len(ms)), key=lambda i: (-ms[i].quality, (ms[i].x - cx) ** 2 + (ms[i].y - cy) ** 2))
    return sorted(ranked[:limit])
