"""From a probe and a batch of prepared templates to one similarity in [0, 1] per template.

1. Local similarity of every minutia pair from their cylinders (batched matrix products).
2. The best-looking pairs are kept (local similarity sort) and made to vote for one another by
   relaxation: a pair gains support from pairs whose relative geometry (distance between the two
   minutiae, the rotation each pair implies, the direction of the segment joining them) agrees in
   both prints, and loses it otherwise. Geometry is compared with tolerances, pair by pair, not
   through one rigid transform, so elastic distortion bends the print without breaking the vote.
   Only mutually best pairs (each minutia the other's most similar) are considered.
3. The score is the mean relaxed similarity of the pairs that kept their support best, with a
   small share for the largest support any single pair found (how many pairs hold together).

This follows the LSS-R consolidation of Cappelli, Ferrara and Maltoni (2010). NumPy pays a few
microseconds per operation whatever the array size, so everything works on a whole batch of
templates at once (a 1:1 comparison is a batch of one); angles are compared through cosines built
from products (no modulo, no trigonometric call) and the compatibility kernels are clipped parabolas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from biometrics.matching.cylinders import DESCRIPTOR_SIZE, DIST_STRETCH, DIST_TOL, N_SPATIAL, PreparedTemplate

MIN_COMMON_CELLS = 0.60 * N_SPATIAL  # cells valid in both cylinders for their similarity to count
N_RELAX_PAIRS = 40
RELAX_ITERATIONS = 5
RELAX_WEIGHT = 0.7
# Compatibility tolerances: distance difference in pixels plus a fraction of the distance (long
# segments stretch more under distortion: DIST_TOL, DIST_STRETCH in cylinders.py, where each template
# precomputes them), and the largest tolerated angle differences.
DIR_TOL = math.radians(30.0)
# How many of the best relaxed pairs a score averages (sigmoid of the smaller minutiae count). At
# most 14, not 18: a genuine comparison of our templates rarely has more than a dozen pairs that the
# others support, and the rest only pull its mean back to the impostor level (18 -> 14: FNMR at the
# pooled FMR 0.1 % threshold 12.9 -> 10.7 % DB1_B, 11.4 -> 9.6 % DB2_B, 50.0 -> 45.7 % FVC2004 DB1_B).
MIN_PAIRS, MAX_PAIRS, PAIRS_MU, PAIRS_TAU = 6, 14, 20.0, 0.4
# A comparison that offers fewer mutually best pairs than that count is still divided by at least
# MIN_AVERAGED of them (the missing pairs count as 0): otherwise three chance pairs that happen to agree
# average to the score of a good match (the highest impostor score of FVC2002 DB1_B, 0.22, had three).
MIN_AVERAGED = 8
# The relaxed mean says what fraction of the offered pairs hold together, not how many do: a genuine
# comparison whose best pair agrees with ten others is strong evidence however many chance pairs were
# offered beside them. So SUPPORT_SHARE of the score is the largest summed compatibility any one pair
# has with the others, as a fraction of SUPPORT_CAP pairs. FNMR at the pooled FMR 0.1 % threshold
# (23 Nov 2026 templates): DB1_B 10.4 -> 9.3 %, DB2_B 9.3 -> 8.6 %, FVC2004 DB1_B 44.6 -> 40.7 %,
# SecuGen DB1_B 6.1 -> 3.9 %; at FMR 0.01 % 18.9 -> 13.9, 16.4 -> 10.4, 57.9 -> 48.9, 11.1 -> 7.5 %
# (every set better when fingers are resampled). EERs move by a pair or two either way, within noise.
SUPPORT_SHARE, SUPPORT_CAP = 0.057, 10.0


@dataclass(frozen=True, eq=False)
class Batch:
    """Prepared templates stacked and zero-padded to the same number of minutiae."""

    values: np.ndarray  # (G, N, D)
    valid: np.ndarray  # (G, N, C)
    norm_left: np.ndarray  # (G, N, 2C)
    direction: np.ndarray  # (G, N, 2)
    position: np.ndarray  # (G, N) complex
    heading: np.ndarray  # (G, N) complex
    count: np.ndarray  # (G,) usable minutiae
    size: np.ndarray  # (G,) minutiae, usable or not (the rest of N is padding)

    def __len__(self) -> int:
        return len(self.count)

    def __getitem__(self, rows: slice) -> Batch:
        """The templates at ``rows`` (a slice), sharing memory with this batch and padded only to
        the largest of them (the cost of a comparison grows with the padded size)."""
        size = self.size[rows]
        n = max(int(size.max()) if len(size) else 0, 1)
        return Batch(self.values[rows, :n], self.valid[rows, :n], self.norm_left[rows, :n],
                     self.direction[rows, :n], self.position[rows, :n], self.heading[rows, :n],
                     self.count[rows], size)


def stack(prepared: Sequence[PreparedTemplate]) -> Batch:
    g = len(prepared)
    n = max([len(p.theta) for p in prepared] + [1])
    values = np.zeros((g, n, DESCRIPTOR_SIZE), np.float32)
    valid = np.zeros((g, n, N_SPATIAL), np.float32)
    norm_left = np.zeros((g, n, 2 * N_SPATIAL), np.float32)
    direction = np.zeros((g, n, 2), np.float32)
    position = np.zeros((g, n), np.complex64)
    heading = np.zeros((g, n), np.complex64)
    for i, p in enumerate(prepared):
        k = len(p.theta)
        values[i, :k] = p.values
        valid[i, :k] = p.valid
        norm_left[i, :k] = p.norm_left
        direction[i, :k] = p.direction
        position[i, :k] = p.position
        heading[i, :k] = p.heading
    count = np.array([p.count for p in prepared], dtype=np.int64)
    size = np.array([len(p.theta) for p in prepared], dtype=np.int64)
    return Batch(values, valid, norm_left, direction, position, heading, count, size)


def pair_counts(n_a: np.ndarray, n_b: int) -> np.ndarray:
    """How many pairs each score averages: more when both prints have many minutiae."""
    z = 1.0 / (1.0 + np.exp(-PAIRS_TAU * (np.minimum(n_a, n_b) - PAIRS_MU)))
    return MIN_PAIRS + np.rint(z * (MAX_PAIRS - MIN_PAIRS)).astype(np.int64)


def local_similarity(probe: PreparedTemplate, batch: Batch) -> np.ndarray:
    """(G, N, n) cylinder similarity 1 - |a - b| / sqrt(2 (|a|^2 + |b|^2)) over the cells valid in
    both; 0 for pairs whose directions differ by more than 90 degrees or that overlap too little."""
    dot = batch.values @ probe.values.T
    both = batch.norm_left @ probe.norm_right.T  # |a|^2 + |b|^2 over the common cells
    common = batch.valid @ probe.valid.T
    facing = batch.direction @ probe.direction.T  # cos of the angle between the two minutiae
    # 1 - |a - b| / sqrt(2 (|a|^2 + |b|^2)) with one square root, computed in place.
    ratio = np.multiply(dot, -2.0, out=dot)
    ratio += both
    np.maximum(ratio, 0.0, out=ratio)
    ratio /= 2.0 * both + 1e-9
    sim = np.sqrt(ratio, out=ratio)
    np.subtract(1.0, sim, out=sim)
    sim *= (common >= MIN_COMMON_CELLS) & (both > 1e-3) & (facing > 0.0)
    return sim


def compatibility(za: np.ndarray, zb: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(G, R, R) how well pair i = (za[i], zb[i]) and pair j agree, in [0, 1].

    Pair i implies a rotation r_i = exp(i (theta_a - theta_b)). Pair j supports pair i when the
    segment i -> j of the gallery print, turned back by r_i, lands on the probe's segment i -> j
    (within a tolerance that grows with the segment's length) and pair j implies the same rotation.
    """
    seg_b = zb[:, None, :] - zb[:, :, None]
    err = (za[:, None, :] - za[:, :, None]) * r.conj()[:, :, None] - seg_b
    err2 = err.real**2 + err.imag**2
    tol2 = DIST_TOL**2 + DIST_STRETCH**2 * (seg_b.real**2 + seg_b.imag**2)
    seg_term = np.maximum(1.0 - err2 / tol2, 0.0)
    # 1 - (1 - cos(rotation difference)) / (1 - cos(DIR_TOL)), written as one product and one shift.
    k = 1.0 / (1.0 - math.cos(DIR_TOL))
    dir_term = np.maximum((r[:, :, None] * (k * r.conj())[:, None, :]).real - (k - 1.0), 0.0)
    return seg_term * dir_term


