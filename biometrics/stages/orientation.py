"""Orientation field: the local ridge direction (mod pi) and how consistent it is (coherence 0..1)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from biometrics.stages import grid

# Gradient moments are averaged over about two ridge periods: enough to cancel the gradient's sign
# flip across each ridge, small enough to follow the curvature around cores and deltas.
SMOOTHING_SIGMA = 10.0


@dataclass(frozen=True, eq=False)
class OrientationField:
    """``angle``: ridge direction in radians [0, pi), image axes (x right, y down, so clockwise on
    screen); ``coherence``: 1 for parallel ridges, 0 for no dominant direction."""

    angle: np.ndarray
    coherence: np.ndarray
    # Per 4x4 cell: (cos, sin) of twice the gradient angle, times coherence; these average correctly.
    doubled_cells: tuple[np.ndarray, np.ndarray] | None = None

    @cached_property
    def direction(self) -> tuple[np.ndarray, np.ndarray]:
        """cos and sin of ``angle`` (float32), built once for the stages that sample along or across ridges."""
        return np.cos(self.angle), np.sin(self.angle)

    @property
    def normal(self) -> np.ndarray:
        """Direction across the ridges (the gradient direction), radians mod pi."""
        return np.mod(self.angle + np.pi / 2, np.pi)


def orientation_field(band: np.ndarray, mask: np.ndarray) -> OrientationField:
    gx = cv2.Sobel(band, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(band, cv2.CV_32F, 0, 1, ksize=3)
    weight = mask.astype(np.float32)
    # Doubling the angle makes opposite gradients (the two flanks of a ridge) add up instead of cancel.
    c2, s2, energy = (
        grid.smooth_cells(grid.to_cells(a * weight), SMOOTHING_SIGMA)
        for a in (gx * gx - gy * gy, 2 * gx * gy, gx * gx + gy * gy)
    )
    coherence = np.clip(np.hypot(c2, s2) / (energy + 1e-6), 0, 1)
    doubled = (c2 / (energy + 1e-6), s2 / (energy + 1e-6))
    shape = band.shape
    c2, s2 = grid.to_pixels(c2, shape), grid.to_pixels(s2, shape)
    gradient_angle = 0.5 * cv2.phase(c2, s2)
    angle = np.mod(gradient_angle + np.pi / 2, np.pi).astype(np.float32)
    return OrientationField(angle, grid.to_pixels(coherence.astype(np.float32), shape), doubled)
