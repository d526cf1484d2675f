"""What merging two enrolment impressions buys at the hospital counter.

For every finger of a set and every start s = 1..8, impressions s and s+1 (cyclically) are the two
enrolment captures and the other six are verification captures years later. Three ways to enrol,
each from the same two captures:

- first:   the first impression alone (what a station does with one capture per finger);
- better:  the higher-quality of the two (by the engine's quality score);
- merged:  ``biometrics.matching.mosaic.merge_impressions`` (the first alone when they disagree).

Each enrolled template, as the card stores it (``cardtemplate``: at most 72 minutiae, quantised), is
compared with the six verification captures of its finger (genuine) and of every other finger
(impostor); the figures are the share of genuine verifications missed (FNMR) and of impostors
accepted (FMR) at the calibrated thresholds, and the EER.

    .venv/bin/python benchmarks/enrolment_mosaic.py [--data DIR] [--sets fvc2002/DB1_B:500 ...]
"""

from __future__ import annotations

import os

# One core, as the station runs it (station/cli.py): set before NumPy loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _fvc import present_sets  # noqa: E402

from biometrics import cardtemplate  # noqa: E402
from biometrics.evaluate import rates  # noqa: E402
from biometrics.matching import THRESHOLDS, prepare, similarity  # noqa: E402
from biometrics.matching.mosaic import ImpressionsDisagree, merge_impressions  # noqa: E402
from biometrics.minutiae import FingerprintTemplate  # noqa: E402
from biometrics.quality import assess  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "fingerprints"
DEFAULT_SETS = ("fvc2002/DB1_B:500", "fvc2002/DB2_B:569", "fvc2004/DB1_B:500")
WAYS = ("first", "better", "merged")


def as_on_card(template: FingerprintTemplate) -> FingerprintTemplate:
    return cardtemplate.decode(cardtemplate.encode(template))


def evaluate(folder: Path, dpi: int) -> None:
    images = sorted(folder.glob("*_*.tif"))
    reports = {p.stem: assess(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), dpi) for p in images}
    templates = {k: r.template for k, r in reports.items() if r.template is not None}
    prepared = {k: prepare(t) for k, t in templates.items()}
    # What a hospital compares with is the card's copy of the enrolled template (72 minutiae at most).
    on_card = {k: prepare(as_on_card(t)) for k, t in templates.items()}
    fingers = sorted({k.split("_")[0] for k in reports})
    impressions = sorted({int(k.split("_")[1]) for k in reports})
    scores = {w: ([], []) for w in WAYS}
    refused = merges = added = 0
    merge_ms = []
    for s in range(len(impressions)):
        one, two = impressions[s], impressions[(s + 1) % len(impressions)]
        probes = [i for i in impressions if i not in (one, two)]
        for f in fingers:
            a, b = f"{f}_{one}", f"{f}_{two}"
            if a not in templates:
                continue
            enrolled = {"first": on_card[a], "better": on_card[a], "merged": on_card[a]}
            if b in templates:
                if reports[b].score > reports[a].score:
                    enrolled["better"] = on_card[b]
                merges += 1
                started = time.perf_counter()
                try:
                    merged = merge_impressions(templates[a], templates[b])
                except ImpressionsDisagree:
                    refused += 1
                else:
                    enrolled["merged"] = prepare(as_on_card(merged.template))
                    added += merged.added
                merge_ms.append(1000 * (time.perf_counter() - started))
            for g in fingers:
                for i in probes:
                    probe = prepared.get(f"{g}_{i}")
                    for way, template in enrolled.items():
                        score = similarity(probe, template) if probe is not None else 0.0
                        scores[way][0 if g == f else 1].append(score)
    print(f"{folder.parent.name}/{folder.name} at {dpi} dpi: {merges} merges, {refused} refused "
          f"(impressions that do not match each other), {added / max(merges - refused, 1):.1f} minutiae added "
          f"per merge, {np.median(merge_ms):.1f} ms per merge (median)")
    for way in WAYS:
        genuine, impostor = (np.array(x) for x in scores[way])
        r = rates(genuine, impostor)
        cells = "  ".join(
            f"FMR {100 * fmr:g} %: FNMR {100 * np.mean(genuine < t):5.1f} % (FMR {100 * np.mean(impostor >= t):.2f} %)"
            for fmr, t in sorted(THRESHOLDS.items(), reverse=True)
        )
        print(f"  {way:7s} EER {100 * r.eer:5.2f} %  {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", nargs="*", default=list(DEFAULT_SETS), help="folder:dpi under --data")
    args = parser.parse_args()
    found = False
    for _, folder, dpi in present_sets(args.data, args.sets):
        found = True
        evaluate(folder, dpi)
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(main())
