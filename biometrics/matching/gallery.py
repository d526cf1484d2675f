"""1:N search for duplicate enrolments: a popcount pre-filter over every template, then the full
comparison of the best few.

The gallery keeps, per key, the template itself (small) and its bit sketch (``SKETCH_BITS`` bits);
the cylinder codes the full comparison needs are rebuilt for the shortlisted candidates only, with a
bounded cache, so memory grows by about one kilobyte per template rather than by the tens of
kilobytes a prepared template takes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from biometrics.matching.consolidation import similarities, stack
from biometrics.matching.cylinders import PreparedTemplate, prepare
from biometrics.matching.index import SKETCH_WORDS, popcount_rows, shared_bits, sketch
from biometrics.minutiae import FingerprintTemplate

DEFAULT_SHORTLIST = 32
PREPARED_CACHE = 512


@dataclass(frozen=True, slots=True)
class Candidate:
    key: Hashable
    score: float  # full comparison score, comparable with THRESHOLDS[fmr]
    prefilter: float  # pre-filter similarity in [0, 1] (shared sketch bits, normalised)


class Gallery:
    """Templates under unique keys, searchable by a probe template."""

    def __init__(self, shortlist: int = DEFAULT_SHORTLIST) -> None:
        if shortlist < 1:
            raise ValueError(f"the shortlist must hold at least one candidate, not {shortlist}")
        self.shortlist = shortlist
        self._keys: list[Hashable] = []
        self._index: dict[Hashable, int] = {}
        self._templates: list[FingerprintTemplate] = []
        self._sketches = np.zeros((0, SKETCH_WORDS), dtype=np.uint64)
        self._bits = np.zeros(0, dtype=np.float64)
        self._size = 0
        self._cache: OrderedDict[int, PreparedTemplate] = OrderedDict()

    def __len__(self) -> int:
        return self._size

    def __contains__(self, key: Hashable) -> bool:
        return key in self._index

    def add(self, key: Hashable, template: FingerprintTemplate | PreparedTemplate) -> None:
        """Enrol ``template`` under ``key``; a key already present is refused (remove it first)."""
        if key in self._index:
            raise KeyError(f"gallery already holds a template under {key!r}; use another key")
        prepared = template if isinstance(template, PreparedTemplate) else prepare(template)
        row = sketch(prepared)
        if self._size == len(self._sketches):  # grow by doubling: adding stays amortised O(1)
            grown = np.zeros((max(64, 2 * self._size), SKETCH_WORDS), dtype=np.uint64)
            grown[: self._size] = self._sketches[: self._size]
            self._sketches = grown
            self._bits = np.resize(self._bits, len(grown))
        self._sketches[self._size] = row
        self._bits[self._size] = float(popcount_rows(row[None, :])[0])
        self._index[key] = self._size
        self._keys.append(key)
        self._templates.append(prepared.source)
        self._remember(self._size, prepared)
        self._size += 1

    def prefilter(self, probe: PreparedTemplate) -> np.ndarray:
        """(len,) pre-filter similarity of ``probe`` to every enrolled template, in [0, 1]."""
        row = sketch(probe)
        shared = shared_bits(row, self._sketches[: self._size]).astype(np.float64)
        own = float(popcount_rows(row[None, :])[0])
        return shared / np.sqrt(np.maximum(own * self._bits[: self._size], 1.0))

    def search(self, probe: FingerprintTemplate | PreparedTemplate, top: int = 10) -> list[Candidate]:
        """The ``top`` enrolled templates most similar to ``probe``, best first."""
        if top < 1:
            raise ValueError(f"top must be at least 1, not {top}")
        if self._size == 0:
            return []
        probe = probe if isinstance(probe, PreparedTemplate) else prepare(probe)
        coarse = self.prefilter(probe)
        k = min(self._size, max(self.shortlist, top))
        rows = np.argpartition(-coarse, k - 1)[:k] if k < self._size else np.arange(self._size)
        scores = similarities(probe, stack([self._prepared(int(r)) for r in rows]))
        order = np.argsort(-scores, kind="stable")[:top]
        return [Candidate(self._keys[rows[i]], float(scores[i]), float(coarse[rows[i]])) for i in order]

    def _prepared(self, row: int) -> PreparedTemplate:
        cached = self._cache.get(row)
        if cached is None:
            cached = prepare(self._templates[row])
            self._remember(row, cached)
        else:
            self._cache.move_to_end(row)
        return cached

    def _remember(self, row: int, prepared: PreparedTemplate) -> None:
        self._cache[row] = prepared
        while len(self._cache) > PREPARED_CACHE:
            self._cache.popitem(last=False)

