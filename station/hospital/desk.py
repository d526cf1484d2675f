"""The insurance desk: staff login with the hospital card, the family card's authenticity check, and
who the patient is (fingerprint against the card, with the fallbacks the field needs).

Flow (each step a function; the UI calls them off its thread, tests and the demo call them directly)::

    ctx   = open_desk(db, data_dir, trust, rules, hospital_reader, login, password, pin)
    check = check_card(ctx, family_reader)            # ≤ 1 s: keys, signature, revocation, policy
    v     = verify_member(ctx, check, i, scanner)     # finger 1 (retries), then finger 2
    v     = v or verify_attendant(ctx, check, i, j, scanner)            # another member vouches
    v     = v or override(ctx, check, i, supervisor, password, photo, reason)
    treatment.admit(ctx, check, v, "SUR001")

Every attempt, success and refusal writes an audit row (who, what, which card, why); no template,
score image or photo is ever logged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from biometrics import cardtemplate, matching
from biometrics.errors import CaptureError
from biometrics.fingers import FingerPosition
from biometrics.scanner import Scanner
from biometrics.scanner_errors import ScannerError
from cardlib.authority import HospitalCard
from cardlib.errors import CardError, VerificationFailed
from cardlib.family import FamilyCard, NotAFamilyCard, family_digest
from cardlib.family_profile import Lifecycle
from cardlib.model import Family, LogKind, LogRecord, Policy, utc_now
from cardlib.secure import AuthenticationFailed
from cardlib.transport import Transport
from keymgmt.certs import Certificate
from keymgmt.errors import KeyManagementError
from keymgmt.issuance import verify_issuance
from station.errors import AuthenticationError, RuleViolation, StationError
from station.hospital.models import FlagKind, FraudFlag, Override, VerifyMethod
from station.hospital.rules import HospitalRules
from station.hospital.trust import HospitalTrust
from station.storage import Database, audit
from station.storage.models import Role
from station.workflows.jobs import ProgressFn
from station.workflows.session import OperatorSession, login

Clock = Callable[[], datetime]
# (member index, finger, attempt number): the UI shows "place <finger> of <member>"; the demo places it.
FingerPrompt = Callable[[int, FingerPosition, int], None]
GENDER_CODE = {1: "M", 2: "F", 3: "T"}
MIN_REASON = 10


class CardRefused(StationError):
    """The family card failed the authenticity check; ``reason`` says which check (see RefusalReason)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class DeskContext:
    """A logged-in desk: who works it, the unlocked hospital card, the rules and trust in force."""

    db: Database
    staff: OperatorSession
    hospital: HospitalCard = field(repr=False)
    hospital_serial: bytes
    hospital_certificate: Certificate
    rules: HospitalRules
    trust: HospitalTrust
    data_dir: Path
    clock: Clock = utc_now

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)


def _audit(ctx: DeskContext, action: str, entity: str, **detail: object) -> None:
    with ctx.db.transaction() as s:
        audit.record(s, ctx.staff.login, action, entity, **detail)


def open_desk(db: Database, data_dir: Path, trust: HospitalTrust, rules: HospitalRules, hospital_reader: Transport,
              staff_login: str, password: str, pin: str, clock: Clock = utc_now) -> DeskContext:
    """Staff password, then the hospital card: certificate to the scheme root, not revoked, PIN."""
    staff = login(db, data_dir, staff_login, password)
    if staff.role not in (Role.HOSPITAL_STAFF, Role.SUPERVISOR):
        raise AuthenticationError(f"{staff_login} is not hospital staff; ask the hospital's supervisor for a desk login")
    card = HospitalCard(hospital_reader)
    try:
        info = card.select()
        cert = card.verified_certificate(trust.root, at=clock(), revocation=trust.revocations)
        card.verify_pin(pin)
        if trust.revocations is not None and info.revocation_sequence < trust.revocations.sequence:
            # The card refuses revoked family cards itself too, so give it the desk's newest list.
            card.install_revocation_list((data_dir / "revocation.rl").read_bytes())
    except VerificationFailed as exc:
        with db.transaction() as s:
            audit.record(s, staff_login, "hospital.pin_refused", "hospital-card", tries_left=exc.tries_left)
        raise AuthenticationError(f"the hospital card's PIN was wrong ({exc.tries_left} tries left before it "
                                  "blocks)") from None
    except (CardError, OSError) as exc:
        with db.transaction() as s:
            audit.record(s, staff_login, "hospital.card_refused", "hospital-card", reason=type(exc).__name__)
        raise AuthenticationError(f"the card in the hospital reader cannot open the desk: {exc}") from None
    with db.transaction() as s:
        audit.record(s, staff_login, "hospital.login", f"hospital:{rules.hospital_id}", card=info.serial.hex().upper(),
                     certificate=cert.subject)
    return DeskContext(db, staff, card, info.serial, cert, rules, trust, data_dir, clock)


