"""Admission and discharge on the family card: block, debit, release, transport allowance.

Each card transaction is one ``TRANSACT`` under secure messaging (policy balance and log record land
together or not at all, ``docs/card-profile.md``), bracketed by the database::

    1. intent row committed (amount, balance the card should end with)
    2. the card's TRANSACT                      <- a pulled card stops here or after; never in between
    3. the hospital card signs the statement    (serial, URN, amount, time, reference; its counter)
    4. row DONE with signature, in one transaction with the admission's new state

After a pull, :func:`resume` (run on the next check of that card) looks for the record in the card's
log: there → only steps 3-4 are left; absent → the transaction is written again from the card's
current balance. So the same money is never blocked or debited twice, and never lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from cardlib.errors import CardMuteError, CardRemovedError
from cardlib.family import TransactionRefused
from cardlib.model import LogKind, LogRecord
from station.errors import RuleViolation, WorkflowError
from station.hospital.desk import CardCheck, DeskContext, Verification, open_admissions
from station.hospital.models import (
    Admission,
    AdmissionState,
    CardTransaction,
    Claim,
    FlagKind,
    FraudFlag,
    TxnKind,
    TxnState,
    as_utc,
)
from station.hospital.rules import package
from station.storage import audit

LOG_KIND = {TxnKind.ADMISSION: LogKind.ADMISSION, TxnKind.DISCHARGE: LogKind.DISCHARGE,
            TxnKind.TRANSPORT: LogKind.TRANSPORT}
OPEN_STATES = (AdmissionState.BLOCKING, AdmissionState.ADMITTED, AdmissionState.DISCHARGING)


class CardPulled(WorkflowError):
    """The family card left the reader during a transaction; reinsert it and check it again (resume)."""


class FlagsRaised(RuleViolation):
    """The admission raises fraud flags; repeat with ``accept_flags=True`` (recorded and filed) or stop."""

    def __init__(self, flags: tuple[tuple[FlagKind, str], ...]) -> None:
        self.flags = flags
        super().__init__("; ".join(text for _, text in flags) + " — confirm to admit anyway (it is flagged to "
                         "the insurer), or choose another package")


@dataclass(frozen=True)
class AdmissionResult:
    ref: str
    package_code: str
    blocked: int  # paise
    balance_after: int
    flags: tuple[FlagKind, ...]


@dataclass(frozen=True)
class DischargeResult:
    ref: str
    final_amount: int
    released: int  # blocked minus final: back on the family's balance
    transport: int
    balance_after: int


def _ref(admission_id: int) -> str:
    return f"A{admission_id:06d}"


def _record(ctx: DeskContext, a: Admission, t: CardTransaction) -> LogRecord:
    return LogRecord(time=as_utc(t.at), kind=LOG_KIND[t.kind], place_id=ctx.rules.hospital_id, member=a.member_index,
                     policy_slot=a.policy_slot, amount=t.amount, balance_after=t.balance_after, reference=a.ref)


def _on_card(log: tuple[LogRecord, ...], place: str, ref: str, kind: LogKind) -> LogRecord | None:
    return next((r for r in reversed(log) if r.place_id == place and r.reference == ref and r.kind is kind), None)


def _expected_balance(balance: int, kind: TxnKind, amount: int, blocked: int) -> int:
    return balance + blocked - amount if kind is TxnKind.DISCHARGE else balance - amount


def _apply(ctx: DeskContext, check: CardCheck, txn_id: int) -> int:
    """Bring one transaction to DONE (write it on the card if the card lacks it, then sign); return balance."""
    with ctx.db.transaction() as s:
        t = s.get(CardTransaction, txn_id)
        assert t is not None
        a = t.admission
        if t.state is TxnState.DONE:
            return t.balance_after
        kind, amount, blocked, ref, slot = t.kind, t.amount, a.blocked, a.ref, a.policy_slot
    card = check.card
    try:
        found = _on_card(card.read_log(), ctx.rules.hospital_id, ref, LOG_KIND[kind])
        if found is None:
            policy = card.read_policies()[slot]
            if policy is None:
                raise RuleViolation(f"policy slot {slot + 1} on card {check.serial} is empty; cannot transact")
            balance = _expected_balance(policy.balance, kind, amount, blocked)
            with ctx.db.transaction() as s:
                t = s.get(CardTransaction, txn_id)
                assert t is not None
                t.balance_after = balance  # the card's balance may have moved since the intent (another hospital)
                record = _record(ctx, t.admission, t)
            card.transact(record)
        else:
            balance = found.balance_after
    except (CardRemovedError, CardMuteError) as exc:
        _audit_pull(ctx, check, ref, kind)
        raise CardPulled(f"card {check.serial} was pulled during the {kind.value} of {ref}; reinsert it and check it "
                         "again: the desk finishes the transaction from what the card holds") from exc
    signed_at = ctx.now()
    auth = ctx.hospital.authorise_debit(bytes.fromhex(check.serial), check.urn, amount, f"{kind.value}:{ref}",
                                        signed_at)
    with ctx.db.transaction() as s:
        t = s.get(CardTransaction, txn_id)
        assert t is not None
        t.state, t.balance_after, t.hospital_txn = TxnState.DONE, balance, auth.transaction
        t.signature, t.signed_at = auth.signature, signed_at
        t.admission.balance_after = balance
        audit.record(s, ctx.staff.login, f"hospital.{kind.value}", f"admission:{ref}", card=check.serial,
                     amount=amount, balance_after=balance, hospital_txn=auth.transaction)
    return balance


def _audit_pull(ctx: DeskContext, check: CardCheck, ref: str, kind: TxnKind) -> None:
    with ctx.db.transaction() as s:
        audit.record(s, ctx.staff.login, "hospital.card_pulled", f"admission:{ref}", card=check.serial,
                     kind=kind.value)


def admission_flags(ctx: DeskContext, check: CardCheck, member_index: int, code: str) -> tuple[tuple[FlagKind, str], ...]:
    """The fraud flags admitting ``member_index`` for package ``code`` would raise (shown before admitting)."""
    pkg = package(ctx.db, code)
    member = check.members[member_index]
    flags: list[tuple[FlagKind, str]] = []
    misfit = pkg.misfit(member.gender, member.age)
    if misfit:
        flags.append((FlagKind.PACKAGE_MISMATCH, f"{misfit} ({member.name}, {member.gender}, {member.age})"))
    with ctx.db.transaction() as s:
        occupied = len(s.scalars(select(Admission.id).where(Admission.state.in_(OPEN_STATES))).all())
    if occupied >= ctx.rules.beds:
        flags.append((FlagKind.BEDS_EXCEEDED, f"{occupied} patients already admitted in {ctx.rules.beds} beds"))
    elsewhere = [o for o in open_admissions(check.card.read_log()) if o.place_id != ctx.rules.hospital_id]
    if elsewhere:
        o = elsewhere[0]
        flags.append((FlagKind.OVERLAPPING_STAY, f"the card shows an open admission {o.reference} at hospital "
                      f"{o.place_id} since {o.time:%Y-%m-%d}"))
    return tuple(flags)


def admit(ctx: DeskContext, check: CardCheck, verification: Verification, code: str, *, preauth_ref: str = "",
          accept_flags: bool = False) -> AdmissionResult:
    """Block the package's rate on the card for the verified patient."""
    if verification.card_serial != check.serial:
        raise RuleViolation("the verification belongs to another card; verify the patient on this card")
    pkg = package(ctx.db, code)
    if pkg.preauth and not preauth_ref.strip():
        raise RuleViolation(f"package {pkg.code} needs the insurer's pre-authorisation: enter its number first")
    member = check.members[verification.member_index]
    flags = admission_flags(ctx, check, verification.member_index, code)
    with ctx.db.transaction() as s:
        busy = s.scalar(select(Admission.ref).where(Admission.card_serial == check.serial,
                                                    Admission.member_index == verification.member_index,
                                                    Admission.state.in_(OPEN_STATES)))
        if flags and not accept_flags:
            audit.record(s, ctx.staff.login, "hospital.admission_flagged", f"card:{check.serial}",
                         package=code, flags=[k.value for k, _ in flags])
    if busy:
        raise RuleViolation(f"{member.name} is already admitted here ({busy}); discharge first")
    if flags and not accept_flags:
        raise FlagsRaised(flags)
    policy = check.card.read_policies()[check.policy_slot]
    if policy is None or policy.balance < pkg.rate:
        have = policy.balance if policy else 0
        raise RuleViolation(f"the family's balance (Rs {have / 100:,.2f}) does not cover package {pkg.code} "
                            f"(Rs {pkg.rate / 100:,.2f}); ask the insurer for a pre-authorisation")
    now = ctx.now()
    with ctx.db.transaction() as s:
        a = Admission(ref="-", hospital_id=ctx.rules.hospital_id, card_serial=check.serial, urn=check.urn,
                      member_index=member.index, member_name=member.name, member_gender=member.gender,
                      member_age=member.age, policy_slot=check.policy_slot, policy_number=policy.policy_number,
                      package_code=pkg.code, preauth_ref=preauth_ref.strip(), blocked=pkg.rate,
                      verification=verification.method, attendant_index=verification.attendant_index,
                      staff=ctx.staff.login, admitted_at=now)
        s.add(a)
        s.flush()
        a.ref = _ref(a.id)
        t = CardTransaction(admission_id=a.id, kind=TxnKind.ADMISSION, amount=pkg.rate,
                            balance_after=policy.balance - pkg.rate, at=now)
        s.add(t)
        for kind, text in flags:
            s.add(FraudFlag(kind=kind, admission_id=a.id, card_serial=check.serial, staff=ctx.staff.login,
                            detail=text, at=now))
        for kind in verification.flags:
            s.add(FraudFlag(kind=kind, admission_id=a.id, card_serial=check.serial, staff=ctx.staff.login,
                            detail=f"admitted after verification by {verification.method.value}", at=now))
        s.flush()
        audit.record(s, ctx.staff.login, "hospital.admission_intent", f"admission:{a.ref}", card=check.serial,
                     member=member.index, package=pkg.code, amount=pkg.rate, verification=verification.method.value,
                     flags=[k.value for k, _ in flags])
        ref, txn_id, admission_id = a.ref, t.id, a.id
    try:
        balance = _apply(ctx, check, txn_id)
    except TransactionRefused as exc:
        _abandon(ctx, admission_id, str(exc))
        raise RuleViolation(str(exc)) from None
    with ctx.db.transaction() as s:
        a = s.get(Admission, admission_id)
        assert a is not None
        a.state = AdmissionState.ADMITTED
    return AdmissionResult(ref, pkg.code, pkg.rate, balance, tuple(k for k, _ in flags) + verification.flags)


