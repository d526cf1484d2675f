"""Local descriptors: one cylinder code per minutia, after Cappelli, Ferrara and Maltoni's
Minutia Cylinder-Code (IEEE TPAMI 32(12), 2010), re-derived here in NumPy.

Each minutia gets a cylinder of radius ``RADIUS`` pixels (at 500 dpi) aligned with its direction:
``N_CELLS`` x ``N_CELLS`` spatial cells (only those inside the circle are kept) times ``N_DIRS``
direction bins. A cell's value says how strongly the neighbouring minutiae near it point in the
bin's direction relative to the central minutia; because the cylinder turns with the minutia, the
descriptor is invariant to translation and rotation, and the Gaussian spreading tolerates the small
shifts elastic distortion causes. Cells that fall outside the print (the convex hull of its minutiae,
widened by ``HULL_MARGIN``) are marked invalid so partial overlaps are compared only where both
prints have ridges.

Everything a comparison needs is computed once per template here (:func:`prepare`), so the 1:1
comparison itself is a few matrix products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import cv2
import numpy as np

from biometrics.minutiae import FingerprintTemplate

if TYPE_CHECKING:
    from biometrics.matching.pairwise import PairForm

MATCH_DPI = 500
RADIUS = 70.0
N_CELLS = 8
N_DIRS = 5
SIGMA_S = 28.0 / 3.0
SIGMA_D = 2.0 * math.pi / 9.0
HULL_MARGIN = 50.0
MIN_VALID_FRACTION = 0.75
MIN_NEIGHBOURS = 2
# Sigmoid turning summed contributions into cell values in (0, 1); a single neighbour close to the
# cell centre and in the bin's direction switches the cell on.
SIG_MU = 0.25
SIG_TAU = 9.0

_CELL = 2.0 * RADIUS / N_CELLS
_grid = (np.arange(N_CELLS) - (N_CELLS - 1) / 2.0) * _CELL
_gx, _gy = np.meshgrid(_grid, _grid)
_inside = (_gx**2 + _gy**2) <= RADIUS**2
CELL_OFFSETS = np.stack([_gx[_inside], _gy[_inside]], axis=1)  # (C, 2) in the minutia's frame
N_SPATIAL = len(CELL_OFFSETS)
DIR_CENTRES = -math.pi + (np.arange(N_DIRS) + 0.5) * (2.0 * math.pi / N_DIRS)
DESCRIPTOR_SIZE = N_SPATIAL * N_DIRS


def angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b wrapped into [-pi, pi)."""
    return (a - b + math.pi) % (2.0 * math.pi) - math.pi


@dataclass(frozen=True, eq=False)
class PreparedTemplate:
    """A template made ready for fast comparison; build it once with :func:`prepare`.

    ``xy`` and ``theta`` are at 500 dpi with y pointing up (so angles are ordinary CCW angles);
    ``values`` (n, D) are the cylinder cells (0 where invalid), ``valid`` (n, C) the spatial
    validity, ``energy`` (n, C) the sum of squared values per spatial cell, ``usable`` marks
    minutiae whose cylinder has enough valid cells and neighbours.
    """

    source: FingerprintTemplate
    xy: np.ndarray
    theta: np.ndarray
    values: np.ndarray
    valid: np.ndarray
    energy: np.ndarray
    usable: np.ndarray
    direction: np.ndarray  # (n, 2) cos and sin of theta
    position: np.ndarray  # (n,) complex64 x + iy: segment and rotation arithmetic in one operation
    heading: np.ndarray  # (n,) complex64 exp(i theta)
    norm_left: np.ndarray  # (n, 2C) [energy, valid] and (n, 2C) [valid, energy]: one product gives
    norm_right: np.ndarray  # |a|^2 + |b|^2 over the cells valid in both cylinders

    @property
    def count(self) -> int:
        return int(self.usable.sum())

    @cached_property
    def pair_form(self) -> PairForm:
        """The arrays a 1:1 comparison multiplies, built on first use and kept (cached_property
        writes to the instance dict, which a frozen dataclass allows)."""
        # Imported here: the pair form folds consolidation's thresholds into its matrices, and
        # consolidation imports this module.
        from biometrics.matching.pairwise import PairForm

        return PairForm.of(self)


# Distance tolerance of two segments: DIST_TOL px plus DIST_STRETCH of the segment's length.
DIST_TOL, DIST_STRETCH = 12.0, 0.10


