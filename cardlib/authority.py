"""Authority cards (FKO, hospital, district desk): their APDU profile and the client of each.

The cards (``simulators/cards/{fko,hospital,district}.py``) and this client share the constants and
codecs below; ``docs/authentication.md`` describes the protocol. Every card holds a P-256 key made
on the card, certified at personalisation (``keymgmt.hierarchy.certify_authority_card``); secrets
(symmetric keys, PIN, fingerprint templates) go in once, at personalisation, and no command reads
them back.

* :class:`FkoCard` — unlock with the officer's fingerprint (matched on the card), authorise issuances
  (counter, signed ledger, activation cryptogram), act as the SAM for its district's family cards.
* :class:`HospitalCard` — PIN; SAM for family cards of every district; signs offline debits.
* :class:`DistrictCard` — PIN; SAM for its district; authorises unblock and recharge of FKO cards
  (:func:`recharge_fko`, :func:`unblock_fko` run the district-desk procedures).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

from cardlib import tlv
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardError, ConditionsNotSatisfied, VerificationFailed, raise_for_status
from cardlib.secure import AuthenticationFailed
from cardlib.transport import Transport
from keymgmt import issuance, scp
from keymgmt.certs import Certificate, Role, decode_chain, encode_chain, verify_chain
from keymgmt.errors import KeyManagementError
from keymgmt.hierarchy import (
    authority_admin_key,
    certify_authority_card,
    district_admin_master,
    district_family_master,
    root_certificate,
    scheme_family_master,
)
from keymgmt.revocation import RevocationList
from keymgmt.store import KeyStore

AID_PREFIX = bytes.fromhex("F052534259415554")  # F0 "RSBYAUT"
AIDS = {Role.FKO_CARD: AID_PREFIX + b"\x03", Role.HOSPITAL_CARD: AID_PREFIX + b"\x04", Role.DISTRICT_CARD: AID_PREFIX + b"\x05"}
CLA = 0x80

INS_SELECT, INS_VERIFY, INS_GET_CHALLENGE, INS_RESET_RETRY = 0xA4, 0x20, 0x84, 0x2C
INS_GET_DATA, INS_PERSONALISE = 0xCA, 0xDA
INS_AUTH_INIT, INS_AUTH_VERIFY, INS_AUTHORISE_DEBIT, INS_DERIVE_CARD_KEY = 0x50, 0x52, 0x54, 0x56
INS_ADMIN_AUTHORISE, INS_RECHARGE, INS_LEDGER_SUMMARY, INS_READ_LEDGER = 0x58, 0x5A, 0x5C, 0x5E
INS_AUTHORISE_ISSUANCE, INS_PUT_REVOCATION = 0x60, 0x62
INS_SIGN_CLAIMS = 0x64  # hospital card: sign a daily claims file (purpose fixed by the card)
CLAIMS_PURPOSE = "hospital-claims"
P2_INFO, P2_CHAIN, P2_ROOT = 0x01, 0x02, 0x03
P2_PIN, P2_FINGER = 0x80, 0x81
OP_UNBLOCK, OP_RECHARGE = 0x01, 0x02
MAX_TRIES_FINGER, MAX_TRIES_PIN = 5, 3
DEFAULT_ISSUANCES = 300
ADMIN_CHALLENGE_SIZE = 16
SW_REVOKED = 0x6983  # the card (or the family card named) is revoked: authentication refused


class Lifecycle(IntEnum):
    BLANK = 0
    ACTIVE = 1
    TERMINATED = 2  # revoked: refuses everything but GET DATA


class AuthorityCardError(CardError):
    """An authority-card operation was refused; the message says why and what to do."""


class LedgerRejected(AuthorityCardError):
    """The FKO card's ledger failed verification at the district desk: it was not recharged."""


