"""The hospital authority card: PIN, SAM for family cards of every district, signed offline debits."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from cardlib import authority as ap
from cardlib.apdu import CommandApdu, StatusWord
from keymgmt import issuance, scp, signing
from keymgmt.certs import Role
from simulators.cards.authority import SYS_LAST_TIME, SYS_TXN, AuthorityCardOS, fail, make_authority_atr
from simulators.cards.os import command


class HospitalCardOS(AuthorityCardOS):
    card_type = "hospital"
    role = Role.HOSPITAL_CARD
    serial_prefix = b"H"
    atr_bytes = make_authority_atr(b"RSBY-HOSP")

    def check_personalisation(self, p: dict[int, bytes]) -> None:
        super().check_personalisation(p)
        if not 4 <= len(p[ap.T_PIN]) <= 12:
            raise ValueError("PIN")

    def family_master_for(self, district_code: str) -> bytes:
        # Cards are portable: the scheme family master serves every district.
        return scp.derive_district_family_key(self.perso()[ap.T_FAMILY_MASTER], district_code)

    @command(ap.INS_AUTHORISE_DEBIT, cla=(ap.CLA,))
    def authorise_debit(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        data = apdu.data
        if len(data) < 38 or len(data) != 38 + data[37]:
            raise fail(StatusWord.WRONG_LENGTH, "serial, URN, amount, time, reference")
        serial = data[:8]
        amount, ts = struct.unpack(">QI", data[25:37])
        try:
            urn, reference = data[8:25].decode("ascii"), data[38:].decode("ascii")
        except UnicodeDecodeError:
            raise fail(StatusWord.WRONG_DATA, "URN and reference are ASCII") from None
        if self.authenticated_serial != serial:
            raise fail(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "that family card was not authenticated")
        self.check_time(ts)
        txn = self.u32(SYS_TXN) + 1
        self.commit([(SYS_LAST_TIME, struct.pack(">II", ts, txn))])
        digest = issuance.debit_digest(self.serial, txn, serial, urn, amount, datetime.fromtimestamp(ts, UTC), reference)
        return struct.pack(">I", txn) + self.sign(digest)

    @command(ap.INS_SIGN_CLAIMS, cla=(ap.CLA,))
    def sign_claims(self, apdu: CommandApdu) -> bytes:
        """Sign a claims file: time (4) ‖ SHA-256 of the file. The card fixes the purpose itself, so this
        command can sign nothing but a ``hospital-claims`` document (never a debit statement)."""
        self.require_unlocked()
        if len(apdu.data) != 36:
            raise fail(StatusWord.WRONG_LENGTH, "time (4) and file SHA-256 (32)")
        (ts,) = struct.unpack(">I", apdu.data[:4])
        self.check_time(ts)
        return self.sign(signing.document_digest(ap.CLAIMS_PURPOSE, ts, apdu.data[4:]))
