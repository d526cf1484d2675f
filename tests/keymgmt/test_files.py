"""keymgmt.files.write_atomic: the old content or the new, never a mix, and no temp file left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keymgmt import files


def test_replaces_the_content_with_the_mode_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.bin"
    files.write_atomic(path, b"old")
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # owner-only unless told otherwise
    files.write_atomic(path, b"new", mode=0o644, sync_dir=True)
    assert path.read_bytes() == b"new" and oct(path.stat().st_mode & 0o777) == "0o644"
    assert sorted(os.listdir(path.parent)) == ["state.bin"]


def test_a_failure_before_the_swap_keeps_the_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "state.bin"
    files.write_atomic(path, b"old")

    def power_cut(fd: int) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(files.os, "fsync", power_cut)
    with pytest.raises(OSError, match="power cut"):
        files.write_atomic(path, b"half-written new content")
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["state.bin"]


def test_cli_outputs_are_readable_by_others_and_never_overwritten_unasked(tmp_path: Path) -> None:
    from keymgmt.cli import CliError, write_new

    path = tmp_path / "root.cert"
    old = os.umask(0o022)
    try:
        write_new(path, b"certificate")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o644"  # what a plain open() would have given
    with pytest.raises(CliError, match="already exists"):
        write_new(path, b"another")
    write_new(path, b"another", force=True)
    assert path.read_bytes() == b"another" and sorted(os.listdir(tmp_path)) == ["root.cert"]