def _abandon(ctx: DeskContext, admission_id: int, why: str) -> None:
    with ctx.db.transaction() as s:
        a = s.get(Admission, admission_id)
        assert a is not None
        a.state = AdmissionState.CANCELLED
        for t in a.transactions:
            if t.state is TxnState.INTENT:
                t.state = TxnState.ABANDONED
        audit.record(s, ctx.staff.login, "hospital.admission_cancelled", f"admission:{a.ref}", reason=why)


def transport_paid_this_year(ctx: DeskContext, check: CardCheck) -> int:
    """Transport allowance paid to this family in the policy year: the card's log (every hospital) and this
    hospital's own records (which outlive the card's 32-record log), each payment counted once."""
    start, end = check.policy.start, check.policy.end
    seen: dict[tuple[str, str], int] = {}
    for r in check.card.read_log():
        if r.kind is LogKind.TRANSPORT and r.policy_slot == check.policy_slot and start <= r.time.date() <= end:
            seen[(r.place_id, r.reference)] = r.amount
    with ctx.db.transaction() as s:
        rows = s.execute(select(Admission.ref, CardTransaction.amount, CardTransaction.at)
                         .join(CardTransaction, CardTransaction.admission_id == Admission.id)
                         .where(Admission.urn == check.urn, CardTransaction.kind == TxnKind.TRANSPORT,
                                CardTransaction.state == TxnState.DONE)).all()
    for ref, amount, at in rows:
        if start <= as_utc(at).date() <= end:
            seen[(ctx.rules.hospital_id, ref)] = amount
    return sum(seen.values())


