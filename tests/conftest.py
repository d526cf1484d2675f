"""Test-wide fixtures: where the shared evaluation data lives, and Qt without a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Private pcscd + vpcd readers for PC/SC tests (sets PCSCLITE_CSOCK_NAME before any PC/SC use).
pytest_plugins = ["tests.pcsc_fixtures"]

# Qt aborts without a display unless told to render offscreen; must happen before PySide6 loads.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One BLAS thread, as the station command sets (station/cli.py): comparisons are small products.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STATION_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real evaluation data beside the project; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fvc_dir(shared_data: Path):
    """Return a function giving one FVC folder (e.g. 'fvc2002/DB1_B'), skipping if missing."""

    def _get(name: str) -> Path:
        path = shared_data / "fingerprints" / name
        if not path.is_dir():
            pytest.skip(f"{path} not present")
        return path

    return _get
