"""Minutiae: ridge endings and bifurcations read off the skeleton, with direction, type and quality.

Candidates are skeleton pixels with one branch (ending) or three (bifurcation). Tracing each branch
tells which candidates are artefacts of thinning and noise rather than real ridge events:
- a spur: an ending whose ridge reaches a bifurcation within about a ridge period (both go);
- a fragment: a ridge shorter than that between two endings (both go);
- a bridge or a lake: two bifurcations joined by a short branch (both go);
- a broken ridge: two close endings facing each other across a small gap (both go);
- anything near the edge of the print, where ridges end only because the image does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from biometrics.stages.orientation import OrientationField
from biometrics.stages.segmentation import SegmentationMask
from biometrics.stages.skeleton import neighbour_codes
from biometrics.stages.tracing import BRANCH_COUNT, trace_branches

ENDING, BIFURCATION = 1, 2  # MinutiaType codes

# Lengths in ridge periods (multiplied by the print's own period, ~9 px at 500 dpi).
# Wet and blotchy prints (FVC2002 DB2 finger 109: 18 spurs on one image where a clean print has 2)
# grow short side branches off blotchy ridge edges; one that ends within 0.7 period is far more often
# that than a real ridge. With the gap below: EER DB2_B 5.0 -> 4.3 %, FVC2004 DB1_B 10.7 -> 9.7 %.
SPUR_PERIODS = 0.7
FRAGMENT_PERIODS = 0.7
BRIDGE_PERIODS = 0.5
# Two endings facing each other within FACING_ANGLE are one broken ridge only if they cannot lie on
# neighbouring ridges: endings one period apart across the ridges "face" each other beyond
# 1 / sin(FACING_ANGLE) = 1.3 periods, so a longer gap deleted pairs of real endings.
GAP_PERIODS = 1.2
CLUSTER_PERIODS = 0.6
BORDER_PERIODS = 0.6
TRACE_PERIODS = 2.2
DIRECTION_PERIODS = 1.1
# A traced direction within this angle of the (smoother) orientation field is snapped onto it.
SNAP_ANGLE = np.radians(35)
FACING_ANGLE = np.radians(50)
# A minutia of the directional image's skeleton closer than this to one of the enhanced image's is the
# same ridge event found twice (see add_missing).
SAME_EVENT_PERIODS = 1.0
# Per neighbour code: 1 where a skeleton pixel with that neighbourhood is a candidate (1 or 3 branches).
_CANDIDATE = np.isin(BRANCH_COUNT, (1, 3)).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class DetectedMinutiae:
    """Minutiae in working pixels: ``angle`` in image axes (x right, y down), radians [0, 2 pi),
    pointing away from the minutia along its ridge (ending) or between its branches (bifurcation)."""

    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray
    kind: np.ndarray
    quality: np.ndarray
    removed: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)


def detect_minutiae(
    skeleton: np.ndarray,
    segmentation: SegmentationMask,
    orientation: OrientationField,
    period: float,
) -> DetectedMinutiae:
    sk = skeleton.astype(np.uint8)
    codes = neighbour_codes(sk)
    candidate = cv2.LUT(codes, _CANDIDATE)
    candidate &= sk
    # OpenCV lists the pixels in np.nonzero's (raster) order at a third of its cost on a whole image.
    points = cv2.findNonZero(candidate)
    points = np.zeros((0, 2), np.int32) if points is None else points.reshape(-1, 2)
    xs, ys = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    cand_codes = codes[ys, xs]
    kind = np.where(BRANCH_COUNT[cand_codes] == 1, ENDING, BIFURCATION).astype(np.int32)

    traces = trace_branches(
        skeleton, ys, xs, cand_codes,
        max_steps=max(4, round(TRACE_PERIODS * period)),
        sample_steps=max(3, round(DIRECTION_PERIODS * period)),
    )
    angle = _directions(traces, ys, xs, kind, orientation)
    keep = np.ones(len(ys), bool)
    removed: dict[str, int] = {}

    def drop(reason: str, which: np.ndarray) -> None:
        which = which & keep
        removed[reason] = removed.get(reason, 0) + int(which.sum())
        keep[which] = False

    # Structural artefacts, judged from the traced branches.
    owner, hit, length = traces.owner, traces.hit, traces.length
    met = hit >= 0
    hit_kind = np.where(met, kind[np.maximum(hit, 0)], 0)
    own_kind = kind[owner]
    spur = met & (own_kind == ENDING) & (hit_kind == BIFURCATION) & (length <= SPUR_PERIODS * period)
    fragment = met & (own_kind == ENDING) & (hit_kind == ENDING) & (length <= FRAGMENT_PERIODS * period)
    bridge = met & (own_kind == BIFURCATION) & (hit_kind == BIFURCATION) & (length <= BRIDGE_PERIODS * period)
    for reason, rows in (("spur", spur), ("fragment", fragment), ("bridge", bridge)):
        which = np.zeros(len(ys), bool)
        which[owner[rows]] = True
        which[hit[rows]] = True
        drop(reason, which)

    drop("gap", _facing_endings(ys, xs, angle, kind, keep, GAP_PERIODS * period))
    drop("cluster", _clustered(ys, xs, keep, CLUSTER_PERIODS * period))
    drop("border", segmentation.inside[ys, xs] < BORDER_PERIODS * period)

    quality = _quality(ys, xs, orientation, segmentation)
    sel = np.nonzero(keep)[0]
    return DetectedMinutiae(
        xs[sel].astype(np.float32), ys[sel].astype(np.float32), angle[sel], kind[sel], quality[sel], removed
    )


def add_missing(found: DetectedMinutiae, more: DetectedMinutiae, period: float) -> DetectedMinutiae:
    """``found`` plus the minutiae of ``more`` that ``found`` has none of within SAME_EVENT_PERIODS.

    ``found`` comes from the enhanced image, whose smooth ridges make its minutiae reliable but which
    misses many; ``more`` from the directional image, which finds most of those (FVC2002 DB1_B: the
    share of SecuGen's minutiae found goes 0.72 -> 0.88) along with more artefacts. The matcher gains far
    more from the minutiae it was missing than it loses to the extra ones (docs/fingerprint.md).
    """
    if len(found) and len(more):
        gap = np.hypot(more.x[:, None] - found.x[None, :], more.y[:, None] - found.y[None, :]).min(axis=1)
        new = gap > SAME_EVENT_PERIODS * period
    else:
        new = np.ones(len(more), bool)
    removed = dict(found.removed)
    removed.update({f"directional {reason}": count for reason, count in more.removed.items()})
    removed["found twice"] = int((~new).sum())
    return DetectedMinutiae(
        *(np.concatenate([getattr(found, f), getattr(more, f)[new]]) for f in ("x", "y", "angle", "kind", "quality")),
        removed,
    )


def _directions(traces, ys, xs, kind, orientation: OrientationField) -> np.ndarray:
    """Direction of each candidate: along its ridge (ending) or bisecting its two closest branches."""
    n = len(ys)
    vy = (traces.sample_y - ys[traces.owner]).astype(np.float32)
    vx = (traces.sample_x - xs[traces.owner]).astype(np.float32)
    norm = np.hypot(vx, vy) + 1e-6
    ux, uy = vx / norm, vy / norm
    first = np.searchsorted(traces.owner, np.arange(n))
    dir_x = ux[np.minimum(first, len(ux) - 1)] if len(ux) else np.zeros(n, np.float32)
    dir_y = uy[np.minimum(first, len(uy) - 1)] if len(uy) else np.zeros(n, np.float32)
    bif = np.nonzero(kind == BIFURCATION)[0]
    if len(bif):
        bx = np.stack([ux[first[bif] + k] for k in range(3)], axis=1)
        by = np.stack([uy[first[bif] + k] for k in range(3)], axis=1)
        # Pair (a, b) with the largest cosine = smallest angle: those are the two branches.
        pairs = ((0, 1), (0, 2), (1, 2))
        cos = np.stack([bx[:, a] * bx[:, b] + by[:, a] * by[:, b] for a, b in pairs], axis=1)
        best = np.argmax(cos, axis=1)
        pa = np.array([p[0] for p in pairs])[best]
        pb = np.array([p[1] for p in pairs])[best]
        rows = np.arange(len(bif))
        dir_x[bif] = bx[rows, pa] + bx[rows, pb]
        dir_y[bif] = by[rows, pa] + by[rows, pb]
    traced = np.arctan2(dir_y, dir_x)
    # The orientation field is smoother than an 8-connected path: use it, with the traced sense.
    axis = orientation.angle[ys, xs]
    flip = np.cos(traced - axis) < 0
    snapped = axis + np.pi * flip
    off = np.abs(np.angle(np.exp(1j * (traced - snapped))))
    angle = np.where(off <= SNAP_ANGLE, snapped, traced)
    return np.mod(angle, 2 * np.pi).astype(np.float32)


def _facing_endings(ys, xs, angle, kind, keep, max_gap: float) -> np.ndarray:
    """Pairs of endings across a small gap, each one's ridge running away from the other."""
    out = np.zeros(len(ys), bool)
    e = np.nonzero(keep & (kind == ENDING))[0]
    if len(e) < 2:
        return out
    dx = xs[e][None, :] - xs[e][:, None]
    dy = ys[e][None, :] - ys[e][:, None]
    dist = np.hypot(dx, dy)
    # Ending i's direction points into its ridge, away from the gap: j lies opposite to it.
    toward = -(np.cos(angle[e])[:, None] * dx + np.sin(angle[e])[:, None] * dy) / (dist + 1e-6)
    facing = (toward > np.cos(FACING_ANGLE)) & (np.cos(FACING_ANGLE) < toward.T)
    pair = facing & (dist <= max_gap) & (dist > 0)
    out[e] = pair.any(axis=1)
    return out


def _clustered(ys, xs, keep, radius: float) -> np.ndarray:
    """Minutiae closer together than a fraction of a ridge period: noise, not ridge events."""
    out = np.zeros(len(ys), bool)
    k = np.nonzero(keep)[0]
    if len(k) < 2:
        return out
    dist = np.hypot(xs[k][None, :] - xs[k][:, None], ys[k][None, :] - ys[k][:, None])
    np.fill_diagonal(dist, np.inf)
    out[k] = (dist < radius).any(axis=1)
    return out


def _quality(ys, xs, orientation: OrientationField, segmentation: SegmentationMask) -> np.ndarray:
    """0..100 from the local orientation coherence and ridge contrast around the minutia."""
    coherence = orientation.coherence[ys, xs]
    strength = np.clip(segmentation.contrast[ys, xs] / (0.6 * segmentation.strong_contrast + 1e-6), 0, 1)
    q = 100 * np.sqrt(np.clip(coherence, 0, 1)) * strength
    return np.clip(np.round(q), 1, 100).astype(np.int32)
