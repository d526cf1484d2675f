"""Synthetic fingerprints laid out as an FVC database folder, for the engine's evaluation tools."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from simulators.fingers.impression import Condition, Placement

# The mix of impressions in a folder, roughly FVC2002's: NORMAL already spreads pressure and skin
# moisture as its volunteers did; the strong conditions (the captures a quality gate refuses) are
# rare, as they were in FVC, where every image was kept whatever its quality.
DEFAULT_MIX: tuple[tuple[Condition, float], ...] = (
    (Condition.NORMAL, 0.86),
    (Condition.DRY, 0.04),
    (Condition.WET, 0.04),
    (Condition.WORN, 0.03),
    (Condition.PARTIAL, 0.02),
    (Condition.SMUDGED, 0.01),
)


def write_fvc_folder(
    directory: str | os.PathLike[str],
    fingers: int = 10,
    impressions: int = 8,
    seed: int = 0,
    mix: Sequence[tuple[Condition, float]] = DEFAULT_MIX,
    placement: Placement = Placement.FREE,
) -> list[Path]:
    """Write ``FFF_I.tif`` files (finger 101.., impression 1..) to ``directory``; return their paths.

    Fingers are seeds ``seed*100003 + f``, so two folders with different seeds share no finger.
    Conditions are drawn per impression from ``mix``, deterministically; placement is FREE, as in
    FVC's collection, unless told otherwise.
    """
    from simulators.fingers import SyntheticFinger  # the package's cache, shared with other users

    if fingers < 1 or impressions < 1:
        raise ValueError(f"need at least one finger and one impression, got {fingers} x {impressions}")
    if fingers > 899:
        raise ValueError(f"FVC names have three digits: at most 899 fingers, got {fingers}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    conditions = [c for c, _ in mix]
    weights = np.array([w for _, w in mix], float)
    rng = np.random.default_rng([0xF7C, seed])
    written = []
    for f in range(fingers):
        finger = SyntheticFinger(seed * 100003 + f)
        for i in range(impressions):
            condition = conditions[int(rng.choice(len(conditions), p=weights / weights.sum()))]
            path = out / f"{101 + f}_{i + 1}.tif"
            if not cv2.imwrite(str(path), finger.impression(i, condition, placement)):
                raise OSError(f"could not write {path}: check the folder is writable and has space")
            written.append(path)
    return written
