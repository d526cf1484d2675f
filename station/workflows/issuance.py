"""Issuing the family card: personalise, FKO authorisation, activation, print — crash-safe.

The per-household state machine lives in ``card_issuance.state`` and ``household.status``::

    CAPTURED --intent(serial)--> ISSUING/INTENT --card written--> PERSONALISED
             --FKO counted + card activated--> AUTHORISED --printed--> COMPLETE, household ISSUED

The intent (with the blank card's serial) is committed **before** the card is touched, and each later
state right after the card step it records. After a crash or ``kill -9`` the job is simply run again:
it reads the card in the reader and the FKO card's ledger and continues from what the *cards* say —

* card still BLANK (the station died during personalisation; the card is tearing-safe): write it again;
* card PERSONALISED and the FKO ledger has no entry for its serial: authorise it now;
* card PERSONALISED and the ledger *has* the entry (died between the FKO counting and the activation):
  activate with the cryptogram recomputed from the card key and the ledger's issuance number — the
  FKO is never asked twice, so the counter drops once per household;
* card ACTIVATED: record it and print.

A different card in the reader while an earlier one is open: if the FKO ledger shows the earlier card
authorised, the new card is refused (one card per household); otherwise the earlier card is voided
(never activated, so it is not a valid card) and the new one is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from cardlib.family import FamilyCard, family_digest
from cardlib.family_profile import Lifecycle
from cardlib.model import Activation, CardSerial, Family, Issuance, utc_now
from cardlib.transport import Transport
from keymgmt import scp
from station.cardfamily import PlainFamily, PlainMember, to_card
from station.errors import RuleViolation, WorkflowError
from station.printing import CardFace, FaceMember, Receipt, ReceiptMember, render_card_face, render_receipt
from station.storage import audit
from station.storage.models import CardIssuance, Household, HouseholdStatus, IssuanceState
from station.workflows.capture import decrypt_member
from station.workflows.fko import FkoSession
from station.workflows.households import get_household, view
from station.workflows.jobs import Job, ProgressFn
from station.workflows.session import CampContext

OPEN = (IssuanceState.INTENT, IssuanceState.PERSONALISED, IssuanceState.AUTHORISED)
ISSUED = (IssuanceState.AUTHORISED, IssuanceState.COMPLETE)


@dataclass(frozen=True)
class IssuanceResult:
    urn: str
    card_serial: str
    issuance_number: int
    fko_counter_left: int
    card_pdf: Path
    receipt_pdf: Path
    resumed_from: IssuanceState | None  # None for a fresh issuance


def plain_family(ctx: CampContext, h: Household) -> PlainFamily:
    """The household's insured members with their decrypted captures, in list order (head first)."""
    members = []
    for m in h.members:
        if not m.insured:
            continue
        bio = decrypt_member(ctx, m)
        members.append(PlainMember(m.name, m.gender.value, m.year_of_birth, m.relationship_.value, bio.photo,
                                   bio.fingers))
    district = h.village.district
    return PlainFamily(h.urn, h.scheme.code, district.state_code, district.code, h.village.code, h.insurer,
                       h.policy_number, h.policy_start, h.policy_end, h.sum_insured, tuple(members))


