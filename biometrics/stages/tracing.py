"""Ridge tracing on the skeleton: follow every branch leaving every minutia candidate, all at once.

Each tracer walks one pixel per step along the one-pixel-wide skeleton, away from where it came from,
until it reaches another candidate, runs off the skeleton or has walked ``max_steps``. The tracers are
NumPy arrays, so the cost is ``max_steps`` vector operations, not a Python loop per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from biometrics.stages.skeleton import _OFFSETS, _components, _ring

_DY = np.array([d[0] for d in _OFFSETS], np.int32)
_DX = np.array([d[1] for d in _OFFSETS], np.int32)
# Ring index of an offset (dy, dx) in -1..1, looked up as _RING_INDEX[(dy + 1) * 3 + dx + 1]; -1 = centre.
_RING_INDEX = np.full(9, -1, np.int32)
for _k, (_dy, _dx) in enumerate(_OFFSETS):
    _RING_INDEX[(_dy + 1) * 3 + _dx + 1] = _k

DEAD_END = -2  # the branch stopped without meeting a candidate
OPEN = -1  # the branch went on for max_steps without meeting one


def _branch_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neighbour code: branch count, first pixel of each branch, neighbours not in that branch."""
    count = np.zeros(256, np.int32)
    first = np.full((256, 4), -1, np.int32)
    foreign = np.zeros((256, 4), np.int32)
    for code in range(256):
        groups = _components(code)
        count[code] = len(groups)
        occupied = sum(1 << k for k in range(8) if _ring(code)[k])
        for g, group in enumerate(groups[:4]):
            # Start on a 4-neighbour when the branch has one: it is the straighter continuation.
            even = [k for k in group if k % 2 == 0]
            first[code, g] = even[0] if even else group[0]
            foreign[code, g] = occupied & ~sum(1 << k for k in group)
    return count, first, foreign


BRANCH_COUNT, _FIRST_PIXEL, _FOREIGN = _branch_tables()


@dataclass(frozen=True, eq=False)
class Traces:
    """One row per (candidate, branch): ``owner`` candidate, ``hit`` candidate met (or OPEN/DEAD_END),
    ``length`` in steps to it, and the pixel reached after ``sample_steps`` (for the branch direction)."""

    owner: np.ndarray
    hit: np.ndarray
    length: np.ndarray
    sample_y: np.ndarray
    sample_x: np.ndarray


def trace_branches(
    skeleton: np.ndarray, ys: np.ndarray, xs: np.ndarray, codes: np.ndarray, max_steps: int, sample_steps: int
) -> Traces:
    h, w = skeleton.shape
    sk = np.pad(skeleton, 1)
    ids = np.full((h + 2, w + 2), -1, np.int32)
    # A candidate claims its 3x3 neighbourhood, so a tracer stops on arriving next to it.
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            ids[ys + 1 + dy, xs + 1 + dx] = np.arange(len(ys), dtype=np.int32)

    n_branches = BRANCH_COUNT[codes]
    owner = np.repeat(np.arange(len(ys), dtype=np.int32), np.minimum(n_branches, 4))
    branch = np.concatenate([np.arange(min(n, 4)) for n in n_branches]) if len(ys) else np.zeros(0, int)
    branch = branch.astype(np.int32)
    start_y, start_x = ys[owner] + 1, xs[owner] + 1
    first = _FIRST_PIXEL[codes[owner], branch]
    forbidden = _FOREIGN[codes[owner], branch]
    cy, cx = start_y + _DY[first], start_x + _DX[first]
    py, px = start_y.copy(), start_x.copy()
    qy, qx = start_y.copy(), start_x.copy()
    n = len(owner)
    hit = np.full(n, OPEN, np.int32)
    length = np.full(n, max_steps, np.int32)
    sample_y, sample_x = cy.copy(), cx.copy()
    alive = np.ones(n, bool)
    for step in range(1, max_steps + 1):
        idx = np.nonzero(alive)[0]
        if len(idx) == 0:
            break
        if step <= sample_steps:
            sample_y[idx], sample_x[idx] = cy[idx], cx[idx]
        # Arrived next to another candidate?
        met = ids[cy[idx], cx[idx]]
        stop = (met >= 0) & (met != owner[idx])
        hit[idx[stop]] = met[stop]
        length[idx[stop]] = step
        alive[idx[stop]] = False
        idx = idx[~stop]
        ny = cy[idx, None] + _DY[None, :]
        nx = cx[idx, None] + _DX[None, :]
        ok = sk[ny, nx]
        ok &= ~((ny == py[idx, None]) & (nx == px[idx, None]))
        ok &= ~((ny == qy[idx, None]) & (nx == qx[idx, None]))
        ry, rx = ny - start_y[idx, None], nx - start_x[idx, None]
        near = (np.abs(ry) <= 1) & (np.abs(rx) <= 1)
        ring = _RING_INDEX[np.clip((ry + 1) * 3 + rx + 1, 0, 8)]
        blocked = near & ((ring < 0) | (((forbidden[idx, None] >> np.maximum(ring, 0)) & 1) == 1))
        ok &= ~blocked
        # Prefer the candidate farthest from the previous pixel: straight on rather than back round.
        far = (ny - py[idx, None]) ** 2 + (nx - px[idx, None]) ** 2
        score = np.where(ok, far, -1)
        choice = np.argmax(score, axis=1)
        moved = score[np.arange(len(idx)), choice] >= 0
        dead = idx[~moved]
        hit[dead] = DEAD_END
        length[dead] = step
        alive[dead] = False
        go = idx[moved]
        c = choice[moved]
        qy[go], qx[go] = py[go], px[go]
        py[go], px[go] = cy[go], cx[go]
        cy[go], cx[go] = cy[go] + _DY[c], cx[go] + _DX[c]
    return Traces(owner, hit, length, sample_y - 1, sample_x - 1)
