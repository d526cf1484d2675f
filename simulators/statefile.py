"""Writing a simulator's state file: a simulator killed at any moment leaves the old file or the new one,
never a mix, so it restarts as the same card, scanner or camera."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, sync_dir: bool = False) -> None:
    """Replace ``path`` by ``data`` through a temp file beside it (fsync, then ``os.replace``).

    ``sync_dir`` also fsyncs the folder, so that the rename itself survives a power cut of the host,
    as a card's EEPROM must.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_dir:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
