"""ISO/IEC 19794-2:2005 finger-minutiae records: encode one template, decode any conforming record.

Record layout (all integers big-endian):

    header (24 bytes)   "FMR\\0", " 20\\0", record length (4), capture equipment (2: 4-bit
                        certification flag + 12-bit device type), image width (2), height (2),
                        x and y resolution in pixels per centimetre (2 + 2), finger views (1), 0 (1)
    per finger view     finger position (1), view number << 4 | impression type (1), finger quality (1),
                        minutiae count (1), then 6 bytes per minutia:
                        type << 14 | x (2), 0 << 14 | y (2), angle in 360/256 degree units (1), quality (1),
                        then the extended-data block: total length (2), and that many bytes of
                        (type (2), length including these 4 bytes (2), data) areas.

The decoder checks every length and range before it builds anything, so a truncated, oversized or
nonsense record raises :class:`TemplateFormatError` saying what is wrong, and nothing else.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from biometrics.errors import TemplateFormatError
from biometrics.fingers import FingerPosition
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType

FORMAT_ID = b"FMR\x00"
VERSION_2005 = b" 20\x00"
HEADER_SIZE = 24
VIEW_HEADER_SIZE = 4
MINUTIA_SIZE = 6
# A finger view counts its minutiae in one byte.
MAX_MINUTIAE = 255
# Ten views of 255 minutiae with full extended-data blocks stay far below this; anything larger is
# not a fingerprint record and is refused before it is parsed.
MAX_RECORD_SIZE = 1 << 20
ANGLE_UNIT = 2.0 * math.pi / 256.0
CM_PER_INCH = 2.54

# Metadata keys the codec reads on encode and fills on decode.
META_FINGER = "finger"
META_VIEW = "view"
META_IMPRESSION = "impression_type"
META_DEVICE = "device_type"
META_EXTENDED = "extended_data"


@dataclass(frozen=True, slots=True)
class FingerView:
    """One finger view of a record, as decoded (the template carries the minutiae)."""

    finger: FingerPosition
    view: int
    impression_type: int
    template: FingerprintTemplate


def _fail(what: str) -> TemplateFormatError:
    return TemplateFormatError(f"not a valid ISO/IEC 19794-2:2005 minutiae record: {what}; "
                               "re-export the template from the enrolment device or capture the finger again")


def dpi_to_ppcm(dpi: int) -> int:
    return round(dpi / CM_PER_INCH)


def ppcm_to_dpi(ppcm: int) -> int:
    return round(ppcm * CM_PER_INCH)


def decode(data: bytes) -> FingerprintTemplate:
    """The first finger view of a record as a template (most records hold exactly one)."""
    return decode_views(data)[0].template


def decode_views(data: bytes) -> tuple[FingerView, ...]:
    """Every finger view of a record; raises :class:`TemplateFormatError` on any malformed input."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TemplateFormatError(f"an ISO/IEC 19794-2 record must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_RECORD_SIZE:
        raise _fail(f"{len(data)} bytes is more than any record can hold ({MAX_RECORD_SIZE})")
    if len(data) < HEADER_SIZE:
        raise _fail(f"truncated: {len(data)} bytes, the header alone is {HEADER_SIZE}")
    if data[:4] != FORMAT_ID:
        raise _fail("format identifier is not 'FMR'")
    if data[4:8] != VERSION_2005:
        raise _fail(f"version {data[4:8]!r} is not ' 20' (only the 2005 edition is supported)")
    (length, equipment, width, height, xres, yres, n_views, _reserved) = struct.unpack_from(">IHHHHHBB", data, 8)
    if length < HEADER_SIZE:
        raise _fail(f"declared length {length} is shorter than the header")
    if len(data) < length:
        raise _fail(f"truncated: declared length {length} bytes, got {len(data)}")
    if len(data) > length:
        raise _fail(f"{len(data) - length} bytes after the declared end of the record")
    if width == 0 or height == 0:
        raise _fail(f"image size {width}x{height} is empty")
    if width >= 1 << 14 or height >= 1 << 14:
        raise _fail(f"image size {width}x{height} exceeds the 14-bit coordinate range")
    if n_views == 0:
        raise _fail("the record holds no finger view")
    dpi_x, dpi_y = ppcm_to_dpi(xres), ppcm_to_dpi(yres)
    for dpi in (dpi_x, dpi_y):
        if not 100 <= dpi <= 2000:
            raise _fail(f"resolution {dpi} dpi is outside 100..2000")
    # Templates carry one resolution: a record with non-square pixels is rescaled along y.
    y_scale = xres / yres
    out_height = max(1, round(height * y_scale))

    views = []
    pos = HEADER_SIZE
    for index in range(n_views):
        if pos + VIEW_HEADER_SIZE > length:
            raise _fail(f"truncated in the header of finger view {index + 1} of {n_views}")
        finger, view_imp, quality, count = struct.unpack_from(">BBBB", data, pos)
        pos += VIEW_HEADER_SIZE
        if finger > max(FingerPosition):
            raise _fail(f"finger position {finger} is not 0..{int(max(FingerPosition))}")
        if quality > 100:
            raise _fail(f"finger quality {quality} is not 0..100")
        end = pos + count * MINUTIA_SIZE
        if end + 2 > length:
            raise _fail(f"truncated in the minutiae of finger view {index + 1} ({count} declared)")
        minutiae = []
        for k in range(count):
            tx, ry, angle, mq = struct.unpack_from(">HHBB", data, pos + k * MINUTIA_SIZE)
            kind, x, y = tx >> 14, tx & 0x3FFF, ry & 0x3FFF
            if kind == 3:
                raise _fail(f"minutia {k + 1} has the reserved type code 3")
            if ry >> 14:
                raise _fail(f"minutia {k + 1} sets the reserved bits of its y coordinate")
            if x >= width or y >= height:
                raise _fail(f"minutia {k + 1} at ({x}, {y}) lies outside the {width}x{height} image")
            if mq > 100:
                raise _fail(f"minutia {k + 1} quality {mq} is not 0..100")
            minutiae.append(Minutia(x, min(out_height - 1, round(y * y_scale)), angle * ANGLE_UNIT,
                                    MinutiaType(kind), mq))
        pos = end
        (ext_len,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + ext_len > length:
            raise _fail(f"truncated in the extended data of finger view {index + 1}")
        extended = _parse_extended(data[pos:pos + ext_len], index + 1)
        pos += ext_len
        metadata = {META_FINGER: FingerPosition(finger), META_VIEW: view_imp >> 4,
                    META_IMPRESSION: view_imp & 0x0F, META_DEVICE: equipment & 0x0FFF}
        if extended:
            metadata[META_EXTENDED] = extended
        template = FingerprintTemplate(width, out_height, dpi_x, tuple(minutiae), quality, metadata)
        views.append(FingerView(FingerPosition(finger), view_imp >> 4, view_imp & 0x0F, template))
    if pos != length:
        raise _fail(f"{length - pos} bytes after the last finger view")
    return tuple(views)


def _parse_extended(block: bytes, view: int) -> tuple[tuple[int, bytes], ...]:
    """Extended-data areas as (type id, data); their contents are vendor-specific and kept opaque."""
    areas = []
    pos = 0
    while pos < len(block):
        if pos + 4 > len(block):
            raise _fail(f"truncated extended-data area header in finger view {view}")
        type_id, area_len = struct.unpack_from(">HH", block, pos)
        if area_len < 4 or pos + area_len > len(block):
            raise _fail(f"extended-data area of length {area_len} does not fit finger view {view}")
        areas.append((type_id, block[pos + 4:pos + area_len]))
        pos += area_len
    return tuple(areas)


def encode(template: FingerprintTemplate) -> bytes:
    """One-view record of ``template``; finger position and view come from its metadata if present."""
    n = len(template.minutiae)
    if n > MAX_MINUTIAE:
        raise TemplateFormatError(f"an ISO/IEC 19794-2 finger view holds at most {MAX_MINUTIAE} minutiae, the template has {n}; "
                                  "reduce it (e.g. keep the best-quality minutiae) before encoding")
    if template.width >= 1 << 14 or template.height >= 1 << 14:
        raise TemplateFormatError(f"image size {template.width}x{template.height} exceeds the 14-bit range")
    meta = template.metadata
    finger = int(meta.get(META_FINGER, 0))
    view = int(meta.get(META_VIEW, 0)) & 0x0F
    impression = int(meta.get(META_IMPRESSION, 0)) & 0x0F
    device = int(meta.get(META_DEVICE, 0)) & 0x0FFF
    if not 0 <= finger <= max(FingerPosition):
        raise TemplateFormatError(f"finger position {finger} is not 0..{int(max(FingerPosition))}")
    body = bytearray()
    for m in template.minutiae:
        x = min(max(int(m.x), 0), template.width - 1)
        y = min(max(int(m.y), 0), template.height - 1)
        angle = round((m.angle % (2.0 * math.pi)) / ANGLE_UNIT) % 256
        body += struct.pack(">HHBB", (int(m.kind) << 14) | x, y, angle, m.quality)
    ext = b"".join(struct.pack(">HH", t, len(d) + 4) + d for t, d in meta.get(META_EXTENDED, ()))
    length = HEADER_SIZE + VIEW_HEADER_SIZE + len(body) + 2 + len(ext)
    ppcm = dpi_to_ppcm(template.dpi)
    header = FORMAT_ID + VERSION_2005 + struct.pack(">IHHHHHBB", length, device, template.width, template.height,
                                                    ppcm, ppcm, 1, 0)
    view_header = struct.pack(">BBBB", finger, (view << 4) | impression, template.quality, n)
    return header + view_header + bytes(body) + struct.pack(">H", len(ext)) + ext
