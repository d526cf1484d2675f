"""Score thresholds for chosen false-match rates, measured on the shared FVC data.

The table maps a target false-match rate to the smallest score that impostor comparisons reached
at that rate (``benchmarks/fingerprint.py`` re-measures it and prints a new table; the figures and
the data behind them are in ``docs/fingerprint.md``). ``estimate_fmr`` interpolates the measured
impostor tail so a score can be reported as "about one false match in N".
"""

from __future__ import annotations

import bisect
import math

# FMR -> threshold: a comparison matches at that FMR when its score is >= the threshold.
# Measured by benchmarks/fingerprint.py on 17,280 impostor comparisons: the real-sensor sets with this
# project's extractor (FVC2002 DB1_B and DB2_B, FVC2004 DB1_B, 2,880 each, every impression against
# every impression of another finger) and the SecuGen ISO records of FVC2002 DB1/DB2/DB4_B. The
# 1e-4 threshold rests on the top two impostor scores, so treat it as an estimate (it moved from 0.1694
# to 0.1790 when the minutiae gap rule changed, 23 Nov 2026). Recalibrated when scores began to average
# at most 14 pairs instead of 18 (the 1e-2 and 1e-3 thresholds rose by 0.002-0.003) and again when
# comparisons with few mutually best pairs began to be divided by MIN_AVERAGED (the top impostor, 0.22
# from three pairs, fell to 0.08) and when part of the score became the largest support of one pair
# (SUPPORT_SHARE in consolidation.py: every threshold rose by 0.009-0.013), 23 Nov 2026, and once more
# when ties between unsupported pairs began to be broken by initial similarity (best_relaxed: +0.0003
# and +0.0007 at 1e-2 and 1e-3). Recalibrated when the extractor began adding the directional image's
# minutiae (templates ~1.4x larger, so chance pairs score a little higher: +0.003, +0.008, +0.012).
# FNMR at each threshold, per set, is in docs/fingerprint.md.
THRESHOLDS: dict[float, float] = {
    0.01: 0.1427,
    0.001: 0.1720,
    0.0001: 0.1990,
}

# (score, fraction of impostor comparisons scoring at least that much), score ascending; the last
# point extrapolates the tail (no impostor of the 17,280 came near it).
IMPOSTOR_TAIL: tuple[tuple[float, float], ...] = (
    (0.0, 1.0),
    (0.1027, 0.5),
    (0.1191, 0.1),
    (0.1427, 0.01),
    (0.1720, 0.001),
    (0.1990, 0.0001),
    (0.30, 1e-7),
)


def threshold_for(fmr: float) -> float:
    """The threshold for ``fmr``; only the calibrated rates are accepted, so callers cannot
    silently get a rate nobody measured."""
    try:
        return THRESHOLDS[fmr]
    except KeyError:
        choices = ", ".join(f"{k:g}" for k in sorted(THRESHOLDS, reverse=True))
        raise ValueError(f"no threshold calibrated for FMR {fmr:g}; choose one of {choices}") from None


# Built once: estimate_fmr runs on every 1:1 comparison, where rebuilding them cost more than the lookup.
_TAIL_SCORES = [s for s, _ in IMPOSTOR_TAIL]
_TAIL_LOG_RATES = [math.log(max(r, 1e-7)) for _, r in IMPOSTOR_TAIL]


def estimate_fmr(score: float) -> float:
    """Estimated false-match rate of accepting at ``score`` (log-linear between measured points)."""
    # np.interp's rule (clamped at both ends) in plain Python: a scalar through NumPy costs microseconds.
    k = bisect.bisect_right(_TAIL_SCORES, score)
    if k == 0:
        return math.exp(_TAIL_LOG_RATES[0])
    if k == len(_TAIL_SCORES):
        return math.exp(_TAIL_LOG_RATES[-1])
    s0, s1 = _TAIL_SCORES[k - 1], _TAIL_SCORES[k]
    r0, r1 = _TAIL_LOG_RATES[k - 1], _TAIL_LOG_RATES[k]
    return math.exp(r0 + (score - s0) / (s1 - s0) * (r1 - r0))
