"""Station test fixtures: a fresh SQLite database per test, and a private PostgreSQL when installed."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.storage import Database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'station.db'}")
    yield db
    db.close()


def _pg_bin() -> Path | None:
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name):
            return Path(shutil.which(name)).parent  # type: ignore[arg-type]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster in a temp dir on a free port, listening on a private socket."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the cluster as an unprivileged system user.
        user = next((u for u in ("postgres", "nobody") if shutil.which("runuser") and _user_exists(u)), None)
        if user is None:
            pytest.skip("running as root and no unprivileged user to own a PostgreSQL cluster")
        prefix = ["runuser", "-u", user, "--"]
    root = Path(tempfile.mkdtemp(prefix="station-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if prefix:
        shutil.chown(root, prefix[2])
        shutil.chown(sock, prefix[2])
    port = _free_port()
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "station", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60",
                        "-o", f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a private PostgreSQL: {exc}")
    try:
        yield f"postgresql+psycopg://station@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class EcdsaDistrictVerifier:
    """Real ECDSA P-256 over the list bytes, keyed by district code (the station's trust adapter over
    keymgmt is tested separately; this one lets list validation tests stand alone)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._ec = ec
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}

    def key(self, district: str):  # type: ignore[no-untyped-def]
        return self.keys.setdefault(district, self._ec.generate_private_key(self._ec.SECP256R1()))

    def sign(self, data: bytes, district: str) -> bytes:
        from cryptography.hazmat.primitives import hashes

        return district.encode().ljust(8, b" ") + self.key(district).sign(data, self._ec.ECDSA(hashes.SHA256()))

    def verify_list(self, data: bytes, signature: bytes) -> str:
        from cryptography.hazmat.primitives import hashes

        district = signature[:8].decode().strip()
        if district not in self.keys:
            raise ValueError(f"district {district} is not trusted")
        self.keys[district].public_key().verify(signature[8:], data, self._ec.ECDSA(hashes.SHA256()))
        return district


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[Database]:
    """A fresh database in the session's PostgreSQL (skips when PostgreSQL is not installed)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    db = Database(postgres_url.replace("/postgres?", f"/{name}?"))
    assert db.engine.dialect.name == "postgresql"
    yield db
    db.close()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


@pytest.fixture
def list_verifier() -> EcdsaDistrictVerifier:
    return EcdsaDistrictVerifier()


@pytest.fixture
def camp(database: Database, tmp_path: Path, list_verifier: EcdsaDistrictVerifier):
    """A station with an imported three-household list, one logged-in operator and an open camp."""
    from station.households import import_list
    from station.workflows.session import create_operator, login, open_camp
    from tests.station.test_households import household, write

    rows = [household("10092310010000001"), household("10092310010000002", n=7),
            household("10092310010000003", n=2)]
    path = write(tmp_path, list_verifier, rows)
    import_list(database, path, list_verifier, actor="setup")
    data_dir = tmp_path / "data"
    create_operator(database, data_dir, "asha", "Asha Kumari", "operator-pass-1")
    op = login(database, data_dir, "asha", "operator-pass-1")
    return open_camp(database, op, "1001", "STN01", data_dir)
