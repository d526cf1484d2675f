"""Replacing a file so that a crash at any moment leaves the old content or the new, never a mix.

Key stores need it for their encrypted keys; the simulators (which may build on this package) need it
for the state of a card's EEPROM, a scanner's template bank or a camera.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, sync_dir: bool = False) -> None:
    """Replace ``path`` by ``data`` through a temp file beside it (fsync, then ``os.replace``).

    The temp file is created owner-only (0600) and given ``mode`` before the swap when one is asked
    for. ``sync_dir`` also fsyncs the folder, so that the rename itself survives a power cut of the host.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
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
