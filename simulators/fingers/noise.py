"""Smooth random fields: the one source of low-frequency randomness for shapes, flow and skin."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """A random field over ``shape`` varying over about ``scale`` pixels, values roughly in [-1, 1].

    Random values on a coarse grid, upsampled with bicubic interpolation: cheap, deterministic and
    free of the blockiness of nearest-neighbour noise.
    """
    h, w = shape
    gh = max(2, int(np.ceil(h / scale)) + 2)
    gw = max(2, int(np.ceil(w / scale)) + 2)
    coarse = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    big = cv2.resize(coarse, (int(gw * scale), int(gh * scale)), interpolation=cv2.INTER_CUBIC)
    return big[:h, :w].astype(np.float32)
