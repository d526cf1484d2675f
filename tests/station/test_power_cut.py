"""Power cut in the middle of a database transaction: a real process killed with SIGKILL after it wrote
(flushed) but before it committed. The station database afterwards holds the state before the step,
whole, and its audit chain still verifies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from station.storage import Database, audit
from station.storage.models import AuditEvent, Household, HouseholdStatus
from station.workflows.session import CampContext

REPO = Path(__file__).resolve().parents[2]

STEP = """
import os, signal, sys
from sqlalchemy import select
from station.storage import Database, audit
from station.storage.models import Household, HouseholdStatus

db = Database(sys.argv[1])
with db.transaction() as s:
    h = s.scalar(select(Household).where(Household.urn == sys.argv[2]))
    h.status = HouseholdStatus.ISSUED
    h.guardian_name = "written but never committed"
    audit.record(s, "asha", "household.issued", f"household:{h.urn}")
    s.flush()  # the rows are in SQLite's write-ahead log, uncommitted
    print("flushed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_mid_transaction_leaves_the_previous_state(camp: CampContext) -> None:
    urn = "10092310010000001"
    url = str(camp.db.engine.url)
    with camp.db.transaction() as s:
        before = s.scalar(select(func.count(AuditEvent.id)))
        guardian = s.scalar(select(Household.guardian_name).where(Household.urn == urn))
    result = subprocess.run([sys.executable, "-c", STEP, url, urn], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == -9 and "flushed" in result.stdout, result.stderr[-2000:]
    db = Database(url)
    try:
        with db.transaction() as s:
            h = s.scalar(select(Household).where(Household.urn == urn))
            assert h.status is HouseholdStatus.LISTED and h.guardian_name == guardian
            assert s.scalar(select(func.count(AuditEvent.id))) == before
            audit.verify_chain(s)
    finally:
        db.close()
