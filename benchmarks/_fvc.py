"""The FVC folders a benchmark was asked for (``--sets name:dpi``), skipping those not present."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path


def present_sets(data: Path, specs: Sequence[str]) -> Iterator[tuple[str, Path, int]]:
    """(name, folder, dpi) of every ``name:dpi`` spec whose folder exists under ``data``; says which do not."""
    for spec in specs:
        name, _, dpi = spec.partition(":")
        folder = data / name
        if not folder.is_dir():
            print(f"{name}: not present under {data}, skipped")
            continue
        yield name, folder, int(dpi or 500)
