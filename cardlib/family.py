"""The family card client: personalise, read, authenticate, update policies and the log, activate.

Speaks the profile of ``docs/card-profile.md`` (constants and codecs in :mod:`cardlib.family_profile`)
over any :class:`cardlib.transport.Transport`::

    card = FamilyCard(open_transport("pcsc:0"))
    card.select()
    card.personalise(family, card_key=key, progress=lambda done, total: ...)
    card.activate(activation)                 # the FKO card's cryptogram; see docs/authentication.md
    family = card.read()
    card.authenticate(sam)                    # cardlib.secure.Sam: FKO/hospital card or SoftwareSam
    card.update_policy(0, policy)             # under secure messaging
    card.append_log(record)

Personalisation writes the files while the card is BLANK and commits with one final command; a card
pulled before that reads as blank, one pulled after reads complete. Every later write is a single
command that the card applies atomically. Errors are ``cardlib.errors.CardError`` subclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cardlib import family_profile as fp
from cardlib import tlv
from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardError, CardMuteError, CardRemovedError, raise_for_status
from cardlib.family_profile import CardInfo, Lifecycle
from cardlib.model import Activation, CardSerial, Family, Issuance, LogRecord, Member, Policy
from cardlib.secure import Sam, SecureChannel, authenticate
from cardlib.tlv import TlvError
from cardlib.transport import Transport

Progress = Callable[[int, int], None]

__all__ = [
    "ActivationRefused",
    "CardBlank",
    "CardNotBlank",
    "FamilyCard",
    "FamilyCardError",
    "NoSecureSession",
    "NotAFamilyCard",
    "Progress",
    "TransactionRefused",
    "family_data",
    "family_digest",
]


class FamilyCardError(CardError):
    """A family-card operation that cannot go on; the message says why and what to do."""


class NotAFamilyCard(FamilyCardError):
    """The card has no family application (another card type, or a card of another scheme)."""


class CardBlank(FamilyCardError):
    """The card is not personalised (new, or a personalisation that did not finish)."""


class CardNotBlank(FamilyCardError):
    """Personalisation was asked of a card that is already personalised."""


class NoSecureSession(FamilyCardError):
    """A protected write was asked without an authenticated session."""


class ActivationRefused(FamilyCardError):
    """The card rejected the activation cryptogram (made for another card, family or key)."""


class TransactionRefused(FamilyCardError):
    """The card refused a hospital transaction (balance too low, no such admission, inconsistent record)."""


def family_data(family: Family) -> bytes:
    """The canonical bytes of a family's identity data: household, members, photos, fingers.

    This is what the issuance statement's "SHA-256 of the family data" covers (see
    ``docs/authentication.md``): the files that never change after personalisation, as written.
    Policies, the log and the issuance record itself are not part of it.
    """
    parts = [fp.encode_household(_household(family))]
    for member in family.members:
        parts += [fp.encode_member(member), fp.encode_photo(member.photo), fp.encode_fingers(member.fingers)]
    return b"".join(parts)


def family_digest(family: Family) -> bytes:
    return hashlib.sha256(family_data(family)).digest()


def _household(family: Family) -> fp.Household:
    return fp.Household(
        family.urn, family.scheme, family.state_code, family.district_code, family.village_code, len(family.members)
    )


def personalisation_files(family: Family) -> list[tuple[fp.EfSpec, bytes]]:
    """Every transparent EF personalisation writes, in order, with its canonical content."""
    files = [(fp.FID_HOUSEHOLD, fp.encode_household(_household(family)))]
    for i, member in enumerate(family.members):
        files += [
            (fp.FID_MEMBER[i], fp.encode_member(member)),
            (fp.FID_PHOTO[i], fp.encode_photo(member.photo)),
            (fp.FID_FINGERS[i], fp.encode_fingers(member.fingers)),
        ]
    files += [(fp.FID_POLICY[i], fp.encode_policy(p)) for i, p in enumerate(family.policies)]
    files.append((fp.FID_ISSUANCE, fp.encode_issuance(family.issuance)))
    out = []
    for fid, content in files:
        spec = fp.FILES_BY_FID[fid]
        if len(content) > spec.size:  # the model's limits make this impossible; keep the card safe anyway
            raise TlvError(f"{spec.name} content of {len(content)} bytes exceeds its {spec.size}-byte file")
        out.append((spec, content))
    return out


class FamilyCard:
    """Client of one family card in ``transport`` (connected by the caller)."""

    def __init__(self, transport: Transport, *, chunk: int = 1024, read_chunk: int = 4096) -> None:
        if not 1 <= chunk <= 65535 or not 1 <= read_chunk <= 65535:
            raise ValueError("chunk sizes must be 1..65535 bytes")
        self.transport = transport
        self.chunk = chunk
        self.read_chunk = read_chunk
        self._channel: SecureChannel | None = None

    # -- plumbing -----------------------------------------------------------------------------------
    def _send(self, apdu: CommandApdu, context: str, accept: tuple[int, ...] = ()) -> ResponseApdu:
        return raise_for_status(self.transport.transmit(apdu), context, accept)

    def _select_ef(self, fid: int, name: str) -> None:
        self._send(CommandApdu(0x00, fp.INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")), f"selecting {name}")

    def _read_binary(self, offset: int, length: int, name: str) -> bytes:
        response = self._send(
            CommandApdu(0x00, fp.INS_READ_BINARY, offset >> 8, offset & 0xFF, ne=length),
            f"reading {name}",
            accept=(StatusWord.WARNING_END_OF_FILE,),
        )
        return response.data

    def _read_tlv_file(self, fid: int, size: int, name: str) -> bytes:
        self._select_ef(fid, name)
        data = self._read_binary(0, min(size, 256), name)
        total = tlv.encoded_size(data)
        if total > size:
            raise TlvError(f"{name} claims {total} bytes but the file holds {size}; the card data is damaged")
        data = data[:total]
        while len(data) < total:
            data += self._read_binary(len(data), min(total - len(data), self.read_chunk), name)
        return data

    # -- identity -----------------------------------------------------------------------------------
    def _select_app(self) -> None:
        response = self.transport.transmit(CommandApdu(0x00, fp.INS_SELECT, 0x04, 0x0C, fp.AID))
        if response.sw == StatusWord.FILE_NOT_FOUND:
            raise NotAFamilyCard("this card has no family application; insert an RSBY family card")
        raise_for_status(response, "selecting the family application")

    def select(self) -> CardInfo:
        """Select the family application; return serial, life-cycle state and profile version."""
        self._select_app()
        return fp.decode_card_info(self._read_tlv_file(fp.FID_CARD_INFO, 64, "EF.CARDINFO"))

    def info(self) -> CardInfo:
        """Same as :meth:`select` (the card's current serial, life-cycle state and version)."""
        return self.select()

    def serial(self) -> CardSerial:
        return self.info().serial

    # -- personalisation -------------------------------------------------------------------------------
    def personalise(self, family: Family, card_key: bytes, progress: Progress | None = None) -> None:
        """Write ``family`` and the card key onto a blank card and commit (the card is then PERSONALISED).

        ``card_key`` is the card's diversified key (``keymgmt.scp.derive_card_key`` for this serial);
        it is written once and can never be read back. ``progress(done, total)`` follows the bytes.
        """
        if not isinstance(card_key, bytes) or len(card_key) != 16:
            raise ValueError("the card key is 16 bytes (AES-128) derived for this card's serial")
        files = personalisation_files(family)
        records = [fp.encode_log_record(r) for r in family.log]
        total = sum(len(c) for _, c in files) + len(records) * fp.LOG_RECORD_SIZE + len(card_key)
        done = 0
        where = "starting personalisation"

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        with self.transport.transaction():
            info = self.select()
            if info.lifecycle is not Lifecycle.BLANK:
                raise CardNotBlank(f"card {info.serial} is already {info.lifecycle.name.lower()}; use a blank card")
            try:
                self._send(CommandApdu(fp.CLA_PROPRIETARY, fp.INS_START_PERSONALISATION), where)
                where = "writing the card key"
                self._send(CommandApdu(fp.CLA_PROPRIETARY, fp.INS_PUT_KEY, 0x00, 0x01, card_key), where)
                advance(len(card_key))
                for spec, content in files:
                    where = f"writing {spec.name}"
                    self._select_ef(spec.fid, spec.name)
                    for offset in range(0, len(content), self.chunk):
                        part = content[offset : offset + self.chunk]
                        self._send(CommandApdu(0x00, fp.INS_UPDATE_BINARY, offset >> 8, offset & 0xFF, part), where)
                        advance(len(part))
                where = "writing EF.LOG"
                self._select_ef(fp.FID_LOG, "EF.LOG")
                for record in records:
                    self._send(CommandApdu(0x00, fp.INS_APPEND_RECORD, 0, 0, record), where)
                    advance(len(record))
                where = "committing the personalisation"
                self._send(CommandApdu(fp.CLA_PROPRIETARY, fp.INS_END_PERSONALISATION), where)
            except (CardRemovedError, CardMuteError) as exc:
                raise type(exc)(
                    f"the card stopped answering while {where} ({done} of {total} bytes written); it is "
                    "still blank: reinsert it and personalise again"
                ) from exc

    # -- reading ----------------------------------------------------------------------------------------
    def read(self, progress: Progress | None = None) -> Family:
        """Everything on a personalised card except its activation (see :meth:`read_activation`)."""
        with self.transport.transaction():
            info = self.select()
            if info.lifecycle is Lifecycle.BLANK:
                raise CardBlank(f"card {info.serial} is blank (never personalised, or interrupted); personalise it")
            household = fp.decode_household(self._read_tlv_file(fp.FID_HOUSEHOLD, fp.SIZE_HOUSEHOLD, "EF.HOUSEHOLD"))
            steps = household.member_count + 3
            members: list[Member] = []
            for i in range(household.member_count):
                photo = fp.decode_photo(self._read_tlv_file(fp.FID_PHOTO[i], fp.SIZE_PHOTO, f"EF.PHOTO{i + 1}"))
                fingers = fp.decode_fingers(self._read_tlv_file(fp.FID_FINGERS[i], fp.SIZE_FINGERS, f"EF.FINGERS{i + 1}"))
                raw = self._read_tlv_file(fp.FID_MEMBER[i], fp.SIZE_MEMBER, f"EF.MEMBER{i + 1}")
                members.append(fp.decode_member(raw, photo, fingers))
                if progress is not None:
                    progress(i + 1, steps)
            policies = self.read_policies()
            issuance = fp.decode_issuance(self._read_tlv_file(fp.FID_ISSUANCE, fp.SIZE_ISSUANCE, "EF.ISSUANCE"))
            if progress is not None:
                progress(steps - 1, steps)
            log = self.read_log()
            if progress is not None:
                progress(steps, steps)
        return Family(
            urn=household.urn,
            scheme=household.scheme,
            state_code=household.state_code,
            district_code=household.district_code,
            village_code=household.village_code,
            members=tuple(members),
            policies=policies,
            issuance=issuance,
            log=log,
        )

    def read_policies(self) -> tuple[Policy | None, Policy | None]:
        self._select_app()
        p0, p1 = (
            fp.decode_policy(self._read_tlv_file(fid, fp.SIZE_POLICY, f"EF.POLICY{i + 1}"))
            for i, fid in enumerate(fp.FID_POLICY)
        )
        return (p0, p1)

    def read_log(self) -> tuple[LogRecord, ...]:
        """The transaction log, oldest first (the card keeps the last 32)."""
        self._select_app()
        self._select_ef(fp.FID_LOG, "EF.LOG")
        newest_first = []
        for number in range(1, fp.LOG_RECORDS + 1):
            response = self.transport.transmit(
                CommandApdu(0x00, fp.INS_READ_RECORD, number, 0x04, ne=fp.LOG_RECORD_SIZE)
            )
            if response.sw == StatusWord.RECORD_NOT_FOUND:
                break
            raise_for_status(response, f"reading log record {number}")
            newest_first.append(fp.decode_log_record(response.data))
        return tuple(reversed(newest_first))

    def read_activation(self) -> Activation | None:
        """The FKO's activation record, or None while the card is not activated."""
        info = self.info()
        if info.lifecycle is not Lifecycle.ACTIVATED:
            return None
        return fp.decode_activation(self._read_tlv_file(fp.FID_ACTIVATION, fp.SIZE_ACTIVATION, "EF.ACTIVATION"))

    # -- activation, authentication and protected writes -------------------------------------------------
    def activate(self, activation: Activation, issuance: Issuance | None = None) -> None:
        """Write the FKO card's activation; the card checks the cryptogram with its own key.

        ``issuance`` (the FKO's signed issuance record) is written to EF.ISSUANCE in the same atomic
        step: the signature only exists once the FKO has authorised the personalised card.
        """
        self._select_app()
        data = fp.encode_activation(activation) + (fp.encode_issuance(issuance) if issuance is not None else b"")
        response = self.transport.transmit(CommandApdu(0x00, fp.INS_ACTIVATE, 0, 0, data))
        if response.sw == fp.SW_AUTH_FAILED:
            raise ActivationRefused(
                "the card rejected the activation cryptogram: it was made for another card, family or key; "
                "authorise this card again with the FKO card"
            )
        raise_for_status(response, "activating the card")

    def authenticate(self, sam: Sam) -> None:
        """Mutual authentication through ``sam``; opens the secure session for protected writes."""
        info = self.select()
        if info.lifecycle is Lifecycle.BLANK:
            raise CardBlank(f"card {info.serial} is blank; personalise it before authenticating")
        household = fp.decode_household(self._read_tlv_file(fp.FID_HOUSEHOLD, fp.SIZE_HOUSEHOLD, "EF.HOUSEHOLD"))
        self._channel = authenticate(self.transport, sam, info.serial.value, household.district_code)

    @property
    def authenticated(self) -> bool:
        return self._channel is not None and self._channel.open

    def _transmit_protected(self, apdu: CommandApdu, context: str, after_loss: str) -> ResponseApdu:
        """Send ``apdu`` through the secure session (any status word comes back). A card that stops
        answering ends the session, and ``after_loss`` tells the operator what the card holds now."""
        if self._channel is None or not self._channel.open:
            raise NoSecureSession(f"{context} needs an authenticated session; call authenticate() first")
        try:
            return self._channel.transmit(apdu, context)
        except (CardRemovedError, CardMuteError) as exc:
            self._channel = None
            raise type(exc)(f"the card stopped answering while {context}; reinsert it: {after_loss}") from exc

    def _protected(self, apdu: CommandApdu, context: str) -> None:
        response = self._transmit_protected(
            apdu, context,
            "the card holds either the old or the new value (read it to see which), then authenticate again",
        )
        raise_for_status(response, context)

    def update_policy(self, slot: int, policy: Policy | None) -> None:
        """Replace policy slot 0 or 1 (renewal, balance change) in one atomic protected write."""
        if slot not in (0, 1):
            raise ValueError("policy slot must be 0 or 1")
        name = f"EF.POLICY{slot + 1}"
        self._select_app()
        self._select_ef(fp.FID_POLICY[slot], name)
        self._protected(CommandApdu(0x00, fp.INS_UPDATE_BINARY, 0, 0, fp.encode_policy(policy)), f"writing {name}")

    def read_issuance(self) -> Issuance | None:
        """The FKO's signed issuance record (None on cards activated without one)."""
        self._select_app()
        return fp.decode_issuance(self._read_tlv_file(fp.FID_ISSUANCE, fp.SIZE_ISSUANCE, "EF.ISSUANCE"))

    def transact(self, record: LogRecord) -> None:
        """A hospital transaction (admission block, discharge debit, transport) in one atomic protected write.

        The card recomputes the balance of ``record.policy_slot`` from its own policy and log and refuses
        a record whose ``balance_after`` disagrees, so the balance and the log can never diverge.
        """
        if record.policy_slot is None or record.member is None:
            raise ValueError("a hospital transaction names its policy slot and member")
        self._select_app()
        apdu = CommandApdu(0x00, fp.INS_TRANSACT, record.policy_slot, 0, fp.encode_log_record(record))
        context = f"writing the {record.kind.name.lower()} transaction {record.reference}"
        response = self._transmit_protected(
            apdu, context, "it holds the transaction whole or not at all (read its log to see which)"
        )
        if response.sw == fp.SW_BALANCE_TOO_LOW:
            raise TransactionRefused(f"{context}: the family's balance on the card is too low")
        if response.sw == fp.SW_NO_OPEN_ADMISSION:
            raise TransactionRefused(f"{context}: the card has no open admission {record.reference} of this hospital")
        if response.sw == fp.SW_TRANSACTION_INCONSISTENT:
            raise TransactionRefused(f"{context}: the card computed another balance; read the card again")
        raise_for_status(response, context)

    def append_log(self, record: LogRecord) -> None:
        """Add a transaction record; the oldest goes when the log is full."""
        self._select_app()
        self._select_ef(fp.FID_LOG, "EF.LOG")
        self._protected(CommandApdu(0x00, fp.INS_APPEND_RECORD, 0, 0, fp.encode_log_record(record)), "appending to EF.LOG")
