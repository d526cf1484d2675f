"""The compiled 1:1 comparison: built where it can be, its gate skipping exactly the pairs the NumPy
reference rejects, the same scores as the reference on both of its code paths (AVX/FMA and
portable), from empty templates to the ISO maximum, and bad arguments refused with an error rather
than a crash."""

from __future__ import annotations

import dataclasses
import shutil
import sysconfig
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_matching import finger, impression

from biometrics.matching import THRESHOLDS, pairwise, prepare
from biometrics.matching.cylinders import PreparedTemplate

HEADERS = Path(sysconfig.get_paths()["include"]) / "Python.h"
COMPILER = (sysconfig.get_config_var("CC") or "cc").split()[0]
CAN_BUILD = HEADERS.exists() and shutil.which(COMPILER) is not None
FVC = Path(__file__).resolve().parents[3] / "shared" / "data" / "fingerprints" / "fvc2002" / "DB1_B"

needs_kernel = pytest.mark.skipif(pairwise._consolidate is None, reason="the C kernel was not built")


def test_the_kernel_is_built_wherever_it_can_be():
    # setup.sh installs a compiler and Python's headers; the kernel is optional only for installs
    # without them, where the matcher falls back to NumPy (slower, same scores).
    if not CAN_BUILD:
        pytest.skip("no C compiler or Python headers: the NumPy path is used")
    assert pairwise._consolidate is not None, "pip install -e . should have built biometrics.matching._consolidate"


@pytest.fixture(params=["simd", "portable"])
def code_path(request):
    """Runs a test on the AVX/FMA code and on the portable code, which is otherwise used only where
    the CPU lacks AVX or FMA."""
    kernel = pairwise._consolidate
    if kernel is None:
        pytest.skip("the C kernel was not built")
    if kernel.use_simd(request.param == "simd") != (request.param == "simd"):
        kernel.use_simd(True)
        pytest.skip("this CPU has no AVX and FMA")
    yield request.param
    kernel.use_simd(True)


@pytest.fixture(scope="module")
def templates():
    out = []
    for seed in range(8):
        points = finger(seed)
        out += [prepare(impression(points, 1)), prepare(impression(points, 2, rotate=0.3, shift=(20, -10), warp=4.0))]
    # Turned by 2 rad, many pairs face more than 90 degrees apart: both rules of the gate are exercised.
    out.append(prepare(impression(finger(3), 3, rotate=2.0)))
    return out


def reference_t(probe: PreparedTemplate, other: PreparedTemplate) -> tuple[np.ndarray, np.ndarray]:
    """The NumPy path's t (template rows, probe columns) and whether each pair may count: enough
    common cells and directions less than 90 degrees apart, the cosine taken exactly (float64)."""
    p, o = probe.pair_form, other.pair_form
    t = o.values.dot(p.values_t) / o.norm.dot(p.norm_t)
    facing = o.direction.astype(np.float64).dot(p.direction_t.astype(np.float64))
    counts = (o.valid.dot(p.valid_t) > 0) & (facing > 0)
    # The NumPy path's own gate, in float32 products, agrees but on pairs exactly 90 degrees apart
    # (quantised angles make them happen), where its rounding goes either way.
    numpy_gate = ~np.signbit(np.minimum(o.valid.dot(p.valid_t), o.direction.dot(p.direction_t)))
    assert ((numpy_gate == counts) | (np.abs(facing) < 1e-7)).all()
    return t, counts


def kernel_t(probe: PreparedTemplate, other: PreparedTemplate) -> np.ndarray:
    p, o = probe.pair_form, other.pair_form
    local = pairwise._consolidate.local_similarities(o.packed, p.packed, pairwise._KERNEL_PARAMETERS[-1])
    return np.frombuffer(local, np.float32).reshape(o.n, p.n)


def assert_same_gate_and_t(probe: PreparedTemplate, other: PreparedTemplate) -> int:
    """The kernel computes t for exactly the pairs that may count, equal to the NumPy t; returns how
    many pairs counted."""
    t, counts = reference_t(probe, other)
    got = kernel_t(probe, other)
    assert ((got >= 0) == counts).all()
    assert (got[~counts] == -1).all()
    # Both sum ~300 float32 products, in different orders: a few ulps of t <= 1/2 apart.
    assert got[counts] == pytest.approx(t[counts], abs=1e-5)
    return int(counts.sum())


