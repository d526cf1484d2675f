"""Synthetic fingerprints, deterministic from a seed (SFinGe-style).

A ``SyntheticFinger`` is a master print (class, singular points, orientation and ridge-period maps,
ridges grown by iterative Gabor filtering), made once per seed and cached; ``impression(index,
condition)`` renders one touch of it on an optical scanner, 400 x 400 pixels at 500 dpi, dark ridges on
a white background like the FVC optical databases.

    finger = SyntheticFinger(finger_seed("household-17/member-2", FingerPosition.RIGHT_INDEX))
    image = finger.impression(3, Condition.DRY)
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from biometrics.fingers import FingerPosition
from simulators.fingers.folder import write_fvc_folder
from simulators.fingers.impression import IMPRESSION_SHAPE, Condition, Placement, render
from simulators.fingers.master import MasterPrint, make_master
from simulators.fingers.orientation import FingerClass

__all__ = [
    "IMPRESSION_SHAPE",
    "Condition",
    "FingerClass",
    "Placement",
    "SyntheticFinger",
    "finger_seed",
    "write_fvc_folder",
]

DPI = 500


def finger_seed(person_key: str, position: FingerPosition) -> int:
    """A stable 63-bit seed for one finger of one person (same on every machine and Python run)."""
    digest = hashlib.blake2b(
        f"{person_key}\x1f{int(FingerPosition(position))}".encode(), digest_size=8, person=b"synthfinger"
    ).digest()
    return int.from_bytes(digest, "big") >> 1


@lru_cache(maxsize=32)
def _master(seed: int) -> MasterPrint:
    # Growing the ridges is the expensive step (about half a second); impressions are cheap.
    return make_master(seed)


class SyntheticFinger:
    """One synthetic finger; any number of impressions of it, each reproducible."""

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"finger seed must be a non-negative int, got {seed!r}")
        self.seed = seed

    @property
    def master(self) -> MasterPrint:
        return _master(self.seed)

    @property
    def finger_class(self) -> FingerClass:
        return self.master.kind

    def impression(
        self, index: int, condition: Condition = Condition.NORMAL, placement: Placement = Placement.GUIDED
    ) -> np.ndarray:
        """The ``index``-th touch of this finger under ``condition``: uint8, 400 x 400, 500 dpi.

        ``placement`` is how carefully the finger is put down: GUIDED (an operator at the station)
        or FREE (FVC-style collection, where volunteers were asked to vary position and rotation).
        """
        if not isinstance(index, int) or index < 0:
            raise ValueError(f"impression index must be a non-negative int, got {index!r}")
        if not isinstance(placement, Placement):
            raise ValueError(f"placement must be a Placement, got {placement!r}")
        condition = Condition(condition)
        return render(self.master, index, condition, placement)

    def __repr__(self) -> str:
        return f"SyntheticFinger(seed={self.seed})"
