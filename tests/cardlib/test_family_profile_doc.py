"""docs/card-profile.md is the contract: its AID, file sizes and byte budget match the code, and every
file's size is exactly the largest canonical encoding the model allows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cardlib import family_profile as fp
from cardlib.model import (
    MAX_NAME_BYTES,
    MAX_PHOTO_BYTES,
    MAX_POLICY_NUMBER,
    MAX_SIGNATURE_BYTES,
    MAX_STATION_ID,
    MAX_TEMPLATE_BYTES,
    Activation,
    CardSerial,
    FingerSlot,
    Gender,
    Issuance,
    Member,
    Policy,
    Relationship,
    Urn,
)
from simulators.cards import family as sim

DOC = (Path(__file__).resolve().parents[2] / "docs" / "card-profile.md").read_text(encoding="utf-8")
WHEN = datetime(2100, 1, 1, tzinfo=UTC)


def test_aid_line():
    lines = [line for line in DOC.splitlines() if line.startswith("AID: ")]
    assert len(lines) == 1
    assert bytes.fromhex(lines[0].removeprefix("AID: ")) == fp.AID
    assert fp.AID[0] == 0xF0


def test_file_table_sizes_match_the_code():
    rows = re.findall(r"^\| (0[0-9A-F]{3})(?:–(0[0-9A-F]{3}))? \| (EF\.\S+) \| [^|]+\| (?:≤ )?(\d+)", DOC, re.M)
    assert rows, "file table not found"
    documented = {int(first, 16): int(size) for first, _, _, size in rows}
    for spec in fp.DATA_FILES:
        first_of_group = next(fid for fid in documented if fid <= spec.fid and spec.fid - fid < 8)
        assert documented[first_of_group] == spec.size, spec.name


def test_byte_budget_adds_up_and_fits():
    table = DOC[DOC.index("## Byte budget") :]
    amounts = [int(n) for n in re.findall(r"^\|[^|]+\| (\d+) \|$", table, re.M)]
    total = int(re.search(r"\*\*total used\*\* \| \*\*(\d+)\*\*", table).group(1))
    free = int(re.search(r"^\| free \| (\d+) \|$", table, re.M).group(1))
    assert sum(amounts[:-1]) == total == sim.USED_BYTES  # the last plain row is "free"
    assert amounts[-1] == free == fp.CARD_SIZE - sim.USED_BYTES > 0
    assert amounts[0] == sim.SYSTEM_SIZE and amounts[1] == sim.JOURNAL_SIZE


def biggest_member() -> Member:
    return Member(
        "क" * (MAX_NAME_BYTES // 3),
        Gender.TRANSGENDER,
        2100,
        Relationship.OTHER,
        uid="9" * 12,
        photo=b"\xff\xd8" + bytes(MAX_PHOTO_BYTES - 2),
        fingers=(FingerSlot(1, bytes(MAX_TEMPLATE_BYTES)), FingerSlot(10, bytes(MAX_TEMPLATE_BYTES))),
    )


@pytest.mark.parametrize(
    ("encoded", "size"),
    [
        (
            lambda: fp.encode_household(fp.Household(Urn("Z" * 17), "S" * 8, "99", "9999", "9" * 8, 5)),
            fp.SIZE_HOUSEHOLD,
        ),
        (lambda: fp.encode_member(biggest_member()), fp.SIZE_MEMBER),
        (lambda: fp.encode_photo(biggest_member().photo), fp.SIZE_PHOTO),
        (lambda: fp.encode_fingers(biggest_member().fingers), fp.SIZE_FINGERS),
        (
            lambda: fp.encode_policy(
                Policy("न" * 20, "P" * MAX_POLICY_NUMBER, date(2026, 1, 1), date(2099, 1, 1), 2**40 - 1, 2**40 - 1)
            ),
            fp.SIZE_POLICY,
        ),
        (
            lambda: fp.encode_issuance(
                Issuance("S" * MAX_STATION_ID, CardSerial(bytes(8)), WHEN, bytes(MAX_SIGNATURE_BYTES))
            ),
            fp.SIZE_ISSUANCE,
        ),
        (lambda: fp.encode_activation(Activation(CardSerial(bytes(8)), 2**32 - 1, WHEN, bytes(8))), fp.SIZE_ACTIVATION),
    ],
)
def test_each_file_size_is_the_largest_encoding(encoded, size):
    assert len(encoded()) == size


def test_log_record_is_32_bytes_and_round_trips():
    from tests.cardlib.family_samples import full_family

    for record in full_family().log:
        raw = fp.encode_log_record(record)
        assert len(raw) == fp.LOG_RECORD_SIZE and fp.decode_log_record(raw) == record
