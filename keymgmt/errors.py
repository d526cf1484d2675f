"""The key-management error hierarchy.

Every message says what happened and what to do; none ever carries key bytes, PINs, passphrases,
cryptograms or biometric data (tests capture ``str(exc)`` of failing paths and check it).
"""

from __future__ import annotations


class KeyManagementError(Exception):
    """Base class of every error raised by :mod:`keymgmt`."""


class KeyFormatError(KeyManagementError, ValueError):
    """A key, challenge or other cryptographic input has the wrong type or length."""


class SecureMessagingError(KeyManagementError):
    """A secure-messaging block failed its MAC, padding, structure or counter check.

    The session must be treated as broken: authenticate again before the next protected command.
    """


class AuthenticationError(KeyManagementError):
    """A cryptogram or signature did not verify: the peer does not hold the expected key."""


class SignatureError(AuthenticationError):
    """A signed document, certificate or list failed verification (tampered, wrong signer, expired)."""


class CertificateError(SignatureError):
    """A certificate is malformed, expired, not yet valid, of the wrong role or not chained to the root."""


class RevokedError(SignatureError):
    """The card or authority is on the current revocation list."""


class KeyStoreError(KeyManagementError):
    """A key store could not be opened, read or written (wrong passphrase, missing key, token fault)."""


class KeyNotFoundError(KeyStoreError, KeyError):
    """The key store holds no key under the requested label."""

    def __str__(self) -> str:  # KeyError would quote the message; keep it plain text
        return str(self.args[0]) if self.args else "key not found"