def discharge(ctx: DeskContext, check: CardCheck, ref: str, final_amount: int, *, transport: bool = True
              ) -> DischargeResult:
    """Debit ``final_amount`` (≤ the blocked rate; the rest goes back to the family), pay the transport
    allowance within the per-visit and yearly caps, and queue the claim."""
    with ctx.db.transaction() as s:
        a = s.scalar(select(Admission).where(Admission.ref == ref))
        if a is None or a.card_serial != check.serial:
            raise RuleViolation(f"admission {ref} is not on card {check.serial}; check the reference")
        if a.state is not AdmissionState.ADMITTED:
            raise RuleViolation(f"admission {ref} is {a.state.value}; only an admitted patient can be discharged")
        if not 0 <= final_amount <= a.blocked:
            raise RuleViolation(f"the final amount must be between Rs 0 and the blocked Rs {a.blocked / 100:,.2f}; a "
                                "higher bill needs the insurer's pre-authorisation")
        blocked, admission_id = a.blocked, a.id
    policy = check.card.read_policies()[check.policy_slot]
    assert policy is not None
    after_debit = policy.balance + blocked - final_amount
    allowance = 0
    if transport:
        left = max(0, ctx.rules.transport_yearly_cap - transport_paid_this_year(ctx, check))
        allowance = min(ctx.rules.transport_per_visit, left, after_debit)
    now = ctx.now()
    with ctx.db.transaction() as s:
        a = s.get(Admission, admission_id)
        assert a is not None
        a.state, a.final_amount, a.transport_amount = AdmissionState.DISCHARGING, final_amount, allowance
        s.add(CardTransaction(admission_id=a.id, kind=TxnKind.DISCHARGE, amount=final_amount,
                              balance_after=after_debit, at=now))
        if allowance:
            s.add(CardTransaction(admission_id=a.id, kind=TxnKind.TRANSPORT, amount=allowance,
                                  balance_after=after_debit - allowance, at=now))
        audit.record(s, ctx.staff.login, "hospital.discharge_intent", f"admission:{ref}", card=check.serial,
                     final=final_amount, transport=allowance)
    balance = _finish(ctx, check, admission_id)
    return DischargeResult(ref, final_amount, blocked - final_amount, allowance, balance)


