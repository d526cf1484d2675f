"""The same person enrolled in two households: a 1:N search over every finger of every camp bundle.

One finger alone is not evidence at district scale: with 100,000 enrolled fingers even a false-match
rate of 1 in 10,000 per comparison gives ten chance look-alikes per search. So a *person* matches
another when at least two of their fingers match two *different* fingers of the other's at FMR 0.1 %
(together about one in a million), or — for a member with a single enrolled finger — that finger
matches at FMR 0.01 %. Two matches through one finger are one piece of evidence, not two: a finger
that happens to resemble both index fingers of a stranger must not make them a duplicate. Members of
the same household are not compared (the station already keeps one card per household; relatives
share no fingerprints, but twins enrolled together are not fraud).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from biometrics import iso19794
from biometrics.errors import TemplateFormatError
from biometrics.matching import Gallery, prepare, threshold_for

PAIR_FMR = 0.001  # each of two fingers
SINGLE_FMR = 0.0001  # a member enrolled with one finger only
SHORTLIST = 16  # candidates fully compared per finger after the pre-filter


@dataclass(frozen=True, order=True)
class EnrolledPerson:
    urn: str
    member: int  # 1-based, as on the household receipt
    name: str


@dataclass(frozen=True)
class EnrolledFinger:
    person: EnrolledPerson
    finger: int  # ISO/IEC 19794-2 finger position
    iso_record: bytes


@dataclass(frozen=True)
class PossibleDuplicate:
    first: EnrolledPerson
    second: EnrolledPerson
    fingers: int  # finger pairs that matched, no finger of either person in two of them
    best_score: float


@dataclass(frozen=True)
class DuplicateReport:
    people: int
    fingers: int
    unreadable: tuple[str, ...]  # templates that did not decode (named, not fatal)
    duplicates: tuple[PossibleDuplicate, ...]


Progress = Callable[[int, int], None]


def fingers_of(households: Iterable[dict]) -> list[EnrolledFinger]:
    """Every enrolled finger of the insured members in camp-bundle households (``CampBundle.households``)."""
    out = []
    for h in households:
        for n, m in enumerate((m for m in h["members"] if m["insured"]), start=1):
            person = EnrolledPerson(h["urn"], n, m["name"])
            out.extend(EnrolledFinger(person, int(f["finger"]), _b64(f["iso"])) for f in m["fingers"])
    return out


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return b""  # reported as unreadable by find_duplicates, with the person it belongs to


def distinct_pairs(edges: Iterable[tuple[int, int]]) -> int:
    """The most matched finger pairs with no finger in two of them (a maximum bipartite matching;
    a person has at most ten fingers, so augmenting paths are cheap)."""
    adjacent: dict[int, list[int]] = defaultdict(list)
    for left, right in edges:
        adjacent[left].append(right)
    partner: dict[int, int] = {}

    def augment(left: int, seen: set[int]) -> bool:
        for right in adjacent[left]:
            if right not in seen:
                seen.add(right)
                if right not in partner or augment(partner[right], seen):
                    partner[right] = left
                    return True
        return False

    return sum(augment(left, set()) for left in list(adjacent))


def find_duplicates(fingers: Iterable[EnrolledFinger], progress: Progress | None = None,
                    shortlist: int = SHORTLIST) -> DuplicateReport:
    """Search every finger against all fingers of other households; pairs of people, strongest first.

    Each finger's ``shortlist`` best candidates by the pre-filter are fully compared; a shortlist as
    long as the list of fingers compares every finger with every other (the benchmark's baseline).
    """
    fingers = list(fingers)
    gallery = Gallery(shortlist=shortlist)
    owner: dict[int, EnrolledPerson] = {}
    enrolled: dict[EnrolledPerson, int] = defaultdict(int)
    unreadable: list[str] = []
    prepared = []
    for i, f in enumerate(fingers):
        try:
            template = prepare(iso19794.decode(f.iso_record))
        except TemplateFormatError as exc:
            unreadable.append(f"{f.person.urn} member {f.person.member} finger {f.finger}: {exc}")
            continue
        gallery.add(i, template)
        owner[i] = f.person
        enrolled[f.person] += 1
        prepared.append((i, template))

    pair_threshold, single_threshold = threshold_for(PAIR_FMR), threshold_for(SINGLE_FMR)
    # Per pair of people (in key order): every (finger of the first, finger of the second) that matched,
    # whichever of the two was the probe, with its best score.
    edges: dict[tuple[EnrolledPerson, EnrolledPerson], dict[tuple[int, int], float]] = defaultdict(dict)
    for done, (i, template) in enumerate(prepared, start=1):
        person = owner[i]
        for candidate in gallery.search(template, top=shortlist):
            j = candidate.key
            other = owner[j]  # type: ignore[index]
            if other.urn != person.urn and candidate.score >= pair_threshold:
                key, edge = ((person, other), (i, j)) if person < other else ((other, person), (j, i))
                found_edges = edges[key]
                found_edges[edge] = max(found_edges.get(edge, 0.0), candidate.score)  # type: ignore[index]
        if progress is not None:
            progress(done, len(prepared))

    found = []
    for (a, b), matched in edges.items():
        single = enrolled[a] == 1 or enrolled[b] == 1
        pairs = distinct_pairs(matched)
        best = max(matched.values())
        if pairs >= 2 or (single and best >= single_threshold):
            found.append(PossibleDuplicate(a, b, pairs, best))
    duplicates = sorted(found, key=lambda d: (-d.fingers, -d.best_score, d.first, d.second))
    return DuplicateReport(len(enrolled), len(prepared), tuple(unreadable), tuple(duplicates))
