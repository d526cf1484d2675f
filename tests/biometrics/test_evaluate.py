"""The evaluation CLI on folders of synthetic prints (any FVC-named folder, not just the shared sets),
its error-rate arithmetic and its confidence interval."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from biometrics.evaluate import _weighted_eer, eer_interval, error_curve, main, rates, threshold_at
from simulators.fingers import write_fvc_folder


@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fvc")
    write_fvc_folder(folder, fingers=3, impressions=3, seed=21)
    return folder


def test_json_output_has_the_issue_keys_and_sane_values(synthetic_folder, capsys):
    assert main([str(synthetic_folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"eer", "fmr100", "fmr1000", "ms_extract", "ms_compare", "genuine", "impostor"} <= set(out)
    assert out["genuine"] == 3 * 3 and out["impostor"] == 36 - 9
    for key in ("eer", "fmr100", "fmr1000"):
        assert 0.0 <= out[key] <= 1.0
    low, high = out["eer_interval"]
    assert 0.0 <= low <= high <= 1.0
    assert out["ms_extract"] > 0 and out["ms_compare"] > 0


def test_text_output_and_det_plot(synthetic_folder, tmp_path, capsys):
    plot = tmp_path / "det.png"
    assert main([str(synthetic_folder), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "EER" in text and "95 % interval" in text and "FMR1000" in text
    image = cv2.imread(str(plot))
    assert image is not None and image.shape == (640, 640, 3)


def test_a_resolution_is_passed_to_the_extractor(synthetic_folder, capsys):
    assert main([str(synthetic_folder), "--dpi", "569", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["genuine"] == 9


@pytest.mark.parametrize("argv, needle", [
    (["--dpi", "50"], "outside 100..2000"),
    (["--dpi", "5000"], "outside 100..2000"),
])
def test_bad_resolutions_are_refused(synthetic_folder, capsys, argv, needle):
    assert main([str(synthetic_folder), *argv]) == 2
    assert needle in capsys.readouterr().err


def test_a_missing_folder_is_refused(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_folder_of_one_finger_is_refused(tmp_path, capsys):
    write_fvc_folder(tmp_path, fingers=1, impressions=3, seed=4)
    assert main([str(tmp_path)]) == 2
    assert "at least two fingers" in capsys.readouterr().err


def test_an_unreadable_image_is_named(tmp_path, capsys):
    write_fvc_folder(tmp_path, fingers=2, impressions=2, seed=4)
    (tmp_path / "101_2.tif").write_bytes(b"not a tiff at all")
    assert main([str(tmp_path)]) == 2
    assert "101_2.tif" in capsys.readouterr().err


def test_files_not_named_like_fvc_are_ignored(synthetic_folder, tmp_path, capsys):
    for path in synthetic_folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "notes.txt").write_text("collected on a Tuesday")
    (tmp_path / "scan_final.tif").write_bytes(b"junk")
    assert main([str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["genuine"] == 9


def test_rates_on_known_scores():
    genuine = np.array([0.9, 0.8, 0.7, 0.2])
    impostor = np.linspace(0.0, 0.5, 100)
    r = rates(genuine, impostor)
    # One genuine score of four lies among the impostors: at the crossing FNMR is 1/4 and FMR about 1/4.
    assert r.eer == pytest.approx(0.25, abs=0.01)
    assert r.fmr100 == pytest.approx(0.25)
    t = threshold_at(impostor, 0.01)
    assert np.mean(impostor >= t) <= 0.01
    thresholds, fmr, fnmr = error_curve(genuine, impostor)
    assert np.all(np.diff(thresholds) > 0) and np.all(np.diff(fmr) <= 0) and np.all(np.diff(fnmr) >= 0)


def test_unit_weights_give_the_plain_eer():
    rng = np.random.default_rng(3)
    genuine, impostor = rng.normal(1.0, 0.5, 200), rng.normal(0.0, 0.5, 2000)
    ones_g, ones_i = np.ones_like(genuine), np.ones_like(impostor)
    assert _weighted_eer(genuine, ones_g, impostor, ones_i) == pytest.approx(rates(genuine, impostor).eer)
    # Counting every score twice changes nothing; leaving half out is a different sample.
    assert _weighted_eer(genuine, 2 * ones_g, impostor, 2 * ones_i) == pytest.approx(rates(genuine, impostor).eer)


def _finger_scores(n_fingers: int, overlap: float, seed: int):
    """Genuine and impostor scores of ``n_fingers`` fingers x 4 impressions, separated by ``overlap``."""
    rng = np.random.default_rng(seed)
    g, gf, i, pairs = [], [], [], []
    for a in range(n_fingers):
        g += list(rng.normal(1.0 - overlap, 0.3, 6))
        gf += [100 + a] * 6
        for b in range(a + 1, n_fingers):
            i += list(rng.normal(0.0, 0.3, 16))
            pairs += [(100 + a, 100 + b)] * 16
    return np.array(g), np.array(gf), np.array(i), np.array(pairs)


def test_the_interval_holds_the_estimate_and_narrows_with_more_fingers():
    few = _finger_scores(10, 0.5, seed=1)
    many = _finger_scores(60, 0.5, seed=1)
    lo_few, hi_few = eer_interval(*few, rounds=300)
    lo_many, hi_many = eer_interval(*many, rounds=300)
    assert lo_few <= rates(few[0], few[2]).eer <= hi_few
    assert lo_many <= rates(many[0], many[2]).eer <= hi_many
    assert hi_many - lo_many < hi_few - lo_few


def test_the_interval_is_reproducible_and_zero_when_separated():
    scores = _finger_scores(8, -2.0, seed=2)  # genuine far above every impostor
    assert eer_interval(*scores, rounds=200) == (0.0, 0.0)
    noisy = _finger_scores(8, 0.6, seed=2)
    assert eer_interval(*noisy, rounds=200, seed=5) == eer_interval(*noisy, rounds=200, seed=5)


def test_the_interval_needs_two_kinds_of_comparison():
    with pytest.raises(ValueError, match="too few fingers"):
        eer_interval(np.array([0.5]), np.array([101]), np.zeros(0), np.zeros((0, 2)), rounds=10)
