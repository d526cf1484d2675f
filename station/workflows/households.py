"""Finding a household on the list and applying the scheme's rules to its details.

Rules (DOMAIN.md): only listed households enrol; the head's name is locked; dependants' details may
be corrected; at most five members are insured and the head always is; one card per household unless
the district allows a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from station.errors import NotFound, RuleViolation
from station.households import MAX_INSURED
from station.storage import audit
from station.storage.models import (
    CaptureKind,
    Gender,
    Household,
    HouseholdStatus,
    IssuanceState,
    Member,
    Relationship,
    Village,
)
from station.workflows.session import CampContext

EDITABLE = (HouseholdStatus.LISTED, HouseholdStatus.ENROLLING, HouseholdStatus.CAPTURED)


@dataclass(frozen=True)
class MemberView:
    id: int
    seq: int
    name: str
    name_local: str
    gender: Gender
    year_of_birth: int
    relationship: Relationship
    insured: bool
    edited: bool
    has_photo: bool
    fingers: tuple[int, ...]  # ISO positions captured
    exceptions: tuple[str, ...]  # "finger:poor_quality", ...

    @property
    def complete(self) -> bool:
        """Photo (or a photo exception) and two fingers (or a finger exception)."""
        photo = self.has_photo or any(e.startswith("photo:") for e in self.exceptions)
        fingers = len(self.fingers) >= 2 or any(e.startswith("finger:") for e in self.exceptions)
        return photo and fingers


@dataclass(frozen=True)
class HouseholdView:
    id: int
    urn: str
    village_code: str
    village_name: str
    guardian_name: str
    insurer: str
    policy_start: date
    policy_end: date
    status: HouseholdStatus
    needs_selection: bool
    members: tuple[MemberView, ...]
    cards_issued: int

    @property
    def head(self) -> MemberView:
        return self.members[0]

    @property
    def insured(self) -> tuple[MemberView, ...]:
        return tuple(m for m in self.members if m.insured)


@dataclass(frozen=True)
class HouseholdSummary:
    urn: str
    head_name: str
    head_name_local: str
    village_code: str
    members: int
    status: HouseholdStatus


def _member_view(m: Member) -> MemberView:
    fingers = sorted({c.finger for c in m.captures if c.kind is CaptureKind.FINGER})
    return MemberView(
        m.id, m.seq, m.name, m.name_local, m.gender, m.year_of_birth, m.relationship_, m.insured, m.edited,
        any(c.kind is CaptureKind.PHOTO for c in m.captures), tuple(fingers),
        tuple(f"{e.kind.value}:{e.reason.value}" for e in m.exceptions),
    )


def view(h: Household) -> HouseholdView:
    issued = sum(1 for i in h.issuances if i.state in (IssuanceState.AUTHORISED, IssuanceState.COMPLETE))
    return HouseholdView(
        h.id, h.urn, h.village.code, h.village.name, h.guardian_name, h.insurer, h.policy_start, h.policy_end,
        h.status, h.needs_selection, tuple(_member_view(m) for m in h.members), issued,
    )


def get_household(s: Session, urn: str) -> Household:
    h = s.scalar(select(Household).where(Household.urn == urn.strip().upper()))
    if h is None:
        raise NotFound(
            f"URN {urn} is not on this station's household list; only listed households can enrol — "
            "record an exclusion form if the family believes it is eligible"
        )
    return h


def load(ctx: CampContext, urn: str) -> HouseholdView:
    with ctx.db.transaction() as s:
        return view(get_household(s, urn))


def search(ctx: CampContext, text: str = "", village_code: str | None = None, limit: int = 50) -> tuple[HouseholdSummary, ...]:
    """By URN (prefix), member name (Latin or Devanagari, any part) or village code/name."""
    text = text.strip()
    with ctx.db.transaction() as s:
        q = select(Household).join(Household.village)
        if village_code:
            q = q.where(Village.code == village_code)
        if text:
            like = f"%{text.lower()}%"
            members = select(Member.household_id).where(
                or_(func.lower(Member.name).like(like), Member.name_local.like(f"%{text}%")))
            q = q.where(or_(Household.urn.like(f"{text.upper()}%"), Household.id.in_(members),
                            Village.code == text, func.lower(Village.name).like(like)))
        rows = s.scalars(q.order_by(Household.urn).limit(limit)).all()
        return tuple(HouseholdSummary(h.urn, h.head.name, h.head.name_local, h.village.code,
                                      sum(m.insured for m in h.members), h.status) for h in rows)


def _editable(h: Household) -> None:
    if h.status not in EDITABLE:
        raise RuleViolation(f"household {h.urn} is {h.status.value}; its details can no longer change")


def begin_enrolment(ctx: CampContext, urn: str) -> HouseholdView:
    """Open a listed household at this camp (the operator found it and the family is present)."""
    with ctx.db.transaction() as s:
        h = get_household(s, urn)
        if h.status is HouseholdStatus.ISSUED and not h.village.district.allow_duplicate_cards:
            raise RuleViolation(
                f"household {h.urn} already has a card; one card per household — a duplicate needs the district's permission"
            )
        if h.status in (HouseholdStatus.LISTED, HouseholdStatus.ISSUED):
            h.status = HouseholdStatus.ENROLLING
            audit.record(s, ctx.op.login, "household.enrol", f"household:{h.urn}", camp=ctx.camp_id)
        s.flush()
        return view(h)


def edit_member(ctx: CampContext, urn: str, seq: int, *, name: str | None = None, name_local: str | None = None,
                gender: Gender | None = None, year_of_birth: int | None = None,
                relationship: Relationship | None = None) -> HouseholdView:
    """Correct a dependant's details. The head's name and role are locked; nobody else becomes head."""
    with ctx.db.transaction() as s:
        h = get_household(s, urn)
        _editable(h)
        m = next((m for m in h.members if m.seq == seq), None)
        if m is None:
            raise NotFound(f"household {urn} has no member {seq}")
        head = m.relationship_ is Relationship.HEAD
        if head and (name is not None or name_local is not None):
            raise RuleViolation("the head's name is locked to the list; a wrong head's name goes on a grievance form")
        if relationship is not None and (head or relationship is Relationship.HEAD):
            raise RuleViolation("the head is fixed by the list; no member can become or stop being the head")
        changes: dict[str, object] = {}
        for key, value, attr in (("name", name, "name"), ("name_local", name_local, "name_local"),
                                 ("gender", gender, "gender"), ("year_of_birth", year_of_birth, "year_of_birth"),
                                 ("relationship", relationship, "relationship_")):
            if value is None:
                continue
            if isinstance(value, str):
                value = value.strip()
                if not value or len(value.encode()) > 120:
                    raise RuleViolation(f"{key} must be 1..120 UTF-8 bytes")
            if key == "year_of_birth" and not 1900 <= int(value) <= date.today().year:  # type: ignore[arg-type]
                raise RuleViolation(f"year of birth {value} is not plausible")
            if getattr(m, attr) != value:
                changes[key] = str(getattr(value, "value", value))
                setattr(m, attr, value)
        if changes:
            m.edited = True
            audit.record(s, ctx.op.login, "member.edit", f"household:{h.urn}", member=seq, fields=sorted(changes))
        s.flush()
        return view(h)


def set_insured(ctx: CampContext, urn: str, seqs: set[int]) -> HouseholdView:
    """Choose who is insured: the head plus up to four others."""
    with ctx.db.transaction() as s:
        h = get_household(s, urn)
        _editable(h)
        known = {m.seq for m in h.members}
        if not seqs <= known:
            raise NotFound(f"household {urn} has no member {sorted(seqs - known)}")
        if h.head.seq not in seqs:
            raise RuleViolation("the head is always insured")
        if len(seqs) > MAX_INSURED:
            raise RuleViolation(f"at most {MAX_INSURED} members can be insured; {len(seqs)} were chosen")
        for m in h.members:
            m.insured = m.seq in seqs
        h.needs_selection = False
        if h.status is HouseholdStatus.CAPTURED:
            h.status = HouseholdStatus.ENROLLING  # a newly chosen member may still need captures
        audit.record(s, ctx.op.login, "household.select", f"household:{h.urn}", insured=sorted(seqs))
        s.flush()
        return view(h)
