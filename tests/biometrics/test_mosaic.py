"""Merging two enrolment impressions of one finger: coverage, alignment, refusal of a different
finger, coordinates kept valid for the ISO and card formats; and on real FVC images when present."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from biometrics import cardtemplate, iso19794
from biometrics.matching import match, prepare
from biometrics.matching.mosaic import ImpressionsDisagree, merge_impressions
from biometrics.matching.pairwise import matched_pairs
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType

FVC = Path(__file__).resolve().parents[3] / "shared" / "data" / "fingerprints" / "fvc2002" / "DB1_B"


def whole_finger(seed: int, n: int = 80) -> np.ndarray:
    """(n, 3) x, y, angle over a 300 x 560 px finger, no two minutiae closer than 14 px."""
    rng = np.random.default_rng(seed)
    pts: list[tuple[float, float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(0, 300), rng.uniform(0, 560)
        if all((x - p[0]) ** 2 + (y - p[1]) ** 2 > 196 for p in pts):
            pts.append((x, y, rng.uniform(0, 2 * math.pi)))
    return np.array(pts)


def capture(points: np.ndarray, top: float, turn: float = 0.0, shift=(30.0, 20.0), seed: int = 0,
            jitter: float = 1.0) -> tuple[FingerprintTemplate, np.ndarray]:
    """The part of the finger from ``top`` to ``top`` + 320 px, turned by ``turn`` (radians,
    counter-clockwise on screen) and moved by ``shift``; also returns which points it shows."""
    rng = np.random.default_rng(seed)
    seen = (points[:, 1] >= top) & (points[:, 1] < top + 320)
    x, y, a = points[seen, 0] - 150, points[seen, 1] - top - 160, points[seen, 2]
    c, s = math.cos(turn), math.sin(turn)
    xs = c * x + s * y + 150 + shift[0] + rng.normal(0, jitter, len(x))
    ys = -s * x + c * y + 160 + shift[1] + rng.normal(0, jitter, len(x))
    minutiae = tuple(
        Minutia(round(px), round(py), float((pa + turn) % (2 * math.pi)), MinutiaType.ENDING, 60)
        for px, py, pa in zip(xs, ys, a, strict=True)
    )
    return FingerprintTemplate(400, 400, 500, minutiae), np.flatnonzero(seen)


def test_an_impression_pairs_each_minutia_with_itself():
    t, _ = capture(whole_finger(1), top=0, jitter=0)
    probe_idx, other_idx = matched_pairs(prepare(t), prepare(t))
    assert len(probe_idx) >= 6
    assert (probe_idx == other_idx).all()


def test_merging_covers_both_impressions_without_duplicates():
    points = whole_finger(2)
    upper, shown_upper = capture(points, top=0, seed=1)
    lower, shown_lower = capture(points, top=200, turn=0.25, shift=(10.0, -5.0), seed=2)
    merged = merge_impressions(upper, lower)
    both = np.union1d(shown_upper, shown_lower)
    assert merged.added == pytest.approx(len(np.setdiff1d(shown_lower, shown_upper)), abs=3)
    assert len(merged.template.minutiae) == pytest.approx(len(both), abs=3)
    # Every finger minutia either impression saw is in the merged template once, where the first
    # impression's frame puts it (upper was shifted by (30, 20) and not turned).
    dx, dy = merged.shift
    xy = np.array([(m.x - dx, m.y - dy) for m in merged.template.minutiae], float)
    for x, y, _ in points[both]:
        near = np.hypot(xy[:, 0] - (x - 150 + 180), xy[:, 1] - (y + 20))
        assert (near < 6).sum() == 1


def test_a_capture_of_the_far_part_matches_the_merged_template_better():
    points = whole_finger(3)
    upper, _ = capture(points, top=0, seed=1)
    middle, _ = capture(points, top=120, turn=-0.2, seed=2)
    lowest, _ = capture(points, top=240, turn=0.1, shift=(0.0, 0.0), seed=3)
    merged = merge_impressions(upper, middle).template
    assert match(lowest, merged).score > match(lowest, upper).score + 0.05


def test_a_different_finger_is_refused():
    upper, _ = capture(whole_finger(4), top=0, seed=1)
    other, _ = capture(whole_finger(5), top=0, seed=2)
    with pytest.raises(ImpressionsDisagree, match="same finger"):
        merge_impressions(upper, other)


def test_coordinates_stay_valid_for_the_iso_and_card_formats():
    points = whole_finger(6)
    upper, _ = capture(points, top=200, shift=(0.0, 0.0), seed=1)
    # The second impression shows the part above the first: in the first's frame it lies at negative y.
    lower, _ = capture(points, top=0, shift=(40.0, 60.0), seed=2)
    merged = merge_impressions(upper, lower)
    t = merged.template
    assert merged.shift[1] > 0
    assert min(m.y for m in t.minutiae) >= 0 and min(m.x for m in t.minutiae) >= 0
    assert all(m.x < t.width and m.y < t.height for m in t.minutiae)
    assert [(m.x, m.y) for m in iso19794.decode(iso19794.encode(t)).minutiae] == [(m.x, m.y) for m in t.minutiae]
    assert len(cardtemplate.encode(t)) <= cardtemplate.MAX_BYTES


def test_impressions_at_different_resolutions_are_not_merged():
    t, _ = capture(whole_finger(7), top=0)
    other = FingerprintTemplate(t.width, t.height, 569, t.minutiae)
    with pytest.raises(ValueError, match="dpi"):
        merge_impressions(t, other)


@pytest.mark.skipif(not FVC.is_dir(), reason="FVC2002 DB1_B not present in ../shared/data")
def test_merged_enrolment_raises_genuine_scores_on_real_prints():
    from biometrics.pipeline import extract

    first_alone, merged_scores = [], []
    for finger in ("101", "102", "103", "104"):
        t = {i: extract(cv2.imread(str(FVC / f"{finger}_{i}.tif"), cv2.IMREAD_GRAYSCALE), 500) for i in range(1, 9)}
        try:
            merged = prepare(merge_impressions(t[1], t[2]).template)
        except ImpressionsDisagree:
            continue
        single = prepare(t[1])
        for i in range(3, 9):
            probe = prepare(t[i])
            first_alone.append(match(probe, single).score)
            merged_scores.append(match(probe, merged).score)
    assert len(merged_scores) >= 12
    assert np.mean(merged_scores) > np.mean(first_alone)


def test_a_merge_never_exceeds_what_an_iso_record_holds():
    points = whole_finger(8, n=300)
    upper, _ = capture(points, top=0, seed=1)
    lower, _ = capture(points, top=200, seed=2)
    assert len(upper.minutiae) + len(lower.minutiae) > iso19794.MAX_MINUTIAE
    merged = merge_impressions(upper, lower).template
    assert len(merged.minutiae) <= iso19794.MAX_MINUTIAE
    assert iso19794.decode(iso19794.encode(merged)).minutiae[0].x == merged.minutiae[0].x


def test_impressions_that_score_alike_but_do_not_share_a_placement_are_refused(monkeypatch):
    from biometrics.matching import mosaic

    points = whole_finger(9)
    upper, _ = capture(points, top=0, seed=1)
    other, _ = capture(whole_finger(10), top=0, seed=2)
    # Pretend the score passed: the pairs of two different fingers still agree on no placement.
    monkeypatch.setattr(mosaic, "similarity", lambda a, b: 1.0)
    with pytest.raises(ImpressionsDisagree, match="placement"):
        merge_impressions(upper, other)
