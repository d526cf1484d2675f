"""Import of a camp bundle at the district: open the seal, verify the FKO signature, reconcile.

Refused (``BundleError``, nothing imported) when: the seal does not open with this district's key
(another district's bundle, or any byte changed); the FKO card's certificate does not chain to the
scheme root or belongs to another district; the FKO summary does not sign this exact body; the ledger
fails ``keymgmt.issuance.verify_ledger`` (an entry edited, dropped or added).

Reconciliation compares the station's account with the FKO card's own ledger: every card the station
says was authorised must be in the ledger with the same URN, serial and family-data digest
(recomputed here from the bundle's members, photos and templates), and every ledger entry made at this
station since the camp opened must be a card in the bundle.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from keymgmt import hierarchy, sealing
from keymgmt.certs import Certificate, Role, decode_chain, verify_chain
from keymgmt.errors import KeyManagementError
from keymgmt.issuance import LedgerEntry, LedgerSummary, decode_entries, verify_ledger
from keymgmt.store import KeyStore
from station.cardfamily import PlainFamily, PlainMember, digest
from station.errors import BundleError
from station.workflows.export import FORMAT, VERSION, challenge_for

ISSUED_STATES = ("authorised", "complete")


@dataclass(frozen=True)
class CampBundle:
    body: dict[str, Any] = field(repr=False)
    fko: Certificate
    summary: LedgerSummary
    ledger: tuple[LedgerEntry, ...]

    @property
    def households(self) -> list[dict[str, Any]]:
        return self.body["households"]

    @property
    def issued_cards(self) -> list[tuple[str, dict[str, Any]]]:
        return [(h["urn"], c) for h in self.households for c in h["cards"] if c["state"] in ISSUED_STATES]


@dataclass(frozen=True)
class Reconciliation:
    cards_in_bundle: int
    matched: int
    ledger_entries_at_station: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise BundleError(f"the bundle's {what} is not valid base64; the bundle is damaged") from None


def open_bundle(path: Path, district_store: KeyStore, root: Certificate) -> CampBundle:
    district = hierarchy.district_certificate(district_store)
    try:
        plain = sealing.open_sealed(path.read_bytes(), district_store, hierarchy.DISTRICT_SIGNING, district)
    except sealing.SealingError as exc:
        raise BundleError(f"bundle {path.name} refused: {exc}") from None
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror}") from None
    try:
        container = json.loads(plain)
        body_bytes = _b64(container["body"], "body")
        summary = LedgerSummary.decode(_b64(container["summary"], "signature"))
        body = json.loads(body_bytes)
        chain = decode_chain(_b64(body["fko"]["chain"], "FKO certificates"))
        ledger = decode_entries(_b64(body["fko"]["ledger"], "FKO ledger"))
    except (KeyError, TypeError, ValueError, KeyManagementError) as exc:
        raise BundleError(f"bundle {path.name} is malformed ({type(exc).__name__}: {exc})") from None
    if body.get("format") != FORMAT or body.get("version") != VERSION:
        raise BundleError(f"bundle {path.name} is not a version-{VERSION} camp bundle")
    try:
        fko = verify_chain(chain, root, summary_time(ledger))
    except KeyManagementError as exc:
        raise BundleError(f"bundle {path.name} refused: the FKO certificate is not valid ({exc})") from None
    if fko.role is not Role.FKO_CARD or fko.district_code != district.district_code:
        raise BundleError(f"bundle {path.name} refused: signed by {fko.subject}, not an FKO card of this district")
    try:
        verify_ledger(ledger, summary, fko, challenge_for(body_bytes))
    except KeyManagementError as exc:
        raise BundleError(f"bundle {path.name} refused: {exc}") from None
    return CampBundle(body, fko, summary, ledger)


def summary_time(ledger: tuple[LedgerEntry, ...]) -> datetime | None:
    # The certificate must have been valid when the last card was authorised (None: now).
    return ledger[-1].time if ledger else None


def plain_family(h: dict[str, Any]) -> PlainFamily:
    members = tuple(
        PlainMember(m["name"], m["gender"], m["year_of_birth"], m["relationship"], _b64(m["photo"], "photo"),
                    tuple((f["finger"], _b64(f["iso"], "template")) for f in m["fingers"]))
        for m in h["members"] if m["insured"]
    )
    return PlainFamily(h["urn"], h["scheme"], h["state_code"], h["district_code"], h["village_code"], h["insurer"],
                       h["policy_number"], date.fromisoformat(h["policy_start"]), date.fromisoformat(h["policy_end"]),
                       h["sum_insured"], members)


def reconcile(bundle: CampBundle) -> Reconciliation:
    problems: list[str] = []
    by_serial = {e.card_serial.hex().upper(): e for e in bundle.ledger}
    matched = 0
    households = {h["urn"]: h for h in bundle.households}
    for urn, card in bundle.issued_cards:
        entry = by_serial.get(card["serial"])
        if entry is None:
            problems.append(f"card {card['serial']} of {urn} is not in the FKO ledger: it was never authorised")
            continue
        if entry.urn != urn:
            problems.append(f"card {card['serial']}: the ledger says URN {entry.urn}, the bundle {urn}")
            continue
        if entry.data_hash != digest(plain_family(households[urn])):
            problems.append(f"card {card['serial']} of {urn}: the family data differs from what the FKO signed")
            continue
        matched += 1
    opened = datetime.fromisoformat(bundle.body["camp"]["opened_at"]) if bundle.body["camp"].get("opened_at") else None
    if opened is not None and opened.tzinfo is None:
        opened = opened.replace(tzinfo=UTC)
    station = bundle.body["station_id"][:16]
    in_bundle = {c["serial"] for _, c in bundle.issued_cards}
    at_station = [e for e in bundle.ledger if e.station_id == station and (opened is None or e.time >= opened.replace(microsecond=0))]
    for e in at_station:
        if e.card_serial.hex().upper() not in in_bundle:
            problems.append(f"the FKO authorised card {e.card_serial.hex().upper()} for {e.urn} at this station, "
                            "but the bundle does not list it")
    # Keys the FKO card gave out without counting the card: each should be a card of this camp that was
    # never finished (voided, spoilt). Any other serial's key may have been taken for a copy.
    cards_here = {c["serial"] for h in bundle.households for c in h["cards"]}
    for serial in bundle.summary.open_keys:
        if serial.hex().upper() not in cards_here:
            problems.append(f"the FKO card gave out the key of card {serial.hex().upper()}, which no household of "
                            "this bundle holds: find it among the spoilt blanks or the FKO's other camps; if it "
                            "is an issued card, its key was taken for a copy")
    return Reconciliation(len(bundle.issued_cards), matched, len(at_station), tuple(problems))
