"""How often a minutia our extractor finds in one impression is found again in another impression of
the same finger: a figure for extractor work that moves more smoothly than the EER.

    .venv/bin/python benchmarks/minutiae_repeatability.py [--data DIR] [--tolerance PX ...]

With ten fingers per set, one genuine pair moves an FVC EER by 0.36 %, so two extractor variants
rarely differ by more than the noise. Repeatability counts every minutia of every genuine pair
instead. Each pair of impressions is aligned once with SecuGen's minutiae of the same images (the
ISO records under ``iso19794-2-secugen``, an extractor independent of ours): a Hough vote over
rotation and translation, refined by least squares on the pairs it agrees with. Under that rigid
alignment, a minutia of impression A that lands inside B's print (the convex hull of B's minutiae, widened by 8 px)
is *repeated* if B has a minutia within the tolerance in position and 35 degrees in direction, each
used once. Repeatability = 2 x repeated / (A's minutiae inside B + B's inside A). SecuGen's own
figure under the same alignment is printed beside ours (it is favoured: the alignment was fitted to
its minutiae). Elastic distortion is not undone, so nobody reaches 1.

The SecuGen records were made from images squashed to 300x400 (see the data README); their
coordinates are scaled back to each image's size first. Needs ``../shared/data/fingerprints``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from biometrics import iso19794  # noqa: E402
from biometrics.errors import BiometricsError  # noqa: E402
from biometrics.evaluate import find_images  # noqa: E402
from biometrics.matching.cylinders import inside_hull  # noqa: E402
from biometrics.matching.mosaic import rigid_fit  # noqa: E402
from biometrics.pipeline import extract  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fingerprints"
SETS = (("fvc2002/DB1_B", 500), ("fvc2002/DB2_B", 569), ("fvc2002/DB4_B", 500))
ANGLE_TOLERANCE = math.radians(35)
MIN_ALIGNED_PAIRS = 6  # fewer SecuGen pairs agreeing: the alignment itself is in doubt, skip the pair


@dataclass(frozen=True)
class Rigid:
    """Image-coordinate rotation (radians, y down) then translation."""

    rotation: float
    dx: float
    dy: float

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) x, y, ISO angle (counter-clockwise on screen) -> the same after the transform."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        x = c * points[:, 0] - s * points[:, 1] + self.dx
        y = s * points[:, 0] + c * points[:, 1] + self.dy
        # A clockwise turn in y-down image axes is a counter-clockwise one on screen.
        return np.stack([x, y, points[:, 2] - self.rotation], axis=1)


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def _agreeing(a: np.ndarray, b: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one pairs (closest first) within ``tolerance`` px and ANGLE_TOLERANCE."""
    dist = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    turn = np.abs(_wrap(a[:, None, 2] - b[None, :, 2]))
    cost = np.where((dist < tolerance) & (turn < ANGLE_TOLERANCE), dist, np.inf)
    rows, cols = [], []
    while np.isfinite(cost).any():
        i, j = np.unravel_index(np.argmin(cost), cost.shape)
        rows.append(i)
        cols.append(j)
        cost[i, :] = np.inf
        cost[:, j] = np.inf
    return np.array(rows, int), np.array(cols, int)


def align(a: np.ndarray, b: np.ndarray) -> tuple[Rigid, int]:
    """The rigid transform taking minutiae ``a`` onto ``b``, and how many pairs agree with it."""
    rotation = -_wrap(b[None, :, 2] - a[:, None, 2])  # every pairing's implied image rotation
    c, s = np.cos(rotation), np.sin(rotation)
    tx = b[None, :, 0] - (c * a[:, None, 0] - s * a[:, None, 1])
    ty = b[None, :, 1] - (s * a[:, None, 0] + c * a[:, None, 1])
    bins = np.arange(-400, 401, 12)
    best = (-1.0, Rigid(0.0, 0.0, 0.0))
    for r0 in np.radians(np.arange(-60, 61, 4)):
        near = np.abs(_wrap(rotation - r0)) < math.radians(8)
        if near.sum() < 3:
            continue
        votes, xe, ye = np.histogram2d(tx[near], ty[near], bins=[bins, bins])
        votes = cv2.GaussianBlur(votes.astype(np.float32), (3, 3), 0)
        k = np.unravel_index(int(votes.argmax()), votes.shape)
        if votes[k] > best[0]:
            best = (float(votes[k]), Rigid(float(r0), xe[k[0]] + 6.0, ye[k[1]] + 6.0))
    rigid, count = best[1], 0
    for _ in range(3):
        ia, ib = _agreeing(rigid.apply(a), b, 15.0)
        count = len(ia)
        if count < 3:
            break
        r, t = rigid_fit(b[ib, :2], a[ia, :2])
        rigid = Rigid(math.atan2(r[1, 0], r[0, 0]), float(t[0]), float(t[1]))
    return rigid, count


def repeatability(a: np.ndarray, b: np.ndarray, rigid: Rigid, tolerance: float) -> tuple[int, int]:
    """(2 x repeated minutiae, minutiae of either impression inside the other's print)."""
    moved = rigid.apply(a)
    in_b = inside_hull(b[:, :2], moved[:, :2], margin=8.0)
    in_a = inside_hull(moved[:, :2], b[:, :2], margin=8.0)
    rows, _cols = _agreeing(moved[in_b], b[in_a], tolerance)
    return 2 * len(rows), int(in_b.sum() + in_a.sum())


def _as_array(template) -> np.ndarray:
    return np.array([(m.x, m.y, m.angle) for m in template.minutiae], float).reshape(-1, 3)


def _secugen(path: Path, width: int, height: int) -> np.ndarray:
    record = iso19794.decode(path.read_bytes())
    sx, sy = width / record.width, height / record.height
    return np.array([(m.x * sx, m.y * sy, m.angle) for m in record.minutiae], float).reshape(-1, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tolerance", type=float, nargs="+", default=[8.0, 12.0, 20.0],
                        help="position tolerances in pixels (default 8 12 20)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if not (args.data / "iso19794-2-secugen").is_dir():
        print(f"no SecuGen records under {args.data}; nothing measured")
        return 0
    header = " | ".join(f"ours {t:g} px | SecuGen {t:g} px" for t in args.tolerance)
    print(f"| set | genuine pairs aligned | {header} |")
    print("|---|---:|" + "---:|" * (2 * len(args.tolerance)))
    for name, dpi in SETS:
        folder, records = args.data / name, args.data / "iso19794-2-secugen" / name
        if not folder.is_dir() or not records.is_dir():
            continue
        ours, theirs, fingers = {}, {}, {}
        for finger, _impression, path in find_images(folder):
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            try:
                ours[path.stem] = _as_array(extract(image, dpi))
            except BiometricsError:
                ours[path.stem] = np.zeros((0, 3))
            theirs[path.stem] = _secugen(records / f"{path.stem}.iso", image.shape[1], image.shape[0])
            fingers[path.stem] = finger
        names = sorted(ours)
        totals = {t: np.zeros(4) for t in args.tolerance}
        aligned = 0
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if fingers[a] != fingers[b]:
                    continue
                rigid, agreeing = align(theirs[a], theirs[b])
                if agreeing < MIN_ALIGNED_PAIRS:
                    continue
                aligned += 1
                for t in args.tolerance:
                    totals[t] += (*repeatability(ours[a], ours[b], rigid, t),
                                  *repeatability(theirs[a], theirs[b], rigid, t))
        cells = " | ".join(f"{v[0] / max(v[1], 1):.3f} | {v[2] / max(v[3], 1):.3f}" for v in totals.values())
        print(f"| {name} | {aligned} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
