"""Card keys, mutual authentication and secure messaging: pure functions on bytes.

Everything here is symmetric AES and follows one pattern, so that a PKCS#11 token can run the same
derivations with its own AES-CMAC (see :func:`kdf_with_prf`):

* **KDF**: NIST SP 800-108 in counter mode with AES-CMAC as the PRF. Block *i* (from 1) is
  ``CMAC(K, [i]_32 || Label || 0x00 || Context || [L]_32)`` with L the output length in bits; the
  blocks are concatenated and truncated. This is exactly the layout of ``cryptography``'s
  ``KBKDFCMAC(rlen=4, llen=4, location=BeforeFixed)``, which the tests use as the independent
  reference.
* **Symmetric key hierarchy** (``docs/authentication.md`` has the picture): scheme root key (central store,
  never leaves) → scheme family master (32 bytes, held by hospital cards: cards are portable across
  India) → district root (32 bytes, district store, never leaves) → district family master (32 bytes,
  held by the district's FKO and district cards) → card key (16 bytes, AES-128, one per card serial).
  Beside it, the district admin master (district cards only) → one admin key per authority card,
  with which the district desk unblocks and recharges an FKO card.
* **Mutual authentication**, GlobalPlatform-SCP03-like: host and card each contribute an 8-byte
  challenge; three AES-128 session keys are derived from the card key with both challenges as
  context; each side proves knowledge of the card key with an 8-byte cryptogram (a KDF output under
  S-MAC with its own label). See ``docs/authentication.md`` for the APDUs.
* **Secure messaging**: ISO/IEC 7816-4 SM data objects, encrypt-then-MAC.

  - command data field: ``[87 L 01 || AES-CBC(S-ENC, IV_c, pad(data))]`` ``8E 08 C-MAC``;
    ``C-MAC = CMAC(S-MAC, block_c(n) || header || DO87)[:8]``;
  - response data field: ``[87 L 01 || AES-CBC(S-ENC, IV_r, pad(data))]`` ``99 02 SW``
    ``8E 08 R-MAC``; ``R-MAC = CMAC(S-RMAC, block_r(n) || DO87 || DO99)[:8]``;
  - ``block_c(n)`` is the counter *n* as a 16-byte big-endian block and ``block_r(n)`` the same with
    its first byte set to 0x80; ``IV = AES-ECB(S-ENC, block)``; padding is ISO/IEC 7816-4 (0x80 then
    zeros, always at least one byte). *header* is the 4-byte CLA INS P1 P2 exactly as sent (CLA with
    the SM bits 0x0C set).
  - The counter *n* starts at 1 for the first protected command after authentication and goes up by
    one per command; the response to command *n* uses *n* too. It is never transmitted: each side
    uses the value it expects, so a replayed, dropped, reordered or re-sent block fails its MAC.
    Different sessions have different keys, so nothing carries over between sessions.

No function here logs, and no exception text contains key, cryptogram or plaintext bytes.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from keymgmt.errors import KeyFormatError, SecureMessagingError

AES_KEY_SIZES = (16, 24, 32)
CARD_KEY_SIZE = 16
MASTER_KEY_SIZE = 32
CHALLENGE_SIZE = 8
CRYPTOGRAM_SIZE = 8
MAC_SIZE = 8
BLOCK = 16
MAX_COUNTER = 2**64 - 1

# Labels: one per derived quantity, so that no two derivations can ever produce the same bytes.
LABEL_SCHEME_FAMILY = b"RSBY/scheme-family-master"
LABEL_DISTRICT_ROOT = b"RSBY/district-root"
LABEL_DISTRICT_FAMILY = b"RSBY/district-family-master"
LABEL_DISTRICT_ADMIN = b"RSBY/district-admin-master"
LABEL_AUTHORITY_ADMIN = b"RSBY/authority-card-admin"
LABEL_CARD_KEY = b"RSBY/family-card-key"
LABEL_S_ENC = b"RSBY/SCP/S-ENC"
LABEL_S_MAC = b"RSBY/SCP/S-MAC"
LABEL_S_RMAC = b"RSBY/SCP/S-RMAC"
LABEL_CARD_CRYPTOGRAM = b"RSBY/SCP/card-cryptogram"
LABEL_HOST_CRYPTOGRAM = b"RSBY/SCP/host-cryptogram"
LABEL_ACTIVATION = b"RSBY/activation"

TAG_CRYPTOGRAM = 0x87
TAG_STATUS = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = 0x01

Prf = Callable[[bytes], bytes]


def _check_key(key: bytes, what: str = "key", sizes: tuple[int, ...] = AES_KEY_SIZES) -> None:
    if not isinstance(key, bytes):
        raise KeyFormatError(f"{what} must be bytes, got {type(key).__name__}")
    if len(key) not in sizes:
        raise KeyFormatError(f"{what} must be {' or '.join(map(str, sizes))} bytes long, got {len(key)}")


def _check_bytes(value: bytes, what: str, size: int | None = None) -> None:
    if not isinstance(value, bytes):
        raise KeyFormatError(f"{what} must be bytes, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise KeyFormatError(f"{what} must be {size} bytes long, got {len(value)}")


def _check_serial(serial: bytes, what: str) -> None:
    """A card serial diversifies a key: bytes, 1 to 32 of them (the CMAC-KDF context field)."""
    _check_bytes(serial, what)
    if not 1 <= len(serial) <= 32:
        raise KeyFormatError(f"card serial must be 1-32 bytes long, got {len(serial)}")


def aes_cmac(key: bytes, message: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), full 16-byte tag."""
    _check_key(key)
    mac = _cmac.CMAC(algorithms.AES(key))
    mac.update(message)
    return mac.finalize()


