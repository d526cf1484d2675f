"""ISO/IEC 19794-2:2005 records: every SecuGen record reads back, round trips are exact, and any
malformed input raises TemplateFormatError and nothing else."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biometrics import iso19794
from biometrics.errors import TemplateFormatError
from biometrics.fingers import FingerPosition
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType


def _template(n: int = 5, **meta) -> FingerprintTemplate:
    minutiae = tuple(
        Minutia(10 + 37 * k % 280, 20 + 53 * k % 350, (k * 0.7) % (2 * math.pi), MinutiaType(1 + k % 2), 10 * k % 101)
        for k in range(n)
    )
    return FingerprintTemplate(300, 400, 500, minutiae, 77, dict(meta))


@pytest.fixture(scope="module")
def secugen_records(shared_data):
    root = shared_data / "fingerprints" / "iso19794-2-secugen"
    paths = sorted(root.rglob("*.iso"))
    if not paths:
        pytest.skip("no SecuGen records in the shared data")
    return [(p, p.read_bytes()) for p in paths]


def test_every_secugen_record_decodes_and_reencodes_byte_for_byte(secugen_records):
    assert len(secugen_records) == 320
    for path, data in secugen_records:
        t = iso19794.decode(data)
        assert (t.width, t.height, t.dpi) == (300, 400, 500), path
        assert 10 <= len(t.minutiae) <= 100, path
        assert all(0 <= m.x < 300 and 0 <= m.y < 400 for m in t.minutiae)
        assert iso19794.encode(t) == data, path


def test_round_trip_keeps_every_field_within_the_format_precision():
    t = _template(40, finger=FingerPosition.LEFT_INDEX, view=2, impression_type=1, device_type=0x123)
    back = iso19794.decode(iso19794.encode(t))
    assert (back.width, back.height, back.dpi, back.quality) == (300, 400, 500, 77)
    assert back.metadata["finger"] is FingerPosition.LEFT_INDEX
    assert (back.metadata["view"], back.metadata["impression_type"], back.metadata["device_type"]) == (2, 1, 0x123)
    for a, b in zip(t.minutiae, back.minutiae, strict=True):
        assert (a.x, a.y, a.kind, a.quality) == (b.x, b.y, b.kind, b.quality)
        assert abs((a.angle - b.angle + math.pi) % (2 * math.pi) - math.pi) <= iso19794.ANGLE_UNIT / 2 + 1e-9


def test_resolution_travels_in_pixels_per_centimetre():
    t = FingerprintTemplate(296, 560, 569, (Minutia(5, 6, 1.0, MinutiaType.ENDING, 50),))
    assert iso19794.decode(iso19794.encode(t)).dpi == 569


def test_extended_data_is_kept_opaque():
    t = _template(3, extended_data=((0x0101, b"\x01\x02\x03"), (0x0202, b"")))
    back = iso19794.decode(iso19794.encode(t))
    assert back.metadata["extended_data"] == ((0x0101, b"\x01\x02\x03"), (0x0202, b""))


def test_every_view_of_a_multi_view_record_is_read():
    one = iso19794.encode(_template(3))
    view = one[24:]
    two_views = bytearray(one[:24] + view + view)
    struct.pack_into(">I", two_views, 8, len(two_views))
    two_views[22] = 2
    views = iso19794.decode_views(bytes(two_views))
    assert len(views) == 2 and all(len(v.template.minutiae) == 3 for v in views)


def test_non_square_pixels_are_rescaled_to_the_x_resolution():
    data = bytearray(iso19794.encode(_template(2)))
    struct.pack_into(">H", data, 20, 98)  # y resolution about half of x: y coordinates double
    t = iso19794.decode(bytes(data))
    assert t.height == round(400 * 197 / 98) and t.minutiae[1].y == round(73 * 197 / 98)


def test_too_many_minutiae_cannot_be_encoded():
    many = FingerprintTemplate(300, 400, 500, tuple(Minutia(1, 1, 0.0) for _ in range(256)))
    with pytest.raises(TemplateFormatError, match="255"):
        iso19794.encode(many)


def test_every_truncation_is_refused():
    data = iso19794.encode(_template(6))
    for cut in range(len(data)):
        with pytest.raises(TemplateFormatError):
            iso19794.decode(data[:cut])


def _patched(offset: int, fmt: str, value: int) -> bytes:
    data = bytearray(iso19794.encode(_template(4)))
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (iso19794.encode(_template(4)) + b"\x00", "after the declared end"),
        (b"\x00" * (iso19794.MAX_RECORD_SIZE + 1), "more than any record"),
        (b"XMR\x00" + iso19794.encode(_template(4))[4:], "format identifier"),
        (b"FMR\x00 30\x00" + iso19794.encode(_template(4))[8:], "version"),
        (_patched(8, ">I", 10), "shorter than the header"),
        (_patched(8, ">I", 4000), "truncated"),
        (_patched(14, ">H", 0), "empty"),
        (_patched(18, ">H", 3), "resolution"),
        (_patched(22, ">B", 0), "no finger view"),
        (_patched(24, ">B", 11), "finger position"),
        (_patched(26, ">B", 101), "finger quality"),
        (_patched(27, ">B", 5), "truncated in the minutiae"),
        (_patched(28, ">H", 0xC000 | 5), "reserved type"),
        (_patched(28, ">H", 0x4000 | 300), "outside"),
        (_patched(30, ">H", 0x8005), "reserved bits"),
        (_patched(33, ">B", 200), "quality 200"),
        (_patched(28 + 4 * 6, ">H", 9), "extended data"),
        ("not bytes", "must be bytes"),
    ],
)
def test_malformed_records_are_refused_with_a_clear_message(data, needle):
    with pytest.raises(TemplateFormatError, match=needle) as info:
        iso19794.decode(data)
    assert "capture the finger again" in str(info.value) or "must be bytes" in str(info.value)


def test_bad_extended_area_length_is_refused():
    data = bytearray(iso19794.encode(_template(1, extended_data=((1, b"abcd"),))))
    struct.pack_into(">H", data, len(data) - 8 + 2, 2)  # area length below its own header
    with pytest.raises(TemplateFormatError, match="extended-data area"):
        iso19794.decode(bytes(data))


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_format_error(data: bytes) -> None:
    try:
        t = iso19794.decode(data)
    except TemplateFormatError:
        return
    assert isinstance(t, FingerprintTemplate)


@_FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_else(data):
    _decode_or_format_error(data)


@_FUZZ
@given(st.binary(max_size=120))
def test_random_bodies_behind_a_valid_header_never_raise_anything_else(body):
    head = bytearray(iso19794.encode(_template(0))[:24])
    struct.pack_into(">I", head, 8, 24 + len(body))
    _decode_or_format_error(bytes(head) + body)


@_FUZZ
@given(st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), min_size=1, max_size=6))
def test_corrupted_valid_records_never_raise_anything_else(edits):
    data = bytearray(iso19794.encode(_template(6)))
    for offset, value in edits:
        data[offset % len(data)] = value
    _decode_or_format_error(bytes(data))