def inside_hull(points: np.ndarray, queries: np.ndarray, margin: float = HULL_MARGIN) -> np.ndarray:
    """Which query points (q, 2) lie inside the convex hull of ``points`` (n, 2) widened by ``margin``."""
    if len(points) < 3:
        return np.zeros(len(queries), dtype=bool)
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if len(hull) < 3:
        return np.zeros(len(queries), dtype=bool)
    edges = np.roll(hull, -1, axis=0) - hull
    # Signed distance of every query to every hull edge's line; inside-ness is the same sign for all.
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
    norms = np.linalg.norm(normals, axis=1)
    keep = norms > 1e-9
    normals = normals[keep] / norms[keep, None]
    hull = hull[keep]
    dist = np.einsum("qhk,hk->qh", queries[:, None, :] - hull[None, :, :], normals)
    orientation = np.sign(np.einsum("hk,hk->h", hull.mean(axis=0) - hull, normals))
    dist *= orientation[None, :]  # positive = inside for every edge
    return (dist >= -margin).all(axis=1)


def prepare(template: FingerprintTemplate) -> PreparedTemplate:
    """Cylinder codes of every minutia of ``template``, normalised to 500 dpi."""
    n = len(template.minutiae)
    scale = MATCH_DPI / template.dpi
    xy = np.array([(m.x * scale, -m.y * scale) for m in template.minutiae], dtype=np.float64).reshape(n, 2)
    theta = np.array([m.angle for m in template.minutiae], dtype=np.float64) % (2.0 * math.pi)
    if n == 0:
        cells = np.zeros((0, N_SPATIAL), np.float32)
        pairs = np.zeros((0, 2 * N_SPATIAL), np.float32)
        return PreparedTemplate(template, xy, theta, np.zeros((0, DESCRIPTOR_SIZE), np.float32), cells, cells,
                                np.zeros(0, bool), np.zeros((0, 2), np.float32), np.zeros(0, np.complex64),
                                np.zeros(0, np.complex64), pairs, pairs)
    cos, sin = np.cos(theta), np.sin(theta)
    # Cell centres of every cylinder in image coordinates: (n, C, 2).
    ox, oy = CELL_OFFSETS[:, 0], CELL_OFFSETS[:, 1]
    centres = np.stack([xy[:, None, 0] + cos[:, None] * ox - sin[:, None] * oy,
                        xy[:, None, 1] + sin[:, None] * ox + cos[:, None] * oy], axis=2)
    valid = inside_hull(xy, centres.reshape(-1, 2)).reshape(n, N_SPATIAL)

    # Spatial contribution of neighbour t to cell c of cylinder i: (n, C, n).
    d2 = ((centres[:, :, None, :] - xy[None, None, :, :]) ** 2).sum(axis=3)
    spatial = np.exp(-d2 / (2.0 * SIGMA_S**2))
    spatial[d2 > (3.0 * SIGMA_S) ** 2] = 0.0
    spatial[np.arange(n), :, np.arange(n)] = 0.0
    # Direction contribution of neighbour t to bin k of cylinder i: (n, n, K).
    rel = angle_diff(theta[None, :], theta[:, None])
    dirs = np.exp(-angle_diff(DIR_CENTRES[None, None, :], rel[:, :, None]) ** 2 / (2.0 * SIGMA_D**2))
    raw = np.einsum("ict,itk->ick", spatial, dirs)
    values = 1.0 / (1.0 + np.exp(-SIG_TAU * (raw - SIG_MU)))
    values *= valid[:, :, None]

    delta = xy[None, :, :] - xy[:, None, :]
    dist = np.sqrt((delta**2).sum(axis=2))
    neighbours = (dist <= RADIUS + 3.0 * SIGMA_S).sum(axis=1) - 1
    usable = (valid.sum(axis=1) >= MIN_VALID_FRACTION * N_SPATIAL) & (neighbours >= MIN_NEIGHBOURS)
    values[~usable] = 0.0
    valid[~usable] = False
    energy = (values**2).sum(axis=2).astype(np.float32)
    valid = valid.astype(np.float32)
    return PreparedTemplate(template, xy, theta, values.reshape(n, DESCRIPTOR_SIZE).astype(np.float32),
                            valid, energy, usable, np.stack([cos, sin], axis=1).astype(np.float32),
                            (xy[:, 0] + 1j * xy[:, 1]).astype(np.complex64), (cos + 1j * sin).astype(np.complex64),
                            np.concatenate([energy, valid], axis=1), np.concatenate([valid, energy], axis=1))