def _finish(ctx: DeskContext, check: CardCheck, admission_id: int) -> int:
    """Apply the admission's pending transactions in order and close it (claim queued on discharge)."""
    with ctx.db.transaction() as s:
        a = s.get(Admission, admission_id)
        assert a is not None
        pending = [t.id for t in a.transactions if t.state is TxnState.INTENT]
        balance = a.balance_after or 0
    for txn_id in pending:
        balance = _apply(ctx, check, txn_id)
    with ctx.db.transaction() as s:
        a = s.get(Admission, admission_id)
        assert a is not None
        if a.state is AdmissionState.BLOCKING:
            a.state = AdmissionState.ADMITTED
        elif a.state is AdmissionState.DISCHARGING:
            a.state, a.discharged_at = AdmissionState.DISCHARGED, ctx.now()
            s.add(Claim(admission_id=a.id, day=a.discharged_at.date()))
            audit.record(s, ctx.staff.login, "hospital.discharged", f"admission:{a.ref}", card=check.serial,
                         final=a.final_amount, transport=a.transport_amount, balance_after=a.balance_after)
        return a.balance_after if a.balance_after is not None else balance


def resume(ctx: DeskContext, check: CardCheck) -> tuple[str, ...]:
    """Finish every transaction this card's earlier visit left half-done (after a pull); return their refs."""
    with ctx.db.transaction() as s:
        rows = s.scalars(select(Admission).where(Admission.card_serial == check.serial,
                                                 Admission.state.in_((AdmissionState.BLOCKING,
                                                                      AdmissionState.DISCHARGING)))).all()
        todo = [(a.id, a.ref) for a in rows]
    for admission_id, ref in todo:
        try:
            _finish(ctx, check, admission_id)
        except TransactionRefused as exc:
            _abandon(ctx, admission_id, str(exc))
        with ctx.db.transaction() as s:
            audit.record(s, ctx.staff.login, "hospital.resumed", f"admission:{ref}", card=check.serial)
    return tuple(ref for _, ref in todo)


def admissions(ctx: DeskContext, card_serial: str | None = None) -> tuple[Admission, ...]:
    """Admissions of the hospital (or of one card), newest first — for the desk's lists."""
    with ctx.db.transaction() as s:
        q = select(Admission).order_by(Admission.id.desc())
        if card_serial is not None:
            q = q.where(Admission.card_serial == card_serial)
        rows = tuple(s.scalars(q))
        for a in rows:
            s.expunge(a)
        return rows

