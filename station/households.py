"""The signed household list: parse, validate every row, verify the district's signature, import whole.

Format (``docs/household-list.md``): UTF-8 JSON Lines. Line 1 is a header object, every further line
one household; a detached signature over the exact file bytes sits beside it (``<file>.sig``).
Parsing is pure (:func:`parse_list`); :func:`import_list` adds the signature check and writes every
household in one transaction, so a bad file leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from station.errors import HouseholdListError
from station.storage import Database, audit
from station.storage.models import (
    District,
    Gender,
    Household,
    HouseholdList,
    Member,
    Relationship,
    Scheme,
    Village,
)

FORMAT = "household-list"
VERSION = 1
MAX_INSURED = 5
MAX_LISTED = 20  # a census household larger than this is a data error, not a family
MAX_NAME_BYTES = 120  # what a card name field holds
_URN = re.compile(r"[0-9A-Z]{17}")
_CODE = {"state": 2, "district": 4, "village": 8}
_INSURED_FIRST = (Relationship.HEAD, Relationship.SPOUSE)


class ListVerifier(Protocol):
    """Checks a detached signature over the list bytes; returns the signer's district code or raises."""

    def verify_list(self, data: bytes, signature: bytes) -> str: ...


@dataclass(frozen=True)
class ListedMember:
    name: str
    name_local: str
    gender: Gender
    age: int
    relationship: Relationship


@dataclass(frozen=True)
class ListedHousehold:
    line: int
    urn: str
    village_code: str
    guardian_name: str  # the head's father's or husband's name
    insurer: str
    policy_number: str
    policy_start: date
    policy_end: date
    members: tuple[ListedMember, ...]

    @property
    def needs_selection(self) -> bool:
        return len(self.members) > MAX_INSURED


@dataclass(frozen=True)
class ListHeader:
    state_code: str
    district_code: str
    district_name: str
    scheme_code: str
    scheme_name: str
    as_of: date  # ages are as of this date
    sum_insured_rupees: int
    allow_duplicate_cards: bool
    villages: dict[str, str]  # code -> name


@dataclass(frozen=True)
class ParsedList:
    header: ListHeader
    households: tuple[ListedHousehold, ...]
    sha256: str


@dataclass(frozen=True)
class ImportResult:
    list_id: int
    households: int
    members: int
    needs_selection: tuple[str, ...]  # URNs with more than five listed members
    signer: str


def _fail(line: int, reason: str) -> HouseholdListError:
    return HouseholdListError(line, reason)


def _field(obj: dict[str, Any], key: str, kind: type, line: int, where: str = "") -> Any:
    if key not in obj:
        raise _fail(line, f"{where}missing field {key!r}")
    value = obj[key]
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise _fail(line, f"{where}field {key!r} must be {kind.__name__}, got {json.dumps(value, ensure_ascii=False)}")
    return value


def _text(obj: dict[str, Any], key: str, line: int, where: str = "", required: bool = True,
          max_bytes: int = MAX_NAME_BYTES) -> str:
    if not required and key not in obj:
        return ""
    value = _field(obj, key, str, line, where).strip()
    if required and not value:
        raise _fail(line, f"{where}field {key!r} is empty")
    if len(value.encode("utf-8")) > max_bytes:
        raise _fail(line, f"{where}field {key!r} is longer than {max_bytes} UTF-8 bytes")
    return value


def _date(obj: dict[str, Any], key: str, line: int) -> date:
    raw = _field(obj, key, str, line)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _fail(line, f"field {key!r} = {raw!r} is not a date (YYYY-MM-DD)") from None


def _code(value: Any, kind: str, line: int) -> str:
    width = _CODE[kind]
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 1 <= len(value) <= width:
        raise _fail(line, f"{kind} code {value!r} must be 1..{width} digits")
    return value


def _enum_value(enum_cls: type, raw: Any, key: str, line: int, where: str) -> Any:
    try:
        return enum_cls(raw)
    except ValueError:
        choices = ", ".join(m.value for m in enum_cls)
        raise _fail(line, f"{where}{key} {raw!r} is not one of {choices}") from None


