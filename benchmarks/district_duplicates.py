"""District duplicate search: one person enrolled in two households, found by the 1:N search.

    .venv/bin/python benchmarks/district_duplicates.py [--people N] [--planted K]

Synthetic camp data (simulators/fingers): ``N`` people with two index fingers each, three people to a
household, and ``K`` of them enrolled a second time in another household (a new impression of the same
fingers, under another name). Prints the search's CPU time (``station.district.duplicates``: the
popcount pre-filter, then full comparison of a shortlist) against the baseline of comparing every
finger with every other (the same search with a shortlist as long as the gallery, so the same rule
decides), in the same run, and how many planted duplicates each found.
Rendering and template extraction are done first and not timed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biometrics import iso19794  # noqa: E402
from biometrics.fingers import FingerPosition  # noqa: E402
from biometrics.pipeline import extract  # noqa: E402
from simulators.fingers import SyntheticFinger, finger_seed  # noqa: E402
from station.district.duplicates import (  # noqa: E402
    EnrolledFinger,
    EnrolledPerson,
    find_duplicates,
)

FINGERS = (FingerPosition.RIGHT_INDEX, FingerPosition.LEFT_INDEX)


def camp(people: int, planted: int) -> tuple[list[EnrolledFinger], set[str]]:
    """Fingers of ``people`` people in households of three, plus ``planted`` re-enrolments (their keys)."""
    fingers: list[EnrolledFinger] = []
    households = max(1, people // 3)
    enrolments = [(f"p{i}", 0, f"H{i // 3:06d}", i % 3 + 1) for i in range(people)]
    # Every (people // planted)-th person again, as the fourth member of a household far from their own.
    again = [k * max(1, people // planted) for k in range(planted)]
    enrolments += [(f"p{i}", 3, f"H{(i // 3 + households // 2) % households:06d}", 4) for i in again]
    for who, impression, household, member in enrolments:
        person = EnrolledPerson(household, member, who)  # the name is the person's key: truth is by name
        for position in FINGERS:
            image = SyntheticFinger(finger_seed(who, position)).impression(impression)
            fingers.append(EnrolledFinger(person, int(position), iso19794.encode(extract(image, dpi=500))))
    return fingers, {f"p{i}" for i in again}


def score(pairs: set[tuple[str, str]], truth: set[str]) -> tuple[int, int]:
    """(planted people found, pairs of two different people reported)."""
    same = {a for a, b in pairs if a == b}
    return len(same & truth), sum(1 for a, b in pairs if a != b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=60, help="distinct people (each new one costs ~1 s to draw)")
    parser.add_argument("--planted", type=int, default=4)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    fingers, truth = camp(args.people, args.planted)
    print(f"{len(fingers)} fingers of {args.people + args.planted} enrolments rendered and extracted in "
          f"{time.perf_counter() - t0:.1f} s (not timed below)")

    start = time.process_time()
    report = find_duplicates(fingers)
    search = time.process_time() - start
    found = {tuple(sorted((d.first.name, d.second.name))) for d in report.duplicates}

    start = time.process_time()
    exhaustive = find_duplicates(fingers, shortlist=len(fingers))
    baseline = time.process_time() - start
    baseline_found = {tuple(sorted((d.first.name, d.second.name))) for d in exhaustive.duplicates}

    n = len(fingers)
    hit, wrong = score(found, truth)  # type: ignore[arg-type]
    base_hit, base_wrong = score(baseline_found, truth)
    print(f"1:N search (pre-filter + shortlist): {search:.2f} s CPU, {search / n * 1e3:.1f} ms per finger "
          f"(preparing each template included); planted found {hit}/{len(truth)}, false pairs {wrong}")
    print(f"baseline, all {n * n:,} comparisons:  {baseline:.2f} s CPU, {baseline / n * 1e3:.1f} ms per finger; "
          f"planted found {base_hit}/{len(truth)}, false pairs {base_wrong}")
    print(f"search / baseline time: {search / baseline:.2f}x (the baseline grows with the square of the fingers, "
          "the search with fingers x shortlist plus a popcount scan)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
