"""The district's search for one person enrolled in two households (1:N over every finger)."""

from __future__ import annotations

import base64

import pytest

from biometrics import iso19794
from biometrics.fingers import FingerPosition
from biometrics.pipeline import extract
from simulators.fingers import SyntheticFinger, finger_seed
from station.district.duplicates import (
    EnrolledFinger,
    EnrolledPerson,
    distinct_pairs,
    find_duplicates,
    fingers_of,
)

FINGERS = (FingerPosition.RIGHT_INDEX, FingerPosition.LEFT_INDEX)


def record(person: str, position: FingerPosition, impression: int) -> bytes:
    image = SyntheticFinger(finger_seed(person, position)).impression(impression)
    return iso19794.encode(extract(image, dpi=500))


def household(urn: str, people: list[tuple[str, str]], impression: int) -> dict:
    """A camp bundle's household: (name, whose fingers) per insured member."""
    return {
        "urn": urn,
        "members": [
            {"name": name, "insured": True,
             "fingers": [{"finger": int(p), "iso": base64.b64encode(record(who, p, impression)).decode()}
                         for p in FINGERS]}
            for name, who in people
        ],
    }


@pytest.fixture(scope="module")
def households() -> list[dict]:
    # Ram Prasad is enrolled twice: as head of one household and, under another name, as a son in another.
    return [
        household("10092310010000001", [("Ram Prasad", "p1"), ("Sita Prasad", "p2")], impression=0),
        household("10092310010000002", [("Mohan Yadav", "p3"), ("Ramu Yadav", "p1")], impression=3),
        household("10092310010000003", [("Gita Kumar", "p4"), ("Ajay Kumar", "p5")], impression=5),
    ]


def test_a_person_in_two_households_is_found_and_no_one_else(households) -> None:
    report = find_duplicates(fingers_of(households))
    assert (report.people, report.fingers, report.unreadable) == (6, 12, ())
    assert [(d.first, d.second, d.fingers) for d in report.duplicates] == [
        (EnrolledPerson("10092310010000001", 1, "Ram Prasad"), EnrolledPerson("10092310010000002", 2, "Ramu Yadav"), 2)
    ]


def test_members_of_one_household_are_not_compared(households) -> None:
    twins = household("10092310010000009", [("Luv", "p6"), ("Kush", "p6")], impression=1)
    assert find_duplicates(fingers_of([twins])).duplicates == ()


def test_an_unreadable_template_is_named_and_the_rest_searched(households) -> None:
    fingers = fingers_of(households)
    broken = EnrolledFinger(fingers[0].person, fingers[0].finger, b"FMR\x00 not a record")
    fingers[0] = broken
    report = find_duplicates([*fingers, EnrolledFinger(EnrolledPerson("X", 1, "x"), 2, b"")])
    assert len(report.unreadable) == 2 and report.unreadable[0].startswith("10092310010000001 member 1 finger 2")
    # One of Ram Prasad's fingers is gone: his other one must now match at the stricter FMR 0.01 %, and does.
    (d,) = report.duplicates
    assert (d.first.name, d.second.name, d.fingers) == ("Ram Prasad", "Ramu Yadav", 1)


def test_one_finger_resembling_both_of_a_strangers_is_not_two_fingers() -> None:
    # Gopal's right index was captured twice at enrolment (as both index fingers); Hari's right index is
    # that same finger (the worst case of a look-alike). Both of Gopal's records match Hari's one
    # finger, but that is one finger pair: not two fingers' evidence, and neither has a single finger.
    gopal = EnrolledPerson("10092310010000011", 1, "Gopal")
    hari = EnrolledPerson("10092310010000012", 1, "Hari")
    same = FingerPosition.RIGHT_INDEX
    fingers = [
        EnrolledFinger(gopal, int(FingerPosition.RIGHT_INDEX), record("p7", same, 0)),
        EnrolledFinger(gopal, int(FingerPosition.LEFT_INDEX), record("p7", same, 2)),
        EnrolledFinger(hari, int(FingerPosition.RIGHT_INDEX), record("p7", same, 4)),
        EnrolledFinger(hari, int(FingerPosition.LEFT_INDEX), record("p8", FingerPosition.LEFT_INDEX, 4)),
    ]
    assert find_duplicates(fingers).duplicates == ()
    # With Hari's left index also Gopal's right index, two different finger pairs match.
    fingers[3] = EnrolledFinger(hari, int(FingerPosition.LEFT_INDEX), record("p7", same, 6))
    (d,) = find_duplicates(fingers).duplicates
    assert (d.first.name, d.second.name, d.fingers) == ("Gopal", "Hari", 2)


@pytest.mark.parametrize("edges, expected", [
    ([], 0),
    ([(1, 10)], 1),
    ([(1, 10), (2, 10)], 1),  # two fingers of one person, one of the other's
    ([(1, 10), (1, 11)], 1),
    ([(1, 10), (2, 11)], 2),
    ([(1, 10), (1, 11), (2, 10)], 2),  # needs the augmenting path: 1-11, 2-10
])
def test_distinct_finger_pairs(edges, expected) -> None:
    assert distinct_pairs(edges) == expected
