"""Finger positions, coded as in ISO/IEC 19794-2 and ANSI/NIST-ITL (0 = unknown)."""

from __future__ import annotations

from enum import IntEnum


class FingerPosition(IntEnum):
    UNKNOWN = 0
    RIGHT_THUMB = 1
    RIGHT_INDEX = 2
    RIGHT_MIDDLE = 3
    RIGHT_RING = 4
    RIGHT_LITTLE = 5
    LEFT_THUMB = 6
    LEFT_INDEX = 7
    LEFT_MIDDLE = 8
    LEFT_RING = 9
    LEFT_LITTLE = 10

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()


# The order in which a camp tries fingers: the two index fingers carry the most usable ridge area on
# worn hands, then thumbs, then the middle fingers.
CAPTURE_ORDER: tuple[FingerPosition, ...] = (
    FingerPosition.RIGHT_INDEX,
    FingerPosition.LEFT_INDEX,
    FingerPosition.RIGHT_THUMB,
    FingerPosition.LEFT_THUMB,
    FingerPosition.RIGHT_MIDDLE,
    FingerPosition.LEFT_MIDDLE,
)
