"""The 300-byte card template: exact round trips within its precision, best minutiae kept, malformed
bytes refused with TemplateFormatError only, and matching survives the trip."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biometrics import cardtemplate, iso19794
from biometrics.errors import TemplateFormatError
from biometrics.matching import THRESHOLDS, match
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType


def _template(n: int, width: int = 388, height: int = 374, dpi: int = 500) -> FingerprintTemplate:
    minutiae = tuple(
        Minutia((17 + 97 * k) % width, (29 + 61 * k) % height, (0.37 * k) % (2 * math.pi), MinutiaType(k % 3),
                (13 * k) % 101)
        for k in range(n)
    )
    return FingerprintTemplate(width, height, dpi, minutiae, 64)


def _angle_error(a: float, b: float) -> float:
    return abs((a - b + math.pi) % (2 * math.pi) - math.pi)


@pytest.mark.parametrize("n", [0, 1, 40, cardtemplate.MAX_MINUTIAE])
def test_round_trip_fits_the_slot_and_keeps_positions_exactly(n):
    t = _template(n)
    data = cardtemplate.encode(t)
    assert len(data) <= 300
    back = cardtemplate.decode(data)
    assert (back.width, back.height, back.dpi, back.quality) == (t.width, t.height, t.dpi, t.quality)
    for a, b in zip(t.minutiae, back.minutiae, strict=True):
        assert (a.x, a.y, a.kind) == (b.x, b.y, b.kind)
        assert _angle_error(a.angle, b.angle) <= cardtemplate.ANGLE_UNIT / 2 + 1e-9
        assert abs(a.quality - b.quality) <= 17 and (a.quality == 0) == (b.quality == 0)


def test_beyond_the_slot_only_the_best_quality_minutiae_are_kept():
    t = _template(150)
    back = cardtemplate.decode(cardtemplate.encode(t))
    assert len(back.minutiae) == cardtemplate.MAX_MINUTIAE
    kept_quality = sorted(m.quality for m in cardtemplate.select_minutiae(t))
    dropped = set(t.minutiae) - set(cardtemplate.select_minutiae(t))
    assert min(kept_quality) >= max(m.quality for m in dropped)


def test_a_smaller_limit_is_honoured():
    assert len(cardtemplate.decode(cardtemplate.encode(_template(60), limit=20)).minutiae) == 20
    with pytest.raises(ValueError, match=r"0\.\.72"):
        cardtemplate.encode(_template(5), limit=73)


def test_large_images_store_coordinates_in_coarser_steps():
    t = _template(30, width=1600, height=1500, dpi=1000)
    back = cardtemplate.decode(cardtemplate.encode(t))
    assert back.dpi == 1000
    for a, b in zip(t.minutiae, back.minutiae, strict=True):
        assert 0 <= a.x - b.x <= 1 and 0 <= a.y - b.y <= 1


def _with(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    out[offset] = value
    return bytes(out)


VALID = cardtemplate.encode(_template(5))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (VALID[:5], "truncated"),
        (VALID[:-1], "truncated"),
        (VALID + b"\x00\x00\x00\x00", "oversized"),
        (VALID + bytes(300), "slot"),
        (_with(VALID, 0, 0x00), "format byte"),
        (_with(VALID, 1, 9), "shift"),
        (VALID[:2] + b"\x00\x05" + VALID[4:], "resolution"),
        (VALID[:4] + b"\x00\x00" + VALID[6:], "empty"),
        (_with(VALID, 8, 101), "quality"),
        (_with(VALID, 9, 200), "at most 72"),
        (_with(VALID, 10 + 3, 0x0C), "reserved type"),
        (_with(VALID, 10, 0xFF), "outside"),
        (bytearray(VALID)[:3].decode("latin-1"), "must be bytes"),
    ],
)
def test_malformed_card_bytes_are_refused_with_a_clear_message(data, needle):
    with pytest.raises(TemplateFormatError, match=needle):
        cardtemplate.decode(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=310), st.binary(max_size=40).map(lambda b: VALID[:10] + b)))
def test_random_bytes_never_raise_anything_else(data):
    try:
        t = cardtemplate.decode(data)
    except TemplateFormatError:
        return
    assert isinstance(t, FingerprintTemplate) and len(cardtemplate.encode(t)) == len(data)


def test_secugen_templates_still_match_themselves_after_the_card_trip(shared_data):
    root = shared_data / "fingerprints" / "iso19794-2-secugen" / "fvc2002" / "DB1_B"
    paths = sorted(root.glob("10[1-3]_[12].iso"))
    if not paths:
        pytest.skip("no SecuGen records")
    for path in paths:
        t = iso19794.decode(path.read_bytes())
        card = cardtemplate.encode(t)
        assert len(card) <= 300
        assert match(t, cardtemplate.decode(card)).score >= THRESHOLDS[0.0001]
