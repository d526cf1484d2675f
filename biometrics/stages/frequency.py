"""Ridge frequency: ridges per pixel across the ridges, estimated everywhere on the finger.

For a locally sinusoidal ridge pattern I, shifting by L pixels across the ridges gives
I(p + L n) + I(p - L n) = 2 cos(2 pi f L) I(p); so the windowed autocorrelation ratio
R(L) / R(0) = cos(2 pi f L) yields f directly, per pixel and without any block search.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from biometrics.stages import grid
from biometrics.stages.orientation import OrientationField

LAG = 2.0  # pixels; unambiguous up to f = 1 / (2 * LAG), i.e. for periods of 4 px and more
WINDOW_SIGMA = 8.0
# Ridge periods at 500 dpi span ~6-14 px on adult fingers; outside 5-16 px an estimate is noise.
MIN_PERIOD, MAX_PERIOD = 5.0, 16.0
FILL_SIGMA = 12.0


@dataclass(frozen=True, eq=False)
class RidgeFrequency:
    """``frequency`` in cycles per pixel (1 / ridge period) for every pixel; ``median`` over the finger."""

    frequency: np.ndarray
    median: float

    @property
    def period(self) -> float:
        return 1.0 / self.median


def ridge_frequency(band: np.ndarray, orientation: OrientationField, mask: np.ndarray) -> RidgeFrequency:
    h, w = band.shape
    # One step across the ridges: the normal is the ridge direction turned by 90 degrees. Which of the
    # two ways it points does not matter, the two shifted images are summed.
    cos, sin = orientation.direction
    dx, dy = -LAG * sin, LAG * cos
    xs, ys = _coordinates(h, w)
    ahead = cv2.remap(band, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    behind = cv2.remap(band, xs - dx, ys - dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    r0 = grid.smooth_cells(grid.to_cells(band * band), WINDOW_SIGMA)
    r1 = grid.smooth_cells(grid.to_cells(band * (ahead + behind) * 0.5), WINDOW_SIGMA)
    cosine = np.clip(r1 / (r0 + 1e-6), -1.0, 1.0)
    raw = np.arccos(cosine) / (2 * np.pi * LAG)
    plausible = (raw > 1 / MAX_PERIOD) & (raw < 1 / MIN_PERIOD)
    cell_mask = grid.to_cells(mask.astype(np.float32)) > 0.5
    cell_coherence = grid.to_cells(orientation.coherence)
    weight = (cell_mask & plausible).astype(np.float32) * cell_coherence
    if np.any(weight > 0.3):
        median = float(np.median(raw[weight > 0.3]))
    elif np.any(weight > 0):
        median = float(np.median(raw[weight > 0]))
    else:
        median = 1 / 9.0  # no usable ridges: a typical adult period, so later stages still run
    # Fill unreliable places from reliable neighbours (normalised convolution), then the median.
    num = grid.smooth_cells(raw * weight, FILL_SIGMA)
    den = grid.smooth_cells(weight, FILL_SIGMA)
    filled = np.where(den > 1e-3, num / np.maximum(den, 1e-3), median)
    cells = np.clip(filled, 1 / MAX_PERIOD, 1 / MIN_PERIOD).astype(np.float32)
    median = float(np.clip(median, 1 / MAX_PERIOD, 1 / MIN_PERIOD))
    return RidgeFrequency(grid.to_pixels(cells, band.shape), median)


@functools.lru_cache(maxsize=8)
def _coordinates(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys
