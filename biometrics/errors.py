"""The errors the fingerprint engine raises, one small hierarchy under ``BiometricsError``.

Every message says what happened and what the caller can do about it. Messages never contain image
data, minutiae or template bytes: biometric data must not end up in logs.
"""

from __future__ import annotations


class BiometricsError(Exception):
    """Base class of every error raised by ``biometrics``."""


class ImageFormatError(BiometricsError, ValueError):
    """The image handed to the engine is not a usable 8-bit greyscale fingerprint image."""


class TemplateFormatError(BiometricsError, ValueError):
    """A template record (ISO/IEC 19794-2 or the card format) is truncated, oversized or malformed."""


class CaptureError(BiometricsError):
    """The image is well formed but no usable fingerprint could be taken from it."""


class NoFingerError(CaptureError):
    """No finger was found on the image (blank, uniform or pure noise)."""


class PoorQualityError(CaptureError):
    """A finger is present but the capture is too poor to enrol or verify; ask for another capture."""

    def __init__(self, message: str, reasons: tuple = ()) -> None:
        super().__init__(message)
        self.reasons = reasons
