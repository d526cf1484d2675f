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


def _fvc_eer(templates: list, fingers: list[int]) -> tuple[float, float, float]:
    """EER, median genuine score and the largest impostor score over every pair of ``templates``."""
    from biometrics.evaluate import rates
    from biometrics.matching.consolidation import similarities, stack
    from biometrics.matching.cylinders import prepare

    prepared = [prepare(t) for t in templates]
    genuine, impostor = [], []
    for a in range(len(prepared) - 1):
        row = similarities(prepared[a], stack(prepared[a + 1:]))
        for b, s in zip(range(a + 1, len(prepared)), row, strict=True):
            (genuine if fingers[a] == fingers[b] else impostor).append(float(s))
    return rates(np.array(genuine), np.array(impostor)).eer, float(np.median(genuine)), max(impostor)


def test_fvc_genuine_and_impostor_scores_stay_separated(fvc_dir):
    # Half of FVC2002 DB1_B (5 fingers x 8 impressions: 140 genuine, 640 impostor comparisons), a few
    # seconds. The whole set measures 0.72 % EER (benchmarks/fingerprint.py); a collapse of any stage
    # (segmentation, enhancement, minutiae, cylinders, consolidation) pushes this well above 5 %.
    folder = fvc_dir("fvc2002/DB1_B")
    paths = sorted(p for p in folder.glob("*_*.tif") if 101 <= int(p.stem.split("_")[0]) <= 105)
    assert len(paths) == 40
    templates = [extract(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), dpi=500) for p in paths]
    fingers = [int(p.stem.split("_")[0]) for p in paths]
    eer, genuine_median, _worst_impostor = _fvc_eer(templates, fingers)
    assert eer < 0.05, f"EER {100 * eer:.1f} % on half of FVC2002 DB1_B: genuine/impostor separation collapsed"
    from biometrics.matching import THRESHOLDS

    assert genuine_median > THRESHOLDS[0.0001]


def test_another_extractors_iso_records_are_matched(shared_data):
    # SecuGen ISO/IEC 19794-2 records of FVC2002 DB1_B: decoding alone, so this runs in about a second.
    from biometrics import iso19794

    folder = shared_data / "fingerprints" / "iso19794-2-secugen" / "fvc2002" / "DB1_B"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    paths = sorted(folder.glob("*.iso"))
    templates = [iso19794.decode(p.read_bytes()) for p in paths]
    eer, _median, _worst = _fvc_eer(templates, [int(p.stem.split("_")[0]) for p in paths])
    assert eer < 0.04, f"EER {100 * eer:.1f} % on SecuGen records of FVC2002 DB1_B (measured 1.1 %)"


def test_a_569_dpi_capture_keeps_its_resolution(fvc_dir):
    path = fvc_dir("fvc2002/DB2_B") / "101_1.tif"
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    template = extract(image, dpi=569)
    assert (template.width, template.height, template.dpi) == (image.shape[1], image.shape[0], 569)
    assert 12 <= len(template.minutiae) <= 90


def test_skeleton_of_a_speckled_image_with_more_labels_than_16_bits_hold():
    # 8-connected isolated pixels every second pixel of 640 x 640: 102,400 components, past the 16-bit
    # labels the skeleton stage uses first; it must fall back, not fail.
    from biometrics.stages.skeleton import ridge_skeleton

    speckle = np.ones((640, 640), np.float32)
    speckle[::2, ::2] = -1.0  # negative = ridge
    mask = np.ones((640, 640), bool)
    skeleton = ridge_skeleton(speckle, mask)
    assert skeleton.shape == mask.shape and not skeleton.any()  # every speck is below the ridge area


def test_directional_minutiae_are_added_to_the_enhanced_ones(sinusoid_print):
    stages: dict[str, object] = {}
    extract(sinusoid_print, inspect=stages.__setitem__)
    enhanced, directional, every = (stages[k] for k in ("minutiae", "directional_minutiae", "all_minutiae"))
    assert len(enhanced) <= len(every) <= len(enhanced) + len(directional)
    # Every minutia of the enhanced image is kept, first and unchanged.
    assert np.array_equal(every.x[: len(enhanced)], enhanced.x)
    assert np.array_equal(every.y[: len(enhanced)], enhanced.y)
