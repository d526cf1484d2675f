"""Fingerprint comparison: 1:1 verification with calibrated thresholds and 1:N gallery search.

    prepare(template)        cylinder codes of every minutia, at 500 dpi (once per template)
    match(a, b)              MatchResult with a score in [0, 1] and its estimated false-match rate
    match_decision(a, b)     score >= THRESHOLDS[fmr]
    Gallery                  add(key, template), search(probe, top) -> ranked candidates

``match`` takes raw ``FingerprintTemplate`` objects or ``PreparedTemplate`` ones; prepare templates
you compare more than once (the preparation costs a hundred times the comparison). The last few raw
templates ``match`` prepared are kept, keyed by content, so a card's stored templates read again
for every try are not prepared again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from biometrics.matching.calibration import IMPOSTOR_TAIL, THRESHOLDS, estimate_fmr, threshold_for
from biometrics.matching.consolidation import similarities, stack
from biometrics.matching.cylinders import PreparedTemplate, prepare
from biometrics.matching.gallery import Candidate, Gallery
from biometrics.matching.pairwise import similarity
from biometrics.minutiae import FingerprintTemplate

__all__ = [
    "IMPOSTOR_TAIL",
    "THRESHOLDS",
    "Candidate",
    "Gallery",
    "MatchResult",
    "PreparedTemplate",
    "match",
    "match_decision",
    "prepare",
    "similarities",
    "similarity",
    "stack",
    "threshold_for",
]

Comparable = FingerprintTemplate | PreparedTemplate


@dataclass(frozen=True, slots=True)
class MatchResult:
    score: float  # 0..1; compare with THRESHOLDS[fmr]
    fmr: float  # estimated false-match rate of accepting at this score

    def matches(self, fmr: float = 0.001) -> bool:
        return self.score >= threshold_for(fmr)


# A handful: a verification compares one probe with one or two stored templates. Templates hash by
# their minutiae (tens of microseconds), preparing one takes tens of milliseconds.
_prepare_recent = lru_cache(maxsize=16)(prepare)


def _prepared(t: Comparable) -> PreparedTemplate:
    if isinstance(t, PreparedTemplate):
        return t
    if isinstance(t, FingerprintTemplate):
        return _prepare_recent(t)
    raise TypeError(f"expected a FingerprintTemplate or PreparedTemplate, got {type(t).__name__}")


def match(a: Comparable, b: Comparable) -> MatchResult:
    """Compare two fingerprints; templates of any resolution (each is normalised to 500 dpi)."""
    score = similarity(_prepared(a), _prepared(b))
    return MatchResult(score, estimate_fmr(score))


def match_decision(a: Comparable, b: Comparable, fmr: float = 0.001) -> bool:
    """True when ``a`` and ``b`` match at the calibrated threshold for ``fmr``."""
    return match(a, b).score >= threshold_for(fmr)
