"""Score thresholds for chosen false-match rates, measured on the shared FVC data.

The table maps a target false-match rate to the smallest score that impostor comparisons reached
at that rate (``benchmarks/fingerprint.py`` re-measures it and prints a new table; the figures and
the data behind them are in ``docs/fingerprint.md``). ``estimate_fmr`` interpolates the measured
impostor tail so a score can be reported as "about one false match in N".
"""

from __future__ import annotations

import numpy as np

# FMR -> threshold: a comparison matches at that FMR when its score is >= the threshold.
# Measured on 20,160 impostor comparisons (FVC2002 DB1/DB2/DB4 B and FVC2004 DB1 B with this
# project's extractor, FVC2002 DB1/DB2/DB4 B from the SecuGen records); 1e-4 rests on two scores.
THRESHOLDS: dict[float, float] = {
    0.01: 0.1301,
    0.001: 0.1559,
    0.0001: 0.1725,
}

# (score, fraction of impostor comparisons scoring at least that much), score ascending.
IMPOSTOR_TAIL: tuple[tuple[float, float], ...] = (
    (0.0, 1.0),
    (0.0989, 0.5),
    (0.1109, 0.1),
    (0.1301, 0.01),
    (0.1559, 0.001),
    (0.1725, 0.0001),
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


def estimate_fmr(score: float) -> float:
    """Estimated false-match rate of accepting at ``score`` (log-linear between measured points)."""
    scores = np.array([s for s, _ in IMPOSTOR_TAIL])
    rates = np.array([max(r, 1e-7) for _, r in IMPOSTOR_TAIL])
    return float(np.exp(np.interp(score, scores, np.log(rates))))
