"""The package layering of ARCHITECTURE.md holds, and the tree is ruff-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

CHECKER = REPO_ROOT.parent / "shared" / "hooks" / "check_layers.py"


def test_layering_has_no_violations() -> None:
    if not CHECKER.is_file():
        pytest.skip("../shared/hooks/check_layers.py not present")
    out = subprocess.run([sys.executable, str(CHECKER), str(REPO_ROOT)], capture_output=True, text=True)
    assert out.stdout.strip() == "", f"layering violations:\n{out.stdout}"


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff") or str(REPO_ROOT / ".venv" / "bin" / "ruff")
    out = subprocess.run([ruff, "check", "--quiet", str(REPO_ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, f"ruff found problems:\n{out.stdout}{out.stderr}"
