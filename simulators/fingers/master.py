"""The master fingerprint: everything about a finger that does not change between impressions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.fingers.noise import smooth_field
from simulators.fingers.orientation import (
    FingerClass,
    SingularPoint,
    orientation_field,
    pick_class,
    place_singular_points,
)
from simulators.fingers.ridges import PERIODS, grow_ridges

MASTER_SHAPE = (512, 448)  # rows, cols at 500 dpi: about 26 x 23 mm, larger than any impression


@dataclass(frozen=True, eq=False)
class MasterPrint:
    seed: int
    kind: FingerClass
    singular_points: tuple[SingularPoint, ...]
    ridges: np.ndarray  # float32 in [-1, 1], positive on ridges
    silhouette: np.ndarray  # float32 in [0, 1], the fingertip's outline
    period: np.ndarray  # float32 ridge period in pixels
    centre: tuple[float, float]  # (x, y) of the fingertip's centre in the master


def _silhouette(rng: np.random.Generator, shape: tuple[int, int], cx: float, cy: float) -> np.ndarray:
    h, w = shape
    half_width = rng.uniform(150, 185)
    top = rng.uniform(200, 235)
    bottom = rng.uniform(260, 320)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u = np.abs(xs - cx) / half_width
    v = np.abs(ys - cy) / np.where(ys < cy, top, bottom)
    r = u**2.4 + v**2.4
    return np.clip((1.0 - r) * 8.0, 0.0, 1.0).astype(np.float32)


def _period_map(rng: np.random.Generator, shape: tuple[int, int], core_y: float) -> np.ndarray:
    h, _ = shape
    base = rng.uniform(8.6, 9.6)
    ys = np.arange(h, dtype=np.float32)[:, None]
    # Ridges run a little wider apart above the core and closer together towards the crease.
    slope = np.clip((core_y - ys) / h, -0.5, 0.5) * 1.2
    period = base + slope + 0.55 * smooth_field(rng, shape, scale=170.0)
    return np.clip(period, PERIODS[0], PERIODS[1]).astype(np.float32)


def make_master(seed: int) -> MasterPrint:
    rng = np.random.default_rng([0x51F6E, seed & 0xFFFFFFFFFFFFFFFF])
    h, w = MASTER_SHAPE
    cx = w / 2 + rng.normal(0, 6)
    cy = h / 2 + rng.normal(0, 6)
    kind = pick_class(rng)
    points = place_singular_points(kind, cx, cy, rng)
    orientation = orientation_field(MASTER_SHAPE, kind, points, cx, cy, rng)
    core_y = min((p.y for p in points if p.is_core), default=cy)
    period = _period_map(rng, MASTER_SHAPE, core_y)
    ridges = grow_ridges(orientation, period, rng)
    silhouette = _silhouette(rng, MASTER_SHAPE, cx, cy)
    return MasterPrint(seed, kind, points, ridges, silhouette, period, (float(cx), float(cy)))