def assert_same_scores(pairs: list[tuple[PreparedTemplate, PreparedTemplate]]) -> None:
    kernel = np.array([pairwise.similarity(a, b) for a, b in pairs])
    numpy = np.array([pairwise.similarity_numpy(a, b) for a, b in pairs])
    diffs = np.abs(kernel - numpy)
    for threshold in THRESHOLDS.values():
        assert ((kernel >= threshold) == (numpy >= threshold)).all()
    # A template against itself has pairs of identical cylinders, t = 1/2 up to rounding, where the
    # initial similarity 1 - sqrt(1/2 - t) turns a float32 ulp of t into ~1e-4.
    same = np.array([a is b for a, b in pairs])
    assert diffs[same].max(initial=0.0) <= 1e-3
    # Otherwise float32 rounding (~1e-6 on a score), but that rounding decides the odd near-tie: an
    # efficiency across a step of TIE_RESOLUTION (another pair averaged, <= 6e-4 on FVC), or two probe
    # minutiae with all but identical cylinders competing for one template minutia (<= 0.011).
    if (~same).any():
        assert np.mean(diffs[~same] <= 1e-5) >= 0.99
        assert diffs[~same].max() <= 0.02


def test_the_gate_skips_exactly_the_pairs_the_numpy_path_rejects(templates, code_path):
    counted = total = 0
    for a in templates:
        for b in templates:
            counted += assert_same_gate_and_t(a, b)
            total += a.pair_form.n * b.pair_form.n
    assert 0.2 < counted / total < 0.8  # both kinds of pair are there to be told apart


def test_the_gate_counts_common_cells_exactly(templates, code_path):
    # Usable minutiae have most of their cells valid, so pairs share 34 to 52 cells here (none at
    # MIN_COMMON_CELLS = 32, unlike real prints): every threshold from none to all cells, so that
    # counts equal to the threshold occur.
    probe, other = templates[16], templates[3]
    p, o = probe.pair_form, other.pair_form
    common = o.valid[:, :-1].dot(p.valid_t[:-1])
    facing = o.direction.astype(np.float64).dot(p.direction_t.astype(np.float64)) > 0
    at_threshold = 0
    for min_common in range(0, 54):
        local = pairwise._consolidate.local_similarities(o.packed, p.packed, min_common)
        got = np.frombuffer(local, np.float32).reshape(o.n, p.n)
        assert ((got >= 0) == (facing & (common >= min_common))).all()
        at_threshold += bool((common == min_common).any())
    assert at_threshold > 10


def test_kernel_and_numpy_give_the_same_scores(templates, code_path):
    assert_same_scores([(a, b) for a in templates for b in templates])


def test_genuine_pairs_score_high_and_impostors_low_through_the_kernel(templates, code_path):
    genuine = [pairwise.similarity(templates[k], templates[k + 1]) for k in range(0, 16, 2)]
    impostor = [pairwise.similarity(templates[k], templates[k + 2]) for k in range(0, 14, 2)]
    assert min(genuine) > max(impostor)
    assert pairwise.similarity(templates[0], templates[0]) == pytest.approx(1.0, abs=1e-3)


def keeping(template: PreparedTemplate, k: int) -> PreparedTemplate:
    """The template with only its first k usable minutiae usable (a fresh object: no cached forms)."""
    usable = template.usable & (np.cumsum(template.usable) <= k)
    return dataclasses.replace(template, usable=usable)


def test_templates_with_few_usable_minutiae(templates, code_path):
    from biometrics.minutiae import FingerprintTemplate

    empty = prepare(FingerprintTemplate(480, 480, 500, ()))
    for k in (0, 1):
        few = keeping(templates[0], k)
        assert few.pair_form.n == k
        for probe, other in ((few, templates[1]), (templates[1], few), (few, few), (empty, few)):
            assert pairwise.similarity(probe, other) == 0.0
            assert pairwise.similarity_numpy(probe, other) == 0.0
            assert_same_gate_and_t(probe, other)
    # Two minutiae each, kept from two impressions of one finger: two pairs can relax together.
    two = [keeping(templates[0], 2), keeping(templates[1], 2)]
    for probe, other in ((two[0], two[0]), (two[0], two[1]), (two[1], templates[0])):
        assert_same_gate_and_t(probe, other)
    assert_same_scores([(two[0], two[0]), (two[0], two[1]), (two[1], templates[0])])
    assert pairwise.similarity(two[0], two[0]) > 0


