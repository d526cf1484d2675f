"""``station demo --headless --hospital``: cards issued by a real camp, then admitted and discharged at
the hospital desk, with one failed fingerprint overridden and one revoked card refused; the claims file
it leaves verifies and matches the cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from station import cli
from station.demo.world import SimWorld
from station.hospital import claims


def test_hospital_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process readers: this pytest process's PC/SC client is bound to the session's pcscd
    # (tests/pcsc_fixtures.py), and the camp's pcscd path has its own end-to-end test.
    monkeypatch.setenv("STATION_DEMO_READERS", "direct")
    out = tmp_path / "demo"
    assert cli.main(["--log-level", "warning", "demo", "--headless", "--hospital", "--families", "3",
                     "--members", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "card readers:               in-process" in text
    assert "patients admitted:          2" in text and "patients discharged:        2" in text
    assert "cards refused:              1" in text and ": revoked" in text
    overrides = int(next(line for line in text.splitlines() if line.startswith("fingerprint overrides")).split()[-1])
    assert overrides >= 1  # the impostor's finger always fails; a genuine head's match is the engine's to make
    timing = next(line for line in text.splitlines() if line.startswith("insertion → verified member"))
    assert "median" in timing
    check = next(line for line in text.splitlines() if line.startswith("card check"))
    assert float(check.split("max ")[1].split(" s")[0]) < 1.0  # the check's budget, software time
    files = sorted((out / "claims").glob("claims-*.json"))
    assert len(files) == 1
    got = claims.verify_claims_file(files[0], SimWorld.open(out / "camp" / "world").root_cert)
    assert len(got.claims) == 2 and "override" in {c["verification"] for c in got.claims}
    assert sum(c["verification"] == "override" for c in got.claims) == overrides
    # A second run into the same folder is refused rather than mixing two demos.
    assert cli.main(["demo", "--headless", "--hospital", "--out", str(out)]) == 2
