"""Capture quality: a 0-100 score with reasons, the gate of the station's capture loop.

``assess`` runs the extraction pipeline once and scores what its stages saw, so a capture loop that
accepts the image already holds the template (``QualityReport.template``). The score is a weighted
geometric mean of four measures, each mapped to 0..1, so one very bad measure sinks the score:

- finger area in mm² (a partial touch has too few minutiae to match reliably);
- ridge clarity: mean orientation coherence over the finger (smudges and motion blur destroy it);
- moisture: the share of ridge (dark) pixels; wet fingers merge ridges, dry ones break them;
- minutiae: how many reliable minutiae were found.

How the score relates to match rates on the shared FVC data is in docs/fingerprint.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from biometrics.errors import NoFingerError
from biometrics.minutiae import FingerprintTemplate
from biometrics.pipeline import extract

# Images scoring at least this are accepted by a capture loop (see the gate table in the docs).
CAPTURE_GATE = 40

# Each measure maps linearly to 0..1 between its "useless" and "good" values.
AREA_MM2 = (40.0, 120.0)
CLARITY = (0.30, 0.60)
MINUTIAE = (6.0, 25.0)
# |dark fraction - 0.5| above which moisture starts to count, and where it is hopeless.
MOISTURE = (0.06, 0.20)
WEIGHTS = {"area": 0.25, "clarity": 0.35, "minutiae": 0.25, "moisture": 0.15}
# A measure under this sub-score is named as a reason.
REASON_BELOW = 0.5
# Minutiae of at least this quality count as reliable.
RELIABLE_MINUTIA = 30


class QualityIssue(Enum):
    NO_FINGER = "no finger on the sensor"
    TOO_SMALL_AREA = "too small an area of the finger touched the sensor"
    TOO_DRY = "finger too dry: ridges broken or faint"
    TOO_WET = "finger too wet or pressed too hard: ridges merged"
    SMUDGED = "smudged or moved: ridges unclear"
    TOO_FEW_MINUTIAE = "too few minutiae found"

    @property
    def advice(self) -> str:
        return _ADVICE[self]


_ADVICE = {
    QualityIssue.NO_FINGER: "place the finger flat on the sensor",
    QualityIssue.TOO_SMALL_AREA: "roll the finger flat and cover the whole sensor window",
    QualityIssue.TOO_DRY: "breathe on the finger or moisten it slightly, then press a little harder",
    QualityIssue.TOO_WET: "wipe the finger and the sensor, then press lightly",
    QualityIssue.SMUDGED: "clean the sensor and keep the finger still",
    QualityIssue.TOO_FEW_MINUTIAE: "try again, or use another finger",
}


@dataclass(frozen=True)
class QualityMeasures:
    area_mm2: float
    clarity: float
    dark_fraction: float
    reliable_minutiae: int


@dataclass(frozen=True)
class QualityReport:
    score: int
    reasons: tuple[QualityIssue, ...]
    template: FingerprintTemplate | None
    measures: QualityMeasures | None = None

    @property
    def acceptable(self) -> bool:
        return self.score >= CAPTURE_GATE and self.template is not None


def assess(image: np.ndarray, dpi: int = 500) -> QualityReport:
    """Score one capture. Raises ``ImageFormatError`` for arrays that are not 8-bit greyscale images."""
    stages: dict[str, Any] = {}
    try:
        template = extract(image, dpi, inspect=stages.__setitem__)
    except NoFingerError:
        return QualityReport(0, (QualityIssue.NO_FINGER,), None)
    measures = _measures(stages, template)
    scores = {
        "area": _ramp(measures.area_mm2, *AREA_MM2),
        "clarity": _ramp(measures.clarity, *CLARITY),
        "minutiae": _ramp(measures.reliable_minutiae, *MINUTIAE),
        "moisture": 1.0 - _ramp(abs(measures.dark_fraction - 0.5), *MOISTURE),
    }
    total = math.exp(sum(w * math.log(max(scores[k], 0.01)) for k, w in WEIGHTS.items()))
    reasons = []
    if scores["area"] < REASON_BELOW:
        reasons.append(QualityIssue.TOO_SMALL_AREA)
    if scores["moisture"] < REASON_BELOW:
        reasons.append(QualityIssue.TOO_WET if measures.dark_fraction > 0.5 else QualityIssue.TOO_DRY)
    if scores["clarity"] < REASON_BELOW:
        reasons.append(QualityIssue.SMUDGED)
    if scores["minutiae"] < REASON_BELOW:
        reasons.append(QualityIssue.TOO_FEW_MINUTIAE)
    score = round(100 * total)
    with_quality = FingerprintTemplate(
        template.width, template.height, template.dpi, template.minutiae, quality=max(1, score), metadata=template.metadata
    )
    return QualityReport(score, tuple(reasons), with_quality, measures)


def _measures(stages: dict[str, Any], template: FingerprintTemplate) -> QualityMeasures:
    mask = stages["segmentation_mask"].mask
    band = stages["segmentation_mask"].band
    coherence = stages["orientation_field"].coherence
    mm_per_px = 25.4 / 500  # the stages work at 500 dpi
    area = float(mask.sum()) * mm_per_px**2
    clarity = float(coherence[mask].mean()) if mask.any() else 0.0
    dark = float((band[mask] < 0).mean()) if mask.any() else 0.5
    reliable = sum(1 for m in template.minutiae if m.quality >= RELIABLE_MINUTIA)
    return QualityMeasures(area, clarity, dark, reliable)


def _ramp(value: float, low: float, high: float) -> float:
    return float(min(1.0, max(0.0, (value - low) / (high - low))))
