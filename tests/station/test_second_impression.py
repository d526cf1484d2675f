"""Enrolment takes a second impression of each finger and merges it into the stored template; a
second impression that fails or belongs to another finger leaves the first exactly as stored.

Scanner: the ZFM serial simulator on a real pty; fingers: the synthetic finger simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from biometrics import iso19794
from biometrics.fingers import FingerPosition
from biometrics.pipeline import extract
from biometrics.scanner import open_scanner
from simulators.fingers import SyntheticFinger, finger_seed
from simulators.scanner.server import ScannerSimulator
from station.storage.models import AuditEvent, CaptureKind, Member
from station.workflows import households as hh
from station.workflows.capture import FingerCapture, FingerOutcome, decrypt_member, discard_captures
from station.workflows.session import CampContext

URN = "10092310010000003"


def touch(position: FingerPosition, index: int, person: str = f"{URN}/1") -> np.ndarray:
    return SyntheticFinger(finger_seed(person, position)).impression(index)


@pytest.fixture
def zfm(tmp_path: Path) -> Iterator[ScannerSimulator]:
    sim = ScannerSimulator(tmp_path / "zfm0", tmp_path / "bank").start()
    yield sim
    sim.stop()


def run(camp: CampContext, zfm: ScannerSimulator, place: Callable[[FingerPosition, int], np.ndarray],
        **kwargs: object) -> tuple[FingerOutcome, list[tuple[FingerPosition, int]]]:
    hh.begin_enrolment(camp, URN)
    prompts: list[tuple[FingerPosition, int]] = []

    def prompt(finger: FingerPosition, attempt: int) -> None:
        prompts.append((finger, attempt))
        zfm.glass.place_image(place(finger, attempt))

    scanner = open_scanner(f"zfm:{zfm.link}?timeout=2")
    try:
        return FingerCapture(camp, URN, 1, scanner, prompt=prompt, timeout=2.0, **kwargs).run(), prompts
    finally:
        scanner.close()


def stored(camp: CampContext) -> dict[int, object]:
    with camp.db.transaction() as s:
        member = s.scalars(select(Member).where(Member.seq == 1).join(Member.household)
                           .where(Member.household.has(urn=URN))).one()
        return {finger: iso19794.decode(record) for finger, record in decrypt_member(camp, member).fingers}


def events(camp: CampContext, action: str) -> int:
    with camp.db.transaction() as s:
        return len(s.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_each_finger_is_placed_twice_and_the_impressions_merged(camp: CampContext, zfm) -> None:
    outcome, prompts = run(camp, zfm, lambda finger, attempt: touch(finger, attempt - 1))
    assert outcome.exception is None and len(outcome.fingers) == 2
    assert [a for _, a in prompts] == [1, 2, 1, 2]  # each finger once more, as its next try
    merged = [a for a in outcome.attempts if a.reason.startswith("merged")]
    assert len(merged) == 2 and all(a.accepted for a in merged)
    assert events(camp, "capture.finger.merged") == 2
    # The stored template holds more minutiae than the first impression alone.
    for finger, template in stored(camp).items():
        one = extract(touch(FingerPosition(finger), 0), 500)
        assert len(template.minutiae) > len(one.minutiae)


def test_a_second_impression_of_another_finger_keeps_the_first(camp: CampContext, zfm) -> None:
    def place(finger: FingerPosition, attempt: int) -> np.ndarray:
        return touch(finger, 0) if attempt == 1 else touch(finger, 0, person="someone else entirely")

    first, _ = run(camp, zfm, lambda finger, attempt: touch(finger, 0), second_impression=False)
    before = stored(camp)
    assert first.exception is None and len(before) == 2
    # The same member again from scratch, this time with a stranger's finger as the second impression.
    discard_captures(camp, URN, 1, CaptureKind.FINGER, "test: capture again")
    outcome, _ = run(camp, zfm, place)
    assert outcome.exception is None and len(outcome.fingers) == 2
    refused = [a for a in outcome.attempts if "did not match" in a.reason]
    assert len(refused) == 2 and not any(a.accepted for a in refused)
    after = stored(camp)
    assert {f: t.minutiae for f, t in after.items()} == {f: t.minutiae for f, t in before.items()}
    assert events(camp, "capture.finger.merged") == 0


def test_a_failed_second_impression_costs_nothing(camp: CampContext, zfm) -> None:
    blank = np.full((400, 400), 225, np.uint8)
    outcome, prompts = run(camp, zfm, lambda finger, attempt: touch(finger, 0) if attempt == 1 else blank)
    assert outcome.exception is None and len(outcome.fingers) == 2
    assert len(prompts) == 4  # one extra placement per finger, not the remaining tries
    failed = [a for a in outcome.attempts if a.attempt == 2]
    assert len(failed) == 2 and not any(a.accepted for a in failed)
    assert len(stored(camp)) == 2


def test_a_finger_accepted_on_its_last_try_is_not_placed_again(camp: CampContext, zfm) -> None:
    blank = np.full((400, 400), 225, np.uint8)
    outcome, prompts = run(camp, zfm, lambda finger, attempt: touch(finger, 0) if attempt == 2 else blank, tries=2)
    assert outcome.exception is None
    assert [a for _, a in prompts] == [1, 2, 1, 2]
    assert events(camp, "capture.finger.merged") == 0


def test_a_merge_that_fails_for_any_reason_keeps_the_first_and_goes_on(camp: CampContext, zfm, monkeypatch) -> None:
    import biometrics.matching.mosaic as mosaic

    run(camp, zfm, lambda finger, attempt: touch(finger, 0), second_impression=False)
    before = stored(camp)
    discard_captures(camp, URN, 1, CaptureKind.FINGER, "test: capture again")

    def broken(first: object, second: object) -> object:
        raise ValueError("a record the merge cannot handle")

    monkeypatch.setattr(mosaic, "merge_impressions", broken)
    outcome, _ = run(camp, zfm, lambda finger, attempt: touch(finger, attempt - 1))
    assert outcome.exception is None and len(outcome.fingers) == 2  # the next finger was still captured
    failed = [a for a in outcome.attempts if a.reason.startswith("could not merge")]
    assert len(failed) == 2 and "ValueError" in failed[0].reason and "try 1 kept" in failed[0].reason
    assert events(camp, "capture.finger.merged") == 0
    assert {f: t.minutiae for f, t in stored(camp).items()} == {f: t.minutiae for f, t in before.items()}
