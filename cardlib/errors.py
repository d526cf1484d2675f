"""The card error hierarchy: every failure talking to a card, with what happened and what to do.

Two kinds of failure reach callers:

* the path to the card broke (no reader, no card, card pulled, card silent, reader/driver error), and
* the card answered with a status word other than success; :func:`raise_for_status` turns that word
  into the most specific :class:`StatusWordError` subclass.

Messages never carry APDU data: it may hold keys, PINs, templates or photos.
"""

from __future__ import annotations

from collections.abc import Iterable

from cardlib.apdu import ResponseApdu, StatusWord


class CardError(Exception):
    """Base of every card failure. ``str(exc)`` says what happened and what to do."""


class TransportConfigError(CardError, ValueError):
    """A transport config string that names no known backend or is malformed."""


class ReaderNotFoundError(CardError):
    """The configured reader does not exist (unplugged, wrong name or index)."""


class NoCardError(CardError):
    """The reader is there but holds no card."""


class CardRemovedError(CardError):
    """The card left the reader while the station was talking to it."""


class CardMuteError(CardError):
    """The card did not answer in time (timeout)."""


class TransportError(CardError):
    """The reader, driver or PC/SC service failed; the card may be fine."""


class StatusWordError(CardError):
    """The card answered with a status word that the caller did not accept.

    ``sw`` is the status word (int), ``context`` what the station was doing.
    """

    advice = "check the card type and the command, then try again"

    def __init__(self, sw: int, context: str = "") -> None:
        self.sw = int(sw)
        self.context = context
        what = f"{context}: " if context else ""
        super().__init__(f"{what}card answered {self.sw:04X} ({StatusWord.describe(self.sw)}); {self.advice}")

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF


class SecurityStatusNotSatisfied(StatusWordError):
    advice = "authenticate (authority card or secure channel) before this command"


class VerificationFailed(StatusWordError):
    """63Cx: a PIN/fingerprint/key verification failed; ``tries_left`` counts what remains."""

    advice = "check the PIN or credential; the card blocks it when no tries are left"

    @property
    def tries_left(self) -> int:
        return self.sw2 & 0x0F


class AuthenticationBlocked(StatusWordError):
    advice = "the credential is blocked on this card; it must be unblocked at the district office"


class FileNotFound(StatusWordError):
    advice = "this is not the expected card or application; insert the right card (or personalise it)"


class RecordNotFound(StatusWordError):
    advice = "the record or key referenced does not exist on this card; check the card type and version"


class WrongLength(StatusWordError):
    advice = "the command length does not match what the card expects; check the card profile version"


class ConditionsNotSatisfied(StatusWordError):
    advice = "the card is not in a state that allows this command (e.g. not activated, already issued)"


class CommandNotAllowed(StatusWordError):
    advice = "the command is not allowed on the selected file; select the right file first"


class WrongData(StatusWordError):
    advice = "the card rejected the data sent; check the values written (the card state is unchanged)"


class MemoryFailure(StatusWordError):
    advice = "the card failed to write; retry once, and replace the card if it happens again"


class NotEnoughMemory(StatusWordError):
    advice = "the data does not fit in the card file; shorten it (see the byte budget in the card profile)"


class IncorrectP1P2(StatusWordError):
    advice = "offset or parameters out of range for this file; check the card profile"


class InsNotSupported(StatusWordError):
    advice = "the card does not know this command; it is probably another card type or version"


class ClaNotSupported(StatusWordError):
    advice = "the card does not accept this class byte; it is probably another card type"


class SecureMessagingError(StatusWordError):
    advice = "the secure channel failed (bad MAC or missing objects); reset the card and authenticate again"


class UnexpectedStatus(StatusWordError):
    """Any other status word (including 61xx/6Cxx that the transport should have resolved)."""


_BY_SW: dict[int, type[StatusWordError]] = {
    StatusWord.SECURITY_STATUS_NOT_SATISFIED: SecurityStatusNotSatisfied,
    StatusWord.AUTH_METHOD_BLOCKED: AuthenticationBlocked,
    StatusWord.REFERENCE_DATA_NOT_USABLE: AuthenticationBlocked,
    StatusWord.FILE_NOT_FOUND: FileNotFound,
    StatusWord.RECORD_NOT_FOUND: RecordNotFound,
    StatusWord.REFERENCED_DATA_NOT_FOUND: RecordNotFound,
    StatusWord.WRONG_LENGTH: WrongLength,
    StatusWord.CONDITIONS_NOT_SATISFIED: ConditionsNotSatisfied,
    StatusWord.COMMAND_NOT_ALLOWED: CommandNotAllowed,
    StatusWord.COMMAND_INCOMPATIBLE_WITH_FILE: CommandNotAllowed,
    StatusWord.COMMAND_NOT_ALLOWED_NO_EF: CommandNotAllowed,
    StatusWord.WRONG_DATA: WrongData,
    StatusWord.FUNCTION_NOT_SUPPORTED: InsNotSupported,
    StatusWord.MEMORY_FAILURE: MemoryFailure,
    StatusWord.NOT_ENOUGH_MEMORY: NotEnoughMemory,
    StatusWord.INCORRECT_P1P2: IncorrectP1P2,
    StatusWord.WRONG_P1P2: IncorrectP1P2,
    StatusWord.INS_NOT_SUPPORTED: InsNotSupported,
    StatusWord.CLA_NOT_SUPPORTED: ClaNotSupported,
    StatusWord.CLA_FUNCTION_NOT_SUPPORTED: ClaNotSupported,
    StatusWord.LOGICAL_CHANNEL_NOT_SUPPORTED: ClaNotSupported,
    StatusWord.SECURE_MESSAGING_NOT_SUPPORTED: SecureMessagingError,
    StatusWord.SM_DATA_OBJECTS_MISSING: SecureMessagingError,
    StatusWord.SM_DATA_OBJECTS_INCORRECT: SecureMessagingError,
}


def error_class_for(sw: int) -> type[StatusWordError]:
    """The exception class that stands for status word ``sw``."""
    if sw >> 8 == 0x63 and sw & 0xF0 == 0xC0:
        return VerificationFailed
    if sw >> 8 == 0x6C:
        return WrongLength
    return _BY_SW.get(sw, UnexpectedStatus)


def status_error(sw: int, context: str = "") -> StatusWordError:
    """The exception for status word ``sw`` (not raised), e.g. to attach as a cause."""
    return error_class_for(sw)(sw, context)


def raise_for_status(
    response: ResponseApdu, context: str = "", accept: Iterable[int] = ()
) -> ResponseApdu:
    """Return ``response`` if its status is 9000 (or in ``accept``), else raise the matching error.

    ``context`` says what the station was doing ("reading the family file"); it leads the message.
    """
    sw = response.sw
    if sw == StatusWord.SUCCESS or sw in set(accept):
        return response
    raise status_error(sw, context)
