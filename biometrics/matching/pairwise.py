"""One probe against one template: the same score as ``consolidation.similarities`` on a batch of
one, computed without the batch axis.

A pair of minutiae counts only when its gate is positive: directions less than 90 degrees apart and
at least MIN_COMMON_CELLS valid cells in common. Its local similarity
``1 - sqrt(|a - b|^2 / (2 (|a|^2 + |b|^2)))`` over the common cells is ranked through
``t = a.b / (|a|^2 + |b|^2)`` (the ratio under the root is ``1/2 - t``). Then each template minutia
offers its mutually best pair, the pairs are relaxed and the best are averaged. Two paths compute it:

- ``_consolidate.c``, built by ``pip install`` where it can be (a C compiler and Python's headers),
  used by :func:`similarity`: the gate first (a 2-term dot product and a popcount of two cell bit
  masks), then ``t`` only for the pairs that pass (about half on FVC templates), AVX/FMA code where
  the CPU has it, then picking, relaxing and summing, all in one call on the two templates' packed
  forms (:attr:`PairForm.packed`). It gives TIE_RESOLUTION and orders pairs as ``best_relaxed``
  does, so all three paths break ties alike.
- :func:`similarity_numpy`, the reference the kernel is tested against and the fallback: four
  products of the two templates' matrices (a.b, |a|^2 + |b|^2, common cells, facing; each column
  counts at these sizes) and some forty NumPy calls on arrays of tens of numbers, so it keeps the
  products narrow and the calls few:

  - everything that depends on one template only is built once (:class:`PairForm`, kept on the
    template as ``PreparedTemplate.pair_form``), including constant columns that fold a shift or a
    small offset into a product instead of a separate operation;
  - both rejection rules become one gate, positive when the pair may count, whose sign is copied
    onto ``t``;
  - the relaxation's ``w lam + rho @ lam`` is one product with ``w`` on rho's diagonal, and the
    compatibility's constant factor rides on the small rotation vectors rather than the matrix;
  - methods (``a.dot(b)``, ``x.argpartition(k)``) rather than ``np.`` functions or ``@``, whose
    dispatch costs more than the work at these sizes.

On one core, with templates of ~47 usable minutiae (FVC2002 DB1_B), a comparison took 0.081 ms when
the four products ran in BLAS and only the rest in C; it now takes about 0.043 ms: 0.52 to 0.55 of the
former code's time on a quiet machine, up to 0.6 on a loaded one, whose other work evicts the
templates from the caches this code waits on (both measured in one process, median of 21 passes, as
the machine's speed drifts between runs). The portable code, used where the CPU lacks AVX or FMA,
takes 0.06 to 0.07 ms.

Results equal the batched ones up to float32 rounding. Pairs that no other pair supports all relax by
the same factor, so which of them are averaged used to be decided by rounding (up to 0.014 apart, 2 of
18,960 decisions on FVC2004 DB1_B); ``best_relaxed`` now compares efficiencies at a fixed resolution
and breaks ties by the initial similarity: over every ordered pair of FVC2002 DB1_B and FVC2004 DB1_B
(23 Nov 2026 templates, 12,640 comparisons) this NumPy path and the batch path agree within 1e-6
(3.4e-4 once) with no decision changed at any calibrated threshold. On the same pairs the C kernel
computes ``t`` for exactly the pairs that may count (it takes the directions' cosine exactly, in
double, where the float32 products here put the few pairs exactly 90 degrees apart on either side),
within 5e-6 of this path's ``t``, and its scores agree with this path's within 1e-5 but for a handful
of comparisons (3 to 6 of 12,640) where rounding decides a near-tie: an efficiency across a step of
TIE_RESOLUTION (another pair averaged, up to 6e-4; this path given float64 products sides with the
kernel), or two probe minutiae with all but identical cylinders competing for one template minutia
(up to 0.011, either way: this path sides with the kernel's AVX code once and its portable code
once). No decision changed at any calibrated threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from biometrics.matching.consolidation import (
    DIR_TOL,
    MAX_PAIRS,
    MIN_AVERAGED,
    MIN_COMMON_CELLS,
    MIN_PAIRS,
    N_RELAX_PAIRS,
    PAIRS_MU,
    PAIRS_TAU,
    RELAX_ITERATIONS,
    RELAX_WEIGHT,
    SUPPORT_CAP,
    SUPPORT_SHARE,
    TIE_RESOLUTION,
    best_relaxed,
)
from biometrics.matching.cylinders import DIST_STRETCH, DIST_TOL, PreparedTemplate

try:  # built by pip install where a C compiler and Python's headers exist
    from biometrics.matching import _consolidate
except ImportError:  # pragma: no cover - the NumPy path below gives the same scores, slower
    _consolidate = None

# 1 - (1 - cos d) / (1 - cos DIR_TOL) = K cos d - (K - 1).
_K = 1.0 / (1.0 - math.cos(DIR_TOL))
_SQRT_K = math.sqrt(_K)
# Common cells are whole counts, so "count >= MIN_COMMON_CELLS" is "count - _GATE > 0" with no
# count ever equal to _GATE.
_GATE = math.ceil(MIN_COMMON_CELLS) - 0.5
# Added to every a.b (through a constant column): far below float32 resolution of any real value, it
# keeps t > 0 even for pairs with nothing in common, so the sign copied from the gate always sticks.
_TINY = 1e-20
_ONES = np.ones(N_RELAX_PAIRS, np.float32)
# What _consolidate.similarity needs besides the two templates (the gate as a whole count of cells).
_KERNEL_PARAMETERS = (
    N_RELAX_PAIRS, RELAX_ITERATIONS, RELAX_WEIGHT, _K, TIE_RESOLUTION, math.ceil(MIN_COMMON_CELLS),
)


def _pair_count(n: int) -> int:
    z = 1.0 / (1.0 + math.exp(-PAIRS_TAU * (n - PAIRS_MU)))
    return MIN_PAIRS + round(z * (MAX_PAIRS - MIN_PAIRS))


# How many pairs a score averages, by the smaller template's usable minutiae (math.exp per call cost
# more than the rest of the scoring's Python).
_PAIR_COUNTS = [_pair_count(n) for n in range(256)]


@dataclass(frozen=True, eq=False)
class PairForm:
    """A prepared template reshaped for one-to-one comparison.

    Only usable minutiae are kept: the others have no valid cells, so their similarity to anything
    is 0 and they never form a pair. With ``o`` a template's form and ``p`` the probe's:

    - ``o.values @ p.values_t`` is a.b (+ _TINY);
    - ``o.norm @ p.norm_t`` is |a|^2 + |b|^2 over the cells valid in both (+ 1e-9, never 0);
    - ``o.valid @ p.valid_t`` is the number of common cells minus _GATE;
    - ``o.direction @ p.direction_t`` is the cosine of the angle between the two minutiae.

    The right-hand forms are stored transposed (contiguous) so that BLAS reads them without a copy.
    ``position_k`` and ``heading_k`` are scaled by sqrt(K) (and ``inv_tol2`` by 1/K to match), so the
    rotation vectors' dot product is K cos d directly. ``packed`` is what the C kernel reads instead
    of the products' operands: the same cells, energies, validity (also as one bit mask per minutia),
    directions and relaxation arrays in one bytes object (``_consolidate.pack``).
    """

    n: int
    values: np.ndarray  # (u, D + 1) [values, 1]
    values_t: np.ndarray  # (D + 1, u) [values, _TINY]^T
    norm: np.ndarray  # (u, 2C + 1) [energy, valid, 1]
    norm_t: np.ndarray  # (2C + 1, u) [valid, energy, 1e-9]^T
    valid: np.ndarray  # (u, C + 1) [valid, 1]
    valid_t: np.ndarray  # (C + 1, u) [valid, -_GATE]^T
    direction: np.ndarray  # (u, 2) cos, sin
    direction_t: np.ndarray  # (2, u)
    rows: np.ndarray  # (u,) 0..u-1
    position: np.ndarray  # (u,) complex64 x + iy
    position_k: np.ndarray  # (u,) complex64 sqrt(K) (x + iy)
    heading_conj: np.ndarray  # (u,) complex64 exp(-i theta)
    heading_k: np.ndarray  # (u,) complex64 sqrt(K) exp(i theta)
    inv_tol2: np.ndarray  # (u, u) 1 / (K * squared distance tolerance of the segment i -> j)
    packed: bytes | None  # the same arrays packed for _consolidate.similarity (None without the kernel)

    @classmethod
    def of(cls, t: PreparedTemplate) -> PairForm:
        keep = np.flatnonzero(t.usable)
        n = len(keep)
        values, energy, valid = t.values[keep], t.energy[keep], t.valid[keep]
        ones = np.ones((n, 1), np.float32)
        position, heading, direction = t.position[keep], t.heading[keep], t.direction[keep]
        seg = position[None, :] - position[:, None]
        tol2 = DIST_TOL**2 + DIST_STRETCH**2 * (seg.real**2 + seg.imag**2)
        contiguous = np.ascontiguousarray
        position_k = (_SQRT_K * position).astype(np.complex64)
        heading_conj, heading_k = heading.conj(), (_SQRT_K * heading).astype(np.complex64)
        inv_tol2 = (1.0 / (_K * tol2)).astype(np.float32)
        packed = None
        if _consolidate is not None:
            packed = _consolidate.pack(
                n, values.shape[1], valid.shape[1], contiguous(values), contiguous(energy), contiguous(valid),
                contiguous(direction), contiguous(position), position_k, heading_conj, heading_k, inv_tol2,
            )
        return cls(
            n=n,
            values=contiguous(np.concatenate([values, ones], axis=1)),
            values_t=contiguous(np.concatenate([values, _TINY * ones], axis=1).T),
            norm=contiguous(np.concatenate([energy, valid, ones], axis=1)),
            norm_t=contiguous(np.concatenate([valid, energy, 1e-9 * ones], axis=1).T),
            valid=contiguous(np.concatenate([valid, ones], axis=1)),
            valid_t=contiguous(np.concatenate([valid, -_GATE * ones], axis=1).T),
            direction=contiguous(direction),
            direction_t=contiguous(direction.T),
            rows=np.arange(n),
            position=position.copy(),
            position_k=position_k,
            heading_conj=heading_conj,
            heading_k=heading_k,
            inv_tol2=inv_tol2,
            packed=packed,
        )


def _wanted(p: PairForm, o: PairForm) -> int:
    """How many relaxed pairs the score should average (by the smaller template)."""
    k = min(o.n, p.n)
    return _PAIR_COUNTS[k] if k < len(_PAIR_COUNTS) else _pair_count(k)


def _score(total: float, averaged: int, wanted: int, support: float) -> float:
    """The score from the sum of the ``averaged`` best relaxed similarities and the best pair's support."""
    mean = total / max(averaged, min(wanted, MIN_AVERAGED))
    support = min(max(support, 0.0), SUPPORT_CAP)
    return (1.0 - SUPPORT_SHARE) * mean + (SUPPORT_SHARE / SUPPORT_CAP) * support


