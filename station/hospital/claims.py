"""Claims out: the daily signed claims file, its verification, and the merge at sync.

``claims-<hospital>-<YYYY-MM-DD>.json`` (UTF-8, canonical JSON: sorted keys, no spaces) and
``….json.sig`` (a ``keymgmt.signing`` document, purpose ``hospital-claims``, signed *by the hospital
card*, whose certificate chains to the scheme root). Each claim carries every card transaction with the
hospital card's own signed statement (``keymgmt.issuance.debit_digest``), so the insurer checks each
amount even inside an accepted file. Layout: see ``docs/hospital.md``.

The queue is the ``hospital_claim`` table: a claim is queued in the same database transaction that
closes the discharge, and marked filed only after the file and its signature are on disk (fsync,
atomic rename). A crash in between writes the same claims again on the next run — never fewer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from cardlib.authority import CLAIMS_PURPOSE
from keymgmt import ecc
from keymgmt.certs import Certificate, Role
from keymgmt.errors import KeyManagementError
from keymgmt.files import write_atomic
from keymgmt.issuance import debit_digest
from keymgmt.signing import SignedDocument, verify_document
from station.errors import StationError
from station.hospital.desk import DeskContext
from station.hospital.models import Claim, ClaimState, FlagKind, FraudFlag, TxnState, as_utc
from station.storage import audit
from station.trust import parse_signature

CLAIMS_FORMAT = "rsby-claims/1"


class ClaimsFileError(StationError):
    """A claims file that does not verify (altered, not signed by a hospital card, bad statement)."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class ClaimsFile:
    path: Path
    signature_path: Path
    claims: int
    flags: int
    day: date


def write_daily_claims(ctx: DeskContext, day: date, out_dir: Path) -> ClaimsFile:
    """File every queued claim discharged on or before ``day`` (days without a file are caught up)."""
    with ctx.db.transaction() as s:
        rows = s.scalars(select(Claim).where(Claim.state == ClaimState.QUEUED, Claim.day <= day)
                         .order_by(Claim.id)).all()
        claims = []
        for c in rows:
            a = c.admission
            flags = s.scalars(select(FraudFlag).where(FraudFlag.admission_id == a.id).order_by(FraudFlag.id)).all()
            claims.append({
                "ref": a.ref, "card_serial": a.card_serial, "urn": a.urn, "member_index": a.member_index,
                "member_name": a.member_name, "gender": a.member_gender, "age": a.member_age,
                "policy_slot": a.policy_slot, "policy_number": a.policy_number, "package": a.package_code,
                "preauth_ref": a.preauth_ref, "blocked": a.blocked, "final": a.final_amount,
                "transport": a.transport_amount, "balance_after": a.balance_after, "staff": a.staff,
                "verification": a.verification.value, "attendant_index": a.attendant_index,
                "admitted_at": _iso(a.admitted_at), "discharged_at": _iso(a.discharged_at),
                "flags": [{"kind": f.kind.value, "detail": f.detail} for f in flags],
                "transactions": [{
                    "kind": t.kind.value, "amount": t.amount, "balance_after": t.balance_after,
                    "card_time": _iso(t.at), "signed_at": _iso(t.signed_at), "hospital_txn": t.hospital_txn,
                    "signature": (t.signature or b"").hex(),
                } for t in a.transactions if t.state is TxnState.DONE],
            })
        # Flags not tied to one admission (repeated overrides) go into the first file after them, once.
        desk_flags = [f for f in s.scalars(select(FraudFlag).where(FraudFlag.admission_id.is_(None),
                                                                   FraudFlag.file_name == "")
                                           .order_by(FraudFlag.id)) if as_utc(f.at).date() <= day]
        other = [{"kind": f.kind.value, "card_serial": f.card_serial, "staff": f.staff, "detail": f.detail,
                  "at": _iso(f.at)} for f in desk_flags]
        ids, flag_ids = [c.id for c in rows], [f.id for f in desk_flags]
    body = {"format": CLAIMS_FORMAT, "hospital_id": ctx.rules.hospital_id,
            "hospital_card": ctx.hospital_serial.hex().upper(), "day": day.isoformat(), "claims": claims,
            "desk_flags": other}
    payload = canonical(body)
    signed_at, signature = ctx.hospital.sign_claims(ecc.sha256(payload), ctx.now())
    doc = SignedDocument(CLAIMS_PURPOSE, signed_at, ecc.sha256(payload), signature, ctx.hospital.chain())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"claims-{ctx.rules.hospital_id}-{day.isoformat()}.json"
    sig = path.with_name(path.name + ".sig")
    write_atomic(path, payload, mode=0o644)
    write_atomic(sig, doc.to_text().encode("ascii"), mode=0o644)
    with ctx.db.transaction() as s:
        for c in s.scalars(select(Claim).where(Claim.id.in_(ids))):
            c.state, c.file_name = ClaimState.FILED, path.name
        for f in s.scalars(select(FraudFlag).where(FraudFlag.id.in_(flag_ids))):
            f.file_name = path.name
        audit.record(s, ctx.staff.login, "hospital.claims_filed", f"claims:{path.name}", claims=len(ids),
                     sha256=ecc.sha256(payload).hex())
    return ClaimsFile(path, sig, len(claims), sum(len(c["flags"]) for c in claims) + len(other), day)


