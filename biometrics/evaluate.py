"""Run the FVC protocol on a folder of ``FFF_I`` images and print the error rates and timings.

    python -m biometrics.evaluate DIR [--dpi N] [--json] [--plot FILE]

Genuine pairs are every two impressions of one finger, impostor pairs every two impressions of
different fingers (the full FVC impostor set, not the 45-pair subset). A finger image from which no
template can be extracted still takes part: its comparisons score 0, as FVC counts failures to enrol.
``--json`` prints one object with ``eer``, ``fmr100``, ``fmr1000`` (rates as fractions),
``ms_extract`` (per image), ``ms_compare`` (per 1:1 comparison of prepared templates), ``genuine`` and
``impostor`` (numbers of comparisons) and ``eer_interval``. ``--plot`` writes the DET curve as a PNG.

With ten fingers a set's EER rests on a few genuine pairs (each of 280 is 0.36 %), so the EER is
printed with a 95 % interval from resampling whole fingers with replacement (the comparisons of one
finger are not independent of each other, so resampling pairs would understate the spread).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_NAME = re.compile(r"^(\d+)_(\d+)\.(tif|tiff|png|bmp|pgm|jpg|jpeg)$", re.IGNORECASE)


@dataclass(frozen=True)
class Rates:
    eer: float
    fmr100: float  # FNMR at FMR <= 1 %
    fmr1000: float  # FNMR at FMR <= 0.1 %
    fmr10000: float  # FNMR at FMR <= 0.01 %


@dataclass(frozen=True)
class Evaluation:
    rates: Rates
    genuine: np.ndarray
    impostor: np.ndarray
    ms_extract: float
    ms_prepare: float
    ms_compare: float
    failed: tuple[str, ...]  # images no template could be extracted from
    genuine_finger: np.ndarray  # finger of each genuine comparison
    impostor_fingers: np.ndarray  # (n, 2) the two fingers of each impostor comparison


def error_curve(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FMR, FNMR) for accepting when score >= threshold, thresholds ascending."""
    g, i = np.sort(np.asarray(genuine, float)), np.sort(np.asarray(impostor, float))
    thresholds = np.unique(np.concatenate([g, i, [np.inf]]))
    fmr = 1.0 - np.searchsorted(i, thresholds, side="left") / max(len(i), 1)
    fnmr = np.searchsorted(g, thresholds, side="left") / max(len(g), 1)
    return thresholds, fmr, fnmr


def rates(genuine: np.ndarray, impostor: np.ndarray) -> Rates:
    if len(genuine) == 0 or len(impostor) == 0:
        raise ValueError("error rates need at least one genuine and one impostor comparison")
    _t, fmr, fnmr = error_curve(genuine, impostor)
    # FMR falls and FNMR rises with the threshold: the EER is where they cross, taken as the mean
    # of the two rates at the threshold closest to the crossing (the FVC convention for ties).
    k = int(np.argmin(np.abs(fmr - fnmr)))
    eer = 0.5 * (fmr[k] + fnmr[k])

    def fnmr_at(target: float) -> float:
        ok = fmr <= target
        return float(fnmr[ok].min()) if ok.any() else 1.0

    return Rates(float(eer), fnmr_at(0.01), fnmr_at(0.001), fnmr_at(0.0001))


def _weighted_eer(genuine: np.ndarray, g_weight: np.ndarray, impostor: np.ndarray, i_weight: np.ndarray) -> float:
    """EER of scores counted ``weight`` times each (the same crossing rule as :func:`rates`)."""
    thresholds = np.unique(np.concatenate([genuine, impostor, [np.inf]]))
    g_order, i_order = np.argsort(genuine), np.argsort(impostor)
    g_cum = np.concatenate([[0.0], np.cumsum(g_weight[g_order])])
    i_cum = np.concatenate([[0.0], np.cumsum(i_weight[i_order])])
    below_g = g_cum[np.searchsorted(genuine[g_order], thresholds, side="left")]
    below_i = i_cum[np.searchsorted(impostor[i_order], thresholds, side="left")]
    fnmr = below_g / g_cum[-1]
    fmr = 1.0 - below_i / i_cum[-1]
    k = int(np.argmin(np.abs(fmr - fnmr)))
    return float(0.5 * (fmr[k] + fnmr[k]))