def _parse_header(obj: dict[str, Any]) -> ListHeader:
    if obj.get("format") != FORMAT:
        raise _fail(1, f"not a household list (header 'format' must be {FORMAT!r})")
    if obj.get("version") != VERSION:
        raise _fail(1, f"list version {obj.get('version')!r} is not supported (this station reads {VERSION})")
    villages_raw = _field(obj, "villages", list, 1)
    villages: dict[str, str] = {}
    for v in villages_raw:
        if not isinstance(v, dict):
            raise _fail(1, "each village must be an object with 'code' and 'name'")
        villages[_code(v.get("code"), "village", 1)] = _text(v, "name", 1, "village: ")
    if not villages:
        raise _fail(1, "the header lists no villages")
    sum_insured = _field(obj, "sum_insured_rupees", int, 1)
    if not 0 < sum_insured <= 10_000_000:
        raise _fail(1, f"sum_insured_rupees {sum_insured} is out of range")
    dup = obj.get("allow_duplicate_cards", False)
    if not isinstance(dup, bool):
        raise _fail(1, "allow_duplicate_cards must be true or false")
    return ListHeader(
        state_code=_code(obj.get("state_code"), "state", 1),
        district_code=_code(obj.get("district_code"), "district", 1),
        district_name=_text(obj, "district_name", 1),
        scheme_code=_text(obj, "scheme_code", 1, max_bytes=8),
        scheme_name=_text(obj, "scheme_name", 1),
        as_of=_date(obj, "as_of", 1),
        sum_insured_rupees=sum_insured,
        allow_duplicate_cards=dup,
        villages=villages,
    )


def _parse_member(raw: Any, line: int, index: int) -> ListedMember:
    where = f"member {index}: "
    if not isinstance(raw, dict):
        raise _fail(line, f"{where}must be an object")
    age = _field(raw, "age", int, line, where)
    if not 0 <= age <= 120:
        raise _fail(line, f"{where}age {age} is out of range 0..120")
    return ListedMember(
        name=_text(raw, "name", line, where),
        name_local=_text(raw, "name_local", line, where, required=False),
        gender=_enum_value(Gender, raw.get("gender"), "gender", line, where),
        age=age,
        relationship=_enum_value(Relationship, raw.get("relationship"), "relationship", line, where),
    )


def _parse_household(obj: dict[str, Any], line: int, header: ListHeader) -> ListedHousehold:
    urn = _field(obj, "urn", str, line)
    if not _URN.fullmatch(urn):
        raise _fail(line, f"URN {urn!r} must be exactly 17 characters 0-9/A-Z")
    village = _code(obj.get("village_code"), "village", line)
    if village not in header.villages:
        raise _fail(line, f"village code {village} is not among the header's villages")
    members_raw = _field(obj, "members", list, line)
    if not members_raw:
        raise _fail(line, "household has no members")
    if len(members_raw) > MAX_LISTED:
        raise _fail(line, f"household lists {len(members_raw)} members (more than {MAX_LISTED}); check the census row")
    members = tuple(_parse_member(m, line, i + 1) for i, m in enumerate(members_raw))
    heads = [i for i, m in enumerate(members) if m.relationship is Relationship.HEAD]
    if len(heads) != 1:
        raise _fail(line, f"household must have exactly one head, found {len(heads)}")
    if heads[0] != 0:
        raise _fail(line, "the head must be the first member")
    start, end = _date(obj, "policy_start", line), _date(obj, "policy_end", line)
    if end <= start:
        raise _fail(line, f"policy_end {end} is not after policy_start {start}")
    policy_number = _text(obj, "policy_number", line, required=False, max_bytes=24) or urn
    if not policy_number.isascii():
        raise _fail(line, "policy_number must be ASCII")
    return ListedHousehold(
        line=line,
        urn=urn,
        village_code=village,
        guardian_name=_text(obj, "guardian_name", line),
        insurer=_text(obj, "insurer", line, max_bytes=40),
        policy_number=policy_number,
        policy_start=start,
        policy_end=end,
        members=members,
    )


