"""The simulated module's "character files": our own engine behind the module's proprietary format.

A real module keeps its own template format in a 512-byte char buffer. The simulator keeps our compact
card template (``biometrics.cardtemplate``) there instead, behind a small header, and answers
Img2Tz / RegModel / Match / Search with our extractor and matcher, mapping our scores onto the
module's 0..~300 score scale.
"""

from __future__ import annotations

import struct

import numpy as np

from biometrics import cardtemplate, matching, quality
from biometrics.errors import BiometricsError
from biometrics.minutiae import FingerprintTemplate
from biometrics.zfm.codes import CHAR_FILE_SIZE, IMAGE_DPI, Confirmation

MAGIC = b"SIMF"  # marks a char file made by this simulator
_HEADER = struct.Struct(">4sH")
MIN_MINUTIAE = 8  # fewer than this: the module's "too few feature points"
MODULE_THRESHOLD_SCORE = 50  # our decision threshold lands here on the module's score scale
MAX_MODULE_SCORE = 300

# Security level 1..5 (WriteReg 5) -> the false-match rate whose threshold decides a match.
SECURITY_FMR = {1: 0.01, 2: 0.01, 3: 0.001, 4: 0.0001, 5: 0.0001}


def encode_char_file(template: FingerprintTemplate) -> bytes:
    body = cardtemplate.encode(template)
    data = _HEADER.pack(MAGIC, len(body)) + body
    if len(data) > CHAR_FILE_SIZE:
        raise ValueError("card template does not fit a 512-byte char buffer")
    return data.ljust(CHAR_FILE_SIZE, b"\x00")


def decode_char_file(data: bytes) -> FingerprintTemplate | None:
    """The template in a char buffer, or None if the buffer holds nothing usable (empty, foreign)."""
    if len(data) < _HEADER.size:
        return None
    magic, length = _HEADER.unpack_from(data)
    if magic != MAGIC or _HEADER.size + length > len(data):
        return None
    try:
        return cardtemplate.decode(data[_HEADER.size : _HEADER.size + length])
    except BiometricsError:
        return None


def extract(image: np.ndarray) -> tuple[Confirmation, bytes | None]:
    """Img2Tz: the image buffer -> (confirmation code, char file)."""
    report = quality.assess(image, dpi=IMAGE_DPI)
    template = report.template
    if template is None or len(template.minutiae) < MIN_MINUTIAE:
        return Confirmation.FEATURE_FAIL, None
    if not report.acceptable:
        return Confirmation.IMAGE_MESSY, None
    return Confirmation.OK, encode_char_file(template)


def _threshold(fmr: float) -> float:
    thresholds = matching.THRESHOLDS
    if fmr in thresholds:
        return float(thresholds[fmr])
    nearest = min(thresholds, key=lambda k: abs(np.log10(k) - np.log10(fmr)))
    return float(thresholds[nearest])


def module_score(a: FingerprintTemplate, b: FingerprintTemplate, security_level: int) -> tuple[bool, int]:
    """(match decision at the module's security level, score on the module's 0..300 scale)."""
    fmr = SECURITY_FMR.get(security_level, 0.001)
    score = float(matching.match(a, b).score)
    threshold = _threshold(fmr)
    scaled = score / threshold * MODULE_THRESHOLD_SCORE if threshold > 0 else score
    return score >= threshold, int(max(0, min(MAX_MODULE_SCORE, round(scaled))))
