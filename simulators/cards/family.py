"""The family card application on the card-OS framework (the behaviour ``docs/card-profile.md`` states).

EEPROM (32,768 bytes): a system area (life cycle, serial, card key, log pointer), a redo journal, then
every EF at a fixed offset. While the card is BLANK, writes go straight to EEPROM: nothing is readable
until END PERSONALISATION flips the life-cycle byte, so a torn personalisation reads as blank. Once
personalised, every write (policy, log, activation) goes through the journal and lands whole or not at
all. The card key lives only in the system area: no file and no command reads it back.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from dataclasses import dataclass

from cardlib import family_profile as fp
from cardlib import tlv
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.model import CardSerial, LogKind, LogRecord
from cardlib.secure import P2_FAMILY_CARD_KEY, CardSession
from keymgmt import scp
from keymgmt.errors import KeyManagementError
from simulators.cards.journal import Journal, JournalFull
from simulators.cards.os import CardOS, CardStatusError, command, make_atr

MAGIC = b"FAMC"
# System area offsets
SYS_MAGIC, SYS_VERSION, SYS_LIFECYCLE, SYS_KEY_PRESENT, SYS_LOG_NEXT, SYS_LOG_COUNT = 0, 4, 5, 6, 7, 8
SYS_SERIAL = 16
SYS_KEY = 24
SYSTEM_SIZE = 40
JOURNAL_BASE = SYSTEM_SIZE
JOURNAL_SIZE = 512
FILES_BASE = JOURNAL_BASE + JOURNAL_SIZE

SM_INS = frozenset({fp.INS_UPDATE_BINARY, fp.INS_APPEND_RECORD, fp.INS_TRANSACT})
ISO_LCS = {fp.Lifecycle.BLANK: 0x03, fp.Lifecycle.PERSONALISED: 0x04, fp.Lifecycle.ACTIVATED: 0x05}
MF = 0x3F00
APP = -1  # the family application DF (selected by AID; it has no file id)


def _layout() -> dict[int, int]:
    offsets, at = {}, FILES_BASE
    for spec in fp.DATA_FILES:
        offsets[spec.fid] = at
        at += spec.size
    if at > fp.CARD_SIZE:
        raise AssertionError(f"family card layout needs {at} bytes, the chip has {fp.CARD_SIZE}")
    return offsets


FILE_OFFSETS = _layout()
USED_BYTES = FILES_BASE + sum(spec.size for spec in fp.DATA_FILES)


@dataclass(frozen=True, slots=True)
class _Selected:
    fid: int
    spec: fp.EfSpec | None  # None for the virtual EF.CARDINFO


def _sw(sw: int, reason: str = "") -> CardStatusError:
    return CardStatusError(sw, reason)


class FamilyCardOS(CardOS):
    card_type = "family"
    eeprom_size = fp.CARD_SIZE
    atr_bytes = make_atr(b"\x80\x5bRSBY-FAMILY")

    # -- life ----------------------------------------------------------------------------------------
    def format(self) -> None:
        self.eeprom.write(SYS_MAGIC, MAGIC + bytes((fp.PROFILE_VERSION, fp.Lifecycle.BLANK)))
        self.eeprom.write(SYS_SERIAL, b"\x46" + os.urandom(7))  # 46 = 'F': family-card series

    def recover(self) -> None:
        self._journal().recover()

    def clear_session(self) -> None:
        self._df: int | None = None  # MF or the application (by AID) once selected
        self._ef: _Selected | None = None
        key = self._card_key()
        # A card without a key gets a random one nobody knows: it then fails every authentication
        # exactly as a forged or cloned card does (docs/authentication.md).
        self._sm = CardSession(key if key is not None else os.urandom(scp.CARD_KEY_SIZE))
        self._secure = False  # the command being run arrived under valid secure messaging

    # -- state helpers ----------------------------------------------------------------------------
    def _journal(self) -> Journal:
        return Journal(self.eeprom, JOURNAL_BASE, JOURNAL_SIZE)

    @property
    def lifecycle(self) -> fp.Lifecycle:
        return fp.Lifecycle(self.eeprom.read(SYS_LIFECYCLE, 1)[0])

    @property
    def serial(self) -> CardSerial:
        return CardSerial(self.eeprom.read(SYS_SERIAL, 8))

    def _card_key(self) -> bytes | None:
        if self.eeprom.read(SYS_KEY_PRESENT, 1)[0] != 1:
            return None
        return self.eeprom.read(SYS_KEY, scp.CARD_KEY_SIZE)

    def _card_info(self) -> bytes:
        return fp.encode_card_info(fp.CardInfo(self.serial, self.lifecycle, fp.PROFILE_VERSION))

    def _write(self, writes: list[tuple[int, bytes]]) -> None:
        """Blank card: straight to EEPROM. Personalised: all-or-nothing through the journal."""
        if self.lifecycle is fp.Lifecycle.BLANK:
            for offset, data in writes:
                self.eeprom.write(offset, data)
            return
        try:
            self._journal().commit(writes)
        except JournalFull as exc:
            raise _sw(StatusWord.NOT_ENOUGH_MEMORY, "write larger than one transaction") from exc

    def _current_ef(self, cyclic: bool) -> _Selected:
        if self._ef is None:
            raise _sw(StatusWord.COMMAND_NOT_ALLOWED_NO_EF, "no current EF")
        is_cyclic = self._ef.spec is not None and self._ef.spec.cyclic
        if is_cyclic != cyclic:
            raise _sw(StatusWord.COMMAND_INCOMPATIBLE_WITH_FILE, "wrong file structure for this command")
        return self._ef

    def _check_readable(self, ef: _Selected) -> None:
        if ef.spec is not None and self.lifecycle is fp.Lifecycle.BLANK:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, "blank card: nothing to read until personalised")

    def _check_writable(self, spec: fp.EfSpec) -> None:
        if self.lifecycle is fp.Lifecycle.BLANK:
            if spec.fid == fp.FID_ACTIVATION:
                raise _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "EF.ACTIVATION is written by ACTIVATE only")
            return
        if spec.write is fp.Access.SM and self._secure:
            return
        raise _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"{spec.name} write needs {spec.write.value}")

    # -- secure messaging around the dispatch table ---------------------------------------------------
    def dispatch(self, apdu: CommandApdu) -> ResponseApdu:
        self._secure = False
        if apdu.cla != fp.CLA_SM:
            return super().dispatch(apdu)
        if apdu.ins not in SM_INS:
            raise _sw(StatusWord.SECURE_MESSAGING_NOT_SUPPORTED, f"no SM for INS {apdu.ins:02X}")
        if not self._sm.authenticated:
            raise _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "no secure session")
        try:
            plain = self._sm.unwrap(apdu)
        except KeyManagementError:
            raise _sw(StatusWord.SM_DATA_OBJECTS_INCORRECT, "SM check failed; session closed") from None
        self._secure = True
        try:
            inner = super().dispatch(CommandApdu(fp.CLA_ISO, plain.ins, plain.p1, plain.p2, plain.data))
        except CardStatusError as exc:
            inner = ResponseApdu.status(exc.sw)
        finally:
            self._secure = False
        return self._sm.wrap(inner.data, inner.sw)

    # -- SELECT -----------------------------------------------------------------------------------------
    @command(fp.INS_SELECT)
    def select(self, apdu: CommandApdu) -> bytes | None:
        if apdu.p2 not in (0x00, 0x04, 0x0C):
            raise _sw(StatusWord.INCORRECT_P1P2, "SELECT P2 must be 00, 04 or 0C")
        if apdu.p1 == 0x04:
            if not apdu.data:
                raise _sw(StatusWord.WRONG_LENGTH, "SELECT by name without a name")
            if apdu.data != fp.AID:
                raise _sw(StatusWord.FILE_NOT_FOUND, "unknown AID")
            self._df, self._ef = APP, None
            fci = tlv.encode(0x84, fp.AID) + tlv.encode(0x8A, bytes((ISO_LCS[self.lifecycle],)))
            return None if apdu.p2 == 0x0C else tlv.encode(0x6F, fci + tlv.encode(0xA5, self._card_info()))
        if apdu.p1 not in (0x00, 0x02):
            raise _sw(StatusWord.INCORRECT_P1P2, "SELECT supports P1 00, 02 (file id) and 04 (AID)")
        if len(apdu.data) != 2:
            raise _sw(StatusWord.WRONG_LENGTH, "a file id is 2 bytes")
        fid = int.from_bytes(apdu.data, "big")
        if fid == MF and apdu.p1 == 0x00:
            self._df, self._ef = MF, None
            return None if apdu.p2 == 0x0C else tlv.encode(0x62, tlv.encode(0x83, apdu.data) + tlv.encode(0x82, b"\x38"))
        if self._df != APP or (fid != fp.FID_CARD_INFO and fid not in fp.FILES_BY_FID):
            raise _sw(StatusWord.FILE_NOT_FOUND, f"file {fid:04X} not found here")
        spec = fp.FILES_BY_FID.get(fid)
        self._ef = _Selected(fid, spec)
        if apdu.p2 == 0x0C:
            return None
        if spec is None:
            size, descriptor = len(self._card_info()), b"\x01"
        elif spec.cyclic:
            size, descriptor = spec.size, bytes((0x06, 0x21)) + fp.LOG_RECORD_SIZE.to_bytes(2, "big") + bytes((fp.LOG_RECORDS,))
        else:
            size, descriptor = spec.size, b"\x01"
        fcp = (
            tlv.encode(0x80, size.to_bytes(2, "big"))
            + tlv.encode(0x82, descriptor)
            + tlv.encode(0x83, apdu.data)
            + tlv.encode(0x8A, b"\x05")
        )
        return tlv.encode(0x62, fcp)

    # -- transparent EFs ------------------------------------------------------------------------------
    @staticmethod
    def _offset(apdu: CommandApdu) -> int:
        if apdu.p1 & 0x80:
            raise _sw(StatusWord.INCORRECT_P1P2, "short EF identifiers are not supported; SELECT the file")
        return (apdu.p1 << 8) | apdu.p2

    @command(fp.INS_READ_BINARY)
    def read_binary(self, apdu: CommandApdu) -> ResponseApdu:
        ef = self._current_ef(cyclic=False)
        self._check_readable(ef)
        offset = self._offset(apdu)
        if apdu.ne is None:
            raise _sw(StatusWord.WRONG_LENGTH, "READ BINARY needs Le")
        content = self._card_info() if ef.spec is None else None
        size = len(content) if content is not None else ef.spec.size  # type: ignore[union-attr]
        if offset >= size:
            raise _sw(StatusWord.WRONG_P1P2, "offset beyond the end of the file")
        count = min(apdu.ne, size - offset)
        if content is not None:
            data = content[offset : offset + count]
        else:
            data = self.eeprom.read(FILE_OFFSETS[ef.fid] + offset, count)
        short = count < apdu.ne and apdu.ne not in (256, 65536)
        return ResponseApdu(data, StatusWord.WARNING_END_OF_FILE if short else StatusWord.SUCCESS)

    @command(fp.INS_UPDATE_BINARY)
    def update_binary(self, apdu: CommandApdu) -> None:
        ef = self._current_ef(cyclic=False)
        if ef.spec is None:
            raise _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "EF.CARDINFO is read-only")
        offset = self._offset(apdu)
        if not apdu.data:
            raise _sw(StatusWord.WRONG_LENGTH, "UPDATE BINARY without data")
        if offset >= ef.spec.size:
            raise _sw(StatusWord.WRONG_P1P2, "offset beyond the end of the file")
        if offset + len(apdu.data) > ef.spec.size:
            raise _sw(StatusWord.NOT_ENOUGH_MEMORY, "data runs past the end of the file")
        self._check_writable(ef.spec)
        self._write([(FILE_OFFSETS[ef.fid] + offset, apdu.data)])

    # -- the cyclic log ---------------------------------------------------------------------------------
    @command(fp.INS_READ_RECORD)
    def read_record(self, apdu: CommandApdu) -> bytes:
        ef = self._current_ef(cyclic=True)
        self._check_readable(ef)
        if apdu.p2 != 0x04 or apdu.p1 == 0:
            raise _sw(StatusWord.INCORRECT_P1P2, "READ RECORD supports P1 = record number, P2 = 04")
        nxt, count = self.eeprom.read(SYS_LOG_NEXT, 2)
        if apdu.p1 > count:
            raise _sw(StatusWord.RECORD_NOT_FOUND, f"the log holds {count} records")
        slot = (nxt - apdu.p1) % fp.LOG_RECORDS  # record 1 = the newest, as in ISO cyclic files
        return self.eeprom.read(FILE_OFFSETS[fp.FID_LOG] + slot * fp.LOG_RECORD_SIZE, fp.LOG_RECORD_SIZE)

    @command(fp.INS_APPEND_RECORD)
    def append_record(self, apdu: CommandApdu) -> None:
        ef = self._current_ef(cyclic=True)
        if apdu.p1 != 0 or apdu.p2 != 0:
            raise _sw(StatusWord.INCORRECT_P1P2, "APPEND RECORD takes P1-P2 = 0000 (current EF)")
        if len(apdu.data) != fp.LOG_RECORD_SIZE:
            raise _sw(StatusWord.WRONG_LENGTH, f"a log record is {fp.LOG_RECORD_SIZE} bytes")
        assert ef.spec is not None
        self._check_writable(ef.spec)
        nxt, count = self.eeprom.read(SYS_LOG_NEXT, 2)
        target = FILE_OFFSETS[fp.FID_LOG] + nxt * fp.LOG_RECORD_SIZE
        pointer = bytes(((nxt + 1) % fp.LOG_RECORDS, min(count + 1, fp.LOG_RECORDS)))
        self._write([(target, apdu.data), (SYS_LOG_NEXT, pointer)])

    # -- hospital transactions --------------------------------------------------------------------
    def _log_newest_first(self) -> list[LogRecord]:
        nxt, count = self.eeprom.read(SYS_LOG_NEXT, 2)
        base = FILE_OFFSETS[fp.FID_LOG]
        out = []
        for n in range(1, count + 1):
            slot = (nxt - n) % fp.LOG_RECORDS
            try:
                out.append(fp.decode_log_record(self.eeprom.read(base + slot * fp.LOG_RECORD_SIZE, fp.LOG_RECORD_SIZE)))
            except ValueError:
                continue  # a record the card cannot read cannot open or close an admission
        return out

    def _blocked(self, record: LogRecord) -> int:
        """The amount the open admission ``record.reference`` at ``record.place_id`` blocked."""
        for old in self._log_newest_first():
            if old.reference != record.reference or old.place_id != record.place_id:
                continue
            if old.kind is LogKind.DISCHARGE:
                break  # already discharged: nothing blocked any more
            if old.kind is LogKind.ADMISSION and old.member == record.member and old.policy_slot == record.policy_slot:
                return old.amount
        raise _sw(fp.SW_NO_OPEN_ADMISSION, "no open admission with this reference")

    @command(fp.INS_TRANSACT)
    def transact(self, apdu: CommandApdu) -> None:
        """Policy balance and log record in one journal transaction; the card computes the balance."""
        if not self._secure:
            raise _sw(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "TRANSACT needs secure messaging")
        if self.lifecycle is not fp.Lifecycle.ACTIVATED:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, "card not activated")
        if apdu.p1 not in (0, 1) or apdu.p2:
            raise _sw(StatusWord.INCORRECT_P1P2, "TRANSACT: P1 = policy slot 0/1, P2 = 00")
        if len(apdu.data) != fp.LOG_RECORD_SIZE:
            raise _sw(StatusWord.WRONG_LENGTH, f"TRANSACT data is one {fp.LOG_RECORD_SIZE}-byte log record")
        try:
            record = fp.decode_log_record(apdu.data)
            policy = fp.decode_policy(self._file_tlv(fp.FID_POLICY[apdu.p1]))
        except ValueError as exc:
            raise _sw(fp.SW_TRANSACTION_INCONSISTENT, "record or policy malformed") from exc
        if policy is None or record.policy_slot != apdu.p1 or record.member is None:
            raise _sw(fp.SW_TRANSACTION_INCONSISTENT, "empty policy slot, or record for another slot or no member")
        if record.kind in (LogKind.ADMISSION, LogKind.TRANSPORT):
            if record.amount > policy.balance:
                raise _sw(fp.SW_BALANCE_TOO_LOW, "balance too low")
            balance = policy.balance - record.amount
        elif record.kind is LogKind.DISCHARGE:
            blocked = self._blocked(record)
            if record.amount > blocked:
                raise _sw(fp.SW_TRANSACTION_INCONSISTENT, "discharge debits more than the admission blocked")
            balance = policy.balance + blocked - record.amount  # the unused part of the block goes back
        else:
            raise _sw(fp.SW_TRANSACTION_INCONSISTENT, "TRANSACT takes admission, discharge or transport records")
        if record.balance_after != balance or balance > policy.sum_insured:
            raise _sw(fp.SW_TRANSACTION_INCONSISTENT, "balance after does not match the card's computation")
        content = fp.encode_policy(dataclasses.replace(policy, balance=balance))
        nxt, count = self.eeprom.read(SYS_LOG_NEXT, 2)
        target = FILE_OFFSETS[fp.FID_LOG] + nxt * fp.LOG_RECORD_SIZE
        pointer = bytes(((nxt + 1) % fp.LOG_RECORDS, min(count + 1, fp.LOG_RECORDS)))
        self._write([(FILE_OFFSETS[fp.FID_POLICY[apdu.p1]], content), (target, apdu.data), (SYS_LOG_NEXT, pointer)])

    # -- authentication -----------------------------------------------------------------------------
    @command(fp.INS_GET_CHALLENGE)
    def get_challenge(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 or apdu.p2:
            raise _sw(StatusWord.INCORRECT_P1P2, "GET CHALLENGE takes P1-P2 = 0000")
        if apdu.ne != scp.CHALLENGE_SIZE:
            raise _sw(StatusWord.WRONG_LENGTH, "GET CHALLENGE returns 8 bytes (Le = 08)")
        return self._sm.challenge()

    @command(fp.INS_EXTERNAL_AUTHENTICATE)
    def external_authenticate(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 != 0x00 or apdu.p2 != P2_FAMILY_CARD_KEY:
            raise _sw(StatusWord.INCORRECT_P1P2, "EXTERNAL AUTHENTICATE takes P1 = 00, P2 = 01 (card key)")
        if len(apdu.data) != 2 * scp.CHALLENGE_SIZE:
            self._sm.clear()
            raise _sw(StatusWord.WRONG_LENGTH, "data = host challenge (8) || host cryptogram (8)")
        card_cryptogram = self._sm.external_authenticate(apdu.data)
        if card_cryptogram is None:
            raise _sw(fp.SW_AUTH_FAILED, "host cryptogram wrong or no pending challenge")
        return card_cryptogram

    @command(fp.INS_ACTIVATE)
    def activate(self, apdu: CommandApdu) -> None:
        if apdu.p1 or apdu.p2:
            raise _sw(StatusWord.INCORRECT_P1P2, "ACTIVATE takes P1-P2 = 0000")
        if self.lifecycle is not fp.Lifecycle.PERSONALISED:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, f"card is {self.lifecycle.name}, not PERSONALISED")
        try:
            _, end = tlv.decode_one(apdu.data)
            activation_tlv, issuance_tlv = apdu.data[:end], apdu.data[end:]
            activation = fp.decode_activation(activation_tlv)
            # Optional EF.ISSUANCE content (the FKO's signature exists only after personalisation).
            issuance = fp.decode_issuance(issuance_tlv) if issuance_tlv else None
            household = fp.decode_household(self._file_tlv(fp.FID_HOUSEHOLD))
        except ValueError as exc:
            raise _sw(StatusWord.WRONG_DATA, "activation data malformed") from exc
        if issuance_tlv and (issuance is None or issuance.authority_serial != activation.authority_serial):
            raise _sw(StatusWord.WRONG_DATA, "issuance record missing or from another FKO card")
        key = self._card_key()
        assert key is not None  # END PERSONALISATION refuses a card without a key
        expected = scp.activation_cryptogram(
            key, self.serial.value, household.urn.value.encode("ascii"), activation.issuance_number
        )
        if not hmac.compare_digest(expected, activation.cryptogram):
            raise _sw(fp.SW_AUTH_FAILED, "activation cryptogram wrong")
        writes = [(FILE_OFFSETS[fp.FID_ACTIVATION], activation_tlv.ljust(fp.SIZE_ACTIVATION, b"\x00"))]
        if issuance_tlv:
            writes.append((FILE_OFFSETS[fp.FID_ISSUANCE], issuance_tlv.ljust(fp.SIZE_ISSUANCE, b"\x00")))
        self._write([*writes, (SYS_LIFECYCLE, bytes((fp.Lifecycle.ACTIVATED,)))])

    def _file_tlv(self, fid: int) -> bytes:
        raw = self.eeprom.read(FILE_OFFSETS[fid], fp.FILES_BY_FID[fid].size)
        _, end = tlv.decode_one(raw)
        return raw[:end]

    # -- personalisation ------------------------------------------------------------------------------
    def _require_blank(self) -> None:
        if self.lifecycle is not fp.Lifecycle.BLANK:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, f"card is {self.lifecycle.name}; personalisation is over")

    @command(fp.INS_START_PERSONALISATION, cla=(fp.CLA_PROPRIETARY,))
    def start_personalisation(self, apdu: CommandApdu) -> None:
        self._require_blank()
        if apdu.p1 or apdu.p2 or apdu.data:
            raise _sw(StatusWord.INCORRECT_P1P2, "START PERSONALISATION takes no parameters")
        # Forget whatever a torn earlier attempt left: the log pointer and the key flag.
        self.eeprom.write(SYS_KEY_PRESENT, b"\x00\x00\x00")
        self._sm = CardSession(os.urandom(scp.CARD_KEY_SIZE))

    @command(fp.INS_PUT_KEY, cla=(fp.CLA_PROPRIETARY,))
    def put_key(self, apdu: CommandApdu) -> None:
        self._require_blank()
        if apdu.p1 != 0x00 or apdu.p2 != 0x01:
            raise _sw(StatusWord.INCORRECT_P1P2, "PUT KEY: P1 = 00, P2 = 01 (the card key)")
        if len(apdu.data) != scp.CARD_KEY_SIZE:
            raise _sw(StatusWord.WRONG_LENGTH, "the card key is 16 bytes")
        self.eeprom.write(SYS_KEY, apdu.data)
        self.eeprom.write(SYS_KEY_PRESENT, b"\x01")
        self._sm = CardSession(apdu.data)

    @command(fp.INS_END_PERSONALISATION, cla=(fp.CLA_PROPRIETARY,))
    def end_personalisation(self, apdu: CommandApdu) -> None:
        self._require_blank()
        if apdu.p1 or apdu.p2 or apdu.data:
            raise _sw(StatusWord.INCORRECT_P1P2, "END PERSONALISATION takes no parameters")
        if self._card_key() is None:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, "no card key: PUT KEY first")
        try:
            fp.decode_household(self._file_tlv(fp.FID_HOUSEHOLD))
        except ValueError as exc:
            raise _sw(StatusWord.CONDITIONS_NOT_SATISFIED, "EF.HOUSEHOLD is not valid") from exc
        self.eeprom.write(SYS_LIFECYCLE, bytes((fp.Lifecycle.PERSONALISED,)))  # one byte: the commit point