def parse_list(data: bytes) -> ParsedList:
    """Validate every line; raise :class:`HouseholdListError` at the first bad one."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise _fail(1, "file starts with a byte-order mark; save it as UTF-8 without BOM")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise _fail(0, "the file is empty")
    header: ListHeader | None = None
    households: list[ListedHousehold] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(number, f"not valid UTF-8 at byte {exc.start}") from None
        if not text.strip():
            raise _fail(number, "empty line")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(number, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise _fail(number, "each line must be a JSON object")
        if header is None:
            header = _parse_header(obj)
            continue
        household = _parse_household(obj, number, header)
        if household.urn in seen:
            raise _fail(number, f"duplicate URN {household.urn} (first on line {seen[household.urn]})")
        seen[household.urn] = number
        households.append(household)
    if header is None or not households:
        raise _fail(0, "the list holds no households")
    return ParsedList(header, tuple(households), hashlib.sha256(data).hexdigest())


def choose_insured(members: Iterable[ListedMember]) -> list[bool]:
    """Default selection: head and spouse first, then dependants in list order, up to five.

    The family can change the dependants at the camp (:mod:`station.workflows.households`)."""
    members = list(members)
    order = sorted(range(len(members)), key=lambda i: (members[i].relationship not in _INSURED_FIRST, i))
    chosen = set(order[:MAX_INSURED])
    return [i in chosen for i in range(len(members))]


def signature_path(list_path: Path) -> Path:
    return list_path.with_name(list_path.name + ".sig")


def import_list(
    db: Database,
    list_path: Path,
    verifier: ListVerifier,
    actor: str,
    signature: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportResult:
    """Verify the signature, validate every row, then write everything in one transaction."""
    try:
        data = list_path.read_bytes()
    except OSError as exc:
        raise _fail(0, f"cannot read {list_path}: {exc.strerror}") from None
    sig_path = signature or signature_path(list_path)
    if not sig_path.is_file():
        raise _fail(0, f"no signature file {sig_path.name}; ask the district for the signed list")
    signature_bytes = sig_path.read_bytes()
    try:
        signer = verifier.verify_list(data, signature_bytes)
    except HouseholdListError:
        raise
    except Exception as exc:  # every verifier failure means the same to the operator
        raise _fail(0, f"the district signature does not verify ({exc}); the file was changed or signed "
                       "with another key — ask the district for a fresh copy") from None
    parsed = parse_list(data)
    head = parsed.header
    if signer != head.district_code:
        raise _fail(1, f"the list is for district {head.district_code} but signed by district {signer}")
    with db.transaction() as s:
        if s.scalar(select(HouseholdList.id).where(HouseholdList.sha256 == parsed.sha256)) is not None:
            raise _fail(0, "this list was already imported")
        district = s.scalar(select(District).where(District.code == head.district_code))
        if district is None:
            district = District(code=head.district_code, name=head.district_name, state_code=head.state_code)
            s.add(district)
        district.allow_duplicate_cards = head.allow_duplicate_cards
        scheme = s.scalar(select(Scheme).where(Scheme.code == head.scheme_code))
        if scheme is None:
            scheme = Scheme(code=head.scheme_code, name=head.scheme_name)
            s.add(scheme)
        s.flush()
        villages: dict[str, Village] = {}
        for code, name in head.villages.items():
            village = s.scalar(select(Village).where(Village.code == code))
            if village is None:
                village = Village(code=code, name=name, district_id=district.id)
                s.add(village)
            elif village.district_id != district.id:
                raise _fail(1, f"village {code} belongs to another district on this station")
            villages[code] = village
        record = HouseholdList(district_id=district.id, sha256=parsed.sha256, file_name=list_path.name,
                               signer=signer, signature=signature_bytes, households=len(parsed.households))
        s.add(record)
        s.flush()
        existing = set(s.scalars(select(Household.urn).where(Household.urn.in_([h.urn for h in parsed.households]))))
        total = len(parsed.households)
        members = 0
        for done, h in enumerate(parsed.households, start=1):
            if h.urn in existing:
                raise _fail(h.line, f"URN {h.urn} is already on this station from an earlier list")
            row = Household(urn=h.urn, scheme_id=scheme.id, village_id=villages[h.village_code].id,
                            list_id=record.id, guardian_name=h.guardian_name, insurer=h.insurer,
                            policy_number=h.policy_number, sum_insured=head.sum_insured_rupees * 100,
                            policy_start=h.policy_start, policy_end=h.policy_end,
                            listed_members=len(h.members), needs_selection=h.needs_selection)
            s.add(row)
            s.flush()
            for seq, (m, insured) in enumerate(zip(h.members, choose_insured(h.members), strict=True), start=1):
                s.add(Member(household_id=row.id, seq=seq, name=m.name, name_local=m.name_local, gender=m.gender,
                             year_of_birth=head.as_of.year - m.age, relationship_=m.relationship, insured=insured))
                members += 1
            if progress and (done % 200 == 0 or done == total):
                progress(done, total, f"imported {done} of {total} households")
        audit.record(s, actor, "list.import", f"household_list:{record.id}", sha256=parsed.sha256,
                     households=total, signer=signer, file=list_path.name)
        return ImportResult(record.id, total, members,
                            tuple(h.urn for h in parsed.households if h.needs_selection), signer)


def encode_list(header: dict[str, Any], households: Iterable[dict[str, Any]]) -> bytes:
    """Write a list file (district side and tests): header line, one household per line."""
    lines = [json.dumps({"format": FORMAT, "version": VERSION, **header}, ensure_ascii=False)]
    lines += [json.dumps(h, ensure_ascii=False) for h in households]
    return ("\n".join(lines) + "\n").encode("utf-8")
