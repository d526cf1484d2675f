"""The profile's file codecs: any value the model accepts round-trips exactly; damaged bytes raise
TlvError (a CardError), never something else."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardlib import family_profile as fp
from cardlib import tlv
from cardlib.model import (
    MAX_AMOUNT_PAISE,
    CardSerial,
    FingerSlot,
    Gender,
    Issuance,
    LogKind,
    LogRecord,
    Member,
    Policy,
    Relationship,
)
from cardlib.tlv import TlvError

names = st.text(
    alphabet=st.sampled_from("अआइकखगघचछजटडतथदधनपबभमयरलवशसहािीुूेैोौंः् ABCxyz"), min_size=1, max_size=40
).map(str.strip).filter(lambda s: s and len(s.encode()) <= 120)
ascii_text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=7)
times = st.integers(0, 2**32 - 1).map(lambda s: datetime.fromtimestamp(s, UTC))
money = st.integers(0, MAX_AMOUNT_PAISE)

members = st.builds(
    Member,
    name=names,
    gender=st.sampled_from(Gender),
    year_of_birth=st.integers(1900, 2100),
    relationship=st.sampled_from(Relationship),
    uid=st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=12, max_size=12)),
    photo=st.binary(max_size=64).map(lambda b: b"\xff\xd8" + b),
    fingers=st.lists(st.integers(1, 10), max_size=2, unique=True).flatmap(
        lambda ps: st.tuples(*(st.binary(min_size=1, max_size=300).map(lambda t, p=p: FingerSlot(p, t)) for p in ps))
    ),
)


@settings(max_examples=60)
@given(members)
def test_member_files_round_trip(member):
    raw = fp.encode_member(member)
    photo = fp.decode_photo(fp.encode_photo(member.photo))
    fingers = fp.decode_fingers(fp.encode_fingers(member.fingers))
    assert len(raw) <= fp.SIZE_MEMBER
    assert fp.decode_member(raw, photo, fingers) == member


@given(money, money, st.dates(date(1990, 1, 1), date(2099, 1, 1)), st.integers(0, 3650))
def test_policy_round_trip(a, b, start, days):
    end = date.fromordinal(min(start.toordinal() + days, date(2099, 12, 31).toordinal()))
    policy = Policy("न्यू इंडिया", "RSBY/1", start, end, max(a, b), min(a, b))
    assert fp.decode_policy(fp.encode_policy(policy)) == policy
    assert fp.decode_policy(fp.encode_policy(None)) is None


@given(times, st.sampled_from(LogKind), st.one_of(st.none(), st.integers(0, 4)), money, money, ascii_text)
def test_log_record_round_trip(time, kind, member, amount, balance, reference):
    record = LogRecord(time, kind, "H1", member, 1, amount, balance, reference)
    assert fp.decode_log_record(fp.encode_log_record(record)) == record


def test_issuance_round_trip_and_empty():
    issuance = Issuance("STN-1", CardSerial(bytes(range(8))), datetime(2026, 1, 2, tzinfo=UTC), b"\x30" * 70)
    assert fp.decode_issuance(fp.encode_issuance(issuance)) == issuance
    assert fp.decode_issuance(fp.encode_issuance(None)) is None


@given(st.binary(max_size=80))
def test_damaged_files_raise_tlv_errors(noise):
    for decode in (
        fp.decode_household,
        fp.decode_policy,
        fp.decode_issuance,
        fp.decode_activation,
        fp.decode_card_info,
        fp.decode_fingers,
        fp.decode_photo,
        lambda raw: fp.decode_member(raw, b"", ()),
    ):
        with contextlib.suppress(TlvError):  # the one error a damaged card may cause
            decode(noise)


def test_model_rule_broken_on_the_card_is_a_tlv_error():
    fields = [(0x80, b"0923010010100001"), (0x81, b"RSBY"), (0x82, b"9"), (0x83, b"923"), (0x84, b"1"), (0x85, b"\x01")]
    raw = tlv.constructed(fp.T_HOUSEHOLD, (tlv.encode(tag, value) for tag, value in fields))  # 16-char URN
    with pytest.raises(TlvError, match="invalid value: URN"):
        fp.decode_household(raw)


def test_unknown_codes_are_named():
    raw = bytearray(fp.encode_member(Member("राम", Gender.MALE, 1980, Relationship.HEAD)))
    raw[raw.index(b"\x81\x01") + 2] = 9  # gender 9
    try:
        fp.decode_member(bytes(raw), b"", ())
    except TlvError as exc:
        assert "gender code 9" in str(exc)
    else:
        raise AssertionError("an undefined gender code was accepted")
