"""The compact on-card template: one finger in at most 300 bytes.

Layout (big-endian), 10 header bytes then 4 bytes per minutia, so 72 minutiae fit in 298 bytes:

    0xC1 (format and version) | coordinate shift s (1) | dpi (2) | width (2) | height (2) |
    impression quality (1) | minutiae count (1) |
    per minutia, one 32-bit word: x >> s (10 bits) | y >> s (10) | angle in 360/256 degree units (8) |
                                  type (2) | quality in four levels (2)

Pixel coordinates are kept exactly when the image is under 1024 pixels (s = 0), otherwise stored in
steps of 2**s pixels. Angles keep the ISO record's 1.4 degree step. What is lost is measured in
``docs/fingerprint.md``: the minutia quality becomes one of four levels and, beyond 72 minutiae, only
the best-quality ones (ties: nearest the centre of the print, where ridges are most reliable) are kept.
"""

from __future__ import annotations

import math
import struct

from biometrics.errors import TemplateFormatError
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType, most_reliable

FORMAT_BYTE = 0xC1
HEADER = struct.Struct(">BBHHHBB")
MAX_BYTES = 300
MAX_MINUTIAE = (MAX_BYTES - HEADER.size) // 4
ANGLE_UNIT = 2.0 * math.pi / 256.0
COORD_BITS = 10
# Four quality levels; 0 stays "not reported" as in ISO 19794-2.
# Levels 1..3 decode to the middle of their thirds of 1..100, so no quality moves by more than 17.
_QUALITY_LEVELS = (0, 17, 50, 84)


def _quality_level(q: int) -> int:
    if q == 0:
        return 0
    return 1 if q <= 33 else (2 if q <= 66 else 3)


def select_minutiae(template: FingerprintTemplate, limit: int = MAX_MINUTIAE) -> tuple[Minutia, ...]:
    """The ``limit`` minutiae worth keeping: highest quality first, then nearest the print's centre."""
    ms = template.minutiae
    if len(ms) <= limit:
        return ms
    # The original order is kept, so the encoding is stable.
    return tuple(ms[i] for i in most_reliable(template, limit))


def encode(template: FingerprintTemplate, limit: int = MAX_MINUTIAE) -> bytes:
    """The card bytes for ``template`` (at most :data:`MAX_BYTES`)."""
    if not 0 <= limit <= MAX_MINUTIAE:
        raise ValueError(f"a card template holds 0..{MAX_MINUTIAE} minutiae, not {limit}")
    if template.width > 0xFFFF or template.height > 0xFFFF:
        raise TemplateFormatError(f"image size {template.width}x{template.height} is too large for a card template")
    shift = 0
    while max(template.width, template.height) - 1 >> shift >= 1 << COORD_BITS:
        shift += 1
    minutiae = select_minutiae(template, limit)
    out = bytearray(HEADER.pack(FORMAT_BYTE, shift, template.dpi, template.width, template.height,
                                template.quality, len(minutiae)))
    for m in minutiae:
        x = min(max(int(m.x), 0), template.width - 1) >> shift
        y = min(max(int(m.y), 0), template.height - 1) >> shift
        angle = round((m.angle % (2.0 * math.pi)) / ANGLE_UNIT) % 256
        word = (x << 22) | (y << 12) | (angle << 4) | (int(m.kind) << 2) | _quality_level(m.quality)
        out += word.to_bytes(4, "big")
    return bytes(out)


def _fail(what: str) -> TemplateFormatError:
    return TemplateFormatError(f"not a valid card fingerprint template: {what}; "
                               "the card slot is damaged or holds something else, re-enrol the finger")


def decode(data: bytes) -> FingerprintTemplate:
    """The template stored by :func:`encode`; raises :class:`TemplateFormatError` on malformed bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TemplateFormatError(f"a card template must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise _fail(f"{len(data)} bytes is more than the {MAX_BYTES}-byte slot")
    if len(data) < HEADER.size:
        raise _fail(f"truncated: {len(data)} bytes, the header alone is {HEADER.size}")
    fmt, shift, dpi, width, height, quality, count = HEADER.unpack_from(data)
    if fmt != FORMAT_BYTE:
        raise _fail(f"format byte 0x{fmt:02X} is not 0x{FORMAT_BYTE:02X}")
    if shift > 6:
        raise _fail(f"coordinate shift {shift} is out of range")
    if not 100 <= dpi <= 2000:
        raise _fail(f"resolution {dpi} dpi is outside 100..2000")
    if width == 0 or height == 0:
        raise _fail(f"image size {width}x{height} is empty")
    if quality > 100:
        raise _fail(f"impression quality {quality} is not 0..100")
    if count > MAX_MINUTIAE:
        raise _fail(f"{count} minutiae declared, at most {MAX_MINUTIAE} fit")
    expected = HEADER.size + 4 * count
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "oversized"
        raise _fail(f"{kind}: {count} minutiae need {expected} bytes, got {len(data)}")
    minutiae = []
    for k in range(count):
        (word,) = struct.unpack_from(">I", data, HEADER.size + 4 * k)
        x, y = (word >> 22) << shift, ((word >> 12) & 0x3FF) << shift
        kind = (word >> 2) & 3
        if kind == 3:
            raise _fail(f"minutia {k + 1} has the reserved type code 3")
        if x >= width or y >= height:
            raise _fail(f"minutia {k + 1} lies outside the {width}x{height} image")
        minutiae.append(Minutia(x, y, ((word >> 4) & 0xFF) * ANGLE_UNIT, MinutiaType(kind), _QUALITY_LEVELS[word & 3]))
    return FingerprintTemplate(width, height, dpi, tuple(minutiae), quality)
