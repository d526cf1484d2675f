"""Mutual authentication and secure messaging at the APDU level (protocol: ``docs/authentication.md``).

Host side:

* :class:`Sam` is whatever holds the card keys and runs the host half of the handshake: an authority
  card (``cardlib.authority``: hospital, FKO and district cards) or :class:`SoftwareSam` around one
  card key (district desk tools and tests).
* :func:`authenticate` runs GET CHALLENGE / EXTERNAL AUTHENTICATE against a family card with a SAM
  and returns a :class:`SecureChannel`, whose :meth:`SecureChannel.transmit` protects each command
  and checks each response.

Card side (used by the simulated family card):

* :class:`CardSession` holds one card's session after a successful EXTERNAL AUTHENTICATE and
  unwraps protected commands / wraps responses with the counter rules of ``keymgmt.scp``.

The crypto itself lives in :mod:`keymgmt.scp`; nothing here logs key or data bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol

from cardlib.apdu import CommandApdu, ResponseApdu, StatusWord
from cardlib.errors import CardError, SecureMessagingError, raise_for_status
from cardlib.transport import Transport
from keymgmt import scp
from keymgmt.errors import SecureMessagingError as ScpError

CLA_SM = 0x0C  # ISO/IEC 7816-4: SM with header authenticated
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
P2_FAMILY_CARD_KEY = 0x01  # key reference of the family card's static key


class AuthenticationFailed(CardError):
    """The card or the SAM did not prove knowledge of the card key: a forged, cloned or foreign card."""


class Sam(Protocol):
    """The host half of the handshake; holds the keys so the station never sees a master key."""

    def begin(self, serial: bytes, district_code: str, card_challenge: bytes) -> tuple[bytes, bytes]:
        """Return (host challenge, host cryptogram) for this card and its challenge."""
        ...

    def complete(self, card_cryptogram: bytes) -> scp.SessionKeys:
        """Check the card's cryptogram; return the session keys, or raise AuthenticationFailed."""
        ...


@dataclass
class SoftwareSam:
    """A SAM in software around one family-card key (district desk, tests): :class:`Sam`."""

    card_key: bytes = field(repr=False)
    _pending: tuple[scp.SessionKeys, bytes, bytes] | None = field(default=None, repr=False)

    def begin(self, serial: bytes, district_code: str, card_challenge: bytes) -> tuple[bytes, bytes]:
        host_challenge = os.urandom(scp.CHALLENGE_SIZE)
        keys = scp.derive_session_keys(self.card_key, host_challenge, card_challenge)
        self._pending = (keys, host_challenge, card_challenge)
        return host_challenge, scp.host_cryptogram(keys, host_challenge, card_challenge)

    def complete(self, card_cryptogram: bytes) -> scp.SessionKeys:
        if self._pending is None:
            raise AuthenticationFailed("no authentication in progress; start again with GET CHALLENGE")
        keys, hc, cc = self._pending
        self._pending = None
        if not scp.cryptograms_equal(card_cryptogram, scp.card_cryptogram(keys, hc, cc)):
            raise AuthenticationFailed(
                "the card's cryptogram is wrong: it does not hold the key of this serial (forged or cloned card)"
            )
        return keys


class SecureChannel:
    """An authenticated session with one card: every command encrypted and MACed, counter-bound."""

    def __init__(self, transport: Transport, keys: scp.SessionKeys) -> None:
        self._transport = transport
        self._keys: scp.SessionKeys | None = keys
        self.counter = 0

    @property
    def open(self) -> bool:
        return self._keys is not None

    def close(self) -> None:
        self._keys = None

    def transmit(self, command: CommandApdu, context: str = "") -> ResponseApdu:
        """Send ``command`` protected; return the verified, decrypted response (any status word).

        Raises :class:`cardlib.errors.SecureMessagingError` (and closes the channel) when the card
        rejects the protection or its answer fails verification.
        """
        if self._keys is None:
            raise SecureMessagingError(StatusWord.SM_DATA_OBJECTS_MISSING, context or "secure channel closed")
        self.counter += 1
        cla = command.cla | CLA_SM
        header = bytes((cla, command.ins, command.p1, command.p2))
        try:
            data = scp.protect_command(self._keys, self.counter, header, command.data)
        except ScpError:
            self.close()
            raise SecureMessagingError(StatusWord.SM_DATA_OBJECTS_INCORRECT, context or "protecting") from None
        ne = 65536 if len(data) > 255 or (command.ne or 0) > 200 else 256
        response = self._transport.transmit(CommandApdu(cla, command.ins, command.p1, command.p2, data, ne))
        if not response.data:
            # SM failures are answered in plain (6987/6988) and end the session on the card.
            self.close()
            raise SecureMessagingError(response.sw, context or "card refused the protected command")
        try:
            plain = scp.unprotect_response(self._keys, self.counter, response.data, response.sw)
        except ScpError:
            self.close()
            raise SecureMessagingError(
                StatusWord.SM_DATA_OBJECTS_INCORRECT, (context + ": " if context else "") + "response failed its MAC"
            ) from None
        return ResponseApdu(plain, response.sw)