class IssueCard(Job):
    """Write, authorise and print one household's card; run it again to resume after any failure."""

    STEPS = 6

    def __init__(self, ctx: CampContext, urn: str, family_reader: Transport, fko: FkoSession, out_dir: Path,
                 progress: ProgressFn | None = None) -> None:
        super().__init__(progress)
        self.ctx, self.urn, self.reader, self.fko, self.out_dir = ctx, urn, family_reader, fko, out_dir

    # -- the decision, one transaction -----------------------------------------------------------------
    def _claim(self, serial: CardSerial, lifecycle: Lifecycle) -> tuple[int, IssuanceState | None]:
        """Find or create this household's issuance for the card in the reader; return (id, resumed state)."""
        text = str(serial)
        ledger_serials: set[str] | None = None
        for _ in range(2):  # at most: once without the FKO ledger, once with it
            need_ledger = False
            with self.ctx.db.transaction() as s:
                h = get_household(s, self.urn)
                if h.status not in (HouseholdStatus.CAPTURED, HouseholdStatus.ISSUING):
                    raise RuleViolation(f"household {h.urn} is {h.status.value}; finish its captures before issuing")
                same = next((i for i in h.issuances if i.card_serial == text), None)
                if same is not None and same.state in OPEN:
                    return same.id, same.state
                if same is not None:
                    raise RuleViolation(f"card {text} was already {same.state.value} for this household; use another card")
                other = s.scalar(select(CardIssuance.id).where(CardIssuance.card_serial == text))
                if other is not None:
                    raise RuleViolation(f"card {text} belongs to another household; take it out and use a blank card")
                earlier = [i for i in h.issuances if i.state in OPEN]
                need_ledger = bool(earlier) and ledger_serials is None
            if need_ledger:
                # An earlier card is open: ask the FKO card (outside any transaction) whether it counted it.
                ledger_serials = {e.card_serial.hex().upper() for e in self.fko.card.read_ledger() if e.urn == self.urn}
                continue
            with self.ctx.db.transaction() as s:
                h = get_household(s, self.urn)
                earlier = [i for i in h.issuances if i.state in OPEN and i.card_serial != text]
                for e in earlier:
                    if e.state is IssuanceState.AUTHORISED or e.card_serial in (ledger_serials or set()):
                        raise RuleViolation(
                            f"card {e.card_serial} was already authorised for household {h.urn}; insert that card "
                            "to finish (one card per household)"
                        )
                    e.state, e.void_reason = IssuanceState.VOID, f"replaced by card {text} before authorisation"
                    audit.record(s, self.ctx.op.login, "card.void", f"household:{h.urn}", card=e.card_serial)
                done = [i for i in h.issuances if i.state in ISSUED]
                allowed = h.village.district.allow_duplicate_cards
                if done and not allowed:
                    raise RuleViolation(f"household {h.urn} already has card {done[0].card_serial}; one card per household")
                if lifecycle is not Lifecycle.BLANK:
                    raise RuleViolation(f"card {text} is not blank ({lifecycle.name.lower()}); insert a blank card")
                row = CardIssuance(household_id=h.id, number=len(h.issuances) + 1, camp_id=self.ctx.camp_id,
                                   card_serial=text, duplicate=bool(done), operator_id=self.ctx.op.operator_id)
                s.add(row)
                h.status = HouseholdStatus.ISSUING
                s.flush()
                audit.record(s, self.ctx.op.login, "card.intent", f"household:{h.urn}", card=text, number=row.number)
                return row.id, None
        raise WorkflowError("the household's issuance records changed while deciding; run the issuance again")

    def _family(self) -> Family:
        with self.ctx.db.transaction() as s:
            plain = plain_family(self.ctx, get_household(s, self.urn))
        try:
            return to_card(plain)
        except ValueError as exc:  # a stored template or photo that the card format cannot take
            raise WorkflowError(f"the stored captures of household {self.urn} cannot go on a card ({exc}); "
                                "nothing was written: re-capture the member named and issue again") from exc

    def _set_state(self, issuance_id: int, state: IssuanceState, **fields: object) -> None:
        with self.ctx.db.transaction() as s:
            row = s.get(CardIssuance, issuance_id)
            assert row is not None
            row.state = state
            for k, v in fields.items():
                setattr(row, k, v)
            audit.record(s, self.ctx.op.login, f"card.{state.value}", f"household:{self.urn}", card=row.card_serial,
                         **{k: v for k, v in fields.items() if k in ("issuance_number", "fko_counter_after")})

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> IssuanceResult:
        card = FamilyCard(self.reader)
        self.checkpoint(0, self.STEPS, "Reading the card in the family reader")
        info = card.select()
        # The family comes first: damaged stored data stops here, before any intent is recorded.
        family = self._family()
        digest = family_digest(family)
        issuance_id, resumed = self._claim(info.serial, info.lifecycle)
        serial = info.serial.value
        lifecycle = info.lifecycle

        if lifecycle is Lifecycle.BLANK:
            self.checkpoint(1, self.STEPS, "Writing the family card")
            key = self.fko.card.derive_card_key(serial)
            card.personalise(family, key)
            lifecycle = Lifecycle.PERSONALISED
            self._set_state(issuance_id, IssuanceState.PERSONALISED, data_hash=digest.hex())

        if lifecycle is Lifecycle.PERSONALISED:
            self.checkpoint(2, self.STEPS, "FKO authorisation")
            if family_digest(card.read()) != digest:
                raise WorkflowError(f"card {info.serial} holds other family data than this household's; keep it aside "
                                    "and issue on a blank card")
            entry = next((e for e in self.fko.card.read_ledger() if e.card_serial == serial and e.urn == self.urn), None)
            if entry is None:
                card.authenticate(self.fko.card)
                now = utc_now()
                station = self.ctx.station_id[:16]
                auth = self.fko.card.authorise_issuance(serial, self.urn, digest, station, now)
                number, cryptogram, when, signature = auth.number, auth.activation_cryptogram, now, auth.signature
            else:
                # The FKO counted this card before the crash: recompute the cryptogram, never count twice.
                key = self.fko.card.derive_card_key(serial)
                number, when, station, signature = entry.number, entry.time, entry.station_id, entry.signature
                cryptogram = scp.activation_cryptogram(key, serial, self.urn.encode("ascii"), number)
            self.checkpoint(3, self.STEPS, "Activating the card")
            # The FKO's signed issuance goes on the card with the activation: hospitals verify it offline.
            card.activate(Activation(CardSerial(self.fko.serial), number, when, cryptogram),
                          Issuance(station, CardSerial(self.fko.serial), when, signature))
            lifecycle = Lifecycle.ACTIVATED

        self.checkpoint(4, self.STEPS, "Checking the card")
        activation = card.read_activation()
        if activation is None or family_digest(card.read()) != digest:
            raise WorkflowError(f"card {info.serial} did not read back as this household's activated card; "
                                "keep it aside and run the issuance again")
        counter = self.fko.counter()
        with self.ctx.db.transaction() as s:
            row = s.get(CardIssuance, issuance_id)
            assert row is not None
            if row.state is not IssuanceState.AUTHORISED:
                row.state = IssuanceState.AUTHORISED
                row.fko_serial = activation.authority_serial.value.hex().upper()
                row.issuance_number = activation.issuance_number
                row.authorised_at = activation.time
                row.data_hash = digest.hex()
                row.fko_counter_after = counter
                audit.record(s, self.ctx.op.login, "card.authorised", f"household:{self.urn}", card=row.card_serial,
                             issuance_number=activation.issuance_number, fko_counter_after=counter)
        self.checkpoint(5, self.STEPS, "Printing the card face and the receipt")
        card_pdf, receipt_pdf = self._print(issuance_id, activation.time)
        with self.ctx.db.transaction() as s:
            row = s.get(CardIssuance, issuance_id)
            assert row is not None
            row.state = IssuanceState.COMPLETE
            h = get_household(s, self.urn)
            h.status = HouseholdStatus.ISSUED
            audit.record(s, self.ctx.op.login, "card.complete", f"household:{self.urn}", card=row.card_serial)
        self.checkpoint(self.STEPS, self.STEPS, "Card issued")
        return IssuanceResult(self.urn, str(info.serial), activation.issuance_number, counter, card_pdf, receipt_pdf,
                              resumed)

    def _print(self, issuance_id: int, issued_at: datetime) -> tuple[Path, Path]:
        with self.ctx.db.transaction() as s:
            h = get_household(s, self.urn)
            v = view(h)
            row = s.get(CardIssuance, issuance_id)
            assert row is not None
            head_photo = decrypt_member(self.ctx, h.head).photo
            from station.storage.models import Camp

            camp = s.get(Camp, self.ctx.camp_id)
            camp_code = camp.code if camp else str(self.ctx.camp_id)
            district = h.village.district
            today = date.today()
            insured = [m for m in v.members if m.insured]
            face = CardFace(
                scheme_code=h.scheme.code, scheme_name=h.scheme.name, urn=h.urn, card_serial=row.card_serial,
                village=f"{h.village.name} ({h.village.code})", district=district.name, insurer=h.insurer,
                policy_start=h.policy_start, policy_end=h.policy_end, head_photo=head_photo,
                members=tuple(FaceMember(m.name, m.name_local, m.relationship.value, m.gender.value,
                                         today.year - m.year_of_birth) for m in insured),
            )
            receipt = Receipt(
                scheme_name=h.scheme.name, urn=h.urn, head_name=v.head.name, head_name_local=v.head.name_local,
                guardian_name=h.guardian_name, village=face.village, card_serial=row.card_serial,
                issued_at=issued_at.astimezone(UTC), fko_name=self.fko.holder, fko_counter_left=row.fko_counter_after,
                camp_code=camp_code, station_id=self.ctx.station_id, operator=self.ctx.op.name, insurer=h.insurer,
                policy_start=h.policy_start, policy_end=h.policy_end,
                members=tuple(ReceiptMember(m.name, m.name_local, m.relationship.value, m.has_photo, len(m.fingers),
                                            ", ".join(e.split(":", 1)[1] for e in m.exceptions)) for m in insured),
            )
        folder = self.out_dir / self.urn
        return (render_card_face(face, folder / f"card-{face.card_serial}.pdf"),
                render_receipt(receipt, folder / f"receipt-{face.card_serial}.pdf"))