# --- personalisation (tags of the PERSONALISE data) -------------------------------------------------
T_ROLE, T_HOLDER, T_DISTRICT, T_NOT_BEFORE, T_NOT_AFTER, T_CHAIN, T_ROOT = 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86
T_FAMILY_MASTER, T_ADMIN_MASTER, T_ADMIN_KEY, T_TEMPLATE1, T_PIN, T_COUNTER, T_HOLDER_ID = (
    0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D,
)
T_TEMPLATE2 = 0x8E
PERSO_TAGS = (T_ROLE, T_HOLDER, T_DISTRICT, T_NOT_BEFORE, T_NOT_AFTER, T_CHAIN, T_ROOT, T_FAMILY_MASTER,
              T_ADMIN_MASTER, T_ADMIN_KEY, T_TEMPLATE1, T_PIN, T_COUNTER, T_HOLDER_ID, T_TEMPLATE2)


@dataclass(frozen=True)
class Personalisation:
    """Everything written into an authority card at the district desk (or centrally for hospitals)."""

    role: Role
    holder: str
    holder_id: str
    district_code: str
    not_before: datetime
    not_after: datetime
    chain: tuple[Certificate, ...]
    root: Certificate
    family_master: bytes = field(repr=False)
    admin_master: bytes = field(default=b"", repr=False)  # district cards
    admin_key: bytes = field(default=b"", repr=False)  # FKO cards
    templates: tuple[bytes, ...] = field(default=(), repr=False)  # FKO cards: 1-2 templates
    pin: str = field(default="", repr=False)  # hospital and district cards
    issuances: int = DEFAULT_ISSUANCES

    def encode(self) -> bytes:
        items = [
            (T_ROLE, bytes((self.role,))), (T_HOLDER, self.holder.encode()), (T_HOLDER_ID, self.holder_id.encode("ascii")),
            (T_DISTRICT, self.district_code.encode("ascii")),
            (T_NOT_BEFORE, struct.pack(">I", int(self.not_before.timestamp()))),
            (T_NOT_AFTER, struct.pack(">I", int(self.not_after.timestamp()))),
            (T_CHAIN, b"".join(c.to_bytes() for c in self.chain)), (T_ROOT, self.root.to_bytes()),
            (T_FAMILY_MASTER, self.family_master), (T_COUNTER, struct.pack(">I", self.issuances)),
        ]
        if self.admin_master:
            items.append((T_ADMIN_MASTER, self.admin_master))
        if self.admin_key:
            items.append((T_ADMIN_KEY, self.admin_key))
        for tag, template in zip((T_TEMPLATE1, T_TEMPLATE2), self.templates, strict=False):
            items.append((tag, template))
        if self.pin:
            items.append((T_PIN, self.pin.encode("ascii")))
        return b"".join(tlv.encode(tag, value) for tag, value in items)


# --- card information (GET DATA 01) ------------------------------------------------------------------
I_SERIAL, I_ROLE, I_LIFECYCLE, I_PUBLIC_KEY, I_DISTRICT, I_HOLDER, I_HOLDER_ID = 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6
I_NOT_BEFORE, I_NOT_AFTER, I_TRIES, I_COUNTER, I_NEXT, I_COUNT, I_RL_SEQ, I_UNLOCKED, I_TXN = (
    0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF,
)