def similarity(probe: PreparedTemplate, other: PreparedTemplate) -> float:
    """The comparison score in [0, 1] of ``probe`` against ``other``."""
    if _consolidate is None:
        return similarity_numpy(probe, other)
    p, o = probe.pair_form, other.pair_form
    if p.n < 2 or o.n < 2:
        return 0.0
    wanted = _wanted(p, o)
    total, averaged, support = _consolidate.similarity(o.packed, p.packed, wanted, _KERNEL_PARAMETERS)
    return _score(total, averaged, wanted, support) if averaged else 0.0


def similarity_numpy(probe: PreparedTemplate, other: PreparedTemplate) -> float:
    """:func:`similarity` computed with NumPy only (the kernel's reference and fallback)."""
    relaxed = _relax(probe.pair_form, other.pair_form)
    if relaxed is None:
        return 0.0
    lam = relaxed.lam
    if relaxed.averaged < len(lam):
        lam = lam[relaxed.order[: relaxed.averaged]]
    return _score(sum(lam.tolist()), relaxed.averaged, relaxed.wanted, relaxed.support)


def matched_pairs(probe: PreparedTemplate, other: PreparedTemplate) -> tuple[np.ndarray, np.ndarray]:
    """The minutia pairs a comparison averages, as indices into ``probe`` and ``other``'s minutiae;
    empty when the comparison found fewer than two pairs."""
    relaxed = _relax(probe.pair_form, other.pair_form)
    if relaxed is None:
        return np.zeros(0, int), np.zeros(0, int)
    chosen = relaxed.order[: relaxed.averaged]
    return np.flatnonzero(probe.usable)[relaxed.ip[chosen]], np.flatnonzero(other.usable)[relaxed.ig[chosen]]


