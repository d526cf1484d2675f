"""Skeleton: the ridges binarised and thinned to one-pixel-wide, minimally 8-connected lines.

Thinning is Zhang-Suen's two-subiteration scheme, evaluated for every pixel at once: each pixel's
8 neighbours are packed into a code 0..255 with one convolution, and a 256-entry table says whether
the pixel may be deleted. A last pass removes the staircase pixels Zhang-Suen leaves, so every line
pixel has exactly two neighbours and the crossing number reads minutiae unambiguously.

That is some thirty whole-image passes per print, most over pixels that can no longer change; where
``pip install`` could build it, ``_skeleton.c`` does the same deletions visiting only the ridge pixels
still standing (the same skeleton, pixel for pixel; 2.4 -> 1.1 ms per skeleton on FVC2002 DB1_B).
"""

from __future__ import annotations

import cv2
import numpy as np

try:  # built by pip install where a C compiler and Python's headers exist
    from biometrics.stages import _skeleton
except ImportError:  # pragma: no cover - _thin_numpy gives the same skeleton, slower
    _skeleton = None

# Bit k of the neighbour code is the neighbour P(k+2) in Zhang-Suen's numbering, clockwise from north.
_OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))  # (dy, dx)
_KERNEL = np.zeros((3, 3), np.float32)
for _bit, (_dy, _dx) in enumerate(_OFFSETS):
    _KERNEL[_dy + 1, _dx + 1] = 1 << _bit

# Ridge specks and pores smaller than this (pixels at 500 dpi) are noise, not ridge structure.
MIN_RIDGE_AREA = 24
MAX_HOLE_AREA = 24


def _ring(code: int) -> list[int]:
    return [(code >> k) & 1 for k in range(8)]


def _transitions(p: list[int]) -> int:
    return sum(1 for k in range(8) if p[k] == 0 and p[(k + 1) % 8] == 1)


def _zhang_suen_tables() -> tuple[np.ndarray, np.ndarray]:
    first = np.zeros(256, bool)
    second = np.zeros(256, bool)
    for code in range(256):
        p = _ring(code)  # p[0]=P2 (N), p[2]=P4 (E), p[4]=P6 (S), p[6]=P8 (W)
        if not (2 <= sum(p) <= 6 and _transitions(p) == 1):
            continue
        first[code] = not (p[0] and p[2] and p[4]) and not (p[2] and p[4] and p[6])
        second[code] = not (p[0] and p[2] and p[6]) and not (p[0] and p[4] and p[6])
    return first, second


def _components(code: int) -> list[list[int]]:
    """The neighbours of a pixel grouped into 8-connected runs (neighbour indices 0..7)."""
    p = _ring(code)
    members = [k for k in range(8) if p[k]]
    pos = {k: _OFFSETS[k] for k in members}
    groups: list[list[int]] = []
    seen: set[int] = set()
    for k in members:
        if k in seen:
            continue
        stack, group = [k], []
        seen.add(k)
        while stack:
            a = stack.pop()
            group.append(a)
            for b in members:
                if b not in seen and max(abs(pos[a][0] - pos[b][0]), abs(pos[a][1] - pos[b][1])) == 1:
                    seen.add(b)
                    stack.append(b)
        groups.append(sorted(group))
    return groups


def _staircase_table() -> np.ndarray:
    # Deletable: removing the pixel keeps its neighbours connected (one group) and it is no line end.
    table = np.zeros(256, bool)
    for code in range(256):
        p = _ring(code)
        if sum(p) >= 2 and len(_components(code)) == 1 and _transitions(p) >= 1:
            # Only corners where two 4-neighbours meet: deleting those never shortens a line.
            table[code] = any(p[k] and p[(k + 2) % 8] for k in (0, 2, 4, 6))
    return table


_FIRST, _SECOND = (t.astype(np.uint8) for t in _zhang_suen_tables())
_STAIRCASE = _staircase_table().astype(np.uint8)


def neighbour_codes(image: np.ndarray) -> np.ndarray:
    """Each pixel's 8-neighbour code (0..255) for a 0/1 uint8 image, as uint8 (exact: the sum of
    distinct powers of two never exceeds 255), so that a 256-entry table applies with cv2.LUT."""
    return cv2.filter2D(image, cv2.CV_8U, _KERNEL, borderType=cv2.BORDER_CONSTANT)


def lookup(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table`` (256 entries, uint8) at each pixel's neighbour code, on the pixels of ``image`` only."""
    out = cv2.LUT(neighbour_codes(image), table)
    out &= image
    return out


def ridge_skeleton(enhanced: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Boolean image, True on the one-pixel-wide ridge centre lines inside the mask."""
    ridges = ((enhanced < 0) & mask).astype(np.uint8)
    ridges = _drop_small(ridges, MIN_RIDGE_AREA)
    ridges = 1 - _drop_small(1 - ridges, MAX_HOLE_AREA)
    ridges &= mask.astype(np.uint8)
    x, y, width, height = cv2.boundingRect(ridges)
    if width == 0:
        return np.zeros_like(mask, dtype=bool)
    # Thin only the bounding box (plus a margin) of the ridges: on a partial print most of it is empty.
    y0, y1 = max(0, y - 1), y + height + 1
    x0, x1 = max(0, x - 1), x + width + 1
    thin = _thin(np.ascontiguousarray(ridges[y0:y1, x0:x1]))
    out = np.zeros(mask.shape, bool)
    out[y0:y1, x0:x1] = thin.astype(bool)
    return out


def _drop_small(binary: np.ndarray, min_area: int) -> np.ndarray:
    # 16-bit labels and np.take: a third faster than 32-bit labels and fancy indexing. A print has a few
    # hundred components; OpenCV raises rather than wrap past 65,535 (pure noise at 640 x 480 can get
    # there), and then 32-bit labels do it.
    try:
        _count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        _count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)
    keep = (stats[:, cv2.CC_STAT_AREA] >= min_area).astype(np.uint8)
    keep[0] = 0
    return np.take(keep, labels)


def _thin(img: np.ndarray) -> np.ndarray:
    """Thins the 0/1 uint8 image in place (and returns it)."""
    if _skeleton is None:
        return _thin_numpy(img)
    img = np.ascontiguousarray(img)
    _skeleton.thin(img, img.shape[0], img.shape[1], _FIRST, _SECOND, _STAIRCASE)
    return img


def _thin_numpy(img: np.ndarray) -> np.ndarray:
    """:func:`_thin` in NumPy: the C kernel's reference and fallback (same pixels)."""
    # img is 0/1, so subtracting the deletable pixels clears exactly them.
    while True:
        changed = False
        for table in (_FIRST, _SECOND):
            delete = lookup(img, table)
            if cv2.hasNonZero(delete):
                img -= delete
                changed = True
        if not changed:
            break
    # Staircase pixels, in two checkerboard passes so that no two adjacent pixels go at once.
    odd = (np.add.outer(np.arange(img.shape[0]), np.arange(img.shape[1])) & 1).astype(np.uint8)
    for phase in (1 - odd, odd):
        delete = lookup(img, _STAIRCASE)
        delete &= phase
        img -= delete
    return img