@dataclass(frozen=True, slots=True)
class AuthorityInfo:
    serial: bytes
    role: Role
    lifecycle: Lifecycle
    public_key: bytes
    district_code: str = ""
    holder: str = ""
    holder_id: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    tries_left: int = 0
    counter: int = 0  # FKO: issuances left
    next_number: int = 0  # FKO: number of the next issuance
    ledger_count: int = 0
    revocation_sequence: int = 0
    unlocked: bool = False
    transactions: int = 0  # hospital: debits signed

    def encode(self) -> bytes:
        ts = lambda d: struct.pack(">I", int(d.timestamp())) if d else b""  # noqa: E731
        items = [
            (I_SERIAL, self.serial), (I_ROLE, bytes((self.role,))), (I_LIFECYCLE, bytes((self.lifecycle,))),
            (I_PUBLIC_KEY, self.public_key), (I_DISTRICT, self.district_code.encode("ascii")),
            (I_HOLDER, self.holder.encode()), (I_HOLDER_ID, self.holder_id.encode("ascii")),
            (I_NOT_BEFORE, ts(self.not_before)), (I_NOT_AFTER, ts(self.not_after)),
            (I_TRIES, bytes((self.tries_left,))), (I_COUNTER, struct.pack(">I", self.counter)),
            (I_NEXT, struct.pack(">I", self.next_number)), (I_COUNT, struct.pack(">H", self.ledger_count)),
            (I_RL_SEQ, struct.pack(">I", self.revocation_sequence)), (I_UNLOCKED, bytes((self.unlocked,))),
            (I_TXN, struct.pack(">I", self.transactions)),
        ]
        return b"".join(tlv.encode(t, v) for t, v in items)

    @classmethod
    def decode(cls, raw: bytes) -> AuthorityInfo:
        try:
            d = tlv.children(raw)
            u32 = lambda t: struct.unpack(">I", d[t])[0]  # noqa: E731
            when = lambda t: datetime.fromtimestamp(u32(t), UTC) if d.get(t) else None  # noqa: E731
            return cls(
                d[I_SERIAL], Role(d[I_ROLE][0]), Lifecycle(d[I_LIFECYCLE][0]), d[I_PUBLIC_KEY],
                d[I_DISTRICT].decode("ascii"), d[I_HOLDER].decode(), d[I_HOLDER_ID].decode("ascii"),
                when(I_NOT_BEFORE), when(I_NOT_AFTER), d[I_TRIES][0], u32(I_COUNTER), u32(I_NEXT),
                struct.unpack(">H", d[I_COUNT])[0], u32(I_RL_SEQ), bool(d[I_UNLOCKED][0]), u32(I_TXN),
            )
        except (KeyError, ValueError, IndexError, struct.error) as exc:
            raise AuthorityCardError(f"the card's information is malformed ({type(exc).__name__}); not an authority card") from None


def encode_auth_init(district_code: str, serial: bytes, card_challenge: bytes) -> bytes:
    code = district_code.encode("ascii")
    return bytes((len(code),)) + code + serial + card_challenge


def encode_issuance_request(serial: bytes, urn: str, time: datetime, data_hash: bytes, station_id: str) -> bytes:
    sid = station_id.encode("ascii")
    return serial + urn.encode("ascii") + struct.pack(">I", int(time.timestamp())) + data_hash + bytes((len(sid),)) + sid


@dataclass(frozen=True, slots=True)
class IssuanceAuthorisation:
    """What the FKO card returns for one issuance: the number, the activation cryptogram, the signature."""

    number: int
    activation_cryptogram: bytes = field(repr=False)
    signature: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DebitAuthorisation:
    transaction: int
    signature: bytes = field(repr=False)


# --- clients ---------------------------------------------------------------------------------------------


