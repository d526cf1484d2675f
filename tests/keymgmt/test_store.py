"""Key stores: the file store and a SoftHSM2 token derive the same keys; the token never gives up secrets."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from keymgmt import ecc, hierarchy, scp
from keymgmt.errors import KeyNotFoundError, KeyStoreError
from keymgmt.store import FileKeyStore, open_store
from tests.keymgmt.conftest import TEST_PASSPHRASE


def test_file_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    store = FileKeyStore.create(path, TEST_PASSPHRASE, scrypt_n=2**10)
    store.generate_aes_key("m")
    point = store.generate_signing_key("s")
    store.put_data("cert", b"public bytes")
    tag = store.cmac("m", b"hello")
    again = open_store(f"file:{path}", TEST_PASSPHRASE)
    assert again.cmac("m", b"hello") == tag
    assert again.public_key("s") == point
    assert again.get_data("cert") == b"public bytes"
    digest = ecc.sha256(b"x")
    assert ecc.verify_digest(point, digest, again.sign_digest("s", digest))
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_file_store_never_holds_plaintext_keys(file_store: FileKeyStore) -> None:
    key = os.urandom(32)
    file_store.import_aes_key("m", key)
    raw = file_store.path.read_bytes()
    assert key not in raw and key.hex().encode() not in raw
    import base64

    assert base64.b64encode(key) not in raw


def test_wrong_passphrase_is_refused_without_echoing_it(file_store: FileKeyStore, caplog) -> None:
    file_store.generate_aes_key("m")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(KeyStoreError) as info:
        FileKeyStore.open(file_store.path, "not the passphrase at all")
    text = str(info.value) + repr(info.value) + caplog.text
    assert "wrong passphrase" in text
    assert "not the passphrase" not in text and TEST_PASSPHRASE not in text


def test_tampered_file_is_detected(file_store: FileKeyStore) -> None:
    file_store.generate_aes_key("m")
    doc = json.loads(file_store.path.read_text())
    ct = bytearray(__import__("base64").b64decode(doc["ciphertext"]))
    ct[5] ^= 1
    doc["ciphertext"] = __import__("base64").b64encode(bytes(ct)).decode()
    file_store.path.write_text(json.dumps(doc))
    with pytest.raises(KeyStoreError, match="altered"):
        FileKeyStore.open(file_store.path, TEST_PASSPHRASE)


def test_weakened_scrypt_cost_is_refused(file_store: FileKeyStore) -> None:
    doc = json.loads(file_store.path.read_text())
    doc["header"]["n"] = 2
    file_store.path.write_text(json.dumps(doc))
    with pytest.raises(KeyStoreError, match="scrypt"):
        FileKeyStore.open(file_store.path, TEST_PASSPHRASE)


@pytest.mark.parametrize("config", ["", "file", "hsm:x", "file:"])
def test_bad_store_setting_names_the_choices(config: str) -> None:
    with pytest.raises(KeyStoreError, match=r"file:<path>.*pkcs11:<token label>"):
        open_store(config, TEST_PASSPHRASE)


def test_missing_key_and_overwrite_are_refused(file_store: FileKeyStore) -> None:
    with pytest.raises(KeyNotFoundError, match="no AES key labelled 'nope'"):
        file_store.cmac("nope", b"")
    file_store.generate_aes_key("m")
    with pytest.raises(KeyStoreError, match="never overwritten"):
        file_store.generate_aes_key("m")


def test_missing_store_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="create it first"):
        FileKeyStore.open(tmp_path / "none.json", TEST_PASSPHRASE)


# --- PKCS#11 (SoftHSM2) ---------------------------------------------------------------------------


@pytest.fixture
def token(softhsm):
    from keymgmt.pkcs11store import Pkcs11KeyStore

    store = Pkcs11KeyStore.open("spare", softhsm["pin"])
    yield store
    store.close()


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"


def test_token_and_file_store_derive_identical_keys(token, file_store: FileKeyStore) -> None:
    """The same scheme root in both stores yields the same scheme, district and card keys."""
    root = os.urandom(32)
    label = _unique("root")
    token.import_aes_key(label, root)
    file_store.import_aes_key(label, root)
    for kdf_label, context, length in [(scp.LABEL_SCHEME_FAMILY, b"RSBY", 32), (b"x", b"", 1), (b"y", b"z" * 40, 48)]:
        t = token.derive(label, kdf_label, context, length)
        assert t == file_store.derive(label, kdf_label, context, length)
        assert t == scp.kdf_cmac(root, kdf_label, context, length)
    # And through the whole hierarchy: scheme family master → district root → card key.
    scheme_master = token.derive(label, scp.LABEL_SCHEME_FAMILY, b"RSBY", 32)
    district_root = scp.derive_district_root(scheme_master, "0923")
    dlabel = _unique("district-root")
    token.import_aes_key(dlabel, district_root)
    file_store.import_aes_key(dlabel, district_root)
    for store in (token, file_store):
        family = store.derive(dlabel, scp.LABEL_DISTRICT_FAMILY, b"", 32)
        assert family == scp.derive_district_family_key(scheme_master, "0923")
        assert scp.derive_card_key(family, b"\x01" * 8) == scp.derive_card_key_from_scheme(
            scheme_master, "0923", b"\x01" * 8
        )


def test_token_never_exposes_master_or_signing_keys(token, softhsm) -> None:
    """Read CKA_VALUE of the stored keys through a second session, as an attacker with the PIN would."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

    from keymgmt.pkcs11store import load_module

    aes, imported, signing = _unique("gen"), _unique("imp"), _unique("sig")
    token.generate_aes_key(aes)
    secret = os.urandom(32)
    token.import_aes_key(imported, secret)
    token.generate_signing_key(signing)
    for label in (aes, imported, signing):
        attrs = token.secret_attributes(label)
        assert attrs["extractable"] is False and attrs["sensitive"] is True
    lib = load_module()
    # The store's session already logged this process in (PKCS#11 login is per application).
    with lib.get_token(token_label="spare").open(rw=True) as session:
        for label, cls, kt in (
            (aes, ObjectClass.SECRET_KEY, KeyType.AES),
            (imported, ObjectClass.SECRET_KEY, KeyType.AES),
            (signing, ObjectClass.PRIVATE_KEY, KeyType.EC),
        ):
            key = session.get_key(object_class=cls, key_type=kt, label=label)
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE]
            with pytest.raises(pkcs11.exceptions.PKCS11Error):
                key[Attribute.EXTRACTABLE] = True
        # Wrapping the master under a key we know is refused too.
        wrapper = session.generate_key(KeyType.AES, 256, template={Attribute.WRAP: True, Attribute.EXTRACTABLE: True})
        master = session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=imported)
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            wrapper.wrap_key(master, mechanism=Mechanism.AES_KEY_WRAP)
    assert secret.hex() not in repr(token)


