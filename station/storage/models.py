"""The station's tables, as typed SQLAlchemy 2 ORM classes.

Conventions: surrogate integer keys; natural keys (URN, codes, card serials) unique; enums stored as
short strings (portable across SQLite and PostgreSQL); timestamps as timezone-aware UTC. Biometric
payloads are only ever stored as AES-GCM ciphertext (:mod:`station.storage.crypto`). Tables for the
hospital counter (issue 8: packages, admissions, claims, revocations) are added by later migrations
and hang off ``card_issuance.card_serial``, ``member`` and ``operator`` without changing these.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations are reproducible on both back ends.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, validate_strings=True, create_constraint=True,
                name=cls.__name__.lower(), values_callable=lambda c: [m.value for m in c])


class Gender(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"
    OTHER = "T"


class Relationship(enum.StrEnum):
    HEAD = "head"
    SPOUSE = "spouse"
    SON = "son"
    DAUGHTER = "daughter"
    FATHER = "father"
    MOTHER = "mother"
    BROTHER = "brother"
    SISTER = "sister"
    GRANDCHILD = "grandchild"
    DAUGHTER_IN_LAW = "daughter_in_law"
    SON_IN_LAW = "son_in_law"
    OTHER = "other"


class Role(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    HOSPITAL_STAFF = "hospital_staff"
    DISTRICT = "district"


class HouseholdStatus(enum.StrEnum):
    """Where a household is in the camp flow; persisted so a restart resumes there."""

    LISTED = "listed"  # on the imported list, nothing done yet
    ENROLLING = "enrolling"  # details confirmed, captures in progress
    CAPTURED = "captured"  # every insured member has a photo and two fingers or an exception
    ISSUING = "issuing"  # a card issuance is in progress (see card_issuance.state)
    ISSUED = "issued"  # card written, FKO-authorised and handed over


class CaptureKind(enum.StrEnum):
    PHOTO = "photo"
    FINGER = "finger"


class ExceptionReason(enum.StrEnum):
    """Why a member has no usable fingerprint (or photo) on the card."""

    POOR_QUALITY = "poor_quality"  # every allowed finger failed the quality gate
    MISSING_FINGERS = "missing_fingers"  # amputation or congenital
    INJURY = "injury"  # temporary: bandage, burn, cut
    CHILD = "child"  # too young for stable prints
    PHOTO_REFUSED = "photo_refused"
    DEVICE_FAILURE = "device_failure"  # scanner or camera broke during the camp


class IssuanceState(enum.StrEnum):
    """One card for one household. The intent is committed *before* the card is touched."""

    INTENT = "intent"  # about to write the blank card with this serial
    PERSONALISED = "personalised"  # family data committed on the card
    AUTHORISED = "authorised"  # FKO card counted it and the family card is activated
    COMPLETE = "complete"  # card face and receipt printed, handed over
    VOID = "void"  # abandoned before authorisation; the card with this serial is not valid


class FormKind(enum.StrEnum):
    EXCLUSION = "exclusion"  # a household left off the list asks to be included
    GRIEVANCE = "grievance"  # any other complaint from the camp


class Scheme(Base):
    __tablename__ = "scheme"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class District(Base):
    __tablename__ = "district"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    state_code: Mapped[str] = mapped_column(String(8), default="")
    # The district kiosk may allow a second card for a household (lost card, split family).
    allow_duplicate_cards: Mapped[bool] = mapped_column(Boolean, default=False)
    villages: Mapped[list[Village]] = relationship(back_populates="district")


class Village(Base):
    __tablename__ = "village"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    district: Mapped[District] = relationship(back_populates="villages")


class HouseholdList(Base):
    """One imported list file: which file, signed by which key, when."""

    __tablename__ = "household_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    signer: Mapped[str] = mapped_column(String(120))
    # The detached signature as received: evidence, and it carries the district's certificate, which
    # the camp bundle is sealed to.
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    households: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Household(Base):
    __tablename__ = "household"
    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(24), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("household_list.id"))
    # The head's father's or husband's name, as the census wrote it.
    guardian_name: Mapped[str] = mapped_column(String(120))
    insurer: Mapped[str] = mapped_column(String(40))
    policy_number: Mapped[str] = mapped_column(String(24))
    sum_insured: Mapped[int] = mapped_column(Integer)  # paise
    policy_start: Mapped[date] = mapped_column(Date)
    policy_end: Mapped[date] = mapped_column(Date)
    status: Mapped[HouseholdStatus] = mapped_column(_enum(HouseholdStatus), default=HouseholdStatus.LISTED)
    listed_members: Mapped[int] = mapped_column(Integer)
    # More than five people listed: the family must choose who is insured before capture.
    needs_selection: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    village: Mapped[Village] = relationship()
    scheme: Mapped[Scheme] = relationship()
    members: Mapped[list[Member]] = relationship(back_populates="household", order_by="Member.seq")
    issuances: Mapped[list[CardIssuance]] = relationship(back_populates="household",
                                                         order_by="CardIssuance.id")

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.relationship_ == Relationship.HEAD)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("household_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    seq: Mapped[int] = mapped_column(Integer)  # position on the list, 1 = head
    name: Mapped[str] = mapped_column(String(120), index=True)  # Latin script
    name_local: Mapped[str] = mapped_column(String(120), default="")  # Devanagari
    gender: Mapped[Gender] = mapped_column(_enum(Gender))
    year_of_birth: Mapped[int] = mapped_column(Integer)
    relationship_: Mapped[Relationship] = mapped_column("relationship", _enum(Relationship))
    # Only insured members go on the card: at most five per household.
    insured: Mapped[bool] = mapped_column(Boolean, default=False)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)  # details corrected at the camp
    household: Mapped[Household] = relationship(back_populates="members")
    captures: Mapped[list[Capture]] = relationship(back_populates="member", order_by="Capture.id")
    exceptions: Mapped[list[BiometricException]] = relationship(back_populates="member")


class Operator(Base):
    __tablename__ = "operator"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.OPERATOR)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The station data key wrapped under a key derived from this operator's password and the station
    # secret (see station.storage.crypto); a wrong password fails the AES-GCM tag.
    key_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Camp(Base):
    __tablename__ = "camp"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    station_id: Mapped[str] = mapped_column(String(40))
    opened_by: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    bundle_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    village: Mapped[Village] = relationship()


class Capture(Base):
    """One accepted photo or fingerprint; the payload is AES-GCM ciphertext under the station data key."""

    __tablename__ = "capture"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    camp_id: Mapped[int] = mapped_column(ForeignKey("camp.id"))
    kind: Mapped[CaptureKind] = mapped_column(_enum(CaptureKind))
    finger: Mapped[int] = mapped_column(Integer, default=0)  # ISO finger position, 0 for photos
    quality: Mapped[int] = mapped_column(Integer, default=0)
    tries: Mapped[int] = mapped_column(Integer, default=1)
    # "jpeg" for photos; for fingers the ISO 19794-2 record (the compact card template is derived).
    payload_format: Mapped[str] = mapped_column(String(24))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    member: Mapped[Member] = relationship(back_populates="captures")


class BiometricException(Base):
    __tablename__ = "biometric_exception"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    camp_id: Mapped[int] = mapped_column(ForeignKey("camp.id"))
    kind: Mapped[CaptureKind] = mapped_column(_enum(CaptureKind))
    reason: Mapped[ExceptionReason] = mapped_column(_enum(ExceptionReason))
    note: Mapped[str] = mapped_column(Text, default="")
    fingers_tried: Mapped[str] = mapped_column(String(64), default="")  # e.g. "2,7,1,6,3,8"
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    member: Mapped[Member] = relationship(back_populates="exceptions")


class CardIssuance(Base):
    __tablename__ = "card_issuance"
    __table_args__ = (UniqueConstraint("household_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 = first card; >1 only when duplicates allowed
    camp_id: Mapped[int] = mapped_column(ForeignKey("camp.id"))
    card_serial: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[IssuanceState] = mapped_column(_enum(IssuanceState), default=IssuanceState.INTENT)
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filled from the FKO card's answer (or, after a crash, from its ledger): the card's own record.
    fko_serial: Mapped[str] = mapped_column(String(32), default="")
    issuance_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data_hash: Mapped[str] = mapped_column(String(64), default="")
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fko_counter_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    household: Mapped[Household] = relationship(back_populates="issuances")


class Form(Base):
    """An exclusion or grievance form filled in at the camp, sent back to the district."""

    __tablename__ = "form"
    id: Mapped[int] = mapped_column(primary_key=True)
    camp_id: Mapped[int] = mapped_column(ForeignKey("camp.id"))
    kind: Mapped[FormKind] = mapped_column(_enum(FormKind))
    applicant_name: Mapped[str] = mapped_column(String(120))
    village_code: Mapped[str] = mapped_column(String(16))
    urn: Mapped[str] = mapped_column(String(24), default="")  # when the complaint is about a listed household
    members_claimed: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[str] = mapped_column(Text, default="")
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only log of state changes, each row carrying the hash of the one before (see audit.py)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    # Stored as ISO text so the hash input round-trips byte-for-byte on every back end.
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    """Station-wide values that must live with the data (schema of the key wrapping, station id)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
