"""The compiled consolidation step of a 1:1 comparison: built where it can be, the same scores as the
NumPy reference, and bad arguments refused with an error rather than a crash."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from test_matching import finger, impression

from biometrics.matching import pairwise, prepare

HEADERS = Path(sysconfig.get_paths()["include"]) / "Python.h"
COMPILER = (sysconfig.get_config_var("CC") or "cc").split()[0]
CAN_BUILD = HEADERS.exists() and shutil.which(COMPILER) is not None

needs_kernel = pytest.mark.skipif(pairwise._consolidate is None, reason="the C kernel was not built")


def test_the_kernel_is_built_wherever_it_can_be():
    # setup.sh installs a compiler and Python's headers; the kernel is optional only for installs
    # without them, where the matcher falls back to NumPy (slower, same scores).
    if not CAN_BUILD:
        pytest.skip("no C compiler or Python headers: the NumPy path is used")
    assert pairwise._consolidate is not None, "pip install -e . should have built biometrics.matching._consolidate"


@pytest.fixture(scope="module")
def templates():
    out = []
    for seed in range(8):
        points = finger(seed)
        out += [prepare(impression(points, 1)), prepare(impression(points, 2, rotate=0.3, shift=(20, -10), warp=4.0))]
    return out


@needs_kernel
def test_kernel_and_numpy_give_the_same_scores(templates):
    diffs, agree = [], 0
    for a in templates:
        for b in templates:
            c, n = pairwise.similarity(a, b), pairwise.similarity_numpy(a, b)
            diffs.append(abs(c - n))
            agree += (c >= 0.15) == (n >= 0.15)
    # Double against float32 arithmetic: near-ties in which pairs are kept may flip (see pairwise.py).
    assert np.median(diffs) < 1e-5
    assert max(diffs) < 0.01
    assert agree == len(templates) ** 2


@needs_kernel
def test_genuine_pairs_score_high_and_impostors_low_through_the_kernel(templates):
    genuine = [pairwise.similarity(templates[k], templates[k + 1]) for k in range(0, len(templates), 2)]
    impostor = [pairwise.similarity(templates[k], templates[k + 2]) for k in range(0, len(templates) - 2, 2)]
    assert min(genuine) > max(impostor)
    assert pairwise.similarity(templates[0], templates[0]) == pytest.approx(1.0, abs=1e-3)


@needs_kernel
def test_templates_with_too_few_minutiae_score_zero(templates):
    from biometrics.minutiae import FingerprintTemplate

    empty = prepare(FingerprintTemplate(480, 480, 500, ()))
    assert pairwise.similarity(templates[0], empty) == 0.0
    assert pairwise.similarity(empty, templates[0]) == 0.0


@needs_kernel
def test_buffers_of_the_wrong_size_are_refused_not_read_past():
    score = pairwise._consolidate.score
    f = np.zeros((3, 4), np.float32)
    c3, c4 = np.zeros(3, np.complex64), np.zeros(4, np.complex64)
    tol = np.zeros((4, 4), np.float32)
    good = (f, f, f, f, 3, 4, c3, c4, c3, c4, tol, 40, 5, 0.7, 7.5, 6, 1e5)
    assert score(*good) == (0.0, 0, 0.0)  # nothing in common: no pair offered
    for position, bad in ((0, np.zeros((3, 3), np.float32)), (6, c4), (10, np.zeros((3, 3), np.float32))):
        args = list(good)
        args[position] = bad
        with pytest.raises(ValueError, match="expected"):
            score(*args)
    with pytest.raises(ValueError, match="bad sizes"):
        score(*good[:11], 1, 5, 0.7, 7.5, 6, 1e5)  # fewer than two pairs to relax
    with pytest.raises(TypeError):
        score(*good[:4], 3)
