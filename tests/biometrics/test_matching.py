"""The 1:1 matcher on constructed templates: invariance to rotation, translation, resolution and
moderate elastic distortion; separation from other fingers; calibrated decisions; edge cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from biometrics.matching import THRESHOLDS, MatchResult, match, match_decision, prepare, threshold_for
from biometrics.matching.calibration import estimate_fmr
from biometrics.matching.consolidation import similarities, stack
from biometrics.minutiae import FingerprintTemplate, Minutia, MinutiaType

SIZE = 480


def finger(seed: int, n: int = 40) -> np.ndarray:
    """(n, 3) x, y, angle of a random but plausible minutia set: spread over an ellipse, no two
    closer than 12 pixels."""
    rng = np.random.default_rng(seed)
    pts: list[tuple[float, float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(-1, 1, 2)
        if x * x + y * y > 1:
            continue
        px, py = SIZE / 2 + 150 * x, SIZE / 2 + 180 * y
        if all((px - q[0]) ** 2 + (py - q[1]) ** 2 > 144 for q in pts):
            pts.append((px, py, rng.uniform(0, 2 * math.pi)))
    return np.array(pts)


def impression(points: np.ndarray, seed: int, rotate: float = 0.0, shift=(0.0, 0.0), jitter: float = 2.0,
               drop: float = 0.1, extra: int = 3, warp: float = 0.0, dpi: int = 500) -> FingerprintTemplate:
    """Another capture of the same finger: moved, turned, noisy, a few minutiae lost or spurious, and
    optionally bent by a smooth displacement field of amplitude ``warp`` pixels."""
    rng = np.random.default_rng(seed)
    keep = points[rng.random(len(points)) >= drop]
    x, y, a = keep[:, 0] - SIZE / 2, keep[:, 1] - SIZE / 2, keep[:, 2]
    if warp:
        x, y = x + warp * np.sin(y / 90.0), y + warp * np.sin(x / 110.0)
    c, s = math.cos(rotate), math.sin(rotate)
    # Screen coordinates (y down): a counter-clockwise turn on screen is -rotate in (x, y).
    xr = c * x + s * y + SIZE / 2 + shift[0] + rng.normal(0, jitter, len(x))
    yr = -s * x + c * y + SIZE / 2 + shift[1] + rng.normal(0, jitter, len(x))
    ar = (a + rotate + rng.normal(0, 0.08, len(a))) % (2 * math.pi)
    spurious = finger(seed + 1000, extra) if extra else np.zeros((0, 3))
    xs = np.concatenate([xr, spurious[:, 0]])
    ys = np.concatenate([yr, spurious[:, 1]])
    angles = np.concatenate([ar, spurious[:, 2]])
    scale = dpi / 500.0
    ok = (xs >= 0) & (xs < SIZE) & (ys >= 0) & (ys < SIZE)
    minutiae = tuple(
        Minutia(round(px * scale), round(py * scale), float(pa), MinutiaType.ENDING, 60)
        for px, py, pa in zip(xs[ok], ys[ok], angles[ok], strict=True)
    )
    return FingerprintTemplate(round(SIZE * scale), round(SIZE * scale), dpi, minutiae)


@pytest.fixture(scope="module")
def fingers():
    return [finger(seed) for seed in range(12)]


def test_an_impression_matches_itself_perfectly(fingers):
    t = impression(fingers[0], 1, jitter=0, drop=0, extra=0)
    assert match(t, t).score == pytest.approx(1.0, abs=1e-3)


# Fingers are placed upright on a scanner: the matcher accepts turns up to 90 degrees either way
# (pairs whose directions differ by more are not compared, which removes many chance pairs).
@pytest.mark.parametrize("rotate", [0.0, 0.5, -1.2, 1.4])
def test_rotation_and_translation_do_not_matter(fingers, rotate):
    a = impression(fingers[1], 1)
    b = impression(fingers[1], 2, rotate=rotate, shift=(25, -30))
    assert match(a, b).score >= THRESHOLDS[0.0001]


def test_moderate_elastic_distortion_is_tolerated(fingers):
    a = impression(fingers[2], 1)
    b = impression(fingers[2], 2, rotate=0.3, warp=10.0)
    assert match(a, b).score >= THRESHOLDS[0.001]


def test_different_fingers_do_not_match(fingers):
    scores = [match(impression(fingers[i], 1), impression(fingers[j], 2)).score
              for i in range(6) for j in range(6) if i != j]
    assert max(scores) < THRESHOLDS[0.01]


def test_resolution_is_normalised_to_500_dpi(fingers):
    a = impression(fingers[3], 1)
    b = impression(fingers[3], 2, rotate=0.2, dpi=1000)
    c = impression(fingers[3], 2, rotate=0.2, dpi=500)
    assert b.width == 2 * c.width
    assert match(a, b).score == pytest.approx(match(a, c).score, abs=0.05)
    assert match(a, b).score >= THRESHOLDS[0.0001]


def test_comparison_is_close_to_symmetric(fingers):
    a, b = impression(fingers[4], 1), impression(fingers[4], 2, rotate=0.4, warp=5)
    assert match(a, b).score == pytest.approx(match(b, a).score, abs=0.05)


def test_a_batch_gives_the_same_scores_as_single_comparisons(fingers):
    probe = prepare(impression(fingers[5], 1))
    others = [prepare(impression(fingers[k], 2, rotate=0.1 * k)) for k in range(6)]
    batch = similarities(probe, stack(others))
    singles = [match(probe, o).score for o in others]
    # float32 sums in a different order: equal to well under any threshold step, not bit for bit.
    assert batch == pytest.approx(singles, abs=1e-3)
    assert int(np.argmax(batch)) == 5


@pytest.mark.parametrize("n", [0, 1, 2])
def test_templates_with_almost_no_minutiae_score_zero(n):
    tiny = FingerprintTemplate(300, 300, 500, tuple(Minutia(100 + 30 * k, 100, 0.5) for k in range(n)))
    assert match(tiny, tiny).score == 0.0


def test_decisions_use_the_calibrated_thresholds(fingers):
    a, b = impression(fingers[6], 1), impression(fingers[6], 2, rotate=0.7)
    other = impression(fingers[7], 2)
    assert match_decision(a, b, fmr=0.0001)
    assert not match_decision(a, other, fmr=0.01)
    result = match(a, b)
    assert isinstance(result, MatchResult) and result.matches(0.001)
    assert THRESHOLDS[0.01] < THRESHOLDS[0.001] < THRESHOLDS[0.0001]


def test_an_uncalibrated_rate_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"0\.01, 0\.001, 0\.0001"):
        threshold_for(0.05)


def test_estimated_fmr_falls_as_the_score_rises():
    fmrs = [estimate_fmr(s) for s in np.linspace(0, 1, 21)]
    assert all(a >= b for a, b in itertools.pairwise(fmrs))
    for fmr, threshold in THRESHOLDS.items():
        assert estimate_fmr(threshold) == pytest.approx(fmr, rel=0.05)


def test_only_templates_are_accepted():
    with pytest.raises(TypeError, match="FingerprintTemplate"):
        match("a", "b")


def test_the_one_to_one_path_agrees_with_the_batch_on_many_pairs(fingers):
    from biometrics.matching.pairwise import similarity

    prepared = [prepare(impression(fingers[k % 12], seed, rotate=0.05 * seed, warp=seed % 4))
                for seed, k in enumerate(range(24))]
    batch = stack(prepared)
    for probe in prepared[:8]:
        singles = [similarity(probe, other) for other in prepared]
        # float32 sums in another order can flip a near-tie in which pairs are kept: measured at most
        # 0.004 apart on impostor scores (~0.09, far under any threshold), identical on genuine ones.
        assert similarities(probe, batch) == pytest.approx(singles, abs=5e-3)
        assert [s > 0.3 for s in singles] == [s > 0.3 for s in similarities(probe, batch)]


def test_the_fmr_estimate_interpolates_log_linearly_and_clamps():
    from biometrics.matching.calibration import IMPOSTOR_TAIL

    scores = np.array([s for s, _ in IMPOSTOR_TAIL])
    logs = np.log([max(r, 1e-7) for _, r in IMPOSTOR_TAIL])
    for s in np.linspace(-0.5, 1.5, 401):
        assert estimate_fmr(float(s)) == pytest.approx(math.exp(np.interp(s, scores, logs)), rel=1e-9)


def test_the_pair_form_gate_and_ranking_are_the_batch_local_similarity(fingers):
    from biometrics.matching.consolidation import local_similarity
    from biometrics.matching.pairwise import similarity

    probe = prepare(impression(fingers[8], 1))
    others = [prepare(impression(fingers[8], 2, rotate=2.0)), prepare(impression(fingers[9], 3, rotate=0.4))]
    for other in others:
        similarity(probe, other)  # builds both pair forms
        p, o = probe.pair_form, other.pair_form
        t = (o.values @ p.values_t) / (o.norm @ p.norm_t)
        allowed = np.minimum(o.valid @ p.valid_t, o.direction @ p.direction_t) > 0
        sim = local_similarity(probe, stack([other]))[0][np.ix_(np.flatnonzero(other.usable),
                                                                np.flatnonzero(probe.usable))]
        # Turned by 2 rad, many pairs face more than 90 degrees apart: both rules are exercised.
        assert 0 < allowed.sum() < allowed.size
        assert ((sim > 0) == allowed).all()
        assert (t > 0).all()  # so the gate's sign alone says which pairs count
        assert 1.0 - np.sqrt(np.maximum(0.5 - t[allowed], 0.0)) == pytest.approx(sim[allowed], abs=1e-5)


def test_rich_templates_relax_only_the_best_pairs_like_the_batch(fingers):
    from biometrics.matching.consolidation import N_RELAX_PAIRS
    from biometrics.matching.pairwise import similarity

    rich = finger(99, n=70)
    a = prepare(impression(rich, 1, drop=0.0, extra=0))
    b = prepare(impression(rich, 2, rotate=0.2, drop=0.0, extra=0))
    assert min(a.count, b.count) > N_RELAX_PAIRS
    for probe, other in [(a, a), (a, b), (b, a)]:
        assert similarity(probe, other) == pytest.approx(similarities(probe, stack([other]))[0], abs=1e-3)
    assert similarity(a, a) == pytest.approx(1.0, abs=1e-3)


def test_raw_templates_are_prepared_once_for_repeated_matches(fingers):
    from biometrics.matching import _prepare_recent

    stored = impression(fingers[10], 1)
    probe = impression(fingers[10], 2, rotate=0.3)
    first = match(probe, stored)
    before = _prepare_recent.cache_info()
    # The same content read again (a card decodes its stored template on every try) is a new object.
    again = match(FingerprintTemplate(probe.width, probe.height, probe.dpi, probe.minutiae),
                  FingerprintTemplate(stored.width, stored.height, stored.dpi, stored.minutiae))
    after = _prepare_recent.cache_info()
    assert again == first
    assert after.hits == before.hits + 2 and after.misses == before.misses


def test_both_paths_average_the_same_number_of_pairs():
    from biometrics.matching.consolidation import MAX_PAIRS, MIN_PAIRS, pair_counts
    from biometrics.matching.pairwise import _PAIR_COUNTS

    # The 1:1 path tabulates the batch's sigmoid: a change to one rule must reach the other.
    counts = np.arange(len(_PAIR_COUNTS))
    assert pair_counts(counts, len(_PAIR_COUNTS)).tolist() == _PAIR_COUNTS
    assert min(_PAIR_COUNTS) == MIN_PAIRS and max(_PAIR_COUNTS) == MAX_PAIRS



def test_few_mutual_pairs_are_divided_by_min_averaged_on_both_paths(monkeypatch):
    from biometrics.matching import consolidation, pairwise

    # Two templates of 40 minutiae in which only 5 of one face the same way as the other's (pairs
    # more than 90 degrees apart are never compared): at most 5 mutually best pairs, fewer than a
    # comparison of 40 minutiae averages, so the missing pairs must count as 0 on both paths.
    rng = np.random.default_rng(0)

    def template(points: np.ndarray, angles: np.ndarray) -> FingerprintTemplate:
        return FingerprintTemplate(SIZE, SIZE, 500, tuple(
            Minutia(round(x), round(y), float(a) % (2 * math.pi)) for (x, y, _), a in zip(points, angles, strict=True)))

    probes, others = [], []
    for seed in range(20, 26):
        probes.append(prepare(template(finger(seed), 0.3 + rng.normal(0, 0.3, 40))))
        angles = math.pi + 0.3 + rng.normal(0, 0.3, 40)
        angles[:5] = 0.3 + rng.normal(0, 0.3, 5)
        others.append(prepare(template(finger(seed + 50), angles)))

    def scores() -> tuple[list[float], list[float]]:
        return ([pairwise.similarity(p, o) for p, o in zip(probes, others, strict=True)],
                [float(similarities(p, stack([o]))[0]) for p, o in zip(probes, others, strict=True)])

    strict, strict_batch = scores()
    assert strict_batch == pytest.approx(strict, abs=1e-3)
    # The relaxed mean alone (without the share of the best pair's support, which does not depend on
    # how many pairs are averaged): at most 5 pairs divided by MIN_AVERAGED = 8, not by themselves.
    for module in (consolidation, pairwise):
        monkeypatch.setattr(module, "SUPPORT_SHARE", 0.0)
    mean, mean_batch = scores()
    for module in (consolidation, pairwise):
        monkeypatch.setattr(module, "MIN_AVERAGED", 1)
    loose, loose_batch = scores()
    assert mean_batch == pytest.approx(mean, abs=1e-3)
    assert loose_batch == pytest.approx(loose, abs=1e-3)
    assert all(m <= 5 / 8 * v + 1e-6 for m, v in zip(mean, loose, strict=True))
    assert min(loose) > 0


def test_the_sketch_is_built_from_the_most_reliable_minutiae_only(fingers):
    from biometrics.matching.index import SKETCH_MINUTIAE, sketch

    good = impression(fingers[0], 1, jitter=0, drop=0, extra=0)
    assert len(good.minutiae) == 40 == SKETCH_MINUTIAE
    noise = finger(99, 30)
    poor = tuple(Minutia(round(x), round(y), float(a), MinutiaType.ENDING, 10) for x, y, a in noise)
    both = FingerprintTemplate(good.width, good.height, good.dpi, good.minutiae + poor)
    assert np.array_equal(sketch(prepare(both)), sketch(prepare(good)))
