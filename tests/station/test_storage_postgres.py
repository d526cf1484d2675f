"""The storage tests again, against a real PostgreSQL started for the session (skips when not installed)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from station.storage import Database
from tests.station.test_storage import (  # noqa: F401  (re-collected here against PostgreSQL)
    test_audit_chain_detects_actor_or_time_edit,
    test_audit_chain_detects_deleted_row,
    test_audit_chain_detects_edit,
    test_audit_chain_detects_rewritten_tail_against_anchor,
    test_audit_chain_verifies,
    test_enum_values_checked_in_the_database,
    test_failed_step_leaves_nothing,
    test_foreign_keys_enforced,
    test_migration_is_idempotent_on_restart,
    test_migrations_create_exactly_the_models,
    test_unique_urn,
)


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
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


def test_concurrent_audit_appends_keep_one_chain(database: Database) -> None:
    """Two stations writing to one district database at once must not fork the chain."""
    import threading

    from station.storage import audit

    def worker(tag: str) -> None:
        for i in range(10):
            with database.transaction() as s:
                audit.record(s, tag, "step", "x", i=i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with database.transaction() as s:
        assert audit.verify_chain(s).events == 30
