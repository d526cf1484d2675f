"""The Field Key Officer's card: fingerprint matched on the card, counted issuances, a signed ledger.

Issuance (AUTHORISE ISSUANCE, after the new family card was authenticated through this card in the
same session) is tearing-safe in two steps: the ledger entry is written into the first free slot,
which nothing reads until the count says so; then one journal transaction moves counter−1, number+1,
count+1, the chain hash and the last time together. A tear before the journal commits leaves the old
counter and an invisible slot; after it, the new state — and the card answers the activation
cryptogram only after the commit, so no activation ever goes out uncounted, and a tear can neither
push the counter below 0 nor give an issuance back.

A family card's key (DERIVE CARD KEY, for personalising a blank) is not handed out silently: the
serial is recorded first, as an *open key*, and closed when that card's issuance is counted. At most
``OPEN_KEYS_MAX`` stay open (spoilt blanks); beyond that the card refuses until the district recharges
it, and the signed ledger summary lists them, so keys taken for copies of other cards are seen.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, datetime

from biometrics import cardtemplate, iso19794
from biometrics.errors import TemplateFormatError
from cardlib import authority as ap
from cardlib.apdu import CommandApdu, StatusWord
from keymgmt import issuance, scp
from keymgmt.certs import Role
from simulators.cards.authority import (
    LEDGER_BASE,
    SYS_CHAIN,
    SYS_COUNT,
    SYS_COUNTER,
    SYS_LAST_TIME,
    SYS_NEXT,
    AuthorityCardOS,
    fail,
    make_authority_atr,
)
from simulators.cards.os import command

LEDGER_SLOT = 160
LEDGER_CAPACITY = ap.DEFAULT_ISSUANCES
# Open keys: a count in the system area after the chain hash, serials after the ledger.
SYS_OPEN_COUNT = SYS_CHAIN + 32
OPEN_BASE = LEDGER_BASE + LEDGER_CAPACITY * LEDGER_SLOT
SERIAL_SIZE = issuance.CARD_SERIAL_SIZE
MATCH_FMR = 0.001


def decode_template(raw: bytes):
    """A card template (format byte C1) or an ISO/IEC 19794-2 record."""
    if raw[:1] == bytes((cardtemplate.FORMAT_BYTE,)):
        return cardtemplate.decode(raw)
    return iso19794.decode(raw)


class FkoCardOS(AuthorityCardOS):
    card_type = "fko"
    role = Role.FKO_CARD
    serial_prefix = b"K"
    max_tries = ap.MAX_TRIES_FINGER
    verify_reference = ap.P2_FINGER
    atr_bytes = make_authority_atr(b"RSBY-FKO")

    def check_personalisation(self, p: dict[int, bytes]) -> None:
        super().check_personalisation(p)
        if len(p[ap.T_ADMIN_KEY]) != scp.CARD_KEY_SIZE or ap.T_TEMPLATE1 not in p:
            raise ValueError("an FKO card needs its admin key and at least one template")
        for tag in (ap.T_TEMPLATE1, ap.T_TEMPLATE2):
            if tag in p:
                decode_template(p[tag])
        if not 0 < struct.unpack(">I", p[ap.T_COUNTER])[0] <= LEDGER_CAPACITY:
            raise ValueError("counter")

    def holder_matches(self, data: bytes) -> bool:
        # Imported here: the matcher loads NumPy tables that only FKO cards need.
        from biometrics.matching import match_decision

        try:
            probe = decode_template(data)
        except TemplateFormatError:
            return False  # counts as a wrong finger: the try was already spent
        p = self.perso()
        stored = [decode_template(p[t]) for t in (ap.T_TEMPLATE1, ap.T_TEMPLATE2) if t in p]
        return any(match_decision(probe, template, MATCH_FMR) for template in stored)

    # -- state -------------------------------------------------------------------------------------------
    def _count(self) -> int:
        return struct.unpack(">H", self.eeprom.read(SYS_COUNT, 2))[0]

    def _entry(self, index: int) -> bytes:
        raw = self.eeprom.read(LEDGER_BASE + index * LEDGER_SLOT, LEDGER_SLOT)
        return raw[1 : 1 + raw[0]]

    def _open_keys(self) -> list[bytes]:
        count = min(self.eeprom.read(SYS_OPEN_COUNT, 1)[0], issuance.OPEN_KEYS_MAX)
        raw = self.eeprom.read(OPEN_BASE, count * SERIAL_SIZE)
        return [raw[i : i + SERIAL_SIZE] for i in range(0, len(raw), SERIAL_SIZE)]

    def _counted(self, serial: bytes) -> bool:
        """Whether the ledger holds an issuance of ``serial`` (a resumed issuance re-derives its key)."""
        return any(issuance.LedgerEntry.read(self._entry(i), 0)[0].card_serial == serial for i in range(self._count()))

    def _open_keys_without(self, serial: bytes) -> list[tuple[int, bytes]]:
        """Journal writes that close ``serial``'s open key (the list stays packed); none if it is not open."""
        keys = self._open_keys()
        if serial not in keys:
            return []
        keys.remove(serial)
        return [(SYS_OPEN_COUNT, bytes((len(keys),))), (OPEN_BASE, b"".join(keys) + bytes(SERIAL_SIZE))]

    # -- commands ----------------------------------------------------------------------------------------
    @command(ap.INS_AUTHORISE_ISSUANCE, cla=(ap.CLA,))
    def authorise_issuance(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        data = apdu.data
        if len(data) < 8 + 17 + 4 + 32 + 1 or len(data) != 62 + data[61]:
            raise fail(StatusWord.WRONG_LENGTH, "serial, URN, time, data hash, station id")
        serial, urn_raw, ts, data_hash = data[:8], data[8:25], struct.unpack(">I", data[25:29])[0], data[29:61]
        try:
            urn, station = urn_raw.decode("ascii"), data[62:].decode("ascii")
        except UnicodeDecodeError:
            raise fail(StatusWord.WRONG_DATA, "URN and station id are ASCII") from None
        if self.authenticated_serial != serial:
            raise fail(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "that family card was not authenticated")
        counter, number, count = self.u32(SYS_COUNTER), self.u32(SYS_NEXT), self._count()
        if counter == 0 or count >= LEDGER_CAPACITY:
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "no issuances left")
        self.check_time(ts)
        unsigned = issuance.LedgerEntry(number, datetime.fromtimestamp(ts, UTC), urn, serial, station, data_hash, b"")
        entry = replace(unsigned, signature=self.sign(unsigned.digest(self.serial)))
        encoded = entry.encode()
        self.eeprom.write(LEDGER_BASE + count * LEDGER_SLOT, bytes((len(encoded),)) + encoded)
        chain = issuance.chain_next(self.eeprom.read(SYS_CHAIN, 32), entry)
        self.commit([
            (SYS_COUNTER, struct.pack(">II", counter - 1, number + 1)),
            (SYS_COUNT, struct.pack(">H", count + 1)),
            (SYS_LAST_TIME, struct.pack(">I", ts)),
            (SYS_CHAIN, chain),
            *self._open_keys_without(serial),
        ])
        self.authenticated_serial = None  # one issuance per authentication
        card_key = scp.derive_card_key(self.perso()[ap.T_FAMILY_MASTER], serial)
        activation = scp.activation_cryptogram(card_key, serial, urn_raw, number)
        return struct.pack(">I", number) + activation + entry.signature

    @command(ap.INS_LEDGER_SUMMARY, cla=(ap.CLA,))
    def ledger_summary(self, apdu: CommandApdu) -> bytes:
        self.require_active()
        if len(apdu.data) != issuance.CHALLENGE_SIZE:
            raise fail(StatusWord.WRONG_LENGTH, "challenge is 16 bytes")
        summary = issuance.LedgerSummary(
            self.serial, self.u32(SYS_COUNTER), self.u32(SYS_NEXT), self._count(),
            self.eeprom.read(SYS_CHAIN, 32), apdu.data, open_keys=tuple(self._open_keys()),
        )
        return summary.tbs()[len(issuance.SUMMARY_DOMAIN) :] + self.sign(summary.digest())

    @command(ap.INS_DERIVE_CARD_KEY, cla=(ap.CLA,))
    def derive_card_key(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        if len(apdu.data) != SERIAL_SIZE:
            raise fail(StatusWord.WRONG_LENGTH, "serial is 8 bytes")
        serial, keys = apdu.data, self._open_keys()
        if serial not in keys and not self._counted(serial):
            if len(keys) >= issuance.OPEN_KEYS_MAX:
                raise fail(StatusWord.CONDITIONS_NOT_SATISFIED,
                           f"{len(keys)} card keys given for cards never issued: the district must recharge this card")
            # Recorded before the key leaves the card: a tear cannot hand one out unrecorded.
            self.commit([(OPEN_BASE + len(keys) * SERIAL_SIZE, serial), (SYS_OPEN_COUNT, bytes((len(keys) + 1,)))])
        return scp.derive_card_key(self.perso()[ap.T_FAMILY_MASTER], serial)

    @command(ap.INS_READ_LEDGER, cla=(ap.CLA,))
    def read_ledger(self, apdu: CommandApdu) -> bytes:
        self.require_active()
        start, count = (apdu.p1 << 8) | apdu.p2, self._count()
        budget = min(apdu.ne or 256, 16384)
        out = b""
        for i in range(start, count):
            entry = self._entry(i)
            if len(out) + len(entry) > budget:
                break
            out += entry
        return out

    @command(ap.INS_RECHARGE, cla=(ap.CLA,))
    def recharge(self, apdu: CommandApdu) -> None:
        self.require_active()
        if len(apdu.data) != 4 + 32 + 4 + 1 + 16:
            raise fail(StatusWord.WRONG_LENGTH, "counter, chain, next number, open keys, cryptogram")
        params, mac = apdu.data[:41], apdu.data[41:]
        self.check_admin(ap.OP_RECHARGE, params, mac)
        new_counter, chain, number = struct.unpack(">I", params[:4])[0], params[4:36], struct.unpack(">I", params[36:40])[0]
        if (chain != self.eeprom.read(SYS_CHAIN, 32) or number != self.u32(SYS_NEXT)
                or params[40] != len(self._open_keys())):
            raise fail(StatusWord.CONDITIONS_NOT_SATISFIED, "ledger changed since it was read")
        if not 0 < new_counter <= LEDGER_CAPACITY:
            raise fail(StatusWord.WRONG_DATA, "counter beyond the ledger's capacity")
        self.commit([
            (SYS_COUNTER, struct.pack(">I", new_counter)),
            (SYS_COUNT, b"\x00\x00"),
            (SYS_CHAIN, issuance.CHAIN_START),
            (SYS_OPEN_COUNT, b"\x00"),  # the district accounted for them (spoilt blanks handed in)
        ])

