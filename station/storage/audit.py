"""The audit log: append-only, each row carrying the hash of the one before.

``hash = SHA-256(canonical JSON of [seq, at, actor, action, entity, detail, prev_hash])``. Editing any
field of any row, deleting or reordering rows breaks the chain at that row; :func:`verify_chain` says
where. Removing rows at the *end* is only caught against an anchor (the head hash exported in every camp
bundle): pass it as ``expected_head``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from station.errors import AuditChainBroken
from station.storage.models import AuditEvent

GENESIS = "0" * 64
# Any constant; serialises appenders on PostgreSQL (SQLite already holds the write lock: BEGIN IMMEDIATE).
_PG_LOCK = 0x57A710


def _digest(seq: int, at: str, actor: str, action: str, entity: str, detail: str, prev: str) -> str:
    canonical = json.dumps([seq, at, actor, action, entity, detail, prev], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, actor: str, action: str, entity: str, **detail: Any) -> AuditEvent:
    """Append one event inside the caller's transaction (so it commits or rolls back with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, entity=entity, detail=body, prev_hash=prev,
                       hash=_digest(seq, at, actor, action, entity, body, prev))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str


def verify_chain(session: Session, expected_head: str | None = None) -> ChainReport:
    """Recompute the whole chain; raise :class:`AuditChainBroken` naming the first bad row."""
    prev, expected_seq = GENESIS, 1
    for ev in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        if ev.seq != expected_seq:
            raise AuditChainBroken(f"audit row {expected_seq} is missing (next is {ev.seq}); the log was cut")
        if ev.prev_hash != prev:
            raise AuditChainBroken(f"audit row {ev.seq} does not follow row {ev.seq - 1}; rows were removed or reordered")
        if _digest(ev.seq, ev.at, ev.actor, ev.action, ev.entity, ev.detail, ev.prev_hash) != ev.hash:
            raise AuditChainBroken(f"audit row {ev.seq} ({ev.action}) was edited after it was written")
        prev, expected_seq = ev.hash, expected_seq + 1
    if expected_head is not None and prev != expected_head:
        raise AuditChainBroken("the audit log does not end at the exported head hash; rows at its end were removed")
    return ChainReport(expected_seq - 1, prev)
