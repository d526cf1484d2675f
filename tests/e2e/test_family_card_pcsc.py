"""The family card end to end through the real PC/SC stack: pcscd + vpcd + pyscard.

The card runs either as the documented command (``python -m simulators card family``) or in process
behind the vpcd bridge (for fault injection). Skipped when pcscd or vpcd is not installed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cardlib.errors import CardError
from cardlib.family import CardBlank, FamilyCard
from cardlib.family_profile import AID, Lifecycle
from cardlib.secure import SoftwareSam
from cardlib.transport import open_transport
from simulators.cards.family import FamilyCardOS
from tests.cardlib.family_samples import full_family
from tests.pcsc_fixtures import wait_until

pytestmark = pytest.mark.pcsc

KEY = bytes(range(16, 32))
REPO = Path(__file__).resolve().parents[2]


def start_cli(state: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "card", "family", "--state", str(state), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    assert "inserted into vpcd port" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc


def stop_cli(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return out


def connected(config: str):
    transport = open_transport(config)
    assert transport.wait_for_card(5), "the card did not appear in the reader"
    assert wait_until(lambda: _try_connect(transport), 5)
    return transport


def _try_connect(transport) -> bool:
    try:
        transport.connect()
    except CardError:
        return False
    return True


def test_full_family_through_pcscd_with_the_cli_card(pcsc_reader, tmp_path):
    state = tmp_path / "family.card"
    family = full_family()
    proc = start_cli(state, pcsc_reader.port)
    try:
        transport = connected(pcsc_reader.config)
        card = FamilyCard(transport)
        assert card.select().lifecycle is Lifecycle.BLANK
        card.personalise(family, KEY)
        assert card.read() == family
        card.authenticate(SoftwareSam(KEY))
        renewed = dataclasses.replace(family.policies[1], balance=1)
        card.update_policy(1, renewed)
        transport.close()
    finally:
        out = stop_cli(proc)
    assert "removed" in out
    # The same state file is the same card after a restart.
    proc = start_cli(state, pcsc_reader.port)
    try:
        transport = connected(pcsc_reader.config)
        again = FamilyCard(transport).read()
        assert again == dataclasses.replace(family, policies=(family.policies[0], renewed))
        transport.close()
    finally:
        stop_cli(proc)


def test_card_pulled_mid_write_gives_a_clear_error_and_stays_readable(pcsc_reader):
    sim = FamilyCardOS(None)
    pcsc_reader.insert(sim)
    transport = connected(pcsc_reader.config)
    sim.faults.tear_after_bytes = 12_000
    with pytest.raises(CardError, match="reinsert") as info:
        FamilyCard(transport).personalise(full_family(), KEY)
    assert "still blank: reinsert it and personalise again" in str(info.value)
    pcsc_reader.insert(sim)  # the person puts the card back
    transport.close()
    transport = connected(pcsc_reader.config)
    card = FamilyCard(transport)
    with pytest.raises(CardBlank):
        card.read()
    card.personalise(full_family(), KEY)
    assert card.read() == full_family()
    transport.close()


@pytest.mark.skipif(shutil.which("opensc-tool") is None, reason="opensc-tool not installed")
def test_opensc_tool_selects_the_family_aid(pcsc_reader, private_pcscd):
    pcsc_reader.insert(FamilyCardOS(None))
    connected(pcsc_reader.config).close()
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(private_pcscd.socket_path))
    listing = subprocess.run(["opensc-tool", "-l"], env=env, capture_output=True, text=True, timeout=30)
    assert pcsc_reader.reader.name in listing.stdout
    apdu = f"00:A4:04:00:{len(AID):02X}:" + ":".join(f"{b:02X}" for b in AID) + ":00"
    result = subprocess.run(
        ["opensc-tool", "-r", str(pcsc_reader.reader.index), "-s", apdu],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "SW1=0x90, SW2=0x00" in result.stdout, result.stdout + result.stderr
