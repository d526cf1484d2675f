"""The hospital counter's tables (migration ``0002_hospital_counter``), on the station's ``Base``.

Every card transaction is recorded twice here: an *intent* row committed before the card is touched,
then the card's own answer (balance after, the hospital card's signed statement). After a crash or a
pulled card the desk reads the card's log and finishes the row from what the card says, so the
database and the card never disagree for longer than one reinsertion.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from station.storage.models import Base, _enum, utcnow


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes; every time stored here is UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class AdmissionState(enum.StrEnum):
    BLOCKING = "blocking"  # intent committed; the card's block may or may not have landed
    ADMITTED = "admitted"  # block on the card and signed
    DISCHARGING = "discharging"  # discharge intent committed; the card's debit may or may not have landed
    DISCHARGED = "discharged"  # debit (and transport) on the card, signed, claim queued
    CANCELLED = "cancelled"  # the block never reached the card


class TxnKind(enum.StrEnum):
    ADMISSION = "admission"
    DISCHARGE = "discharge"
    TRANSPORT = "transport"


class TxnState(enum.StrEnum):
    INTENT = "intent"
    DONE = "done"  # on the card and signed by the hospital card
    ABANDONED = "abandoned"  # never reached the card


class VerifyMethod(enum.StrEnum):
    FINGER = "finger"  # the patient's first finger on the card
    OTHER_FINGER = "other_finger"  # the patient's second finger
    ATTENDANT = "attendant"  # another family member verified and vouched for the patient
    OVERRIDE = "override"  # supervisor override with photo and reason


class FlagKind(enum.StrEnum):
    PACKAGE_MISMATCH = "package_mismatch"  # sex- or age-specific package for a member it does not fit
    BEDS_EXCEEDED = "beds_exceeded"  # more patients admitted than the hospital has beds
    OVERLAPPING_STAY = "overlapping_stay"  # same card at two hospitals at overlapping times (sync)
    REPEATED_OVERRIDES = "repeated_overrides"  # one staff member overriding fingerprints again and again
    PREAUTH_MISSING = "preauth_missing"  # a pre-authorisation package without an authorisation number


class ClaimState(enum.StrEnum):
    QUEUED = "queued"  # waiting for the day's claims file
    FILED = "filed"  # in a signed claims file (name in ``file_name``)


class HospitalPackage(Base):
    """One treatment package of the signed list the hospital loaded (newest list replaces older)."""

    __tablename__ = "hospital_package"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    rate: Mapped[int] = mapped_column(Integer)  # paise
    sex: Mapped[str] = mapped_column(String(1), default="")  # "", "M", "F"
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    max_age: Mapped[int] = mapped_column(Integer, default=150)
    preauth: Mapped[bool] = mapped_column(Boolean, default=False)
    list_version: Mapped[int] = mapped_column(Integer)


class Admission(Base):
    __tablename__ = "hospital_admission"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(7), unique=True)  # on the card's log records
    hospital_id: Mapped[str] = mapped_column(String(8))
    card_serial: Mapped[str] = mapped_column(String(16), index=True)
    urn: Mapped[str] = mapped_column(String(17), index=True)
    member_index: Mapped[int] = mapped_column(Integer)
    member_name: Mapped[str] = mapped_column(String(120))
    member_gender: Mapped[str] = mapped_column(String(1))
    member_age: Mapped[int] = mapped_column(Integer)
    policy_slot: Mapped[int] = mapped_column(Integer)
    policy_number: Mapped[str] = mapped_column(String(24))
    package_code: Mapped[str] = mapped_column(String(16))
    preauth_ref: Mapped[str] = mapped_column(String(40), default="")
    blocked: Mapped[int] = mapped_column(Integer)  # paise
    final_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transport_amount: Mapped[int] = mapped_column(Integer, default=0)
    balance_after: Mapped[int | None] = mapped_column(Integer, nullable=True)  # after the last transaction
    state: Mapped[AdmissionState] = mapped_column(_enum(AdmissionState), default=AdmissionState.BLOCKING)
    verification: Mapped[VerifyMethod] = mapped_column(_enum(VerifyMethod))
    attendant_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    staff: Mapped[str] = mapped_column(String(64))
    admitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    transactions: Mapped[list[CardTransaction]] = relationship(back_populates="admission",
                                                               order_by="CardTransaction.id")


class CardTransaction(Base):
    __tablename__ = "hospital_transaction"
    __table_args__ = (UniqueConstraint("admission_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("hospital_admission.id"), index=True)
    kind: Mapped[TxnKind] = mapped_column(_enum(TxnKind))
    state: Mapped[TxnState] = mapped_column(_enum(TxnState), default=TxnState.INTENT)
    amount: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the time written on the card
    hospital_txn: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the hospital card's counter
    # The hospital card signs at its own, never-decreasing time (after a pulled card: the resume time).
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    admission: Mapped[Admission] = relationship(back_populates="transactions")


class Override(Base):
    """A supervisor's fingerprint override: who, why, and the patient's photo (encrypted)."""

    __tablename__ = "hospital_override"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_serial: Mapped[str] = mapped_column(String(16), index=True)
    member_index: Mapped[int] = mapped_column(Integer)
    staff: Mapped[str] = mapped_column(String(64), index=True)
    supervisor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    photo_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FraudFlag(Base):
    __tablename__ = "hospital_flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FlagKind] = mapped_column(_enum(FlagKind))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("hospital_admission.id"), nullable=True)
    card_serial: Mapped[str] = mapped_column(String(16), default="")
    staff: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    file_name: Mapped[str] = mapped_column(String(120), default="")  # desk flags: the claims file that carried it


class Claim(Base):
    """The offline claims queue: one row per discharge, queued in the discharge's own transaction."""

    __tablename__ = "hospital_claim"
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("hospital_admission.id"), unique=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # discharge day (UTC)
    state: Mapped[ClaimState] = mapped_column(_enum(ClaimState), default=ClaimState.QUEUED)
    file_name: Mapped[str] = mapped_column(String(120), default="")
    admission: Mapped[Admission] = relationship()