def authenticate(transport: Transport, sam: Sam, serial: bytes, district_code: str) -> SecureChannel:
    """Mutual authentication of the family card in ``transport`` through ``sam``; see the module doc.

    The family application must already be selected. Raises :class:`AuthenticationFailed` when the
    card (or the SAM) cannot prove the card key.
    """
    response = raise_for_status(
        transport.transmit(CommandApdu(0x00, INS_GET_CHALLENGE, 0, 0, ne=scp.CHALLENGE_SIZE)), "getting a challenge"
    )
    if len(response.data) != scp.CHALLENGE_SIZE:
        raise AuthenticationFailed("the card's challenge is not 8 bytes; it is not a family card of this scheme")
    host_challenge, host_crypt = sam.begin(serial, district_code, response.data)
    response = transport.transmit(
        CommandApdu(0x00, INS_EXTERNAL_AUTHENTICATE, 0, P2_FAMILY_CARD_KEY, host_challenge + host_crypt, ne=8)
    )
    if response.sw != StatusWord.SUCCESS or len(response.data) != scp.CRYPTOGRAM_SIZE:
        raise AuthenticationFailed(
            f"the card refused the host cryptogram ({response.sw:04X}): its key is not derived from this "
            "scheme's keys (forged card, or a card of another scheme)"
        )
    keys = sam.complete(response.data)
    return SecureChannel(transport, keys)


# --- card side ------------------------------------------------------------------------------------


class CardSession:
    """A card's half of the handshake and of secure messaging (used inside simulated cards).

    ``challenge()`` answers GET CHALLENGE; ``external_authenticate(data)`` checks the host cryptogram
    and returns the card cryptogram; then ``unwrap(apdu)`` / ``wrap(...)`` handle protected commands.
    Every failure clears the session (the host must authenticate again).
    """

    def __init__(self, card_key: bytes) -> None:
        self._card_key = card_key
        self._challenge: bytes | None = None
        self.keys: scp.SessionKeys | None = None
        self.counter = 0

    @property
    def authenticated(self) -> bool:
        return self.keys is not None

    def clear(self) -> None:
        self._challenge = None
        self.keys = None
        self.counter = 0

    def challenge(self) -> bytes:
        self.clear()
        self._challenge = os.urandom(scp.CHALLENGE_SIZE)
        return self._challenge

    def external_authenticate(self, data: bytes) -> bytes | None:
        """The card cryptogram, or None when the host cryptogram is wrong (answer 6300 then)."""
        challenge, self._challenge = self._challenge, None  # single use, whatever the outcome
        self.keys = None
        if challenge is None or len(data) != 2 * scp.CHALLENGE_SIZE:
            return None
        host_challenge, host_crypt = data[:8], data[8:]
        keys = scp.derive_session_keys(self._card_key, host_challenge, challenge)
        if not scp.cryptograms_equal(host_crypt, scp.host_cryptogram(keys, host_challenge, challenge)):
            return None
        self.keys, self.counter = keys, 0
        return scp.card_cryptogram(keys, host_challenge, challenge)

    def unwrap(self, apdu: CommandApdu) -> CommandApdu:
        """The plain command inside a protected one; raises ScpError (session cleared) on any fault."""
        if self.keys is None:
            raise ScpError("no secure session; authenticate first")
        header = bytes((apdu.cla, apdu.ins, apdu.p1, apdu.p2))
        try:
            data = scp.unprotect_command(self.keys, self.counter + 1, header, apdu.data)
        except ScpError:
            self.clear()
            raise
        self.counter += 1
        return CommandApdu(apdu.cla & ~CLA_SM & 0xFF, apdu.ins, apdu.p1, apdu.p2, data, ne=apdu.ne)

    def wrap(self, data: bytes, sw: int) -> ResponseApdu:
        """The protected response to the command last unwrapped."""
        if self.keys is None:
            raise ScpError("no secure session; authenticate first")
        return ResponseApdu(scp.protect_response(self.keys, self.counter, data, sw), sw)