@pytest.fixture(scope="module")
def rich():
    """Templates of more than 64 usable minutiae (more than one 64-bit word of rows, more pairs
    than the relaxation takes) and of 255 minutiae, the most an ISO 19794-2 view holds."""
    from biometrics.iso19794 import MAX_MINUTIAE

    points = finger(77, n=MAX_MINUTIAE)
    full = prepare(impression(points, 1, drop=0.0, extra=0, jitter=0.5))
    assert len(full.theta) == MAX_MINUTIAE and full.pair_form.n > 64
    some = prepare(impression(points[:120], 2, rotate=0.2, drop=0.0, extra=0))
    assert some.pair_form.n > 64
    return full, some


def test_templates_up_to_the_iso_maximum(rich, templates, code_path):
    full, some = rich
    pairs = [(full, full), (full, some), (some, full), (some, templates[0]), (templates[0], full)]
    for probe, other in pairs:
        assert_same_gate_and_t(probe, other)
    assert_same_scores(pairs)
    assert pairwise.similarity(full, full) == pytest.approx(1.0, abs=1e-3)


@pytest.fixture(scope="module")
def real_prints():
    """Three fingers of FVC2002 DB1_B, eight impressions each."""
    if not FVC.is_dir():
        pytest.skip("FVC2002 DB1_B not present in ../shared/data")
    from biometrics.pipeline import extract

    return [prepare(extract(cv2.imread(str(FVC / f"{finger}_{i}.tif"), cv2.IMREAD_GRAYSCALE), 500))
            for finger in (101, 104, 107) for i in range(1, 9)]


def test_real_prints_keep_their_gate_scores_and_decisions(real_prints, code_path):
    pairs = [(a, b) for a in real_prints for b in real_prints if a is not b]
    for a, b in pairs:
        assert_same_gate_and_t(a, b)
    assert_same_scores(pairs)


@needs_kernel
def test_forms_that_do_not_fit_are_refused_not_read_past(templates):
    kernel = pairwise._consolidate
    o, p = templates[0].pair_form, templates[1].pair_form
    params = pairwise._KERNEL_PARAMETERS
    assert kernel.similarity(o.packed, p.packed, 20, params)[1] > 0
    for bad in (o.packed[:-32], o.packed + bytes(32), b"", bytes(len(o.packed)), b"x" * 31):
        with pytest.raises(ValueError, match=r"packed form|expected"):
            kernel.similarity(bad, p.packed, 20, params)
        with pytest.raises(ValueError, match=r"packed form|expected"):
            kernel.local_similarities(o.packed, bad, 22)
    with pytest.raises(TypeError):
        kernel.similarity(bytearray(o.packed), p.packed, 20, params)  # only immutable bytes
    with pytest.raises(ValueError, match="bad sizes"):
        kernel.similarity(o.packed, p.packed, 20, (1, *params[1:]))  # fewer than two pairs to relax
    with pytest.raises(ValueError, match="bad sizes"):
        kernel.similarity(o.packed, p.packed, 0, params)
    # A form with other cylinders (descriptor size 259 instead of 260) is not compared.
    n = 3
    f32 = np.zeros((n, 259), np.float32)
    cells, c64 = np.zeros((n, 52), np.float32), np.zeros(n, np.complex64)
    other = kernel.pack(n, 259, 52, f32, cells, cells, np.zeros((n, 2), np.float32), c64, c64, c64, c64,
                        np.zeros((n, n), np.float32))
    with pytest.raises(ValueError, match="different cylinders"):
        kernel.similarity(o.packed, other, 20, params)
    with pytest.raises(ValueError, match="expected"):  # values of the wrong width
        kernel.pack(n, 260, 52, f32, cells, cells, np.zeros((n, 2), np.float32), c64, c64, c64, c64,
                    np.zeros((n, n), np.float32))
    with pytest.raises(ValueError, match="bad sizes"):  # more spatial cells than a 64-bit mask holds
        kernel.pack(n, 260, 65, f32, cells, cells, np.zeros((n, 2), np.float32), c64, c64, c64, c64,
                    np.zeros((n, n), np.float32))