# Pairs that no other pair supports all keep the same fraction of their initial similarity, so their
# efficiencies tie and rounding would decide which of them are averaged (and the 1:1, batch and C paths
# would round differently). Efficiencies are compared to TIE_RESOLUTION; among equal ones the pair
# that started more similar comes first.
TIE_RESOLUTION = 1e5


def best_relaxed(efficiency: np.ndarray, lam0: np.ndarray) -> np.ndarray:
    """Order of the pairs along the last axis: best relaxed-to-initial efficiency first, ties by lam0."""
    return np.lexsort((-lam0, -np.rint(efficiency * TIE_RESOLUTION)), axis=-1)


def similarities(probe: PreparedTemplate, batch: Batch) -> np.ndarray:
    """(G,) comparison scores in [0, 1] of ``probe`` against every template of ``batch``."""
    g = len(batch)
    if g == 0 or probe.count < 2:
        return np.zeros(g)
    sim = local_similarity(probe, batch)
    # One-to-one: a pair takes part only if each minutia is the other's best match. Without this a
    # minutia with a common-looking neighbourhood lends its similarity to many chance pairs. So
    # each gallery minutia offers at most one pair: with its best probe minutia, if that is mutual.
    best = sim.argmax(axis=2)
    best_sim = np.take_along_axis(sim, best[:, :, None], axis=2)[:, :, 0]
    mutual = best_sim >= np.take_along_axis(sim.max(axis=1), best, axis=1)
    offered = best_sim * mutual
    # Mutual pairs are few (often 10-20): relax only as many as the richest comparison offers.
    n_rel = max(2, min(N_RELAX_PAIRS, int(np.count_nonzero(offered, axis=1).max())))
    ig = np.argpartition(offered, -n_rel, axis=1)[:, -n_rel:]
    ip = np.take_along_axis(best, ig, axis=1)
    lam0 = np.take_along_axis(offered, ig, axis=1)
    idx = np.arange(n_rel)
    live = lam0 > 0
    n_live = live.sum(axis=1)
    za = np.take_along_axis(batch.position, ig, axis=1)
    zb = probe.position[ip]
    r = np.take_along_axis(batch.heading, ig, axis=1) * probe.heading[ip].conj()
    rho = compatibility(za, zb, r)
    rho *= live[:, :, None] & live[:, None, :]
    rho[:, idx, idx] = 0.0
    support = np.minimum(rho.sum(axis=2).max(axis=1), SUPPORT_CAP)
    rho *= ((1.0 - RELAX_WEIGHT) / np.maximum(n_live - 1, 1))[:, None, None]
    lam = lam0[:, :, None]
    for _ in range(RELAX_ITERATIONS):
        lam = RELAX_WEIGHT * lam + rho @ lam
    lam = lam[:, :, 0]
    efficiency = np.where(live, lam / np.where(live, lam0, 1.0), -1.0)
    order = best_relaxed(efficiency, lam0)
    ranked = np.take_along_axis(lam, order, axis=1)
    wanted = pair_counts(batch.count, probe.count)
    n_p = np.minimum(wanted, n_live)
    keep = idx[None, :] < n_p[:, None]
    scores = (ranked * keep).sum(axis=1) / np.maximum(n_p, np.minimum(wanted, MIN_AVERAGED))
    scores = (1.0 - SUPPORT_SHARE) * scores + (SUPPORT_SHARE / SUPPORT_CAP) * support
    scores[(batch.count < 2) | (n_live < 2)] = 0.0
    return scores


def similarity(a: PreparedTemplate, b: PreparedTemplate) -> float:
    """The comparison score in [0, 1] of two prepared templates (see ``pairwise.similarity``, which
    gives the same score about five times faster)."""
    return float(similarities(a, stack([b]))[0])
