"""The extraction pipeline end to end: input checks, stage outputs, plausible minutiae on FVC images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from biometrics.errors import BiometricsError, ImageFormatError, NoFingerError
from biometrics.minutiae import FingerprintTemplate, MinutiaType
from biometrics.pipeline import STAGES, extract


@pytest.fixture
def sinusoid_print() -> np.ndarray:
    """Straight ridges of period 9 px on a disc of 'skin', on a blank platen."""
    y, x = np.mgrid[0:320, 0:300].astype(np.float32)
    ridges = 128 + 90 * np.cos(2 * np.pi * (x * np.cos(0.4) + y * np.sin(0.4)) / 9.0)
    finger = (x - 150) ** 2 + (y - 160) ** 2 < 120**2
    return np.where(finger, ridges, 235).astype(np.uint8)


def test_every_stage_is_shown_to_the_inspector_in_order(sinusoid_print):
    seen: list[str] = []
    extract(sinusoid_print, inspect=lambda stage, output: seen.append(stage))
    assert seen == list(STAGES)


@pytest.mark.parametrize(
    ("image", "needle"),
    [
        ("not an array", "NumPy array"),
        (np.zeros((300, 300, 3), np.uint8), "channels"),
        (np.zeros((300, 300), np.float32), "uint8"),
        (np.zeros((300, 300), np.uint16), "uint8"),
        (np.zeros((0, 0), np.uint8), "smaller"),
        (np.zeros((40, 300), np.uint8), "smaller"),
        (np.zeros(300, np.uint8), "2-D"),
        (np.zeros((3000, 3000), np.uint8), "larger"),
    ],
)
def test_bad_images_are_refused_with_a_clear_error(image, needle):
    with pytest.raises(ImageFormatError, match=needle):
        extract(image)


@pytest.mark.parametrize("dpi", [0, 100, 5000, 500.0, True])
def test_bad_resolutions_are_refused(dpi, sinusoid_print):
    with pytest.raises(ImageFormatError):
        extract(sinusoid_print, dpi=dpi)


def test_bad_input_leaves_the_callers_image_untouched(sinusoid_print):
    before = sinusoid_print.copy()
    extract(sinusoid_print)
    assert np.array_equal(before, sinusoid_print)


@pytest.mark.parametrize("fill", [0, 128, 255])
def test_a_blank_image_has_no_finger(fill):
    with pytest.raises(NoFingerError, match="no fingerprint"):
        extract(np.full((300, 300), fill, np.uint8))


def test_pure_noise_has_no_finger():
    noise = np.random.default_rng(7).integers(0, 256, (300, 300), dtype=np.uint8)
    with pytest.raises(NoFingerError):
        extract(noise)


def test_errors_share_one_base_class():
    assert issubclass(NoFingerError, BiometricsError)
    assert issubclass(ImageFormatError, BiometricsError)


def test_fvc_image_gives_a_plausible_template(fvc_dir):
    path = fvc_dir("fvc2002/DB1_B") / "101_1.tif"
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    template = extract(image, dpi=500)
    assert isinstance(template, FingerprintTemplate)
    assert (template.width, template.height, template.dpi) == (image.shape[1], image.shape[0], 500)
    assert 12 <= len(template.minutiae) <= 90
    kinds = {m.kind for m in template.minutiae}
    assert kinds <= {MinutiaType.ENDING, MinutiaType.BIFURCATION}
    for m in template.minutiae:
        assert 0 <= m.x < template.width and 0 <= m.y < template.height
        assert 0 <= m.angle < 2 * np.pi
        assert 1 <= m.quality <= 100
