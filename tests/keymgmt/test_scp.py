"""Known-answer and attack tests of keymgmt.scp against independent computations."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFCMAC, CounterLocation, Mode

from keymgmt import scp
from keymgmt.errors import KeyFormatError, SecureMessagingError

# NIST SP 800-38B, appendix D.1 (AES-128) and D.3 (AES-256) examples.
K128 = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
K256 = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
M = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
)
CMAC_VECTORS = [
    (K128, 0, "bb1d6929e95937287fa37d129b756746"),
    (K128, 16, "070a16b46b4d4144f79bdd9dd04a287c"),
    (K128, 40, "dfa66747de9ae63030ca32611497c827"),
    (K128, 64, "51f0bebf7e3b9d92fc49741779363cfe"),
    (K256, 0, "028962f61b7bf89efc6b551f4667d983"),
    (K256, 16, "28a7023f452e8f82bd4bf28d8c37c35c"),
    (K256, 40, "aaf3d8f1de5640c232f5b169b9c911e6"),
    (K256, 64, "e1992190549f6ed5696a2c056c315410"),
]


@pytest.mark.parametrize(("key", "mlen", "tag"), CMAC_VECTORS)
def test_cmac_matches_nist_sp800_38b(key: bytes, mlen: int, tag: str) -> None:
    assert scp.aes_cmac(key, M[:mlen]).hex() == tag


def _reference_kdf(key: bytes, label: bytes, context: bytes, length: int) -> bytes:
    return KBKDFCMAC(
        algorithm=algorithms.AES,
        mode=Mode.CounterMode,
        length=length,
        rlen=4,
        llen=4,
        location=CounterLocation.BeforeFixed,
        label=label,
        context=context,
        fixed=None,
    ).derive(key)


@pytest.mark.parametrize("length", [1, 8, 16, 17, 32, 48, 100])
@pytest.mark.parametrize("key", [K128, K256])
def test_kdf_matches_cryptography_kbkdf(key: bytes, length: int) -> None:
    label, context = b"some label", bytes(range(23))
    assert scp.kdf_cmac(key, label, context, length) == _reference_kdf(key, label, context, length)


def test_kdf_output_depends_on_label_context_and_length() -> None:
    base = scp.kdf_cmac(K128, b"a", b"c", 16)
    assert scp.kdf_cmac(K128, b"b", b"c", 16) != base
    assert scp.kdf_cmac(K128, b"a", b"d", 16) != base
    # L is part of the input: a shorter output is not a prefix of a longer one.
    assert scp.kdf_cmac(K128, b"a", b"c", 32)[:16] != base


def test_two_level_card_key_matches_reference() -> None:
    scheme = bytes(range(32))
    root = _reference_kdf(scheme, scp.LABEL_DISTRICT_ROOT, b"0923", 32)
    district = _reference_kdf(root, scp.LABEL_DISTRICT_FAMILY, b"", 32)
    assert scp.derive_district_root(scheme, "0923") == root
    assert scp.district_admin_from_root(root) == _reference_kdf(root, scp.LABEL_DISTRICT_ADMIN, b"", 32)
    assert scp.district_admin_from_root(root) != district
    admin = scp.district_admin_from_root(root)
    assert scp.derive_authority_admin_key(admin, b"FKO00001") == _reference_kdf(
        admin, scp.LABEL_AUTHORITY_ADMIN, b"FKO00001", 16
    )
    assert scp.derive_scheme_family_key(bytes(32), "RSBY") == _reference_kdf(
        bytes(32), scp.LABEL_SCHEME_FAMILY, b"RSBY", 32
    )
    card = _reference_kdf(district, scp.LABEL_CARD_KEY, b"\x01\x02\x03\x04\x05\x06\x07\x08", 16)
    assert scp.derive_district_family_key(scheme, "0923") == district
    assert scp.derive_card_key(district, bytes.fromhex("0102030405060708")) == card
    assert scp.derive_card_key_from_scheme(scheme, "0923", bytes.fromhex("0102030405060708")) == card
    assert scp.derive_district_family_key(scheme, "0924") != district
    assert scp.derive_card_key(district, bytes.fromhex("0102030405060709")) != card


@pytest.mark.parametrize("bad", ["", "09 23", "दिल्ली", "x" * 17])
def test_bad_district_code_is_refused(bad: str) -> None:
    with pytest.raises(KeyFormatError):
        scp.derive_district_family_key(bytes(32), bad)


@pytest.mark.parametrize(("key", "serial"), [(bytes(15), b"1"), (bytes(32), b""), (bytes(32), bytes(33))])
def test_bad_key_or_serial_is_refused(key: bytes, serial: bytes) -> None:
    with pytest.raises(KeyFormatError):
        scp.derive_card_key(key, serial)


def test_session_keys_and_cryptograms_match_reference() -> None:
    card_key = bytes.fromhex("404142434445464748494a4b4c4d4e4f")
    hc, cc = bytes.fromhex("1122334455667788"), bytes.fromhex("99aabbccddeeff00")
    keys = scp.derive_session_keys(card_key, hc, cc)
    assert keys.enc == _reference_kdf(card_key, scp.LABEL_S_ENC, hc + cc, 16)
    assert keys.mac == _reference_kdf(card_key, scp.LABEL_S_MAC, hc + cc, 16)
    assert keys.rmac == _reference_kdf(card_key, scp.LABEL_S_RMAC, hc + cc, 16)
    assert len({keys.enc, keys.mac, keys.rmac}) == 3
    assert scp.card_cryptogram(keys, hc, cc) == _reference_kdf(keys.mac, scp.LABEL_CARD_CRYPTOGRAM, hc + cc, 8)
    assert scp.host_cryptogram(keys, hc, cc) == _reference_kdf(keys.mac, scp.LABEL_HOST_CRYPTOGRAM, hc + cc, 8)
    assert scp.card_cryptogram(keys, hc, cc) != scp.host_cryptogram(keys, hc, cc)
    assert "redacted" in repr(keys) and card_key.hex() not in repr(keys)
    assert scp.SessionKeys.from_bytes(keys.to_bytes()) == keys


def test_forged_card_key_gives_a_different_card_cryptogram() -> None:
    district = os.urandom(32)
    forged_district = os.urandom(32)
    serial = b"SERIAL01"
    hc, cc = os.urandom(8), os.urandom(8)
    real = scp.derive_session_keys(scp.derive_card_key(district, serial), hc, cc)
    forged = scp.derive_session_keys(scp.derive_card_key(forged_district, serial), hc, cc)
    assert not scp.cryptograms_equal(scp.card_cryptogram(real, hc, cc), scp.card_cryptogram(forged, hc, cc))


def test_activation_cryptogram_binds_serial_urn_and_number() -> None:
    key = os.urandom(16)
    base = scp.activation_cryptogram(key, b"S1", b"URN0000000000001", 7)
    assert len(base) == 8
    assert scp.activation_cryptogram(key, b"S2", b"URN0000000000001", 7) != base
    assert scp.activation_cryptogram(key, b"S1", b"URN0000000000002", 7) != base
    assert scp.activation_cryptogram(key, b"S1", b"URN0000000000001", 8) != base


# --- secure messaging ---------------------------------------------------------------------------

KEYS = scp.derive_session_keys(bytes(range(16)), bytes(8), bytes(range(8)))
HEADER = bytes.fromhex("0CD60000")


def _ref_cbc(key: bytes, iv: bytes, plain: bytes) -> bytes:
    padded = plain + b"\x80" + b"\x00" * (-(len(plain) + 1) % 16)
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def _ref_cmac(key: bytes, msg: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()[:8]


def test_protected_command_layout_matches_reference() -> None:
    data = b"policy slot 1: sum insured 30000"
    counter = 5
    block = counter.to_bytes(16, "big")
    ecb = Cipher(algorithms.AES(KEYS.enc), modes.ECB()).encryptor()
    iv = ecb.update(block) + ecb.finalize()
    ct = _ref_cbc(KEYS.enc, iv, data)
    do87 = bytes((0x87, len(ct) + 1, 0x01)) + ct
    expected = do87 + b"\x8e\x08" + _ref_cmac(KEYS.mac, block + HEADER + do87)
    assert scp.protect_command(KEYS, counter, HEADER, data) == expected


def test_protected_response_layout_matches_reference() -> None:
    data = b"balance 27500"
    counter = 5
    block = b"\x80" + counter.to_bytes(15, "big")
    ecb = Cipher(algorithms.AES(KEYS.enc), modes.ECB()).encryptor()
    iv = ecb.update(block) + ecb.finalize()
    ct = _ref_cbc(KEYS.enc, iv, data)
    do87 = bytes((0x87, len(ct) + 1, 0x01)) + ct
    do99 = b"\x99\x02\x90\x00"
    expected = do87 + do99 + b"\x8e\x08" + _ref_cmac(KEYS.rmac, block + do87 + do99)
    assert scp.protect_response(KEYS, counter, data, 0x9000) == expected


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 200, 1000, 5000])
def test_round_trip_any_length(size: int) -> None:
    data = os.urandom(size)
    wrapped = scp.protect_command(KEYS, 3, HEADER, data)
    # A short random plaintext can turn up in the ciphertext by chance (1 byte: ~1 run in 10);
    # from 8 bytes on, finding it there means it was not encrypted.
    assert data not in wrapped or size < 8
    assert scp.unprotect_command(KEYS, 3, HEADER, wrapped) == data
    resp = scp.protect_response(KEYS, 3, data, 0x9000)
    assert scp.unprotect_response(KEYS, 3, resp, 0x9000) == data


def test_replayed_command_is_rejected() -> None:
    """An attacker records command 1 and sends it again when the card expects command 2."""
    first = scp.protect_command(KEYS, 1, HEADER, b"debit 1500")
    assert scp.unprotect_command(KEYS, 1, HEADER, first) == b"debit 1500"
    with pytest.raises(SecureMessagingError, match="MAC"):
        scp.unprotect_command(KEYS, 2, HEADER, first)


def test_replayed_response_is_rejected() -> None:
    """A recorded 'balance 30000' response replayed to a later read does not verify."""
    old = scp.protect_response(KEYS, 1, b"balance 30000", 0x9000)
    with pytest.raises(SecureMessagingError):
        scp.unprotect_response(KEYS, 2, old, 0x9000)


def test_response_from_another_session_is_rejected() -> None:
    other = scp.derive_session_keys(bytes(range(16)), bytes(8), bytes(range(1, 9)))
    resp = scp.protect_response(other, 1, b"ok", 0x9000)
    with pytest.raises(SecureMessagingError):
        scp.unprotect_response(KEYS, 1, resp, 0x9000)


def test_command_for_other_header_is_rejected() -> None:
    wrapped = scp.protect_command(KEYS, 1, HEADER, b"x")
    with pytest.raises(SecureMessagingError):
        scp.unprotect_command(KEYS, 1, bytes.fromhex("0CD60001"), wrapped)


def test_every_flipped_bit_is_detected() -> None:
    wrapped = scp.protect_command(KEYS, 9, HEADER, b"sum insured 30000")
    for i in range(len(wrapped)):
        for bit in (0x01, 0x80):
            tampered = bytearray(wrapped)
            tampered[i] ^= bit
            with pytest.raises(SecureMessagingError):
                scp.unprotect_command(KEYS, 9, HEADER, bytes(tampered))


def test_altered_status_word_is_rejected() -> None:
    resp = scp.protect_response(KEYS, 4, b"", 0x6A82)
    with pytest.raises(SecureMessagingError, match="status"):
        scp.unprotect_response(KEYS, 4, resp, 0x9000)
    assert scp.unprotect_response(KEYS, 4, resp, 0x6A82) == b""


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x87", b"\x87\x05\x01", b"\x8e\x04abcd", b"\x8e\x08" + bytes(8) + b"\x87\x01\x01", b"\x8e\x85" + bytes(8)],
)
def test_malformed_blocks_are_rejected(raw: bytes) -> None:
    with pytest.raises(SecureMessagingError):
        scp.unprotect_command(KEYS, 1, HEADER, raw)


def test_plain_data_without_mac_is_rejected() -> None:
    with pytest.raises(SecureMessagingError, match="8E"):
        scp.unprotect_response(KEYS, 1, b"\x99\x02\x90\x00", 0x9000)


def test_bad_padding_under_a_valid_mac_is_rejected() -> None:
    """A peer holding the keys but sending garbage padding still gets a SecureMessagingError."""
    block = (1).to_bytes(16, "big")
    ecb = Cipher(algorithms.AES(KEYS.enc), modes.ECB()).encryptor()
    iv = ecb.update(block) + ecb.finalize()
    enc = Cipher(algorithms.AES(KEYS.enc), modes.CBC(iv)).encryptor()
    ct = enc.update(bytes(16)) + enc.finalize()  # all zeros: no 80 marker
    do87 = bytes((0x87, 17, 0x01)) + ct
    raw = do87 + b"\x8e\x08" + _ref_cmac(KEYS.mac, block + HEADER + do87)
    with pytest.raises(SecureMessagingError, match="padding"):
        scp.unprotect_command(KEYS, 1, HEADER, raw)


@pytest.mark.parametrize("counter", [0, -1, 2**64, True])
def test_counter_out_of_range_is_rejected(counter: int) -> None:
    with pytest.raises(SecureMessagingError, match="counter"):
        scp.protect_command(KEYS, counter, HEADER, b"x")


def test_errors_never_contain_key_or_data_bytes() -> None:
    secret = b"\xde\xad\xbe\xef" * 4
    keys = scp.derive_session_keys(secret, bytes(8), bytes(8))
    wrapped = scp.protect_command(keys, 1, HEADER, secret)
    messages = []
    for call in (
        lambda: scp.unprotect_command(keys, 2, HEADER, wrapped),
        lambda: scp.unprotect_command(KEYS, 1, HEADER, wrapped),
        lambda: scp.derive_card_key(secret[:15], b"x"),
    ):
        with pytest.raises(Exception) as info:
            call()
        messages.append(str(info.value) + repr(info.value))
    for text in messages:
        for value in (secret, keys.enc, keys.mac, keys.rmac):
            assert value.hex() not in text.lower()
            assert value.hex().upper() not in text
            assert repr(value)[2:-1] not in text
