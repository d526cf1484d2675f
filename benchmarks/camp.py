"""Seconds per household of the headless camp demo: in-process cards vs. the real PC/SC stack.

    .venv/bin/python benchmarks/camp.py [--families N] [--members N]

Runs ``station demo --headless`` (``station.demo.camp.run_demo``) twice on the same synthetic camp —
cards in ``direct:`` slots, then in two vpcd readers of a private pcscd — after a one-household
warm-up, and prints station software time per household (capture with the quality gate and photo
check, card writing, FKO authorisation, activation, read-back, printing). Not counted: rendering the
synthetic fingers (the simulator's job, done beforehand) and waiting for pcscd to notice a card go in
or out (the operator's hands), both printed beside it. The pcscd/direct ratio is the cost of the real
stack in this same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.demo.camp import DemoSummary, run_demo  # noqa: E402
from station.demo.readers import open_readers  # noqa: E402
from station.errors import WorkflowError  # noqa: E402


def run(tmp: Path, name: str, families: int, members: int, mode: str) -> DemoSummary:
    readers = open_readers(mode)
    try:
        start = time.perf_counter()
        summary = run_demo(tmp / name, families=families, members=members, log=lambda line: None, readers=readers)
        wall = time.perf_counter() - start
    finally:
        readers.close()
    print(f"{name:<8} {summary.seconds_per_household:6.2f} s per household   ({summary.households_issued} households, "
          f"{summary.members_enrolled} people; card waits {summary.card_wait_seconds:.1f} s, finger rendering "
          f"{summary.simulator_prep_seconds:.1f} s, wall {wall:.1f} s)\n         readers: {summary.readers}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=5)
    parser.add_argument("--members", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-camp-") as tmp:
        root = Path(tmp)
        run_demo(root / "warmup", families=1, members=1, log=lambda line: None, readers="direct")
        base = run(root, "direct", args.families, args.members, "direct")
        try:
            via = run(root, "pcscd", args.families, args.members, "pcscd")
        except WorkflowError as exc:
            print(f"pcscd figures skipped: {exc}")
            return 0
    print(f"ratio pcscd/direct: {via.seconds_per_household / base.seconds_per_household:.2f}x "
          f"({(via.seconds_per_household - base.seconds_per_household) * 1000:+.0f} ms per household)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
