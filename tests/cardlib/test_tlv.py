"""BER-TLV: canonical encoding and strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardlib import tlv
from cardlib.errors import CardError
from cardlib.tlv import TlvError


@pytest.mark.parametrize(
    ("tag", "value", "encoded"),
    [
        (0x80, b"", "8000"),
        (0x80, b"\x01", "800101"),
        (0x5F2E, b"\xaa", "5F2E01AA"),
        (0x7F8101, b"", "7F810100"),
        (0x80, bytes(127), "807F" + "00" * 127),
        (0x80, bytes(128), "808180" + "00" * 128),
        (0x80, bytes(256), "80820100" + "00" * 256),
    ],
)
def test_encode_known_vectors(tag, value, encoded):
    assert tlv.encode(tag, value).hex().upper() == encoded
    assert tlv.decode_single(bytes.fromhex(encoded)) == tlv.Tlv(tag, value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "end of the data"),
        ("80", "no length"),
        ("8002AA", "only 1 follow"),
        ("8080", "indefinite"),
        ("80817F" + "00" * 127, "non-minimal"),
        ("8082007F" + "00" * 127, "non-minimal"),
        ("5F", "truncated"),
        ("5F800100", "leading zero"),
        ("5FAAAAAA0100", "longer than 3"),
        ("808401000000", "bad or truncated"),
        ("00", "padding"),
        ("FF", "padding"),
    ],
)
def test_decode_rejects_malformed(raw, message):
    with pytest.raises(TlvError, match=message) as info:
        tlv.decode_one(bytes.fromhex(raw))
    assert isinstance(info.value, CardError) and isinstance(info.value, ValueError)


def test_single_rejects_trailing_bytes_and_wrong_tag():
    with pytest.raises(TlvError, match="unexpected bytes"):
        tlv.decode_single(bytes.fromhex("80010100"))
    with pytest.raises(TlvError, match="expected tag E1"):
        tlv.decode_single(bytes.fromhex("E000"), 0xE1)


def test_children_rejects_duplicates_and_unknown_tags():
    value = tlv.encode(0x80, b"a") + tlv.encode(0x81, b"b")
    assert tlv.children(value, (0x80, 0x81)) == {0x80: b"a", 0x81: b"b"}
    with pytest.raises(TlvError, match="twice"):
        tlv.children(value + tlv.encode(0x80, b"c"))
    with pytest.raises(TlvError, match="unexpected tag 81"):
        tlv.children(value, (0x80,))


@pytest.mark.parametrize("tag", [0, 0x1F, 0x5F80, 0x8F01, 0x1000000, 0x5F8001])
def test_bad_tags_are_refused(tag):
    with pytest.raises(TlvError):
        tlv.encode(tag, b"")


def test_constructed_needs_a_constructed_tag():
    assert tlv.constructed(0xE1, [tlv.encode(0x80, b"x")]) == bytes.fromhex("E103800178")
    with pytest.raises(TlvError, match="primitive"):
        tlv.constructed(0x80, [])


@pytest.mark.parametrize("length", [0, 1, 127, 128, 255, 256, 4100, 70000])
def test_encoded_size_from_a_prefix(length):
    encoded = tlv.encode(0x5F2E, bytes(length))
    assert tlv.encoded_size(encoded[:8]) == len(encoded)
    assert tlv.header_size(0x5F2E, length) == len(encoded) - length


def test_encoded_size_rejects_padding_and_truncation():
    for raw in (b"", b"\x00\x00", b"\x80", b"\x80\x82\x01"):
        with pytest.raises(TlvError):
            tlv.encoded_size(raw)


def test_repr_never_shows_values():
    assert "secret" not in repr(tlv.Tlv(0x80, b"secret"))


@given(st.lists(st.tuples(st.sampled_from([0x80, 0x81, 0x5F2E, 0xE1, 0x7F21]), st.binary(max_size=600)), max_size=6))
def test_round_trip_is_exact(items):
    encoded = b"".join(tlv.encode(tag, value) for tag, value in items)
    assert [(t.tag, t.value) for t in tlv.decode_all(encoded)] == items


@given(st.binary(max_size=64))
def test_decoder_never_crashes_on_noise(noise):
    try:
        items = tlv.decode_all(noise)
    except TlvError:
        return
    assert b"".join(item.encode() for item in items) == noise  # what decodes, re-encodes identically