class AuthorityCard:
    """Common client of the three authority cards. ``select()`` first (or use a subclass's ``open``)."""

    role: Role = Role.FKO_CARD

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._sam: tuple[bytes, str] | None = None

    def _send(self, apdu: CommandApdu, context: str, accept: tuple[int, ...] = ()) -> ResponseApdu:
        return raise_for_status(self.transport.transmit(apdu), context, accept)

    def select(self) -> AuthorityInfo:
        self._send(CommandApdu(0x00, INS_SELECT, 0x04, 0x00, AIDS[self.role]), f"selecting the {self.role.name} application")
        return self.info()

    def info(self) -> AuthorityInfo:
        return AuthorityInfo.decode(self._send(CommandApdu(CLA, INS_GET_DATA, 0, P2_INFO, ne=256), "reading card info").data)

    def chain(self) -> tuple[Certificate, ...]:
        raw = self._send(CommandApdu(CLA, INS_GET_DATA, 0, P2_CHAIN, ne=65536), "reading certificates").data
        return decode_chain(raw)

    def verified_certificate(self, root: Certificate, at: datetime | None = None,
                             revocation: RevocationList | None = None) -> Certificate:
        """The card's certificate, verified against ``root`` (and the revocation list) — or raise."""
        info = self.info()
        try:
            cert = verify_chain(self.chain(), root, at, revocation.certificate_revoked if revocation else None)
        except KeyManagementError as exc:
            raise AuthorityCardError(f"this authority card's certificate is not valid: {exc}") from None
        if cert.public_key != info.public_key or cert.card_serial != info.serial or cert.role is not self.role:
            raise AuthorityCardError("the certificate belongs to another card: this card is a copy or a forgery")
        return cert

    def personalise(self, perso: Personalisation) -> None:
        self._send(CommandApdu(CLA, INS_PERSONALISE, 0, 0, perso.encode()), "personalising the authority card")

    def verify_pin(self, pin: str) -> None:
        self._verify(P2_PIN, pin.encode("ascii"), "PIN")

    def _verify(self, p2: int, data: bytes, what: str) -> None:
        response = self.transport.transmit(CommandApdu(0x00, INS_VERIFY, 0, p2, data))
        if response.sw1 == 0x63:
            raise VerificationFailed(response.sw, f"{what} not accepted")
        raise_for_status(response, f"verifying the {what}")

    # -- SAM (the host half of docs/authentication.md) --------------------------------------------------
    def begin(self, serial: bytes, district_code: str, card_challenge: bytes) -> tuple[bytes, bytes]:
        data = encode_auth_init(district_code, serial, card_challenge)
        response = self.transport.transmit(CommandApdu(CLA, INS_AUTH_INIT, 0, 0, data, ne=16))
        if response.sw == SW_REVOKED:
            raise AuthenticationFailed("this family card is on the revocation list: refuse it and keep it")
        raise_for_status(response, "starting the family-card authentication")
        return response.data[:8], response.data[8:16]

    def complete(self, card_cryptogram: bytes) -> scp.SessionKeys:
        response = self.transport.transmit(CommandApdu(CLA, INS_AUTH_VERIFY, 0, 0, card_cryptogram, ne=48))
        if response.sw == 0x6300:
            raise AuthenticationFailed(
                "the family card's cryptogram is wrong: it does not hold the key of its serial (forged or cloned)"
            )
        raise_for_status(response, "checking the family card's cryptogram")
        return scp.SessionKeys.from_bytes(response.data)

    def derive_card_key(self, serial: bytes) -> bytes:
        """The new family card's key, for PUT KEY during personalisation (needs an unlocked card)."""
        return self._send(CommandApdu(CLA, INS_DERIVE_CARD_KEY, 0, 0, serial, ne=16), "deriving the card key").data

    def install_revocation_list(self, signed_list: bytes) -> int:
        """Give the card the newest signed list; returns its sequence. A card on it terminates itself."""
        self._send(CommandApdu(CLA, INS_PUT_REVOCATION, 0, 0, signed_list), "installing the revocation list")
        return self.info().revocation_sequence

    def get_challenge(self) -> bytes:
        return self._send(CommandApdu(0x00, INS_GET_CHALLENGE, 0, 0, ne=ADMIN_CHALLENGE_SIZE), "getting a challenge").data


