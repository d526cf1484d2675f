"""What can go wrong between the station and a fingerprint scanner, one small hierarchy.

Every message says what happened and what the operator can do. Messages never carry image or template
bytes. Capture outcomes about the finger itself (no finger, poor quality) are the engine's
``biometrics.errors.NoFingerError`` / ``PoorQualityError``; the classes here are about the device and
the link to it.
"""

from __future__ import annotations

from biometrics.errors import BiometricsError


class ScannerError(BiometricsError):
    """Base class of every scanner device or link error."""


class ScannerConfigError(ScannerError, ValueError):
    """The scanner config string names no known backend or is malformed."""


class ScannerNotFound(ScannerError):
    """The configured device is not there (port missing, no USB device with that index or name)."""


class ScannerDisconnected(ScannerError):
    """The link to the device broke mid-use (cable pulled, device reset); the next call tries to reopen."""


class ScannerTimeout(ScannerError):
    """The device did not answer, or no finger arrived, within the allowed time."""


class ScannerProtocolError(ScannerError):
    """The device answered with bytes that do not form a valid reply (wrong packet, garbage)."""


class ChecksumError(ScannerProtocolError):
    """A packet arrived whose checksum does not match its contents (line noise or a failing cable)."""


class ScannerAuthError(ScannerError):
    """The device refused the handshake: wrong password or wrong module address."""


class ScannerCommandError(ScannerError):
    """The device understood the command but reported a failure code.

    ``code`` is the device's own status code (for ZFM modules the confirmation code byte).
    """

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code
