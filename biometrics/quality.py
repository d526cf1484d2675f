"""Capture quality: a 0-100 score with reasons, the gate of the station's capture loop.

``assess`` runs the extraction pipeline once and scores what its stages saw, so a capture loop that
accepts the image already holds the template (``QualityReport.template``). The score is a weighted
geometric mean of four measures, each mapped to 0..1, so one very bad measure sinks the score:

- finger area in mm² (a partial touch has too few minutiae to match reliably);
- ridge clarity: mean orientation coherence over the finger (smudges and motion blur destroy it);
- moisture: the share of ridge (dark) pixels; wet fingers merge ridges, dry ones break them;
- minutiae: how many reliable minutiae were found.

Two more measures catch what those miss (calibrated on FVC2002 DB1/DB2/DB4_B and FVC2004 DB1_B so that
they name at most a few per cent of those images; figures in docs/fingerprint.md):

- wetness: the share of finger pixels darker than their local midpoint (between the local minimum
  and maximum over ~2 ridge periods). Water in the valleys leaves only thin bright lines between
  spread ridges, which the sign of a band-pass (the moisture measure) cannot see. It caps the
  moisture sub-score.
- crossing: the share of 32-pixel blocks holding two ridge patterns at least 45 degrees apart, each
  standing well above the block's spectral floor. A finger that twisted or slid over a greasy glass
  prints a turned copy of its ridges across them; coherence over a block stays high because both
  copies are strong. Noisy blocks spread energy over every orientation and are not counted. It caps
  the clarity sub-score.

How the score relates to match rates on the shared FVC data is in docs/fingerprint.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import cv2
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
# Wetness (share of pixels below the local midpoint): FVC's 95th percentiles are 0.34..0.64, a normal
# synthetic print ~0.4, a wet one 0.61..0.66. The sub-score crosses REASON_BELOW at 0.61.
WETNESS = (0.58, 0.64)
# Crossing-block share: at most 0.11 on any FVC image, 0.15..0.38 on most synthetic smudges.
# The sub-score crosses REASON_BELOW at 0.13.
CROSSING = (0.10, 0.16)
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
    wetness: float
    crossing: float


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
    measures = _measures(stages)
    wet = 1.0 - _ramp(measures.wetness, *WETNESS)
    clear = 1.0 - _ramp(measures.crossing, *CROSSING)
    scores = {
        "area": _ramp(measures.area_mm2, *AREA_MM2),
        "clarity": min(_ramp(measures.clarity, *CLARITY), clear),
        "minutiae": _ramp(measures.reliable_minutiae, *MINUTIAE),
        "moisture": min(1.0 - _ramp(abs(measures.dark_fraction - 0.5), *MOISTURE), wet),
    }
    total = math.exp(sum(w * math.log(max(scores[k], 0.01)) for k, w in WEIGHTS.items()))
    reasons = []
    if scores["area"] < REASON_BELOW:
        reasons.append(QualityIssue.TOO_SMALL_AREA)
    if scores["moisture"] < REASON_BELOW:
        wetter = wet < REASON_BELOW or measures.dark_fraction > 0.5
        reasons.append(QualityIssue.TOO_WET if wetter else QualityIssue.TOO_DRY)
    if scores["clarity"] < REASON_BELOW:
        reasons.append(QualityIssue.SMUDGED)
    if scores["minutiae"] < REASON_BELOW:
        reasons.append(QualityIssue.TOO_FEW_MINUTIAE)
    score = round(100 * total)
    with_quality = FingerprintTemplate(
        template.width, template.height, template.dpi, template.minutiae, quality=max(1, score), metadata=template.metadata
    )
    return QualityReport(score, tuple(reasons), with_quality, measures)


def _measures(stages: dict[str, Any]) -> QualityMeasures:
    mask = stages["segmentation_mask"].mask
    band = stages["segmentation_mask"].band
    coherence = stages["orientation_field"].coherence
    mm_per_px = 25.4 / 500  # the stages work at 500 dpi
    area = float(mask.sum()) * mm_per_px**2
    clarity = float(coherence[mask].mean()) if mask.any() else 0.0
    dark = float((band[mask] < 0).mean()) if mask.any() else 0.5
    # Counted on the enhanced image's minutiae: the directional image adds minutiae even to smudges
    # and tiny partial prints, so the template's count would stop telling a poor capture from a good one.
    reliable = int((stages["minutiae"].quality >= RELIABLE_MINUTIA).sum())
    pixels = stages["working_image"].pixels
    return QualityMeasures(area, clarity, dark, reliable, _wetness(pixels, mask), _crossing(band, mask))


# Wetness looks at ~2 ridge periods (17 px at 500 dpi) around each pixel, after light smoothing so that
# sensor noise does not decide which side of the midpoint a pixel falls.
_WET_WINDOW = np.ones((17, 17), np.uint8)


def _wetness(pixels: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return 0.0
    smooth = cv2.GaussianBlur(pixels.astype(np.float32), (0, 0), 1.5)
    midpoint = (cv2.erode(smooth, _WET_WINDOW) + cv2.dilate(smooth, _WET_WINDOW)) / 2
    return float((smooth[mask] < midpoint[mask]).mean())


# Crossing: 32-px blocks (3-4 ridge periods) every 16 px, ridge energy in 12 orientation bins of 15°
# over the ring of ridge periods 5..14.5 px. A block counts when its second orientation peak (a local
# maximum at least 45° from the first) is strong next to the first (minus the valley between them)
# and next to the block's median bin (the noise floor).
_BLOCK, _STEP, _BINS = 32, 16, 12
_SECOND_OVER_VALLEY = 0.3
_SECOND_OVER_FLOOR = 3.0


def _orientation_bins() -> tuple[np.ndarray, np.ndarray]:
    f = np.fft.fftfreq(_BLOCK) * _BLOCK
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fx, fy)
    angle = np.mod(np.arctan2(fy, fx), np.pi)
    bins = np.minimum((angle / np.pi * _BINS).astype(int), _BINS - 1)
    ring = (radius >= 2.2) & (radius <= 6.5)
    members = np.stack([(ring & (bins == b)).ravel() for b in range(_BINS)], axis=1).astype(np.float32)
    window = np.outer(np.hanning(_BLOCK), np.hanning(_BLOCK)).astype(np.float32)
    return members, window


_MEMBERS, _WINDOW = _orientation_bins()


def _crossing(band: np.ndarray, mask: np.ndarray) -> float:
    h, w = band.shape
    if h < _BLOCK or w < _BLOCK:
        return 0.0
    blocks = np.lib.stride_tricks.sliding_window_view(band, (_BLOCK, _BLOCK))[::_STEP, ::_STEP]
    inside = np.lib.stride_tricks.sliding_window_view(mask, (_BLOCK, _BLOCK))[::_STEP, ::_STEP]
    keep = inside.mean(axis=(2, 3)) > 0.9
    if not keep.any():
        return 0.0
    a = blocks[keep].astype(np.float32)
    a = (a - a.mean(axis=(1, 2), keepdims=True)) * _WINDOW
    power = np.abs(np.fft.fft2(a)) ** 2
    energy = power.reshape(len(a), -1) @ _MEMBERS  # (blocks, orientation bins)
    first = energy.argmax(axis=1)
    ids = np.arange(_BINS)
    apart = np.abs(ids[None, :] - first[:, None])
    apart = np.minimum(apart, _BINS - apart)
    peak = (energy >= np.roll(energy, 1, axis=1)) & (energy >= np.roll(energy, -1, axis=1))
    candidates = np.where(peak & (apart >= 3), energy, 0.0)
    second = candidates.argmax(axis=1)
    rows = np.arange(len(a))
    e1, e2 = energy[rows, first], candidates[rows, second]
    # The valley: the weakest bin on the shorter arc from the first peak to the second.
    gap = (second - first) % _BINS
    way = np.where(gap <= _BINS // 2, 1, -1)
    span = np.minimum(gap, _BINS - gap)
    steps = np.arange(_BINS // 2 + 1)
    arc = (first[:, None] + way[:, None] * steps[None, :]) % _BINS
    on_arc = np.where(steps[None, :] <= span[:, None], energy[rows[:, None], arc], np.inf)
    valley = on_arc.min(axis=1)
    floor = np.median(energy, axis=1)
    crossing = ((e2 - valley) > _SECOND_OVER_VALLEY * (e1 + 1e-9)) & (e2 > _SECOND_OVER_FLOOR * (floor + 1e-9))
    return float(crossing.mean())


def _ramp(value: float, low: float, high: float) -> float:
    return float(min(1.0, max(0.0, (value - low) / (high - low))))