class FkoCard(AuthorityCard):
    role = Role.FKO_CARD

    def unlock(self, template: bytes) -> None:
        """Send a fresh template; the card matches it against the officer's. 63Cx: wrong finger."""
        self._verify(P2_FINGER, template, "fingerprint")

    def authorise_issuance(
        self, serial: bytes, urn: str, data_hash: bytes, station_id: str, time: datetime | None = None
    ) -> IssuanceAuthorisation:
        """Count one issuance for the family card just authenticated (``FamilyCard.authenticate(fko)``)."""
        time = (time or datetime.now(UTC)).replace(microsecond=0)
        data = encode_issuance_request(serial, urn, time, data_hash, station_id)
        response = self.transport.transmit(CommandApdu(CLA, INS_AUTHORISE_ISSUANCE, 0, 0, data, ne=76))
        if response.sw == StatusWord.CONDITIONS_NOT_SATISFIED:
            raise AuthorityCardError(self._refusal_reason(time))
        raise_for_status(response, "authorising the issuance")
        return IssuanceAuthorisation(
            struct.unpack(">I", response.data[:4])[0], response.data[4:12], response.data[12:76]
        )

    def derive_card_key(self, serial: bytes) -> bytes:
        """As for any authority card, but the FKO card first records the serial as an *open key* until
        that card's issuance is counted, and refuses (6985) once 8 are open."""
        try:
            return super().derive_card_key(serial)
        except ConditionsNotSatisfied:
            # The open-key limit: tell the officer the remedy rather than the bare status word.
            raise AuthorityCardError(
                f"this FKO card has given out the keys of {issuance.OPEN_KEYS_MAX} cards it never issued "
                "(spoilt blanks): take them and the FKO card to the district desk for a recharge"
            ) from None

    def _refusal_reason(self, time: datetime) -> str:
        info = self.info()
        if info.lifecycle is Lifecycle.TERMINATED:
            return "this FKO card is revoked: it can authorise nothing; return it to the district"
        if info.counter == 0:
            return "this FKO card has no issuances left: recharge it at the district desk"
        if (info.not_after and time > info.not_after) or (info.not_before and time < info.not_before):
            return "this FKO card is outside its validity period: renew it at the district desk"
        if not info.unlocked:
            return "the FKO card is locked: the officer must unlock it with their fingerprint"
        return "authenticate the new family card with this FKO card first (same session), then authorise"

    def ledger_summary(self, challenge: bytes) -> issuance.LedgerSummary:
        raw = self._send(CommandApdu(CLA, INS_LEDGER_SUMMARY, 0, 0, challenge, ne=256), "reading the ledger summary").data
        return issuance.LedgerSummary.decode(raw)

    def read_ledger(self) -> tuple[issuance.LedgerEntry, ...]:
        entries: list[issuance.LedgerEntry] = []
        while True:
            raw = self._send(CommandApdu(CLA, INS_READ_LEDGER, len(entries) >> 8, len(entries) & 0xFF, ne=65536),
                             "reading the ledger").data
            if not raw:
                return tuple(entries)
            try:
                entries.extend(issuance.decode_entries(raw))
            except KeyManagementError as exc:
                raise LedgerRejected(f"the ledger on the card is damaged: {exc}") from None


class HospitalCard(AuthorityCard):
    role = Role.HOSPITAL_CARD

    def authorise_debit(
        self, serial: bytes, urn: str, amount: int, reference: str, time: datetime | None = None
    ) -> DebitAuthorisation:
        """Sign one debit of ``amount`` paise from the family card authenticated in this session."""
        time = (time or datetime.now(UTC)).replace(microsecond=0)
        ref = reference.encode("ascii")
        data = serial + urn.encode("ascii") + struct.pack(">QI", amount, int(time.timestamp())) + bytes((len(ref),)) + ref
        raw = self._send(CommandApdu(CLA, INS_AUTHORISE_DEBIT, 0, 0, data, ne=68), "authorising the debit").data
        return DebitAuthorisation(struct.unpack(">I", raw[:4])[0], raw[4:68])

    def sign_claims(self, payload_sha256: bytes, time: datetime | None = None) -> tuple[datetime, bytes]:
        """Sign a claims file (its SHA-256) as a ``hospital-claims`` document; returns (time, signature)."""
        time = (time or datetime.now(UTC)).replace(microsecond=0)
        data = struct.pack(">I", int(time.timestamp())) + payload_sha256
        raw = self._send(CommandApdu(CLA, INS_SIGN_CLAIMS, 0, 0, data, ne=64), "signing the claims file").data
        return time, raw


class DistrictCard(AuthorityCard):
    role = Role.DISTRICT_CARD

    def admin_authorise(self, target_serial: bytes, operation: int, challenge: bytes, params: bytes) -> bytes:
        data = target_serial + bytes((operation,)) + challenge + params
        return self._send(CommandApdu(CLA, INS_ADMIN_AUTHORISE, 0, 0, data, ne=16), "authorising the admin operation").data


def unblock_fko(fko: FkoCard, district: DistrictCard) -> None:
    """Reset the FKO card's fingerprint tries (the officer present at the district desk)."""
    serial = fko.info().serial
    mac = district.admin_authorise(serial, OP_UNBLOCK, fko.get_challenge(), b"")
    fko._send(CommandApdu(0x00, INS_RESET_RETRY, 0x03, P2_FINGER, mac), "unblocking the FKO card")


@dataclass(frozen=True)
class RechargeRecord:
    """What the district desk archived before resetting the counter."""

    path: Path
    entries: tuple[issuance.LedgerEntry, ...]
    summary: issuance.LedgerSummary


