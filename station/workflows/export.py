"""Camp end: the signed, encrypted camp bundle for the district.

Layers, inside out:

1. **body** — canonical JSON (UTF-8, sorted keys): the camp, every household worked on with its
   members, photos and ISO 19794-2 templates (decrypted from the station store), its card issuances,
   the forms, the FKO card's certificate chain and its whole ledger as read from the card, and the head
   of the station's audit chain.
2. **signature** — the FKO card's signed ledger summary over the challenge ``SHA-256(body)[:16]``. The
   FKO card's P-256 key is certified by the district, so this one signature both proves the ledger
   (count, hash chain, counter) and binds the body to it; an FKO card has no "sign anything" command,
   and the station has no certified key of its own, so this is the signature a district can check.
3. **seal** — ``keymgmt.sealing.seal`` to the district certificate that signed the household list
   (ECDH P-256 + AES-256-GCM): only the district opens it; any changed byte fails.

``station.district.bundle`` opens, verifies and reconciles it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from keymgmt import sealing
from keymgmt.certs import encode_chain
from keymgmt.files import write_atomic
from keymgmt.issuance import encode_entries
from station.errors import WorkflowError
from station.storage import audit
from station.storage.models import Camp, CardIssuance, Form, Household, HouseholdList, HouseholdStatus
from station.trust import SchemeTrust
from station.workflows.capture import decrypt_member
from station.workflows.fko import FkoSession
from station.workflows.session import CampContext

FORMAT = "camp-bundle"
VERSION = 1


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def challenge_for(body: bytes) -> bytes:
    return hashlib.sha256(b"RSBY/camp-bundle/v1\x00" + body).digest()[:16]


def _iso(value: datetime | None) -> str | None:
    # SQLite hands timestamps back without their zone; they were written in UTC.
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _household(ctx: CampContext, h: Household) -> dict[str, Any]:
    members = []
    for m in h.members:
        bio = decrypt_member(ctx, m)
        quality = {c.finger: c.quality for c in m.captures}
        members.append({
            "seq": m.seq, "name": m.name, "name_local": m.name_local, "gender": m.gender.value,
            "year_of_birth": m.year_of_birth, "relationship": m.relationship_.value, "insured": m.insured,
            "edited": m.edited, "photo": b64(bio.photo),
            "fingers": [{"finger": f, "quality": quality.get(f, 0), "iso": b64(rec)} for f, rec in bio.fingers],
            "exceptions": [{"kind": e.kind.value, "reason": e.reason.value, "note": e.note,
                            "fingers_tried": e.fingers_tried} for e in m.exceptions],
        })
    district = h.village.district
    return {
        "urn": h.urn, "status": h.status.value, "scheme": h.scheme.code, "state_code": district.state_code,
        "district_code": district.code, "village_code": h.village.code, "guardian_name": h.guardian_name,
        "insurer": h.insurer, "policy_number": h.policy_number, "policy_start": h.policy_start.isoformat(),
        "policy_end": h.policy_end.isoformat(), "sum_insured": h.sum_insured, "members": members,
        "cards": [{
            "serial": i.card_serial, "number": i.number, "state": i.state.value, "duplicate": i.duplicate,
            "fko_serial": i.fko_serial, "issuance_number": i.issuance_number, "data_hash": i.data_hash,
            "authorised_at": _iso(i.authorised_at), "void_reason": i.void_reason,
        } for i in h.issuances],
    }


@dataclass(frozen=True)
class BundleResult:
    path: Path
    households: int
    cards: int
    ledger_entries: int
    sha256: str


def export_bundle(ctx: CampContext, fko: FkoSession, trust: SchemeTrust, out_dir: Path) -> BundleResult:
    """Write the sealed bundle for this camp and close the camp (one transaction for the bookkeeping)."""
    entries = fko.card.read_ledger()
    chain = fko.card.chain()
    with ctx.db.transaction() as s:
        camp = s.get(Camp, ctx.camp_id)
        if camp is None:
            raise WorkflowError("the camp is not on this station")
        touched = s.scalars(select(Household).where(Household.village_id == camp.village_id,
                                                    Household.status != HouseholdStatus.LISTED)
                            .order_by(Household.urn)).all()
        households = [_household(ctx, h) for h in touched]
        forms = [{"kind": f.kind.value, "applicant_name": f.applicant_name, "village_code": f.village_code,
                  "urn": f.urn, "members_claimed": f.members_claimed, "details": f.details,
                  "created_at": _iso(f.created_at)}
                 for f in s.scalars(select(Form).where(Form.camp_id == camp.id).order_by(Form.id))]
        list_sig = s.scalar(select(HouseholdList.signature).join(Household, Household.list_id == HouseholdList.id)
                            .where(Household.village_id == camp.village_id).limit(1))
        head = audit.verify_chain(s)
        closed = datetime.now(UTC)
        body = json.dumps({
            "format": FORMAT, "version": VERSION, "station_id": ctx.station_id, "exported_at": closed.isoformat(),
            "camp": {"code": camp.code, "village_code": camp.village.code, "opened_at": _iso(camp.opened_at)},
            "households": households, "forms": forms,
            "fko": {"serial": fko.serial.hex().upper(), "holder": fko.holder, "chain": b64(encode_chain(chain)),
                    "ledger": b64(encode_entries(entries))},
            "audit": {"events": head.events, "head": head.head},
        }, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if list_sig is None:
        raise WorkflowError("no household list for this camp's village; nothing to export")
    district = trust.district_signer_of(list_sig)
    summary = fko.card.ledger_summary(challenge_for(body))
    container = json.dumps({"body": b64(body), "summary": b64(summary.encode())}).encode("ascii")
    sealed = sealing.seal(container, district)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"camp-{camp.code}.bundle"
    write_atomic(path, sealed, mode=0o644)
    digest = hashlib.sha256(sealed).hexdigest()
    cards = sum(len(h["cards"]) for h in households)
    with ctx.db.transaction() as s:
        camp = s.get(Camp, ctx.camp_id)
        assert camp is not None
        camp.closed_at, camp.bundle_sha256 = closed, digest
        audit.record(s, ctx.op.login, "camp.export", f"camp:{camp.id}", sha256=digest, households=len(households),
                     cards=cards, ledger_entries=len(entries))
    return BundleResult(path, len(households), cards, len(entries), digest)


def read_cards_issued(ctx: CampContext) -> list[CardIssuance]:
    with ctx.db.transaction() as s:
        return list(s.scalars(select(CardIssuance).where(CardIssuance.camp_id == ctx.camp_id)))