@dataclass(frozen=True, eq=False)
class _Relaxed:
    """Pairs after relaxation: template rows ``ig`` with probe columns ``ip`` (pair-form indices), their
    relaxed similarities, the order in which a score takes them and how many it does."""

    ig: np.ndarray
    ip: np.ndarray
    lam: np.ndarray
    order: np.ndarray
    averaged: int
    wanted: int
    support: float


def _relax(p: PairForm, o: PairForm) -> _Relaxed | None:
    if p.n < 2 or o.n < 2:
        return None
    # (o.n, p.n): t = a.b / (|a|^2 + |b|^2) over the common cells, in (0, 1/2]; negative where the
    # pair may not count, so it is never a best match and never offered.
    t = o.values.dot(p.values_t)
    t /= o.norm.dot(p.norm_t)
    gate = o.valid.dot(p.valid_t)
    np.minimum(gate, o.direction.dot(p.direction_t), out=gate)
    np.copysign(t, gate, out=t)

    # Each template minutia offers one pair: with its best probe minutia, if that choice is mutual
    # (a column's best starts at 0, so a row with nothing allowed offers nothing).
    best = t.argmax(axis=1)
    row_best = t[o.rows, best]
    ig = (row_best >= t.max(axis=0, initial=0.0)[best]).nonzero()[0]
    n = len(ig)
    if n < 2:
        return None
    if n > N_RELAX_PAIRS:
        ig = ig[row_best[ig].argpartition(n - N_RELAX_PAIRS)[n - N_RELAX_PAIRS :]]
        n = N_RELAX_PAIRS
    ip = best[ig]
    # 1 - sqrt(1/2 - t); rounding can put t a hair above 1/2 for identical cylinders.
    lam0 = np.subtract(0.5, row_best[ig])
    np.maximum(lam0, 0.0, out=lam0)
    np.sqrt(lam0, out=lam0)
    np.subtract(1.0, lam0, out=lam0)

    # Compatibility of every two pairs (see consolidation.compatibility), times the relaxation's
    # (1 - w) / (n - 1). q_i = sqrt(K) exp(-i rotation_i); err is sqrt(K) times the segment error
    # (seen from pair i's side, sign irrelevant), which inv_tol2's 1/K takes back out.
    za = o.position[ig]
    zb = p.position_k[ip]
    q = o.heading_conj[ig] * p.heading_k[ip]
    err = za[:, None] - za
    err *= q[:, None]
    err -= zb[:, None] - zb
    rho = np.abs(err)
    rho *= rho
    rho *= p.inv_tol2[ip[:, None], ip]
    np.subtract(1.0, rho, out=rho)
    np.maximum(rho, 0.0, out=rho)
    c = (1.0 - RELAX_WEIGHT) / (n - 1)
    u = q.view(np.float32).reshape(n, 2) * math.sqrt(c)  # u_i . u_j = c K cos(rotation difference)
    turn = u.dot(u.T)
    turn -= c * (_K - 1.0)
    np.maximum(turn, 0.0, out=turn)
    rho *= turn
    # Row sums are c (1 + the pair's summed compatibility with the others): the diagonal holds c. A
    # product with ones is the cheapest row sum at this size.
    support = float(rho.dot(_ONES[:n]).max()) / c - 1.0
    rho.flat[:: n + 1] = RELAX_WEIGHT
    lam = lam0
    for _ in range(RELAX_ITERATIONS):
        lam = rho.dot(lam)

    wanted = _wanted(p, o)
    n_p = min(wanted, n)
    order = best_relaxed(lam / lam0, lam0) if n_p < n else np.arange(n)
    return _Relaxed(ig, ip, lam, order, n_p, wanted, support)