# --- the card check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    """One insured member as the desk shows them (photo and name to choose the patient)."""

    index: int
    name: str
    gender: str  # "M" / "F" / "T"
    age: int
    relationship: str
    photo: bytes = field(repr=False)
    fingers: tuple[FingerPosition, ...]


@dataclass(frozen=True)
class OpenAdmission:
    """An admission on the card's log without its discharge (here or at another hospital)."""

    place_id: str
    reference: str
    member_index: int | None
    amount: int
    time: datetime


@dataclass(frozen=True)
class CardCheck:
    """A family card that passed every check; ``card`` keeps the secure session for the transactions."""

    serial: str
    urn: str
    members: tuple[MemberView, ...]
    policy_slot: int
    policy: Policy
    issued_by: str  # the FKO certificate's subject
    open_admissions: tuple[OpenAdmission, ...]
    seconds: float  # software time of the check, insertion to verdict
    family: Family = field(repr=False, compare=False)
    card: FamilyCard = field(repr=False, compare=False)

    @property
    def balance(self) -> int:
        return self.policy.balance


def open_admissions(log: tuple[LogRecord, ...]) -> tuple[OpenAdmission, ...]:
    closed = {(r.place_id, r.reference) for r in log if r.kind is LogKind.DISCHARGE}
    return tuple(OpenAdmission(r.place_id, r.reference, r.member, r.amount, r.time) for r in log
                 if r.kind is LogKind.ADMISSION and (r.place_id, r.reference) not in closed)


def _policy_in_force(family: Family, today: datetime) -> tuple[int, Policy] | None:
    for slot, policy in enumerate(family.policies):
        if policy is not None and policy.start <= today.date() <= policy.end:
            return slot, policy
    return None


def check_card(ctx: DeskContext, reader: Transport, progress: ProgressFn | None = None) -> CardCheck:
    """Everything that makes a family card acceptable, offline; raises :class:`CardRefused` naming the check."""
    started = time.perf_counter()
    step = progress or (lambda done, total, message: None)
    card = FamilyCard(reader)
    serial = "?"

    def refuse(reason: str, message: str) -> CardRefused:
        _audit(ctx, "hospital.card_refused", f"card:{serial}", reason=reason)
        return CardRefused(reason, message)

    try:
        step(0, 4, "Reading the card")
        try:
            info = card.select()
        except NotAFamilyCard:
            raise refuse("not_family_card", "this is not a family card of the scheme; ask for the RSBY card") from None
        serial = str(info.serial)
        if ctx.trust.family_card_revoked(info.serial.value):
            raise refuse("revoked", f"card {serial} is on the district's revocation list: refuse it, keep it and "
                         "send the family to the district kiosk")
        if info.lifecycle is not Lifecycle.ACTIVATED:
            raise refuse("not_activated", f"card {serial} was never authorised by an FKO (it is "
                         f"{info.lifecycle.name.lower()}): it is not a valid card")
        family = card.read()
        activation = card.read_activation()
        step(1, 4, "Checking the card's keys")
        try:
            card.authenticate(ctx.hospital)
        except AuthenticationFailed as exc:
            if "revocation" in str(exc):
                raise refuse("revoked", f"card {serial} is on the hospital card's revocation list: refuse it") from None
            raise refuse("forged", f"card {serial} failed the key check: it is forged or cloned. Do not treat on "
                         "it; inform the district") from None
        step(2, 4, "Checking the issuer's signature")
        issuance = family.issuance
        if issuance is None or activation is None or issuance.authority_serial != activation.authority_serial:
            raise refuse("unsigned", f"card {serial} carries no FKO signature of its issuance; send the family to the "
                         "district kiosk for a new card")
        fko = ctx.trust.fko_certificate(issuance.authority_serial.value)
        if fko is None:
            raise refuse("unknown_issuer", f"card {serial} was issued by FKO card {issuance.authority_serial}, which "
                         "is not in the hospital's FKO directory; load the district's newest directory")
        try:
            verify_issuance(fko, family.urn.value, info.serial.value, issuance.station_id, issuance.time,
                            family_digest(family), issuance.signature)
        except KeyManagementError:
            raise refuse("tampered", f"card {serial}: the family data does not match the FKO's signature "
                         "(altered card). Do not treat on it; inform the district") from None
        step(3, 4, "Checking the policy")
        found = _policy_in_force(family, ctx.now())
        if found is None:
            raise refuse("no_policy", f"card {serial} has no policy in force today; the family must renew at the "
                         "district kiosk")
    except CardError as exc:
        _audit(ctx, "hospital.card_refused", f"card:{serial}", reason=type(exc).__name__)
        raise CardRefused("card_error", f"the family card could not be read ({exc}); reinsert it") from None
    except ValueError as exc:  # TLV or value that the profile does not allow: a damaged or foreign card
        _audit(ctx, "hospital.card_refused", f"card:{serial}", reason="damaged")
        raise CardRefused("damaged", f"card {serial} holds data the scheme's format does not allow ({exc}); "
                          "send the family to the district kiosk") from None
    slot, policy = found
    year = ctx.now().year
    members = tuple(
        MemberView(i, m.name, GENDER_CODE[int(m.gender)], year - m.year_of_birth, m.relationship.name.lower(),
                   m.photo, tuple(FingerPosition(f.position) for f in m.fingers))
        for i, m in enumerate(family.members)
    )
    seconds = time.perf_counter() - started
    step(4, 4, "Card accepted")
    result = CardCheck(serial, family.urn.value, members, slot, policy, fko.subject, open_admissions(family.log),
                       seconds, family, card)
    _audit(ctx, "hospital.card_checked", f"card:{serial}", urn=result.urn, balance=policy.balance,
           seconds=round(seconds, 3), open_admissions=len(result.open_admissions))
    return result


