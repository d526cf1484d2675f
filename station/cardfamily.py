"""From the station's records to the card's typed family (``cardlib.model.Family``) and back to plain data.

One function builds the card's ``Family`` from plain values, so the station (before writing the card)
and the district (when it reconciles a bundle) compute the same family data digest — the one the FKO
card signed in its ledger.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date

from cardlib import model

GENDER = {"M": model.Gender.MALE, "F": model.Gender.FEMALE, "T": model.Gender.TRANSGENDER}
RELATIONSHIP = {r.name.lower(): r for r in model.Relationship}


@dataclass(frozen=True)
class PlainMember:
    name: str
    gender: str  # "M" / "F" / "T"
    year_of_birth: int
    relationship: str  # station Relationship value, e.g. "daughter_in_law"
    photo: bytes  # JPEG or b""
    fingers: tuple[tuple[int, bytes], ...]  # (ISO position, ISO 19794-2 record)


@dataclass(frozen=True)
class PlainFamily:
    urn: str
    scheme: str
    state_code: str
    district_code: str
    village_code: str
    insurer: str
    policy_number: str
    policy_start: date
    policy_end: date
    sum_insured: int  # paise
    members: tuple[PlainMember, ...]


def card_template(iso_record: bytes) -> bytes:
    """The compact on-card template (≤ 300 bytes) of a stored ISO 19794-2 record."""
    iso = importlib.import_module("biometrics.iso19794")
    compact = importlib.import_module("biometrics.cardtemplate")
    return compact.encode(iso.decode(iso_record))


def to_card(f: PlainFamily) -> model.Family:
    members = tuple(
        model.Member(
            name=m.name,
            gender=GENDER[m.gender],
            year_of_birth=m.year_of_birth,
            relationship=RELATIONSHIP[m.relationship],
            photo=m.photo,
            fingers=tuple(model.FingerSlot(pos, card_template(rec)) for pos, rec in m.fingers[:2]),
        )
        for m in f.members
    )
    policy = model.Policy(f.insurer, f.policy_number, f.policy_start, f.policy_end, f.sum_insured, f.sum_insured)
    return model.Family(
        urn=model.Urn(f.urn), scheme=f.scheme, state_code=f.state_code, district_code=f.district_code,
        village_code=f.village_code, members=members, policies=(policy, None),
    )


def digest(f: PlainFamily) -> bytes:
    """SHA-256 of the family data as the card stores it (what the FKO signs)."""
    family = importlib.import_module("cardlib.family")
    return family.family_digest(to_card(f))