@dataclass(frozen=True)
class VerifiedClaims:
    hospital_id: str
    hospital_card: Certificate
    day: str
    claims: tuple[dict, ...]
    desk_flags: tuple[dict, ...]


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def verify_claims_file(path: Path, root: Certificate) -> VerifiedClaims:
    """The insurer's check: the file is the hospital card's, unaltered, and every statement verifies."""
    try:
        payload = path.read_bytes()
        doc = parse_signature(path.with_name(path.name + ".sig").read_bytes())
        signer = verify_document(payload, doc, root, purpose=CLAIMS_PURPOSE, roles=(Role.HOSPITAL_CARD,))
        body = json.loads(payload.decode("utf-8"))
    except OSError as exc:
        raise ClaimsFileError(f"cannot read {path.name} or its signature ({exc.strerror})") from None
    except (KeyManagementError, StationError) as exc:
        raise ClaimsFileError(f"{path.name} is refused: {exc}") from None
    except ValueError as exc:
        raise ClaimsFileError(f"{path.name} is not a claims file ({exc})") from None
    if body.get("format") != CLAIMS_FORMAT or body.get("hospital_card") != signer.card_serial.hex().upper():
        raise ClaimsFileError(f"{path.name} names another hospital card than the one that signed it")
    for claim in body["claims"]:
        for t in claim["transactions"]:
            digest = debit_digest(signer.card_serial, t["hospital_txn"], bytes.fromhex(claim["card_serial"]),
                                  claim["urn"], t["amount"], _parse_time(t["signed_at"]), f"{t['kind']}:{claim['ref']}")
            if not ecc.verify_digest(signer.public_key, digest, bytes.fromhex(t["signature"])):
                raise ClaimsFileError(f"{path.name}: the {t['kind']} statement of {claim['ref']} does not verify")
    return VerifiedClaims(body["hospital_id"], signer, body["day"], tuple(body["claims"]), tuple(body["desk_flags"]))


@dataclass(frozen=True)
class SyncFlag:
    kind: FlagKind
    card_serial: str
    detail: str
    claims: tuple[tuple[str, str], ...]  # (hospital id, admission ref)


@dataclass(frozen=True)
class SyncReport:
    files: int
    claims: int
    flags: tuple[SyncFlag, ...]


def merge_claims(paths: list[Path], root: Certificate) -> SyncReport:
    """Verify and merge claims files from many hospitals; flag the same card at two hospitals at once."""
    stays: dict[str, list[tuple[str, str, datetime, datetime]]] = {}
    seen: set[tuple[str, str]] = set()
    flags: list[SyncFlag] = []
    for path in paths:
        verified = verify_claims_file(path, root)
        for claim in verified.claims:
            key = (verified.hospital_id, claim["ref"])
            if key in seen:
                continue  # the same claim filed again after a crash: counted once
            seen.add(key)
            start = _parse_time(claim["admitted_at"])
            end = _parse_time(claim["discharged_at"]) if claim["discharged_at"] else start
            for other_hospital, other_ref, o_start, o_end in stays.get(claim["card_serial"], []):
                if other_hospital != verified.hospital_id and start < o_end and o_start < end:
                    flags.append(SyncFlag(
                        FlagKind.OVERLAPPING_STAY, claim["card_serial"],
                        f"card {claim['card_serial']} was in hospital {other_hospital} ({other_ref}, "
                        f"{o_start:%Y-%m-%d %H:%M}-{o_end:%Y-%m-%d %H:%M}) and in {verified.hospital_id} "
                        f"({claim['ref']}, {start:%Y-%m-%d %H:%M}-{end:%Y-%m-%d %H:%M}) at the same time",
                        ((other_hospital, other_ref), key)))
            stays.setdefault(claim["card_serial"], []).append((verified.hospital_id, claim["ref"], start, end))
    return SyncReport(len(paths), len(seen), tuple(flags))