def recharge_params(issuances: int, summary: issuance.LedgerSummary) -> bytes:
    """What the district card authorises for RECHARGE: the new counter and the ledger state it was
    verified in (chain, next number, open keys), so the card refuses if anything changed since."""
    return (struct.pack(">I", issuances) + summary.chain + struct.pack(">I", summary.next_number)
            + bytes((len(summary.open_keys),)))


def recharge_fko(
    fko: FkoCard, district: DistrictCard, root: Certificate, archive_dir: Path, issuances: int = DEFAULT_ISSUANCES,
    spoilt: Collection[bytes] = (),
) -> RechargeRecord:
    """Read and verify the whole ledger, archive it, then reset the counter — or raise LedgerRejected.

    Every card key the FKO card gave out without counting that card (its *open keys*) must be in
    ``spoilt``: the serials of the spoilt blanks the officer hands in. An unexplained one may have
    been taken to copy a genuine card, and stops the recharge.
    """
    cert = fko.verified_certificate(root)
    chain = encode_chain(fko.chain())
    challenge = os.urandom(issuance.CHALLENGE_SIZE)
    summary = fko.ledger_summary(challenge)
    entries = fko.read_ledger()
    try:
        issuance.verify_ledger(entries, summary, cert, challenge)
    except KeyManagementError as exc:
        raise LedgerRejected(f"the FKO card's ledger does not verify, so it was not recharged: {exc}") from None
    unexplained = [k.hex().upper() for k in summary.open_keys if k not in set(spoilt)]
    if unexplained:
        raise LedgerRejected(
            f"the FKO card gave out the keys of {len(unexplained)} card(s) it never issued: {', '.join(unexplained)}. "
            "Collect those spoilt blanks and name them (--spoilt SERIAL); a serial that belongs to an issued "
            "card means its key was taken for a copy: report it and revoke that card"
        )
    blob = struct.pack(">I", len(summary.encode())) + summary.encode() + struct.pack(">I", len(chain)) + chain
    blob += issuance.encode_entries(entries)
    first = summary.next_number - summary.count
    path = _archive(archive_dir, f"ledger-{cert.card_serial.hex().upper()}-{first:08d}-{summary.count:03d}", blob)
    params = recharge_params(issuances, summary)
    mac = district.admin_authorise(cert.card_serial, OP_RECHARGE, fko.get_challenge(), params)
    fko._send(CommandApdu(CLA, INS_RECHARGE, 0, 0, params + mac), "recharging the FKO card")
    return RechargeRecord(path, entries, summary)


