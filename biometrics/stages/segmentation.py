"""Segmentation mask: which pixels belong to the finger (ridges with contrast and a coherent direction)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from biometrics.stages import grid

# The mask is decided per 4x4-pixel cell: a ridge period is ~9 px at 500 dpi, so a cell is finer than
# any feature the mask has to follow, and the morphology below costs almost nothing.
# Ridge contrast (local standard deviation of the band-passed image, in grey levels) below which a
# cell is background whatever else holds: sensor noise and a bare platen stay under it.
MIN_RIDGE_CONTRAST = 5.0
# Relative to the print's strong ridges, so faint (dry, light-pressure) areas of a good print still count.
RELATIVE_CONTRAST = 0.2
# Noise and smudges have contrast but no dominant direction; ridges have one.
MIN_COHERENCE = 0.25


@dataclass(frozen=True, eq=False)
class SegmentationMask:
    """``mask`` is True on the finger; ``contrast`` (grey levels) and ``band`` are kept for later stages."""

    mask: np.ndarray
    contrast: np.ndarray
    band: np.ndarray

    @property
    def area_fraction(self) -> float:
        return float(self.mask.mean())

    @cached_property
    def inside(self) -> np.ndarray:
        """Distance in pixels from each finger pixel to the nearest background pixel (0 outside)."""
        return cv2.distanceTransform(np.pad(self.mask.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]

    @cached_property
    def strong_contrast(self) -> float:
        """The contrast of the print's clearest ridges: the 90th percentile over the finger."""
        return float(np.percentile(self.contrast[self.mask], 90)) if self.mask.any() else 1.0


def band_pass(pixels: np.ndarray) -> np.ndarray:
    """Keep the ridge band: remove pixel noise (sigma 1) and illumination/pressure trends (sigma 5)."""
    fine = cv2.GaussianBlur(pixels, (0, 0), 1.0)
    coarse = cv2.GaussianBlur(pixels, (0, 0), 5.0)
    return fine - coarse


def segmentation_mask(pixels: np.ndarray) -> SegmentationMask:
    band = band_pass(pixels)
    cell_contrast = np.sqrt(grid.smooth_cells(grid.to_cells(band * band), 8.0))
    contrast = grid.to_pixels(cell_contrast, band.shape)
    gx = cv2.Sobel(band, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(band, cv2.CV_32F, 0, 1, ksize=3)
    gxx, gyy, gxy = (grid.smooth_cells(grid.to_cells(a), 8.0) for a in (gx * gx, gy * gy, gx * gy))
    coherence = np.hypot(gxx - gyy, 2 * gxy) / (gxx + gyy + 1e-6)
    strong = float(np.percentile(cell_contrast, 95))
    threshold = max(MIN_RIDGE_CONTRAST, RELATIVE_CONTRAST * strong)
    finger = ((cell_contrast > threshold) & (coherence > MIN_COHERENCE)).astype(np.uint8)
    finger = _clean(finger)
    h, w = pixels.shape
    ch, cw = finger.shape
    mask = cv2.resize(finger, (cw * grid.CELL, ch * grid.CELL), interpolation=cv2.INTER_NEAREST)
    return SegmentationMask(mask[:h, :w].astype(bool), contrast, band)


def _clean(cells: np.ndarray) -> np.ndarray:
    """Close gaps at cores and creases, drop specks, keep the finger's large regions, fill its holes."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    cells = cv2.morphologyEx(cells, cv2.MORPH_CLOSE, disc)
    cells = cv2.morphologyEx(cells, cv2.MORPH_OPEN, disc)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cells, connectivity=8)
    if count <= 1:
        return cells
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, np.uint8)
    keep[1:] = areas >= max(16, 0.2 * areas.max())
    cells = keep[labels]
    # Holes are background regions that do not touch the border.
    padded = np.pad(cells, 1)
    flood = padded.copy()
    ff_mask = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 1)
    holes = flood[1:-1, 1:-1] == 0
    cells = cells | holes.astype(np.uint8)
    # Ridges at the very edge of the print are distorted and cut off: pull the border in one cell.
    return cv2.erode(cells, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
