"""Synthetic fingerprints and faces: speed, face detection rate, and the engine's EER beside FVC.

    .venv/bin/python benchmarks/synthetic_data.py [--fingers N] [--folders N] [--no-eer]

Prints: ms per master print and per impression (OpenCV on one thread, as a camp laptop's second core
is busy with the UI), the Haar detection rate of the simulated camera's faces and the photo check's
time, and, when the engine is built, the EER of ``biometrics.evaluate`` on synthetic FVC-style
folders (10 fingers x 8 impressions each, like FVC's *_B sets) and on the shared FVC2002/2004 *_B
sets present, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulators.camera import CameraFault, scene  # noqa: E402
from simulators.fingers import Condition, SyntheticFinger, write_fvc_folder  # noqa: E402
from simulators.fingers.master import make_master  # noqa: E402

FVC = ROOT.parent / "shared" / "data" / "fingerprints"


def ms(fn, repeat: int = 1) -> float:
    """CPU milliseconds of this process: with OpenCV on one thread, that is time on one core, and
    unlike wall time it does not grow when other jobs share the machine."""
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat * 1000


def fingers() -> None:
    masters = [ms(lambda s=s: make_master(1000 + s)) for s in range(5)]
    print(
        f"master print: median {statistics.median(masters):.0f} ms (5 fingers, grown once, cached per finger)"
    )
    finger = SyntheticFinger(1000)
    finger.master  # noqa: B018 - warm the cache: impressions alone are timed below
    for condition in Condition:
        times = [ms(lambda i=i, c=condition: finger.impression(i, c)) for i in range(10)]
        print(
            f"impression {condition.value:>9}: median {statistics.median(times):5.1f} ms, max {max(times):5.1f} ms"
        )


def faces(seeds: int = 50) -> None:
    from biometrics.photo import check_photo, find_faces

    found = 0
    accepted = 0
    checks = []
    for seed in range(seeds):
        image = scene(seed, 0)
        found += len(find_faces(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) == 1
        start = time.process_time()
        accepted += check_photo(image).ok
        checks.append((time.process_time() - start) * 1000)
    print(
        f"sim:faces: Haar cascade found exactly one face in {found}/{seeds} subjects; photo check accepted "
        f"{accepted}/{seeds}; check_photo median {statistics.median(checks):.0f} ms CPU"
    )
    for fault in CameraFault:
        if fault is CameraFault.NONE:
            continue
        refused = sum(not check_photo(scene(seed, 0, fault)).ok for seed in range(10))
        print(f"  fault {fault.value:>11}: refused {refused}/10")


def eer(n_fingers: int, folders: int) -> None:
    """The engine's EER on synthetic FVC-style folders (FREE placement, the default mix of
    conditions) and on every shared FVC ``*_B`` set present, in the same run."""
    try:
        from biometrics.evaluate import evaluate
    except ImportError as exc:
        print(f"EER: engine not available ({exc})")
        return
    rows = []
    synthetic = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, folders + 1):
            folder = Path(tmp) / f"synthetic-{seed}"
            write_fvc_folder(folder, fingers=n_fingers, impressions=8, seed=seed)
            result = evaluate(folder)
            synthetic.append(result.rates.eer)
            rows.append((f"synthetic seed {seed} ({n_fingers}x8)", result))
    # FVC2002 DB2 was scanned at 569 dpi (the images carry no DPI tag; see the data's README).
    for name, dpi in (("fvc2002/DB1_B", 500), ("fvc2002/DB2_B", 569), ("fvc2002/DB4_B", 500), ("fvc2004/DB1_B", 500)):
        if (FVC / name).is_dir():
            rows.append((name, evaluate(FVC / name, dpi)))
        else:
            print(f"EER {name:>28}: skipped, {FVC / name} is absent")
    for name, result in rows:
        r = result.rates
        print(
            f"EER {name:>28}: {r.eer * 100:5.2f} %   FNMR@FMR1%: {r.fmr100 * 100:5.2f} %   "
            f"FNMR@FMR0.1%: {r.fmr1000 * 100:5.2f} %   genuine median {statistics.median(result.genuine):.3f}   "
            f"failed to extract: {len(result.failed)}"
        )
    print(f"EER synthetic, mean of {folders} folders: {100 * statistics.mean(synthetic):.2f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fingers", type=int, default=10, help="fingers per synthetic folder (FVC *_B: 10)")
    parser.add_argument("--folders", type=int, default=4, help="synthetic folders (seeds 1..N) in the EER")
    parser.add_argument("--no-eer", action="store_true", help="skip the (slow) EER comparison")
    args, _ = parser.parse_known_args()
    cv2.setNumThreads(1)
    fingers()
    faces()
    if not args.no_eer:
        eer(args.fingers, args.folders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