# --- who the patient is -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FingerAttempt:
    member_index: int
    finger: FingerPosition
    matched: bool
    score: float
    problem: str = ""  # capture failure (poor quality, timeout) instead of a comparison


@dataclass(frozen=True)
class Verification:
    """How the patient was identified; ``admit`` takes it as proof."""

    card_serial: str
    member_index: int
    method: VerifyMethod
    attempts: tuple[FingerAttempt, ...]
    attendant_index: int | None = None
    override_id: int | None = None
    flags: tuple[FlagKind, ...] = ()
    seconds: float = 0.0


def try_finger(ctx: DeskContext, check: CardCheck, member_index: int, finger: FingerPosition, scanner: Scanner,
               timeout: float = 10.0) -> FingerAttempt:
    """One capture of ``finger`` compared with the member's template of that finger on the card."""
    slot = next((f for f in check.family.members[member_index].fingers if f.position == finger), None)
    if slot is None:
        raise RuleViolation(f"the card holds no template of {finger.label} for this member")
    try:
        capture = scanner.capture_template(timeout)
    except (CaptureError, ScannerError) as exc:
        attempt = FingerAttempt(member_index, finger, False, 0.0, problem=type(exc).__name__)
    else:
        result = matching.match(capture.template, cardtemplate.decode(slot.template))
        attempt = FingerAttempt(member_index, finger, result.matches(ctx.rules.match_fmr), round(result.score, 4))
    _audit(ctx, "hospital.finger", f"card:{check.serial}", member=member_index, finger=int(finger),
           matched=attempt.matched, score=attempt.score, problem=attempt.problem)
    return attempt


def _fingers(ctx: DeskContext, check: CardCheck, member_index: int, scanner: Scanner,
             prompt: FingerPrompt | None) -> tuple[bool, list[FingerAttempt]]:
    attempts: list[FingerAttempt] = []
    for finger in check.members[member_index].fingers:  # the first finger, then the other one
        for n in range(1, ctx.rules.finger_tries + 1):
            if prompt is not None:
                prompt(member_index, finger, n)
            attempts.append(try_finger(ctx, check, member_index, finger, scanner))
            if attempts[-1].matched:
                return True, attempts
    return False, attempts


def _check_member(check: CardCheck, index: int) -> None:
    if not 0 <= index < len(check.members):
        raise RuleViolation(f"member {index + 1} is not on card {check.serial} ({len(check.members)} members)")


