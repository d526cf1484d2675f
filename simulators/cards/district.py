"""The district desk card: PIN, SAM for its district, and the admin cryptograms for FKO cards."""

from __future__ import annotations

from cardlib import authority as ap
from cardlib.apdu import CommandApdu, StatusWord
from keymgmt import scp
from keymgmt.certs import Role
from simulators.cards.authority import AuthorityCardOS, fail, make_authority_atr
from simulators.cards.os import command


class DistrictCardOS(AuthorityCardOS):
    card_type = "district"
    role = Role.DISTRICT_CARD
    serial_prefix = b"D"
    atr_bytes = make_authority_atr(b"RSBY-DESK")

    def check_personalisation(self, p: dict[int, bytes]) -> None:
        super().check_personalisation(p)
        if not 4 <= len(p[ap.T_PIN]) <= 12 or len(p[ap.T_ADMIN_MASTER]) != scp.MASTER_KEY_SIZE:
            raise ValueError("a district card needs a PIN and the admin master")

    @command(ap.INS_ADMIN_AUTHORISE, cla=(ap.CLA,))
    def admin_authorise(self, apdu: CommandApdu) -> bytes:
        self.require_unlocked()
        data = apdu.data
        if len(data) < 8 + 1 + ap.ADMIN_CHALLENGE_SIZE:
            raise fail(StatusWord.WRONG_LENGTH, "serial, operation, challenge, parameters")
        serial, op, challenge, params = data[:8], data[8], data[9:25], data[25:]
        if op not in (ap.OP_UNBLOCK, ap.OP_RECHARGE):
            raise fail(StatusWord.WRONG_DATA, "unknown admin operation")
        key = scp.derive_authority_admin_key(self.perso()[ap.T_ADMIN_MASTER], serial)
        return scp.admin_cryptogram(key, op, serial, challenge, params)
