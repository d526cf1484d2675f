"""Kill -9 of the station at each issuance step, then resume: no household lost, never two cards for one.

Each run is a real process (``station demo --headless``, through pcscd + vpcd when installed) that the
hidden ``--kill-after STEP:N`` flag ends with SIGKILL right after that step of household N, as a power
cut would. The next run (``--resume``) continues from what the database and the cards say. Along the
chain the card in the reader is also swapped for a blank one twice:

* before the FKO counted the first card — the station voids that card and issues on the new one;
* after the FKO counted the second card — the station refuses the blank card (one card per household)
  and tells the operator to insert the counted one; with it back, the issuance finishes.

At the end: both households issued, exactly one valid card each, the FKO counter down by exactly two,
every card on file agreeing with the database.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from cardlib.family import family_digest
from cardlib.family_profile import Lifecycle
from station.demo.camp import read_back
from station.demo.world import SimWorld
from station.storage import Database, audit
from station.storage.models import CardIssuance, Household, HouseholdStatus, IssuanceState

REPO = Path(__file__).resolve().parents[2]
FAMILIES = 2


def station(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # The test session's pcscd is ours alone: let each station process start its own.
    env.pop("PCSCLITE_CSOCK_NAME", None)
    command = [sys.executable, "-m", "station", "--log-level", "warning", "demo", "--headless",
               "--families", str(FAMILIES), "--members", "1", "--out", str(out), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=180)


def killed_after(out: Path, step: str, *, resume: bool = True) -> None:
    result = station(out, *(["--resume"] if resume else []), "--kill-after", step)
    assert result.returncode == -signal.SIGKILL, (step, result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert f"killing myself with SIGKILL after {step.split(':')[0]}" in result.stdout


def issuances(out: Path) -> dict[str, list[tuple[str, IssuanceState]]]:
    db = Database(f"sqlite:///{out / 'station' / 'station.db'}")
    try:
        with db.transaction() as s:
            audit.verify_chain(s)  # nothing half-written, nothing lost from the chain
            return {h.urn: [(i.card_serial, i.state) for i in sorted(h.issuances, key=lambda i: i.number)]
                    for h in s.scalars(select(Household))}
    finally:
        db.close()


def statuses(out: Path) -> dict[str, HouseholdStatus]:
    db = Database(f"sqlite:///{out / 'station' / 'station.db'}")
    try:
        with db.transaction() as s:
            return {h.urn: h.status for h in s.scalars(select(Household))}
    finally:
        db.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("killed")
    seen: dict = {}
    first, second = "10092310010000001", "10092310010000002"

    killed_after(out, "capture:1", resume=False)
    seen["after capture"] = statuses(out)

    killed_after(out, "personalised:1")
    seen["after personalised"] = issuances(out)[first]
    # The operator loses the written (not yet authorised) card and inserts a blank one.
    card_file = SimWorld.open(out / "world").card_path(first)
    shutil.move(card_file, out / "spoiled.card")

    killed_after(out, "counted:1")
    seen["after counted"] = issuances(out)[first]
    # Now the FKO has counted the new card; a blank card in its place must be refused.
    shutil.move(card_file, out / "counted.card")
    refused = station(out, "--resume")
    seen["refused"] = (refused.returncode, refused.stderr, issuances(out)[first])
    shutil.move(out / "counted.card", card_file)

    # (A kill right after the intent is the torn-card case of tests/station/test_issuance_faults.py.)
    killed_after(out, "activated:2")
    seen["after activated 2"] = issuances(out)[second]
    killed_after(out, "authorised:2")  # household 2 counted, activated and recorded; not yet printed
    final = station(out, "--resume")
    assert final.returncode == 0, final.stderr[-3000:]
    seen["final output"] = final.stdout
    return out, seen


def test_captures_survive_a_kill(chain) -> None:
    _, seen = chain
    assert seen["after capture"]["10092310010000001"] is HouseholdStatus.CAPTURED


def test_states_recorded_before_each_kill(chain) -> None:
    _, seen = chain
    assert [state for _, state in seen["after personalised"]] == [IssuanceState.PERSONALISED]
    # The first card was voided (never authorised) and the new card counted by the FKO.
    assert [state for _, state in seen["after counted"]] == [IssuanceState.VOID, IssuanceState.PERSONALISED]
    # Killed after activating, before recording it: the database is one step behind the card.
    assert [state for _, state in seen["after activated 2"]] == [IssuanceState.PERSONALISED]


def test_blank_card_refused_once_the_fko_counted_another(chain) -> None:
    _, seen = chain
    code, stderr, rows = seen["refused"]
    assert code == 1
    assert "already authorised" in stderr and "one card per household" in stderr
    assert [state for _, state in rows] == [IssuanceState.VOID, IssuanceState.PERSONALISED]  # nothing new


def test_every_household_issued_exactly_once(chain) -> None:
    out, seen = chain
    rows = issuances(out)
    assert set(statuses(out).values()) == {HouseholdStatus.ISSUED}
    valid = {urn: [serial for serial, state in r if state is not IssuanceState.VOID] for urn, r in rows.items()}
    assert {urn: len(serials) for urn, serials in valid.items()} == {urn: 1 for urn in rows}
    assert all(state is IssuanceState.COMPLETE for r in rows.values() for _, state in r if state is not IssuanceState.VOID)
    assert "FKO issuances left:       298" in seen["final output"]  # 300 - 2: counted once per household


def test_cards_on_file_agree_with_the_database(chain) -> None:
    out, _ = chain
    world = SimWorld.open(out / "world")
    db = Database(f"sqlite:///{out / 'station' / 'station.db'}")
    with db.transaction() as s:
        rows = {r.card_serial: r for r in s.scalars(select(CardIssuance))}
        by_urn = {r.household.urn: r for r in rows.values() if r.state is IssuanceState.COMPLETE}
    db.close()
    numbers = set()
    for urn, row in by_urn.items():
        family, activation = read_back(world, urn)
        assert activation is not None and activation.issuance_number == row.issuance_number
        assert family_digest(family).hex() == row.data_hash
        numbers.add(activation.issuance_number)
    assert numbers == {1, 2}
    # The spoiled card holds the family's data but was never activated: no valid card.
    from simulators.cards.family import FamilyCardOS

    spoiled = FamilyCardOS(out / "spoiled.card")
    assert spoiled.lifecycle is Lifecycle.PERSONALISED
    assert str(spoiled.serial) in rows and rows[str(spoiled.serial)].state is IssuanceState.VOID
