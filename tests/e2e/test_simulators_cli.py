"""The two documented simulator commands, as outside tools use them (issue 3):

* ``python -m simulators pcscd --dir DIR [--readers N]`` prints ``PCSCLITE_CSOCK_NAME=<socket>`` and
  exactly one ``reader <index> port <port>`` line per reader, runs until SIGTERM, then cleans up;
* ``python -m simulators card family --state FILE --port PORT`` inserts a (blank) family card into the
  reader on PORT and removes it on SIGTERM.

A third process — a client knowing only what the first command printed — reads the card through
that pcscd. Skipped when pcscd or vpcd is not installed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from simulators.pcsc.runner import PcscdNotInstalled, find_pcscd, find_vpcd_driver

REPO = Path(__file__).resolve().parents[2]

CLIENT = """
import sys
from cardlib.family import FamilyCard
from cardlib.pcsc import list_readers
from cardlib.transport import open_transport

print("readers", len(list_readers()))
transport = open_transport("pcsc:" + sys.argv[1])
assert transport.wait_for_card(5), "no card seen"
transport.connect()
print("lifecycle", FamilyCard(transport).select().lifecycle.name)
transport.close()
"""


@pytest.fixture(autouse=True)
def _installed() -> None:
    try:
        find_pcscd(), find_vpcd_driver()
    except PcscdNotInstalled as exc:
        pytest.skip(str(exc))


def simulators(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "simulators", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    return out, err


def test_pcscd_and_card_commands(tmp_path: Path) -> None:
    # A short directory: the socket path must stay under ~100 bytes whatever pytest's tmp path is.
    with tempfile.TemporaryDirectory(prefix="simcli-") as work:
        pcscd = simulators("pcscd", "--dir", work, "--readers", "3")
        try:
            assert pcscd.stdout is not None
            first = pcscd.stdout.readline().rstrip("\n")
            match = re.fullmatch(r"PCSCLITE_CSOCK_NAME=(/\S+)", first)
            assert match, first + (pcscd.stderr.read() if pcscd.poll() is not None else "")
            socket_path = Path(match.group(1))
            assert socket_path.is_socket()
            readers = [re.fullmatch(r"reader (\d+) port (\d+)", pcscd.stdout.readline().rstrip("\n"))
                       for _ in range(3)]
            assert all(readers), readers
            assert [int(m.group(1)) for m in readers] == [0, 1, 2]  # type: ignore[union-attr]
            port = int(readers[1].group(2))  # type: ignore[union-attr]

            card = simulators("card", "family", "--state", str(tmp_path / "family.card"), "--port", str(port))
            try:
                assert card.stdout is not None
                line = card.stdout.readline()
                assert re.fullmatch(rf"card family 46[0-9A-F]{{14}} inserted into vpcd port {port}\n", line), line
                env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(socket_path))
                client = subprocess.run([sys.executable, "-c", CLIENT, "1"], cwd=REPO, env=env, text=True,
                                        capture_output=True, timeout=60)
                assert client.returncode == 0, client.stderr[-2000:]
                # vpcd makes readers in pairs: pcscd lists the spare fourth one too (noted on stderr).
                assert client.stdout.split("\n")[:2] == ["readers 4", "lifecycle BLANK"]
            finally:
                out, _ = stop(card)
            assert f"card family removed from vpcd port {port}" in out
            assert (tmp_path / "family.card").exists()  # the card's state, kept for the next insertion
        finally:
            rest, err = stop(pcscd)
        assert "spare reader 3" in err and rest == ""
        assert not socket_path.exists()  # cleaned up