def _aes_ecb_block(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def kdf_input(label: bytes, context: bytes, length: int, counter: int) -> bytes:
    """The PRF input of block *counter* (exposed so a token can compute the same blocks)."""
    return counter.to_bytes(4, "big") + label + b"\x00" + context + (length * 8).to_bytes(4, "big")


def kdf_with_prf(prf: Prf, label: bytes, context: bytes, length: int) -> bytes:
    """NIST SP 800-108 counter-mode KDF over any 16-byte-output PRF (software CMAC or a token's)."""
    _check_bytes(label, "KDF label")
    _check_bytes(context, "KDF context")
    if not isinstance(length, int) or not 1 <= length <= 1024:
        raise KeyFormatError(f"KDF output length must be 1..1024 bytes, got {length!r}")
    out = b""
    counter = 1
    while len(out) < length:
        out += prf(kdf_input(label, context, length, counter))
        counter += 1
    return out[:length]


def kdf_cmac(key: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """NIST SP 800-108 counter-mode KDF with AES-CMAC as PRF; *length* in bytes."""
    _check_key(key)
    return kdf_with_prf(lambda data: aes_cmac(key, data), label, context, length)


def district_context(district_code: str) -> bytes:
    """The KDF context naming a district: its code in ASCII (e.g. ``"0923"``), validated."""
    if not isinstance(district_code, str) or not district_code or not district_code.isascii():
        raise KeyFormatError("district code must be a non-empty ASCII string")
    if not district_code.isalnum() or len(district_code) > 16:
        raise KeyFormatError("district code must be 1-16 letters or digits")
    return district_code.encode("ascii")


def derive_scheme_family_key(scheme_root: bytes, scheme_code: str) -> bytes:
    """The scheme family master (hospital cards) from the scheme root key (central store only)."""
    _check_key(scheme_root, "scheme root key")
    return kdf_cmac(scheme_root, LABEL_SCHEME_FAMILY, district_context(scheme_code), MASTER_KEY_SIZE)


def derive_district_root(scheme_master: bytes, district_code: str) -> bytes:
    """The district root key that the district key store holds (it never goes onto a card)."""
    _check_key(scheme_master, "scheme family master")
    return kdf_cmac(scheme_master, LABEL_DISTRICT_ROOT, district_context(district_code), MASTER_KEY_SIZE)


def district_family_from_root(district_root: bytes) -> bytes:
    _check_key(district_root, "district root key")
    return kdf_cmac(district_root, LABEL_DISTRICT_FAMILY, b"", MASTER_KEY_SIZE)


def district_admin_from_root(district_root: bytes) -> bytes:
    """The district admin master (district cards only): FKO admin keys are derived from it."""
    _check_key(district_root, "district root key")
    return kdf_cmac(district_root, LABEL_DISTRICT_ADMIN, b"", MASTER_KEY_SIZE)


def derive_district_family_key(scheme_master: bytes, district_code: str) -> bytes:
    """The 32-byte district family master that the district's FKO and district cards hold."""
    return district_family_from_root(derive_district_root(scheme_master, district_code))


def derive_authority_admin_key(admin_master: bytes, card_serial: bytes) -> bytes:
    """The admin key of one authority card (unblock, recharge), from the district admin master."""
    _check_key(admin_master, "district admin master")
    _check_serial(card_serial, "authority card serial")
    return kdf_cmac(admin_master, LABEL_AUTHORITY_ADMIN, card_serial, CARD_KEY_SIZE)


def derive_card_key(master: bytes, serial: bytes) -> bytes:
    """The 16-byte static key of the family card with this serial, from its district family master."""
    _check_key(master, "district family master")
    _check_serial(serial, "card serial")
    return kdf_cmac(master, LABEL_CARD_KEY, serial, CARD_KEY_SIZE)


def derive_card_key_from_scheme(scheme_master: bytes, district_code: str, serial: bytes) -> bytes:
    """Both levels at once: what a hospital card does for a card from any district."""
    return derive_card_key(derive_district_family_key(scheme_master, district_code), serial)


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The three AES-128 session keys of one authenticated session."""

    enc: bytes
    mac: bytes
    rmac: bytes

    def __post_init__(self) -> None:
        for name in ("enc", "mac", "rmac"):
            _check_key(getattr(self, name), f"session key {name}", (CARD_KEY_SIZE,))

    def __repr__(self) -> str:  # never print key bytes
        return "SessionKeys(<redacted>)"

    def to_bytes(self) -> bytes:
        """enc || mac || rmac (48 bytes), the form in which an authority card hands them over."""
        return self.enc + self.mac + self.rmac

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionKeys:
        _check_bytes(raw, "session keys", 3 * CARD_KEY_SIZE)
        return cls(raw[:16], raw[16:32], raw[32:48])


def _session_context(host_challenge: bytes, card_challenge: bytes) -> bytes:
    _check_bytes(host_challenge, "host challenge", CHALLENGE_SIZE)
    _check_bytes(card_challenge, "card challenge", CHALLENGE_SIZE)
    return host_challenge + card_challenge


def derive_session_keys(card_key: bytes, host_challenge: bytes, card_challenge: bytes) -> SessionKeys:
    """S-ENC, S-MAC and S-RMAC from the static card key and both challenges."""
    _check_key(card_key, "card key")
    ctx = _session_context(host_challenge, card_challenge)
    return SessionKeys(
        enc=kdf_cmac(card_key, LABEL_S_ENC, ctx, CARD_KEY_SIZE),
        mac=kdf_cmac(card_key, LABEL_S_MAC, ctx, CARD_KEY_SIZE),
        rmac=kdf_cmac(card_key, LABEL_S_RMAC, ctx, CARD_KEY_SIZE),
    )


def card_cryptogram(keys: SessionKeys, host_challenge: bytes, card_challenge: bytes) -> bytes:
    """The 8 bytes by which the card proves it holds the card key."""
    ctx = _session_context(host_challenge, card_challenge)
    return kdf_cmac(keys.mac, LABEL_CARD_CRYPTOGRAM, ctx, CRYPTOGRAM_SIZE)


def host_cryptogram(keys: SessionKeys, host_challenge: bytes, card_challenge: bytes) -> bytes:
    """The 8 bytes by which the host (an authority card acting as SAM) proves it holds the card key."""
    ctx = _session_context(host_challenge, card_challenge)
    return kdf_cmac(keys.mac, LABEL_HOST_CRYPTOGRAM, ctx, CRYPTOGRAM_SIZE)


def cryptograms_equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two cryptograms or MACs."""
    return isinstance(a, bytes) and isinstance(b, bytes) and hmac.compare_digest(a, b)


def activation_cryptogram(card_key: bytes, serial: bytes, urn: bytes, issuance_number: int) -> bytes:
    """8 bytes that an FKO card computes for a new family card and the family card checks with its key.

    Binds the card serial, the family's URN and the FKO card's issuance number, so a cryptogram made
    for one card or family activates no other.
    """
    _check_key(card_key, "card key")
    _check_bytes(serial, "card serial")
    _check_bytes(urn, "URN")
    if not 0 <= issuance_number < 2**32:
        raise KeyFormatError("issuance number must fit in 32 bits")
    ctx = len(serial).to_bytes(1, "big") + serial + len(urn).to_bytes(1, "big") + urn
    ctx += issuance_number.to_bytes(4, "big")
    return kdf_cmac(card_key, LABEL_ACTIVATION, ctx, CRYPTOGRAM_SIZE)


LABEL_ADMIN = b"RSBY/admin-cryptogram"
ADMIN_CRYPTOGRAM_SIZE = 16


def admin_cryptogram(admin_key: bytes, operation: int, card_serial: bytes, challenge: bytes, params: bytes) -> bytes:
    """16 bytes by which a district card authorises one admin operation (unblock, recharge) on one card.

    Bound to the operation code, the target card's serial, the target's fresh challenge and the
    operation's parameters, so it can be used once, on that card, for that exact change.
    """
    _check_key(admin_key, "admin key")
    for value, what in ((card_serial, "card serial"), (challenge, "challenge"), (params, "parameters")):
        _check_bytes(value, what)
    if not 0 <= operation <= 0xFF or len(card_serial) > 255 or len(challenge) > 255:
        raise KeyFormatError("admin operation is one byte; serial and challenge at most 255 bytes")
    ctx = bytes((operation, len(card_serial))) + card_serial + bytes((len(challenge),)) + challenge + params
    return kdf_cmac(admin_key, LABEL_ADMIN, ctx, ADMIN_CRYPTOGRAM_SIZE)


# --- secure messaging -------------------------------------------------------------------------------


def _counter_block(counter: int, response: bool) -> bytes:
    if not isinstance(counter, int) or isinstance(counter, bool) or not 1 <= counter <= MAX_COUNTER:
        raise SecureMessagingError("secure-messaging counter out of range; authenticate again")
    block = counter.to_bytes(BLOCK, "big")
    return b"\x80" + block[1:] if response else block


def _pad(data: bytes) -> bytes:
    data += b"\x80"
    return data + b"\x00" * (-len(data) % BLOCK)


def _unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= BLOCK:
        raise SecureMessagingError("secure-messaging padding is wrong; the session is broken, authenticate again")
    return stripped[:-1]


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return b"\x81" + bytes((n,))
    if n <= 0xFFFF:
        return b"\x82" + n.to_bytes(2, "big")
    raise SecureMessagingError("secure-messaging data object too long")


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes((tag,)) + _encode_length(len(value)) + value


def _parse_tlvs(raw: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, value, encoded bytes) for each simple-TLV object; rejects anything malformed."""
    out = []
    i = 0
    while i < len(raw):
        start = i
        tag = raw[i]
        i += 1
        if i >= len(raw):
            raise SecureMessagingError("secure-messaging block is truncated")
        first = raw[i]
        i += 1
        if first < 0x80:
            length = first
        elif first in (0x81, 0x82):
            width = first - 0x80
            if i + width > len(raw):
                raise SecureMessagingError("secure-messaging block is truncated")
            length = int.from_bytes(raw[i : i + width], "big")
            i += width
        else:
            raise SecureMessagingError("secure-messaging length field is malformed")
        if i + length > len(raw):
            raise SecureMessagingError("secure-messaging block is truncated")
        out.append((tag, raw[i : i + length], raw[start : i + length]))
        i += length
    return out


def _encrypt(keys: SessionKeys, block: bytes, data: bytes) -> bytes:
    iv = _aes_ecb_block(keys.enc, block)
    enc = Cipher(algorithms.AES(keys.enc), modes.CBC(iv)).encryptor()
    return enc.update(_pad(data)) + enc.finalize()


def _decrypt(keys: SessionKeys, block: bytes, ciphertext: bytes) -> bytes:
    if not ciphertext or len(ciphertext) % BLOCK:
        raise SecureMessagingError("secure-messaging cryptogram is not a whole number of AES blocks")
    iv = _aes_ecb_block(keys.enc, block)
    dec = Cipher(algorithms.AES(keys.enc), modes.CBC(iv)).decryptor()
    return _unpad(dec.update(ciphertext) + dec.finalize())


def _do87(keys: SessionKeys, block: bytes, data: bytes) -> bytes:
    return _tlv(TAG_CRYPTOGRAM, bytes((PADDING_INDICATOR,)) + _encrypt(keys, block, data)) if data else b""


def _split(protected: bytes, allowed: tuple[int, ...]) -> dict[int, tuple[bytes, bytes]]:
    if not isinstance(protected, bytes):
        raise SecureMessagingError("secure-messaging block must be bytes")
    objs = _parse_tlvs(protected)
    tags = [t for t, _, _ in objs]
    if not tags or tags[-1] != TAG_MAC:
        raise SecureMessagingError("secure-messaging MAC object (8E) missing; the block was not protected")
    if len(set(tags)) != len(tags) or any(t not in allowed for t in tags) or tags != sorted(tags, key=allowed.index):
        raise SecureMessagingError("unexpected secure-messaging data objects")
    return {t: (v, enc) for t, v, enc in objs}


def _check_mac(mac_key: bytes, message: bytes, received: bytes) -> None:
    expected = aes_cmac(mac_key, message)[:MAC_SIZE]
    if len(received) != MAC_SIZE or not hmac.compare_digest(expected, received):
        raise SecureMessagingError(
            "secure-messaging MAC does not verify (tampered, replayed or out of sequence); "
            "the session is broken, authenticate again"
        )


def _check_header(header: bytes) -> None:
    if not isinstance(header, bytes) or len(header) != 4:
        raise SecureMessagingError("command header must be the 4 bytes CLA INS P1 P2")


def protect_command(keys: SessionKeys, counter: int, header: bytes, data: bytes) -> bytes:
    """The SM data field for command number *counter* with this *header* and plaintext *data*."""
    _check_header(header)
    block = _counter_block(counter, response=False)
    do87 = _do87(keys, block, data)
    mac = aes_cmac(keys.mac, block + header + do87)[:MAC_SIZE]
    return do87 + _tlv(TAG_MAC, mac)


def unprotect_command(keys: SessionKeys, counter: int, header: bytes, protected: bytes) -> bytes:
    """Verify and decrypt a protected command data field; raise SecureMessagingError on any fault."""
    _check_header(header)
    block = _counter_block(counter, response=False)
    objs = _split(protected, (TAG_CRYPTOGRAM, TAG_MAC))
    do87 = objs[TAG_CRYPTOGRAM][1] if TAG_CRYPTOGRAM in objs else b""
    _check_mac(keys.mac, block + header + do87, objs[TAG_MAC][0])
    return _open87(keys, block, objs)


def _open87(keys: SessionKeys, block: bytes, objs: dict[int, tuple[bytes, bytes]]) -> bytes:
    if TAG_CRYPTOGRAM not in objs:
        return b""
    value = objs[TAG_CRYPTOGRAM][0]
    if not value or value[0] != PADDING_INDICATOR:
        raise SecureMessagingError("secure-messaging padding indicator is not 01")
    return _decrypt(keys, block, value[1:])


def protect_response(keys: SessionKeys, counter: int, data: bytes, sw: int) -> bytes:
    """The SM data field of the response to command *counter*: encrypted *data*, the SW, the R-MAC."""
    if not isinstance(sw, int) or not 0 <= sw <= 0xFFFF:
        raise SecureMessagingError("status word must be two bytes")
    block = _counter_block(counter, response=True)
    do87 = _do87(keys, block, data)
    do99 = _tlv(TAG_STATUS, sw.to_bytes(2, "big"))
    mac = aes_cmac(keys.rmac, block + do87 + do99)[:MAC_SIZE]
    return do87 + do99 + _tlv(TAG_MAC, mac)


def unprotect_response(keys: SessionKeys, counter: int, protected: bytes, sw: int) -> bytes:
    """Verify and decrypt a protected response; the protected SW (99) must equal the outer *sw*."""
    block = _counter_block(counter, response=True)
    objs = _split(protected, (TAG_CRYPTOGRAM, TAG_STATUS, TAG_MAC))
    if TAG_STATUS not in objs:
        raise SecureMessagingError("secure-messaging status object (99) missing")
    do87 = objs[TAG_CRYPTOGRAM][1] if TAG_CRYPTOGRAM in objs else b""
    _check_mac(keys.rmac, block + do87 + objs[TAG_STATUS][1], objs[TAG_MAC][0])
    if objs[TAG_STATUS][0] != int(sw).to_bytes(2, "big"):
        raise SecureMessagingError("protected status word differs from the one received; the response was altered")
    return _open87(keys, block, objs)
