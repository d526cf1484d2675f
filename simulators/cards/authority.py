"""What FKO, hospital and district cards share: layout, personalisation, holder verification, the SAM.

EEPROM (64 KiB)::

    0      system area: magic, life cycle, role, tries left, serial, card private key (P-256),
           FKO counter / next issuance number / ledger count / ledger chain, revocation-list state,
           last time seen, hospital transaction count
    256    redo journal (512 bytes): every multi-field update lands whole or not at all
    768    personalisation TLV (8 KiB): written while BLANK; the life-cycle byte flips last
    8960   two revocation-list banks of 4 KiB (family-card serials; the inactive bank is written first)
    17152  FKO ledger: 300 slots of 160 bytes (fko.py)

Nothing here reads a secret back out: keys, PIN and templates are used only inside the card.
Holder verification decrements the try counter *before* comparing, so tearing the card during a
wrong attempt cannot give the attempt back.
"""

from __future__ import annotations

import hmac
import os
import struct
from datetime import UTC, datetime
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric import ec

from cardlib import authority as ap
from cardlib import tlv
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from keymgmt import ecc, revocation, scp
from keymgmt.certs import Certificate, Role, decode_chain
from keymgmt.errors import KeyManagementError
from keymgmt.issuance import CHAIN_START
from simulators.cards.journal import Journal, JournalFull
from simulators.cards.os import CardOS, CardStatusError, command, make_atr

MAGIC = b"AUTH"
SYS_LIFECYCLE, SYS_ROLE, SYS_TRIES = 5, 6, 7
SYS_SERIAL, SYS_PRIVATE = 8, 16
SYS_COUNTER, SYS_NEXT, SYS_COUNT = 48, 52, 56
SYS_RL_SEQ, SYS_RL_BANK, SYS_RL_COUNT = 58, 62, 63
SYS_LAST_TIME, SYS_TXN, SYS_CHAIN = 65, 69, 73
JOURNAL_BASE, JOURNAL_SIZE = 256, 512
PERSO_BASE, PERSO_SIZE = 768, 8192
RL_BASE, RL_BANK_SIZE = 8960, 4096
RL_CAPACITY = RL_BANK_SIZE // 8
LEDGER_BASE = RL_BASE + 2 * RL_BANK_SIZE


def fail(sw: int, reason: str = "") -> CardStatusError:
    return CardStatusError(sw, reason)


