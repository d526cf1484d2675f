"""What only a shared district database sees: several stations writing at once (PostgreSQL; skips when
it is not installed). The single-station storage tests run on PostgreSQL too, in test_storage.py."""

from __future__ import annotations

from station.storage import Database


def test_concurrent_audit_appends_keep_one_chain(pg_database: Database) -> None:
    """Two stations writing to one district database at once must not fork the chain."""
    import threading

    from station.storage import audit

    def worker(tag: str) -> None:
        for i in range(10):
            with pg_database.transaction() as s:
                audit.record(s, tag, "step", "x", i=i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pg_database.transaction() as s:
        assert audit.verify_chain(s).events == 30
