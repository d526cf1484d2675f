"""The compiled thinning and tracing (biometrics/stages/_skeleton.c): built where it can be, pixel for
pixel the same skeletons and traces as the NumPy reference, and bad arguments refused with an error."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import cv2
import numpy as np
import pytest

from biometrics.pipeline import extract
from biometrics.stages import skeleton, tracing
from simulators.fingers import SyntheticFinger
from simulators.fingers.impression import Condition

HEADERS = Path(sysconfig.get_paths()["include"]) / "Python.h"
COMPILER = (sysconfig.get_config_var("CC") or "cc").split()[0]
CAN_BUILD = HEADERS.exists() and shutil.which(COMPILER) is not None

needs_kernel = pytest.mark.skipif(skeleton._skeleton is None, reason="the C kernel was not built")


def test_the_kernel_is_built_wherever_it_can_be():
    if not CAN_BUILD:
        pytest.skip("no C compiler or Python headers: the NumPy path is used")
    assert skeleton._skeleton is not None, "pip install -e . should have built biometrics.stages._skeleton"


def _blobs(seed: int, shape: tuple[int, int] = (120, 90)) -> np.ndarray:
    """Thick random ridges, touching the image border, with holes: everything thinning meets."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 3.0)
    return (field > 0.05).astype(np.uint8)


def _without_kernel(monkeypatch):
    monkeypatch.setattr(skeleton, "_skeleton", None)
    monkeypatch.setattr(tracing, "_skeleton", None)


@needs_kernel
@pytest.mark.parametrize("seed", range(6))
def test_thinning_matches_the_numpy_reference(seed):
    image = _blobs(seed)
    assert np.array_equal(skeleton._thin(image.copy()), skeleton._thin_numpy(image.copy()))


@needs_kernel
@pytest.mark.parametrize("image", [
    np.zeros((1, 1), np.uint8), np.ones((1, 1), np.uint8), np.ones((3, 7), np.uint8),
    np.ones((40, 40), np.uint8), np.eye(9, dtype=np.uint8),
], ids=["one-background", "one-ridge", "bar", "full-square", "diagonal"])
def test_thinning_edge_cases_match(image):
    assert np.array_equal(skeleton._thin(image.copy()), skeleton._thin_numpy(image.copy()))


@needs_kernel
def test_thinning_refuses_a_buffer_of_the_wrong_size():
    image = np.ones((10, 10), np.uint8)
    with pytest.raises(ValueError, match="image"):
        skeleton._skeleton.thin(image, 11, 10, skeleton._FIRST, skeleton._SECOND, skeleton._STAIRCASE)
    with pytest.raises(ValueError, match="first"):
        skeleton._skeleton.thin(image, 10, 10, skeleton._FIRST[:100], skeleton._SECOND, skeleton._STAIRCASE)
    with pytest.raises(ValueError, match="contiguous"):
        skeleton._skeleton.thin(image[::2], 5, 10, skeleton._FIRST, skeleton._SECOND, skeleton._STAIRCASE)


@needs_kernel
def test_thinning_an_empty_image_is_a_no_op():
    # ridge_skeleton never thins an empty box, but the kernel must not trip over one either.
    assert skeleton._thin(np.zeros((0, 0), np.uint8)).shape == (0, 0)
    assert skeleton._thin(np.zeros((0, 7), np.uint8)).shape == (0, 7)


@needs_kernel
def test_tracing_refuses_a_tracer_that_would_leave_the_image():
    sk = np.zeros(25, np.uint8)
    ids = np.full(25, -1, np.int32)
    offsets = (tracing._DY * 5 + tracing._DX).astype(np.int64)
    one = np.zeros(1, np.int32)
    with pytest.raises(ValueError, match="left the image"):
        tracing._skeleton.trace(sk, ids, offsets, tracing._ALLOWED.view(np.uint8), tracing._FAR,
                                np.array([0], np.int64), one, one, np.full((1, 8), -1, np.int64),
                                25, 1, 5, 3, tracing.OPEN, tracing.DEAD_END, one.copy(), one.copy(),
                                np.zeros(1, np.int64))


def _synthetic_prints() -> list[np.ndarray]:
    return [SyntheticFinger(seed).impression(i, condition)
            for seed, i, condition in ((3, 0, Condition.NORMAL), (11, 1, Condition.DRY), (29, 2, Condition.WET))]


@needs_kernel
def test_templates_are_identical_with_and_without_the_kernel(monkeypatch):
    images = _synthetic_prints()
    with_kernel = [extract(image, 500) for image in images]
    _without_kernel(monkeypatch)
    assert [extract(image, 500) for image in images] == with_kernel
    assert all(len(t.minutiae) > 10 for t in with_kernel)


@needs_kernel
def test_fvc_templates_are_identical_with_and_without_the_kernel(fvc_dir, monkeypatch):
    paths = sorted(fvc_dir("fvc2002/DB1_B").glob("*.tif"))[::9]
    images = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths]
    with_kernel = [extract(image, 500) for image in images]
    _without_kernel(monkeypatch)
    assert [extract(image, 500) for image in images] == with_kernel
