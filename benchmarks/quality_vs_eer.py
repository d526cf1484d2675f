"""How the quality score relates to match rates: rejected fraction vs EER at a few quality gates.

Runs the FVC protocol (genuine: every two impressions of a finger; impostor: every two impressions of
different fingers) on the shared FVC folders, once with every image and once per quality gate with the
images under the gate rejected (their comparisons left out, as a capture loop would have retaken them).

Scores come from ``biometrics.matching.match`` when that module exists; otherwise (``--baseline``, or
while it is missing) from the small minutiae matcher below, which exists only to measure extraction:
local neighbour structures vote for alignments, the best few are checked globally.

    .venv/bin/python benchmarks/quality_vs_eer.py [--data DIR] [--sets fvc2002/DB1_B:500 ...]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _fvc import present_sets  # noqa: E402

from biometrics.minutiae import FingerprintTemplate  # noqa: E402
from biometrics.quality import assess  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fingerprints"
DEFAULT_SETS = ("fvc2002/DB1_B:500", "fvc2002/DB2_B:569", "fvc2004/DB1_B:500")
GATES = (0, 40, 60, 70, 75, 80, 85)


# --- a small baseline matcher (for measuring extraction, not for the product) ---------------------

NEIGHBOURS = 5


def _arrays(t: FingerprintTemplate) -> np.ndarray:
    """x, y at 500 dpi and the angle in image axes (y down), one row per minutia."""
    s = 500.0 / t.dpi
    return np.array([(m.x * s, m.y * s, -m.angle) for m in t.minutiae], dtype=np.float64).reshape(-1, 3)


def _local(p: np.ndarray) -> np.ndarray:
    """Per minutia, its nearest neighbours as (distance, bearing, relative direction) in its own frame."""
    n = len(p)
    k = min(NEIGHBOURS, n - 1)
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    rows = np.arange(n)[:, None]
    dist = d[rows, nearest]
    bearing = np.arctan2(p[nearest, 1] - p[rows, 1], p[nearest, 0] - p[rows, 0]) - p[rows, 2]
    relative = p[nearest, 2] - p[rows, 2]
    return np.stack([dist, bearing, relative], axis=-1)


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * a))


def baseline_match(a: FingerprintTemplate, b: FingerprintTemplate) -> float:
    pa, pb = _arrays(a), _arrays(b)
    if len(pa) < 3 or len(pb) < 3:
        return 0.0
    la, lb = _local(pa), _local(pb)
    # Similarity of local structures: neighbour pairs that agree in distance, bearing and direction.
    dd = np.abs(la[:, None, :, None, 0] - lb[None, :, None, :, 0])
    db = np.abs(_wrap(la[:, None, :, None, 1] - lb[None, :, None, :, 1]))
    dr = np.abs(_wrap(la[:, None, :, None, 2] - lb[None, :, None, :, 2]))
    agree = (dd < 10) & (db < 0.35) & (dr < 0.35)
    local = agree.any(axis=3).sum(axis=2)
    best = np.argsort(local, axis=None)[::-1][:6]
    score = 0.0
    for flat in best:
        i, j = np.unravel_index(flat, local.shape)
        rot = pa[i, 2] - pb[j, 2]
        c, s = np.cos(rot), np.sin(rot)
        x = c * (pb[:, 0] - pb[j, 0]) - s * (pb[:, 1] - pb[j, 1]) + pa[i, 0]
        y = s * (pb[:, 0] - pb[j, 0]) + c * (pb[:, 1] - pb[j, 1]) + pa[i, 1]
        d = np.hypot(pa[:, None, 0] - x[None, :], pa[:, None, 1] - y[None, :])
        ok = (d < 15) & (np.abs(_wrap(pa[:, None, 2] - (pb[None, :, 2] + rot))) < 0.45)
        d = np.where(ok, d, np.inf)
        mutual = (d.argmin(axis=1)[d.argmin(axis=0)] == np.arange(len(pb))) & np.isfinite(d.min(axis=0))
        paired = int(mutual.sum())
        score = max(score, paired * paired / (len(pa) * len(pb)))
    return score


def _matcher(use_baseline: bool):
    if not use_baseline:
        try:
            from biometrics.matching import match  # type: ignore[import-not-found]

            return "biometrics.matching.match", lambda a, b: float(match(a, b).score)
        except ImportError:
            pass
    return "baseline matcher (this script)", baseline_match


# --- evaluation -------------------------------------------------------------------------------------


def eer(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """Equal error rate: where the false non-match and false match rates cross."""
    if len(genuine) == 0 or len(impostor) == 0:
        return float("nan")
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    fnmr = np.searchsorted(np.sort(genuine), thresholds, side="left") / len(genuine)
    fmr = 1 - np.searchsorted(np.sort(impostor), thresholds, side="left") / len(impostor)
    k = int(np.argmin(np.abs(fnmr - fmr)))
    return float((fnmr[k] + fmr[k]) / 2)


def evaluate(folder: Path, dpi: int, score) -> dict:
    paths = sorted(folder.glob("*_*.tif"))
    names, templates, qualities, times = [], [], [], []
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        start = time.perf_counter()
        report = assess(image, dpi)
        times.append(time.perf_counter() - start)
        names.append(path.stem.split("_")[0])
        templates.append(report.template)
        qualities.append(report.score)
    pairs = []
    for i, j in itertools.combinations(range(len(paths)), 2):
        missing = templates[i] is None or templates[j] is None
        s = 0.0 if missing else score(templates[i], templates[j])
        pairs.append((i, j, names[i] == names[j], s))
    counts = [len(t.minutiae) if t is not None else 0 for t in templates]
    return {"qualities": np.array(qualities), "pairs": pairs, "ms": 1000 * float(np.median(times)), "counts": counts}


def gate_table(result: dict) -> list[tuple[int, float, float]]:
    q = result["qualities"]
    rows = []
    for gate in GATES:
        kept = q >= gate
        gen = np.array([s for i, j, same, s in result["pairs"] if same and kept[i] and kept[j]])
        imp = np.array([s for i, j, same, s in result["pairs"] if not same and kept[i] and kept[j]])
        rows.append((gate, 1 - float(kept.mean()), eer(gen, imp)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", nargs="*", default=list(DEFAULT_SETS), help="FOLDER:DPI under --data")
    parser.add_argument("--baseline", action="store_true", help="use this script's matcher even if another exists")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no FVC data at {args.data}; nothing measured")
        return 0
    label, score = _matcher(args.baseline)
    print(f"scores: {label}")
    for name, folder, dpi in present_sets(args.data, args.sets):
        result = evaluate(folder, dpi, score)
        counts = np.array(result["counts"])
        print(
            f"\n{name} at {dpi} dpi: {result['ms']:.1f} ms per assessment (median), minutiae per image "
            f"median {np.median(counts):.0f} (min {counts.min()}, max {counts.max()})"
        )
        print("| quality gate | rejected | EER |")
        print("|---:|---:|---:|")
        for gate, rejected, rate in gate_table(result):
            print(f"| {gate} | {100 * rejected:.1f} % | {100 * rate:.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
