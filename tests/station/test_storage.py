"""Storage: migrations, SQLite pragmas, constraints, encrypted biometrics, the audit hash chain.

Every test that takes ``database`` runs twice: on SQLite (the station's embedded default) and on the
district server's PostgreSQL (skipped when PostgreSQL is not installed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from station.errors import AuditChainBroken, AuthenticationError, DecryptionError
from station.storage import Database, audit
from station.storage.crypto import DataCipher, capture_aad, unwrap_data_key, wrap_data_key
from station.storage.models import (
    AuditEvent,
    Base,
    District,
    Gender,
    Household,
    HouseholdList,
    Member,
    Relationship,
    Scheme,
    Village,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_database")
        return
    db = Database(f"sqlite:///{tmp_path / 'station.db'}")
    yield db
    db.close()


def _household(db: Database, urn: str = "URN0001") -> int:
    with db.transaction() as s:
        d = District(code="D01", name="Gaya")
        sch = Scheme(code="RSBY", name="RSBY")
        v = Village(code="V001", name="Bodh", district=d)
        s.add_all([d, sch, v])
        s.flush()
        lst = HouseholdList(district_id=d.id, sha256="a" * 64, file_name="x.csv", signer="k", signature=b"s", households=1)
        s.add(lst)
        s.flush()
        h = Household(urn=urn, scheme_id=sch.id, village_id=v.id, list_id=lst.id, guardian_name="Mohan",
                      insurer="X", policy_number="P1", sum_insured=3000000, listed_members=1, policy_start=date(2026, 12, 1), policy_end=date(2027, 11, 30))
        s.add(h)
        s.flush()
        s.add(Member(household_id=h.id, seq=1, name="Ram", name_local="राम", gender=Gender.MALE, year_of_birth=1986,
                     relationship_=Relationship.HEAD, insured=True))
        return h.id


def test_migrations_create_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], f"models changed without a migration: {diffs}"


def test_migration_is_idempotent_on_restart(database: Database) -> None:
    again = Database(database.url)  # a restart re-runs upgrade(head): nothing to do, nothing lost
    _household(again)
    again.close()
    with database.transaction() as s:
        assert s.scalar(select(Household.urn)) == "URN0001"


def test_sqlite_pragmas(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_foreign_keys_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.transaction() as s:
        s.add(Member(household_id=999, seq=1, name="x", gender=Gender.MALE, year_of_birth=2000,
                     relationship_=Relationship.HEAD))
        s.flush()


def test_unique_urn(database: Database) -> None:
    _household(database)
    with pytest.raises(IntegrityError), database.transaction() as s:
        h = s.scalar(select(Household))
        s.add(Household(urn="URN0001", scheme_id=h.scheme_id, village_id=h.village_id, list_id=h.list_id,
                        guardian_name="", insurer="", policy_number="P2", sum_insured=1, listed_members=1, policy_start=h.policy_start, policy_end=h.policy_end))
        s.flush()


def test_enum_values_checked_in_the_database(database: Database) -> None:
    hid = _household(database)
    with pytest.raises((IntegrityError, StatementError)), database.transaction() as s:
        s.execute(text("UPDATE household SET status = 'bogus' WHERE id = :i"), {"i": hid})


def test_failed_step_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as s:
        audit.record(s, "op", "half", "x")
        raise RuntimeError("crash in the middle of a step")
    with database.transaction() as s:
        assert s.scalar(select(AuditEvent)) is None


def test_capture_encryption_binds_row() -> None:
    cipher = DataCipher(DataCipher.new_key())
    blob = cipher.encrypt(b"\xff\xd8 photo bytes", capture_aad(1, "photo", 0))
    assert b"photo bytes" not in blob
    assert cipher.decrypt(blob, capture_aad(1, "photo", 0)) == b"\xff\xd8 photo bytes"
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, capture_aad(2, "photo", 0))  # moved to another member
    with pytest.raises(DecryptionError):
        DataCipher(DataCipher.new_key()).decrypt(blob, capture_aad(1, "photo", 0))
    assert "key" in repr(cipher) and blob.hex() not in repr(cipher)


def test_data_key_wrapping() -> None:
    dek, secret = DataCipher.new_key(), b"s" * 32
    w = wrap_data_key(dek, "asha", "correct horse", secret)
    assert dek not in w.wrapped
    assert unwrap_data_key(w, "asha", "correct horse", secret) == dek
    with pytest.raises(AuthenticationError):
        unwrap_data_key(w, "asha", "wrong", secret)
    with pytest.raises(AuthenticationError):
        unwrap_data_key(w, "asha", "correct horse", b"t" * 32)  # secret file replaced
    with pytest.raises(AuthenticationError):
        unwrap_data_key(w, "ravi", "correct horse", secret)  # wrapped key copied to another login


def _chain(db: Database, n: int = 5) -> str:
    for i in range(n):
        with db.transaction() as s:
            audit.record(s, "asha", "step", "household:1", index=i, name="राम")
    with db.transaction() as s:
        report = audit.verify_chain(s)
    assert report.events == n
    return report.head


def test_audit_chain_verifies(database: Database) -> None:
    head = _chain(database)
    with database.transaction() as s:
        assert audit.verify_chain(s, expected_head=head).head == head


def test_audit_chain_detects_edit(database: Database) -> None:
    _chain(database)
    with database.transaction() as s:
        s.execute(text("UPDATE audit_event SET detail = '{\"index\": 9}' WHERE seq = 3"))
    with database.transaction() as s, pytest.raises(AuditChainBroken, match="row 3"):
        audit.verify_chain(s)


def test_audit_chain_detects_actor_or_time_edit(database: Database) -> None:
    _chain(database)
    with database.transaction() as s:
        s.execute(text("UPDATE audit_event SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2"))
    with database.transaction() as s, pytest.raises(AuditChainBroken, match="row 2"):
        audit.verify_chain(s)


def test_audit_chain_detects_deleted_row(database: Database) -> None:
    _chain(database)
    with database.transaction() as s:
        s.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    with database.transaction() as s, pytest.raises(AuditChainBroken, match="row 2"):
        audit.verify_chain(s)


def test_audit_chain_detects_rewritten_tail_against_anchor(database: Database) -> None:
    head = _chain(database)
    with database.transaction() as s:
        s.execute(text("DELETE FROM audit_event WHERE seq = 5"))
        audit.verify_chain(s)  # a cut tail is consistent by itself...
    with database.transaction() as s, pytest.raises(AuditChainBroken, match="head"):
        audit.verify_chain(s, expected_head=head)  # ...but not with the exported anchor


def test_station_exports_get_the_mode_asked_for_and_the_secret_stays_private(tmp_path: Path) -> None:
    from keymgmt.files import write_atomic
    from station.storage.crypto import load_station_secret

    old = os.umask(0o077)  # a locked-down station account
    try:
        secret = load_station_secret(tmp_path)
        write_atomic(tmp_path / "camp.bundle", b"sealed", mode=0o644)
    finally:
        os.umask(old)
    assert len(secret) == 32 and load_station_secret(tmp_path, create=False) == secret
    assert oct((tmp_path / "station.secret").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "camp.bundle").stat().st_mode & 0o777) == "0o644"