def _archive(folder: Path, stem: str, blob: bytes) -> Path:
    """Write ``blob`` durably under a new name in ``folder``: an archived ledger is never replaced
    (two recharges with no issuance between them would otherwise share a name)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{stem}.{os.getpid()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        for n in range(1, 10_000):
            path = folder / (f"{stem}.bin" if n == 1 else f"{stem}-{n}.bin")
            try:
                os.link(tmp, path)  # atomic, and fails instead of replacing an existing archive
            except FileExistsError:
                continue
            return path
    finally:
        tmp.unlink(missing_ok=True)
    raise LedgerRejected(f"{folder} already holds 9,999 archives named {stem}; archive them elsewhere first")


def verify_archive(path: Path, root: Certificate) -> tuple[Certificate, tuple[issuance.LedgerEntry, ...]]:
    """Re-verify an archived ledger file offline (reconciliation); raise LedgerRejected if edited."""
    try:
        raw = Path(path).read_bytes()
        (n,) = struct.unpack_from(">I", raw)
        summary = issuance.LedgerSummary.decode(raw[4 : 4 + n])
        (m,) = struct.unpack_from(">I", raw, 4 + n)
        chain = decode_chain(raw[8 + n : 8 + n + m])
        cert = verify_chain(chain, root, chain[0].not_before if chain else None)
        entries = issuance.decode_entries(raw[8 + n + m :])
        issuance.verify_ledger(entries, summary, cert, summary.challenge)
    except (OSError, struct.error, IndexError) as exc:
        raise LedgerRejected(f"cannot read the ledger archive {path}: {type(exc).__name__}") from None
    except KeyManagementError as exc:
        raise LedgerRejected(f"the ledger archive {path} does not verify (edited?): {exc}") from None
    return cert, entries


# --- personalisation at the district desk (or centrally, for hospital cards) -------------------------------


def _certify(card: AuthorityCard, issuer: KeyStore, holder: str, not_before: datetime, not_after: datetime):
    info = card.select()
    if info.lifecycle is not Lifecycle.BLANK:
        raise AuthorityCardError("this authority card is already personalised; use a blank card")
    chain = certify_authority_card(issuer, card.role, info.public_key, info.serial, holder, not_before, not_after)
    return info, chain, root_certificate(issuer)


def personalise_fko(
    card: FkoCard, district: KeyStore, holder: str, holder_id: str, templates: tuple[bytes, ...],
    not_before: datetime, not_after: datetime, issuances: int = DEFAULT_ISSUANCES,
) -> Certificate:
    """Make an FKO card from the district store: certificate, district family master, admin key, templates."""
    if not 1 <= len(templates) <= 2:
        raise AuthorityCardError("an FKO card holds one or two fingerprint templates of its officer")
    if not isinstance(issuances, int) or not 1 <= issuances <= DEFAULT_ISSUANCES:
        raise AuthorityCardError(f"an FKO card counts 1 to {DEFAULT_ISSUANCES} issuances (its ledger's size)")
    _check_identity(holder, holder_id)
    info, chain, root = _certify(card, district, holder, not_before, not_after)
    card.personalise(Personalisation(
        Role.FKO_CARD, holder, holder_id, chain[0].district_code, not_before, chain[0].not_after, chain, root,
        family_master=district_family_master(district), admin_key=authority_admin_key(district, info.serial),
        templates=templates, issuances=issuances,
    ))
    return chain[0]


def personalise_district_card(
    card: DistrictCard, district: KeyStore, holder: str, holder_id: str, pin: str,
    not_before: datetime, not_after: datetime,
) -> Certificate:
    return _personalise_pin_card(card, district, holder, holder_id, pin, not_before, not_after,
                                 district_family_master, district_admin_master)


def personalise_hospital(
    card: HospitalCard, central: KeyStore, hospital: str, hospital_id: str, pin: str,
    not_before: datetime, not_after: datetime,
) -> Certificate:
    """Hospital cards are made centrally: they carry the scheme family master (cards are portable)."""
    return _personalise_pin_card(card, central, hospital, hospital_id, pin, not_before, not_after,
                                 scheme_family_master)


def _personalise_pin_card(
    card: DistrictCard | HospitalCard, issuer: KeyStore, holder: str, holder_id: str, pin: str,
    not_before: datetime, not_after: datetime, family_master: Callable[[KeyStore], bytes],
    admin_master: Callable[[KeyStore], bytes] | None = None,
) -> Certificate:
    """The PIN cards differ only in the masters they carry; those come as functions of the store so that
    they are derived only once the PIN, the holder and a blank card have been accepted."""
    _check_pin(pin)
    _check_identity(holder, holder_id)
    _, chain, root = _certify(card, issuer, holder, not_before, not_after)
    # A hospital card's certificate names no district (certify_authority_card), so neither does the card.
    card.personalise(Personalisation(
        card.role, holder, holder_id, chain[0].district_code, not_before, chain[0].not_after, chain, root,
        family_master=family_master(issuer), admin_master=admin_master(issuer) if admin_master else b"", pin=pin,
    ))
    return chain[0]


def _check_identity(holder: str, holder_id: str) -> None:
    if not isinstance(holder, str) or not holder.strip() or len(holder.encode("utf-8")) > 80:
        raise AuthorityCardError("the holder's name must be 1 to 80 UTF-8 bytes")
    if not (isinstance(holder_id, str) and holder_id.isascii() and holder_id.isprintable() and 1 <= len(holder_id) <= 32):
        raise AuthorityCardError("the holder id must be 1 to 32 printable ASCII characters (e.g. FKO-0923-0007)")


def _check_pin(pin: str) -> None:
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise AuthorityCardError("a PIN is 4 to 12 digits")