def eer_interval(genuine: np.ndarray, genuine_finger: np.ndarray, impostor: np.ndarray,
                 impostor_fingers: np.ndarray, level: float = 0.95, rounds: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """A ``level`` interval of the EER from resampling fingers with replacement, ``rounds`` times.

    A finger drawn k times counts its genuine comparisons k times and its impostor comparisons with
    a finger drawn l times k * l times; draws that leave no genuine or no impostor pair are redrawn.
    """
    impostor_fingers = np.asarray(impostor_fingers, np.int64).reshape(-1, 2)
    fingers = np.unique(np.concatenate([np.asarray(genuine_finger, np.int64), impostor_fingers.ravel()]))
    g_idx = np.searchsorted(fingers, genuine_finger)
    i_idx = np.searchsorted(fingers, impostor_fingers)
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    rng = np.random.default_rng(seed)
    values: list[float] = []
    for _attempt in range(20 * rounds):
        counts = np.bincount(rng.integers(0, len(fingers), len(fingers)), minlength=len(fingers)).astype(float)
        g_w, i_w = counts[g_idx], counts[i_idx[:, 0]] * counts[i_idx[:, 1]]
        if g_w.sum() > 0 and i_w.sum() > 0:
            values.append(_weighted_eer(genuine, g_w, impostor, i_w))
            if len(values) == rounds:
                break
    if not values:
        raise ValueError("too few fingers with comparisons of both kinds to resample")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def pair_fingers(fingers: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every two images once, in the FVC protocol's order (image a before b, row by row), given each
    image's finger: (a, b) image indices, whether the pair is genuine, and the fingers of the pairs
    as :func:`eer_interval` takes them (one per genuine pair, two per impostor pair)."""
    f = np.asarray(fingers, np.int64)
    a, b = np.triu_indices(len(f), 1)
    genuine = f[a] == f[b]
    return a, b, genuine, f[a[genuine]], np.stack([f[a[~genuine]], f[b[~genuine]]], axis=1)


def threshold_at(impostor: np.ndarray, fmr: float) -> float:
    """The smallest threshold whose false-match rate on ``impostor`` is at most ``fmr``."""
    i = np.sort(np.asarray(impostor, float))
    allowed = math.floor(fmr * len(i))  # impostor scores that may reach the threshold
    if allowed >= len(i):
        return float(i[0])
    return float(np.nextafter(i[len(i) - allowed - 1], np.inf))


def find_images(folder: Path) -> list[tuple[int, int, Path]]:
    """(finger, impression, path) of every FVC-named image in ``folder``, sorted."""
    found = []
    for path in folder.iterdir():
        m = IMAGE_NAME.match(path.name)
        if m and path.is_file():
            found.append((int(m.group(1)), int(m.group(2)), path))
    return sorted(found)


def evaluate(folder: Path, dpi: int = 500, extractor: Callable | None = None) -> Evaluation:
    """Extract every image, compare every pair and measure the error rates."""
    from biometrics.errors import BiometricsError
    from biometrics.matching.cylinders import PreparedTemplate, prepare
    from biometrics.matching.pairwise import similarity

    if extractor is None:
        from biometrics.pipeline import extract as extractor
    images = find_images(folder)
    fingers = {f for f, _i, _p in images}
    if len(images) < 2 or len(fingers) < 2:
        raise ValueError(f"{folder} holds {len(images)} FFF_I images of {len(fingers)} fingers; "
                         "the protocol needs at least two fingers (name images like 101_1.tif)")
    prepared: list[PreparedTemplate | None] = []
    failed = []
    t_extract = t_prepare = 0.0
    for _finger, _impression, path in images:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f"cannot read {path} as a greyscale image; remove or convert it")
        start = time.perf_counter()
        try:
            template = extractor(image, dpi)
        except BiometricsError:
            template = None
        t_extract += time.perf_counter() - start
        if template is None:
            failed.append(path.name)
            prepared.append(None)
            continue
        start = time.perf_counter()
        ready = prepare(template)
        _ = ready.pair_form  # the 1:1 comparison's matrices, built once per template
        prepared.append(ready)
        t_prepare += time.perf_counter() - start

    n = len(images)
    usable = [k for k in range(n) if prepared[k] is not None]
    scores = np.zeros((n, n))
    comparisons = 0
    start = time.perf_counter()
    for pos, a in enumerate(usable):
        for b in usable[pos + 1:]:
            scores[a, b] = similarity(prepared[a], prepared[b])
            comparisons += 1
    t_compare = time.perf_counter() - start

    a, b, genuine, g_finger, i_fingers = pair_fingers([finger for finger, _i, _p in images])
    # Each pair was compared once, in one direction.
    pair_scores = np.maximum(scores[a, b], scores[b, a])
    genuine_arr, impostor_arr = pair_scores[genuine], pair_scores[~genuine]
    return Evaluation(rates(genuine_arr, impostor_arr), genuine_arr, impostor_arr,
                      1e3 * t_extract / n, 1e3 * t_prepare / max(len(usable), 1),
                      1e3 * t_compare / max(comparisons, 1), tuple(failed), g_finger, i_fingers)


def plot_det(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, size: int = 640) -> None:
    """DET curves (FNMR against FMR, both on log axes from 1e-4 to 1) drawn with OpenCV."""
    margin, lo = 70, -4.0
    img = np.full((size, size, 3), 255, np.uint8)
    span = size - 2 * margin

    def to_px(fmr: np.ndarray, fnmr: np.ndarray) -> np.ndarray:
        x = (np.log10(np.clip(fmr, 1e-4, 1.0)) - lo) / -lo
        y = (np.log10(np.clip(fnmr, 1e-4, 1.0)) - lo) / -lo
        return np.stack([margin + x * span, size - margin - y * span], axis=1).round().astype(np.int32)

    font = cv2.FONT_HERSHEY_SIMPLEX
    for e in range(int(lo), 1):
        p = margin + int((e - lo) / -lo * span)
        cv2.line(img, (p, margin), (p, size - margin), (225, 225, 225), 1)
        cv2.line(img, (margin, size - p), (size - margin, size - p), (225, 225, 225), 1)
        label = f"1e{e}" if e else "1"
        cv2.putText(img, label, (p - 14, size - margin + 20), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, label, (margin - 45, size - p + 4), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.line(img, to_px(np.array([1e-4]), np.array([1e-4]))[0], to_px(np.array([1.0]), np.array([1.0]))[0],
             (200, 200, 200), 1, cv2.LINE_AA)  # the EER diagonal
    cv2.rectangle(img, (margin, margin), (size - margin, size - margin), (0, 0, 0), 1)
    cv2.putText(img, "FMR", (size // 2 - 15, size - 25), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "FNMR", (8, margin - 20), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    colours = [(200, 80, 0), (0, 140, 0), (0, 0, 200), (160, 0, 160), (0, 150, 200)]
    for n, (label, (fmr, fnmr)) in enumerate(curves.items()):
        colour = colours[n % len(colours)]
        pts = to_px(np.asarray(fmr), np.asarray(fnmr))
        cv2.polylines(img, [pts.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
        cv2.putText(img, label, (margin + 10, margin + 20 + 18 * n), font, 0.45, colour, 1, cv2.LINE_AA)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"could not write the DET plot to {path}; check the folder exists and is writable")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m biometrics.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="folder of FFF_I images (e.g. 101_1.tif)")
    p.add_argument("--dpi", type=int, default=500, help="resolution of the images (default 500)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--plot", type=Path, metavar="FILE", help="write the DET curve to this PNG file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    if not 100 <= args.dpi <= 2000:
        print(f"error: --dpi {args.dpi} is outside 100..2000", file=sys.stderr)
        return 2
    try:
        result = evaluate(args.folder, args.dpi)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    r = result.rates
    interval = eer_interval(result.genuine, result.genuine_finger, result.impostor, result.impostor_fingers)
    if args.plot:
        _t, fmr, fnmr = error_curve(result.genuine, result.impostor)
        plot_det({f"{args.folder.name}  EER {100 * r.eer:.2f}%": (fmr, fnmr)}, args.plot)
    if args.json:
        print(json.dumps({"eer": r.eer, "fmr100": r.fmr100, "fmr1000": r.fmr1000,
                          "ms_extract": result.ms_extract, "ms_compare": result.ms_compare,
                          "genuine": len(result.genuine), "impostor": len(result.impostor),
                          "eer_interval": list(interval)}))
        return 0
    print(f"{args.folder}  ({args.dpi} dpi)")
    print(f"  comparisons   {len(result.genuine)} genuine, {len(result.impostor)} impostor")
    if result.failed:
        print(f"  no template   {len(result.failed)} images ({', '.join(result.failed[:5])}...) score 0")
    print(f"  EER           {100 * r.eer:.2f} %  (95 % interval {100 * interval[0]:.2f}-{100 * interval[1]:.2f} %, "
          "resampling fingers)")
    print(f"  FMR100        {100 * r.fmr100:.2f} %  (FNMR at FMR 1 %)")
    print(f"  FMR1000       {100 * r.fmr1000:.2f} %  (FNMR at FMR 0.1 %)")
    print(f"  extraction    {result.ms_extract:.1f} ms per image (+ {result.ms_prepare:.1f} ms preparing it for comparison)")
    print(f"  comparison    {result.ms_compare:.3f} ms per comparison")
    return 0


if __name__ == "__main__":
    sys.exit(main())
