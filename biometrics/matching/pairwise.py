"""One probe against one template: the same score as ``consolidation.similarities`` on a batch of
one, computed without the batch axis.

A 1:1 comparison of ~35 minutiae each is about 60k multiply-adds, far less than NumPy's fixed cost
per operation (about a microsecond), so this path is written to make as few NumPy calls as it can:

- the cylinder similarity's four products come from matrices built once per template
  (``PreparedTemplate.pair_form``), with the ``-2 a.b + |a|^2 + |b|^2`` sum folded into one product;
- mutually best pairs are found on the ratio under the square root (the similarity
  ``1 - sqrt(ratio)`` falls as it rises), and the square root is taken only for those pairs;
- the relaxation's ``w lam + rho @ lam`` is one product with ``w`` on rho's diagonal;
- only the pairs kept for the score are partitioned out (``argpartition``), nothing is sorted.

Results equal the batched ones up to float32 rounding, which can flip a near-tie in which pairs are
kept: at most 0.004 apart on impostor scores (tests/biometrics/test_matching.py), far below the
0.02 between calibrated thresholds.
"""

from __future__ import annotations

import math

import numpy as np

from biometrics.matching.consolidation import (
    DIR_TOL,
    MAX_PAIRS,
    MIN_COMMON_CELLS,
    MIN_PAIRS,
    N_RELAX_PAIRS,
    PAIRS_MU,
    PAIRS_TAU,
    RELAX_ITERATIONS,
    RELAX_WEIGHT,
)
from biometrics.matching.cylinders import PreparedTemplate

# A masked-out pair's ratio: above any real one (sum (a-b)^2 <= sum a^2 + b^2 for non-negative cells,
# so real ratios stay <= 0.5), so it is never a best match and never offered.
_MASKED = 2.0
# 1 - (1 - cos d) / (1 - cos DIR_TOL) = K cos d - (K - 1).
_K = 1.0 / (1.0 - math.cos(DIR_TOL))
_SQRT_K = math.sqrt(_K)


def _pair_count(n_a: int, n_b: int) -> int:
    z = 1.0 / (1.0 + math.exp(-PAIRS_TAU * (min(n_a, n_b) - PAIRS_MU)))
    return MIN_PAIRS + round(z * (MAX_PAIRS - MIN_PAIRS))


def similarity(probe: PreparedTemplate, other: PreparedTemplate) -> float:
    """The comparison score in [0, 1] of ``probe`` against ``other``."""
    p, o = probe.pair_form, other.pair_form
    if p.n < 2 or o.n < 2:
        return 0.0
    # (o.n, p.n): sum (a - b)^2 / (2 sum (a^2 + b^2)) over the cells valid in both cylinders.
    ratio = np.matmul(o.left, p.right)
    ratio /= np.matmul(o.den_left, p.den_right)
    masked = np.matmul(o.valid, p.valid_t) < MIN_COMMON_CELLS
    masked |= np.matmul(o.direction, p.direction_t) <= 0.0  # directions more than 90 degrees apart
    np.copyto(ratio, _MASKED, where=masked)

    # Each template minutia offers one pair: with its best probe minutia, if that choice is mutual.
    best = ratio.argmin(axis=1)
    row_best = ratio.min(axis=1)
    offered = (row_best <= ratio.min(axis=0)[best]) & (row_best < _MASKED)
    ig = np.flatnonzero(offered)
    n = len(ig)
    if n < 2:
        return 0.0
    if n > N_RELAX_PAIRS:
        ig = ig[np.argpartition(row_best[ig], N_RELAX_PAIRS)[:N_RELAX_PAIRS]]
        n = N_RELAX_PAIRS
    ip = best[ig]
    lam0 = 1.0 - np.sqrt(np.maximum(row_best[ig], 0.0))

    # Compatibility of every two pairs (see consolidation.compatibility).
    za = o.position[ig]
    zb = p.position[ip]
    r = o.heading[ig] * p.heading_conj[ip]
    err = za[None, :] - za[:, None]
    err *= r.conj()[:, None]
    err -= zb[None, :] - zb[:, None]
    rho = np.abs(err)
    rho *= rho
    rho *= p.inv_tol2[ip[:, None], ip]
    np.subtract(1.0, rho, out=rho)
    np.maximum(rho, 0.0, out=rho)
    u = r.view(np.float32).reshape(n, 2) * np.float32(_SQRT_K)  # K cos(rotation difference) = u_i . u_j
    turn = u @ u.T
    turn -= _K - 1.0
    np.maximum(turn, 0.0, out=turn)
    rho *= turn
    rho *= (1.0 - RELAX_WEIGHT) / (n - 1)
    np.fill_diagonal(rho, RELAX_WEIGHT)
    lam = lam0
    for _ in range(RELAX_ITERATIONS):
        lam = rho @ lam

    n_p = min(_pair_count(o.n, p.n), n)
    if n_p < n:
        lam = lam[np.argpartition(lam0 / lam, n_p)[:n_p]]  # the best relaxed-to-initial ratios
    return float(lam.sum()) / n_p