def verify_member(ctx: DeskContext, check: CardCheck, member_index: int, scanner: Scanner,
                  prompt: FingerPrompt | None = None) -> Verification | None:
    """The patient's own fingers: each finger on the card, ``rules.finger_tries`` captures each.

    None when no capture matched (or the member has no templates): go on with an attendant or an override.
    """
    _check_member(check, member_index)
    started = time.perf_counter()
    ok, attempts = _fingers(ctx, check, member_index, scanner, prompt)
    if not ok:
        _audit(ctx, "hospital.verify_failed", f"card:{check.serial}", member=member_index, attempts=len(attempts))
        return None
    first = check.members[member_index].fingers[0]
    method = VerifyMethod.FINGER if attempts[-1].finger == first else VerifyMethod.OTHER_FINGER
    _audit(ctx, "hospital.verified", f"card:{check.serial}", member=member_index, method=method.value,
           attempts=len(attempts))
    return Verification(check.serial, member_index, method, tuple(attempts), seconds=time.perf_counter() - started)


def verify_attendant(ctx: DeskContext, check: CardCheck, patient_index: int, attendant_index: int, scanner: Scanner,
                     prompt: FingerPrompt | None = None) -> Verification | None:
    """Another insured member of the family proves their own finger and vouches for the patient."""
    _check_member(check, patient_index)
    _check_member(check, attendant_index)
    if attendant_index == patient_index:
        raise RuleViolation("the attendant must be another member of the family")
    started = time.perf_counter()
    ok, attempts = _fingers(ctx, check, attendant_index, scanner, prompt)
    _audit(ctx, "hospital.attendant" if ok else "hospital.attendant_failed", f"card:{check.serial}",
           member=patient_index, attendant=attendant_index, attempts=len(attempts))
    if not ok:
        return None
    return Verification(check.serial, patient_index, VerifyMethod.ATTENDANT, tuple(attempts), attendant_index,
                        seconds=time.perf_counter() - started)


def override(ctx: DeskContext, check: CardCheck, patient_index: int, supervisor_login: str, supervisor_password: str,
             photo: bytes, reason: str) -> Verification:
    """A supervisor accepts the patient without a fingerprint: their login, a photo of the patient now, a reason.

    The photo is stored encrypted; a staff member reaching ``rules.override_limit`` overrides within
    ``rules.override_window`` raises a REPEATED_OVERRIDES fraud flag (on the desk and in the claims file).
    """
    _check_member(check, patient_index)
    if len(reason.strip()) < MIN_REASON:
        raise RuleViolation(f"write the reason for the override (at least {MIN_REASON} characters)")
    if not photo.startswith(b"\xff\xd8"):
        raise RuleViolation("take a photo of the patient (JPEG) before the override")
    supervisor = login(ctx.db, ctx.data_dir, supervisor_login, supervisor_password)
    if supervisor.role is not Role.SUPERVISOR or supervisor.login == ctx.staff.login:
        raise AuthenticationError("an override needs another person: a supervisor's own login")
    now = ctx.now()
    flags: tuple[FlagKind, ...] = ()
    with ctx.db.transaction() as s:
        aad = f"override:{check.serial}:{patient_index}:{now.isoformat()}"
        row = Override(card_serial=check.serial, member_index=patient_index, staff=ctx.staff.login,
                       supervisor=supervisor.login, reason=reason.strip(),
                       photo_ciphertext=ctx.staff.cipher.encrypt(photo, aad), at=now)
        s.add(row)
        s.flush()
        since = now - ctx.rules.override_window
        count = s.scalar(select(func.count(Override.id)).where(Override.staff == ctx.staff.login,
                                                               Override.at >= since))
        audit.record(s, ctx.staff.login, "hospital.override", f"card:{check.serial}", member=patient_index,
                     supervisor=supervisor.login, override=row.id, reason=reason.strip())
        if count >= ctx.rules.override_limit:
            flags = (FlagKind.REPEATED_OVERRIDES,)
            s.add(FraudFlag(kind=FlagKind.REPEATED_OVERRIDES, card_serial=check.serial, staff=ctx.staff.login,
                            detail=f"{count} overrides by {ctx.staff.login} within {ctx.rules.override_window}", at=now))
            audit.record(s, ctx.staff.login, "hospital.flag", f"card:{check.serial}",
                         kind=FlagKind.REPEATED_OVERRIDES.value, overrides=count)
        override_id = row.id
    return Verification(check.serial, patient_index, VerifyMethod.OVERRIDE, (), override_id=override_id, flags=flags)

