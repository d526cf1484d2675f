"""Key-store fixtures: fast scrypt file stores and a private SoftHSM2 token directory per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from keymgmt.store import FileKeyStore

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
TOKENS = ("central", "district", "spare")
TEST_PASSPHRASE = "correct horse battery"


@pytest.fixture
def file_store(tmp_path: Path) -> FileKeyStore:
    # Low scrypt cost keeps tests fast; the format records it, and open() enforces the minimum.
    return FileKeyStore.create(tmp_path / "keys.json", TEST_PASSPHRASE, scrypt_n=2**10)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private SoftHSM2 token directory with tokens central/district/spare (PIN 1234).

    SoftHSM reads SOFTHSM2_CONF once, when the module is first loaded, so this is set for the session
    before anything loads the module.
    """
    if not (os.path.exists(SOFTHSM_MODULE) and shutil.which("softhsm2-util")):
        pytest.skip("SoftHSM2 is not installed (apt install softhsm2)")
    existing = os.environ.get("SOFTHSM2_CONF")
    if existing and Path(existing).is_file() and "keymgmt-test" in existing:
        return {"conf": existing, "pin": PIN}
    base = tmp_path_factory.mktemp("softhsm")
    conf = base / "keymgmt-test-softhsm2.conf"
    (base / "tokens").mkdir()
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in TOKENS:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "87654321"],
            check=True, env=env, capture_output=True,
        )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    os.environ["KEYMGMT_PKCS11_MODULE"] = SOFTHSM_MODULE
    return {"conf": str(conf), "pin": PIN}