def test_token_signatures_and_ecdh_interoperate(token) -> None:
    label = _unique("sig")
    point = token.generate_signing_key(label)
    digest = ecc.sha256(b"household list")
    sig = token.sign_digest(label, digest)
    assert len(sig) == 64 and ecc.verify_digest(point, digest, sig)
    assert not ecc.verify_digest(point, ecc.sha256(b"other"), sig)
    peer = ecc.generate_private_key()
    from cryptography.hazmat.primitives.asymmetric import ec

    assert token.ecdh(label, ecc.public_point(peer)) == peer.exchange(ec.ECDH(), ecc.load_point(point))


def test_token_data_objects_and_errors(token, softhsm) -> None:
    from keymgmt.pkcs11store import Pkcs11KeyStore

    label = _unique("cert")
    token.put_data(label, b"one")
    token.put_data(label, b"two")
    assert token.get_data(label) == b"two"
    with pytest.raises(KeyNotFoundError):
        token.cmac(_unique("none"), b"")
    with pytest.raises(KeyStoreError, match="wrong user PIN") as info:
        Pkcs11KeyStore.open("central", "999999")  # no session open on it here
    assert "999999" not in str(info.value)
    with pytest.raises(KeyStoreError, match="tokens present"):
        Pkcs11KeyStore.open("no-such-token", softhsm["pin"])


def test_full_hierarchy_on_tokens(softhsm, tmp_path: Path) -> None:
    """create_scheme on the central token, create_district on the district token, all keys inside."""
    from keymgmt.pkcs11store import Pkcs11KeyStore

    with (
        Pkcs11KeyStore.open("central", softhsm["pin"]) as central,
        Pkcs11KeyStore.open("district", softhsm["pin"]) as district,
    ):
        root = hierarchy.create_scheme(central, "RSBY", "Test scheme")
        dcert = hierarchy.create_district(central, district, "0923", "Test district")
        assert dcert.signed_by(root.public_key)
        for store, label in (
            (central, hierarchy.ROOT_KEY),
            (central, hierarchy.ROOT_SIGNING),
            (district, hierarchy.DISTRICT_ROOT),
            (district, hierarchy.DISTRICT_SIGNING),
        ):
            assert store.secret_attributes(label)["extractable"] is False
        scheme_master = hierarchy.scheme_family_master(central)
        assert hierarchy.district_family_master(district) == scp.derive_district_family_key(scheme_master, "0923")
        assert hierarchy.family_card_key(district, b"\x07" * 8) == scp.derive_card_key_from_scheme(
            scheme_master, "0923", b"\x07" * 8
        )
        with pytest.raises(KeyStoreError, match="already holds a scheme"):
            hierarchy.create_scheme(central, "RSBY")