class AuthorityCardOS(CardOS):
    """Base of the three authority cards; subclasses set ``role`` and add their commands."""

    role: ClassVar[Role] = Role.FKO_CARD
    eeprom_size = 65536
    serial_prefix: ClassVar[bytes] = b"A"
    max_tries: ClassVar[int] = ap.MAX_TRIES_PIN

    # -- life ------------------------------------------------------------------------------------------
    def format(self) -> None:
        # The card makes its own signing key: the private half never leaves the chip.
        scalar = ecc.generate_private_key().private_numbers().private_value.to_bytes(32, "big")
        self.eeprom.write(0, MAGIC + bytes((1, ap.Lifecycle.BLANK, self.role, 0)))
        self.eeprom.write(SYS_SERIAL, self.serial_prefix + os.urandom(7))
        self.eeprom.write(SYS_PRIVATE, scalar)

    def recover(self) -> None:
        self._journal().recover()

    def clear_session(self) -> None:
        self.selected = False
        self.unlocked = False
        self.admin_challenge: bytes | None = None
        self.pending: tuple[bytes, scp.SessionKeys, bytes, bytes] | None = None
        self.authenticated_serial: bytes | None = None

    # -- state helpers --------------------------------------------------------------------------------
    def _journal(self) -> Journal:
        return Journal(self.eeprom, JOURNAL_BASE, JOURNAL_SIZE)

    def commit(self, writes: list[tuple[int, bytes]]) -> None:
        try:
            self._journal().commit(writes)
        except JournalFull as exc:
            raise fail(StatusWord.NOT_ENOUGH_MEMORY, "update larger than one transaction") from exc

    def u32(self, offset: int) -> int:
        return struct.unpack(">I", self.eeprom.read(offset, 4))[0]

    @property
    def lifecycle(self) -> ap.Lifecycle:
        return ap.Lifecycle(self.eeprom.read(SYS_LIFECYCLE, 1)[0])

    @property
    def serial(self) -> bytes:
        return self.eeprom.read(SYS_SERIAL, 8)

    def _private_key(self) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self.eeprom.read(SYS_PRIVATE, 32), "big"), ecc.CURVE)

    def sign(self, digest: bytes) -> bytes:
        return ecc.sign_digest(self._private_key(), digest)

    def perso(self) -> dict[int, bytes]:
        (length,) = struct.unpack(">H", self.eeprom.read(PERSO_BASE, 2))
        return tlv.children(self.eeprom.read(PERSO_BASE + 2, length))

    def perso_time(self, tag: int) -> datetime:
        return datetime.fromtimestamp(struct.unpack(">I", self.perso()[tag])[0], UTC)

    # -- preconditions ---------------------------------------------------------------------------------
    def require_selected(self) -> None:
        if not self.selected:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "select the application first")

    def require_active(self) -> None:
        self.require_selected()
        if self.lifecycle is not ap.Lifecycle.ACTIVE:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, f"card is {self.lifecycle.name}")

    def require_unlocked(self) -> None:
        self.require_active()
        if not self.unlocked:
            raise fail(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "holder not verified")

    def check_time(self, ts: int) -> None:
        """Validity at the station's time, which may never go back before the last one used."""
        p = self.perso()
        not_before, not_after = (struct.unpack(">I", p[t])[0] for t in (ap.T_NOT_BEFORE, ap.T_NOT_AFTER))
        if not not_before <= ts <= not_after:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "outside validity period")
        if ts < self.u32(SYS_LAST_TIME):
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "time earlier than the last operation")

    # -- ISO commands -------------------------------------------------------------------------------------
    @command(ap.INS_SELECT, cla=(0x00,))
    def select(self, apdu: CommandApdu) -> None:
        if apdu.p1 != 0x04:
            raise fail(StatusWord.INCORRECT_P1P2, "select by AID only")
        if apdu.data != ap.AIDS[self.role]:
            self.selected = False
            raise fail(StatusWord.FILE_NOT_FOUND, "unknown AID")
        self.selected = True

    @command(ap.INS_GET_DATA, cla=(ap.CLA,))
    def get_data(self, apdu: CommandApdu) -> bytes:
        self.require_selected()
        if apdu.p2 == ap.P2_INFO:
            return self.info().encode()
        if self.lifecycle is ap.Lifecycle.BLANK:
            raise fail(StatusWord.REFERENCED_DATA_NOT_FOUND, "not personalised")
        if apdu.p2 == ap.P2_CHAIN:
            return self.perso()[ap.T_CHAIN]
        if apdu.p2 == ap.P2_ROOT:
            return self.perso()[ap.T_ROOT]
        raise fail(StatusWord.INCORRECT_P1P2, "GET DATA P2 is 01, 02 or 03")

    def info(self) -> ap.AuthorityInfo:
        perso = self.perso() if self.lifecycle is not ap.Lifecycle.BLANK else {}
        when = lambda t: self.perso_time(t) if t in perso else None  # noqa: E731
        return ap.AuthorityInfo(
            serial=self.serial, role=self.role, lifecycle=self.lifecycle,
            public_key=ecc.public_point(self._private_key()),
            district_code=perso.get(ap.T_DISTRICT, b"").decode("ascii"), holder=perso.get(ap.T_HOLDER, b"").decode(),
            holder_id=perso.get(ap.T_HOLDER_ID, b"").decode("ascii"), not_before=when(ap.T_NOT_BEFORE),
            not_after=when(ap.T_NOT_AFTER), tries_left=self.eeprom.read(SYS_TRIES, 1)[0],
            counter=self.u32(SYS_COUNTER), next_number=self.u32(SYS_NEXT),
            ledger_count=struct.unpack(">H", self.eeprom.read(SYS_COUNT, 2))[0],
            revocation_sequence=self.u32(SYS_RL_SEQ), unlocked=self.unlocked, transactions=self.u32(SYS_TXN),
        )

    @command(ap.INS_PERSONALISE, cla=(ap.CLA,))
    def personalise(self, apdu: CommandApdu) -> None:
        self.require_selected()
        if self.lifecycle is not ap.Lifecycle.BLANK:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "already personalised")
        if len(apdu.data) > PERSO_SIZE - 2:
            raise fail(StatusWord.NOT_ENOUGH_MEMORY, "personalisation data too large")
        try:
            p = tlv.children(apdu.data, ap.PERSO_TAGS)
            self.check_personalisation(p)
        except (KeyError, ValueError, KeyManagementError) as exc:
            raise fail(StatusWord.WRONG_DATA, f"personalisation refused: {type(exc).__name__}") from None
        counter = struct.unpack(">I", p[ap.T_COUNTER])[0] if self.role is Role.FKO_CARD else 0
        self.eeprom.write(PERSO_BASE, struct.pack(">H", len(apdu.data)) + apdu.data)
        self.eeprom.write(SYS_TRIES, bytes((self.max_tries,)))
        self.eeprom.write(SYS_COUNTER, struct.pack(">II", counter, 1) + b"\x00\x00" + bytes(4) + b"\x00\x00\x00")
        self.eeprom.write(SYS_LAST_TIME, bytes(8) + issuance_chain_start())
        self.eeprom.write(SYS_LIFECYCLE, bytes((ap.Lifecycle.ACTIVE,)))  # the commit point: one byte

    def check_personalisation(self, p: dict[int, bytes]) -> None:
        """Refuse data meant for another card type, or certificates for another key."""
        if Role(p[ap.T_ROLE][0]) is not self.role:
            raise ValueError("role")
        chain = decode_chain(p[ap.T_CHAIN])
        Certificate.from_bytes(p[ap.T_ROOT])
        if not chain or chain[0].public_key != ecc.public_point(self._private_key()) or chain[0].card_serial != self.serial:
            raise ValueError("certificate is not for this card")
        scp.district_context(p[ap.T_DISTRICT].decode("ascii")) if p[ap.T_DISTRICT] else None
        if len(p[ap.T_FAMILY_MASTER]) != scp.MASTER_KEY_SIZE:
            raise ValueError("family master")
        for tag in (ap.T_NOT_BEFORE, ap.T_NOT_AFTER, ap.T_COUNTER):
            struct.unpack(">I", p[tag])

    @command(ap.INS_VERIFY, cla=(0x00,))
    def verify(self, apdu: CommandApdu) -> ResponseApdu | None:
        self.require_active()
        tries = self.eeprom.read(SYS_TRIES, 1)[0]
        if tries == 0:
            self.unlocked = False
            raise fail(StatusWord.AUTH_METHOD_BLOCKED, "verification blocked")
        if apdu.p2 != self.verify_reference or not apdu.data:
            raise fail(StatusWord.INCORRECT_P1P2 if apdu.data else StatusWord.WRONG_LENGTH, "verify reference/data")
        self.eeprom.write(SYS_TRIES, bytes((tries - 1,)))  # first: a tear cannot refund the attempt
        if self.holder_matches(apdu.data):
            self.eeprom.write(SYS_TRIES, bytes((self.max_tries,)))
            self.unlocked = True
            return None
        self.unlocked = False
        return ResponseApdu.status(0x63C0 | (tries - 1))

    verify_reference: ClassVar[int] = ap.P2_PIN

    def holder_matches(self, data: bytes) -> bool:
        stored = self.perso().get(ap.T_PIN, b"")
        return bool(stored) and hmac.compare_digest(stored, data)

    @command(ap.INS_GET_CHALLENGE, cla=(0x00,))
    def get_challenge(self, apdu: CommandApdu) -> bytes:
        self.require_active()
        if apdu.ne != ap.ADMIN_CHALLENGE_SIZE:
            raise fail(StatusWord.WRONG_LENGTH, "challenge is 16 bytes")
        self.admin_challenge = os.urandom(ap.ADMIN_CHALLENGE_SIZE)
        return self.admin_challenge

    def check_admin(self, operation: int, params: bytes, mac: bytes) -> None:
        """The district card's cryptogram over our fresh challenge; the challenge is used up either way."""
        challenge, self.admin_challenge = self.admin_challenge, None
        key = self.perso().get(ap.T_ADMIN_KEY)
        if key is None:
            raise fail(StatusWord.REFERENCED_DATA_NOT_FOUND, "no admin key on this card")
        if challenge is None:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "GET CHALLENGE first")
        expected = scp.admin_cryptogram(key, operation, self.serial, challenge, params)
        if not hmac.compare_digest(expected, mac):
            raise fail(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "admin cryptogram wrong")

    @command(ap.INS_RESET_RETRY, cla=(0x00,))
    def reset_retry(self, apdu: CommandApdu) -> None:
        self.require_active()
        if apdu.p1 != 0x03 or apdu.p2 != self.verify_reference:
            raise fail(StatusWord.INCORRECT_P1P2, "RESET RETRY COUNTER: P1 = 03")
        self.check_admin(ap.OP_UNBLOCK, b"", apdu.data)
        self.eeprom.write(SYS_TRIES, bytes((self.max_tries,)))

    # -- SAM ---------------------------------------------------------------------------------------------
    def family_master_for(self, district_code: str) -> bytes:
        """FKO and district cards serve their own district; the hospital card overrides (all districts)."""
        p = self.perso()
        if p[ap.T_DISTRICT].decode("ascii") != district_code:
            raise fail(StatusWord.WRONG_DATA, "family card of another district")
        return p[ap.T_FAMILY_MASTER]

    @command(ap.INS_AUTH_INIT, cla=(ap.CLA,))
    def auth_init(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        self.pending = self.authenticated_serial = None
        data = apdu.data
        n = data[0] if data else 0
        if len(data) != 1 + n + 8 + scp.CHALLENGE_SIZE:
            raise fail(StatusWord.WRONG_LENGTH, "district code, serial (8), card challenge (8)")
        try:
            district = data[1 : 1 + n].decode("ascii")
            scp.district_context(district)
        except (UnicodeDecodeError, KeyManagementError):
            raise fail(StatusWord.WRONG_DATA, "district code") from None
        serial, card_challenge = data[1 + n : 9 + n], data[9 + n :]
        if self.family_card_revoked(serial):
            raise fail(ap.SW_REVOKED, "family card revoked")
        card_key = scp.derive_card_key(self.family_master_for(district), serial)
        host_challenge = os.urandom(scp.CHALLENGE_SIZE)
        keys = scp.derive_session_keys(card_key, host_challenge, card_challenge)
        self.pending = (serial, keys, host_challenge, card_challenge)
        return host_challenge + scp.host_cryptogram(keys, host_challenge, card_challenge)

    @command(ap.INS_AUTH_VERIFY, cla=(ap.CLA,))
    def auth_verify(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        pending, self.pending = self.pending, None
        if pending is None:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "AUTH INIT first")
        serial, keys, hc, cc = pending
        if not scp.cryptograms_equal(apdu.data, scp.card_cryptogram(keys, hc, cc)):
            raise fail(0x6300, "card cryptogram wrong")
        self.authenticated_serial = serial
        return keys.to_bytes()

    @command(ap.INS_DERIVE_CARD_KEY, cla=(ap.CLA,))
    def derive_card_key(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        if self.role is Role.HOSPITAL_CARD:
            raise fail(StatusWord.FUNCTION_NOT_SUPPORTED, "hospital cards do not make family cards")
        if len(apdu.data) != 8:
            raise fail(StatusWord.WRONG_LENGTH, "serial is 8 bytes")
        return scp.derive_card_key(self.perso()[ap.T_FAMILY_MASTER], apdu.data)

    # -- revocation -------------------------------------------------------------------------------------
    def family_card_revoked(self, serial: bytes) -> bool:
        bank = self.eeprom.read(SYS_RL_BANK, 1)[0]
        (count,) = struct.unpack(">H", self.eeprom.read(SYS_RL_COUNT, 2))
        raw = self.eeprom.read(RL_BASE + bank * RL_BANK_SIZE, 8 * count)
        return any(raw[i : i + 8] == serial for i in range(0, len(raw), 8))

    @command(ap.INS_PUT_REVOCATION, cla=(ap.CLA,))
    def put_revocation(self, apdu: CommandApdu) -> None:
        self.require_active()
        root = Certificate.from_bytes(self.perso()[ap.T_ROOT])
        try:
            rl = revocation.load(apdu.data, root, min_sequence=self.u32(SYS_RL_SEQ))
        except KeyManagementError:
            raise fail(StatusWord.WRONG_DATA, "revocation list does not verify or is older") from None
        if rl.authority_revoked(self.serial):
            # Terminal: the card refuses everything from now on (one byte: tearing-safe).
            self.eeprom.write(SYS_LIFECYCLE, bytes((ap.Lifecycle.TERMINATED,)))
            self.unlocked = False
            return
        serials = sorted(s for s in rl.family_cards if len(s) == 8)
        if len(serials) > RL_CAPACITY:
            raise fail(StatusWord.NOT_ENOUGH_MEMORY, "revocation list larger than the card's store")
        bank = 1 - self.eeprom.read(SYS_RL_BANK, 1)[0]
        self.eeprom.write(RL_BASE + bank * RL_BANK_SIZE, b"".join(serials))  # inactive bank: invisible until commit
        self.commit([(SYS_RL_SEQ, struct.pack(">IBH", rl.sequence, bank, len(serials)))])


def issuance_chain_start() -> bytes:
    return CHAIN_START


def make_authority_atr(name: bytes) -> bytes:
    return make_atr(b"\x80\x5b" + name)
