"""The signed household list: every reason a list is refused, and that a refused list leaves nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from station.errors import HouseholdListError
from station.households import encode_list, import_list, parse_list, signature_path
from station.storage import Database
from station.storage.models import AuditEvent, Household, Member, Relationship
from tests.station.conftest import EcdsaDistrictVerifier

HEADER: dict[str, Any] = {
    "state_code": "10", "district_code": "0923", "district_name": "Gaya", "scheme_code": "RSBY",
    "scheme_name": "Rashtriya Swasthya Bima Yojana", "as_of": "2026-11-01", "sum_insured_rupees": 30000,
    "villages": [{"code": "1001", "name": "Bodh"}, {"code": "1002", "name": "Dobhi"}],
}


def household(urn: str = "10092310010000001", n: int = 3, **over: Any) -> dict[str, Any]:
    people = [{"name": "Ram Prasad", "name_local": "राम प्रसाद", "gender": "M", "age": 45, "relationship": "head"},
              {"name": "Sita Devi", "name_local": "सीता देवी", "gender": "F", "age": 41, "relationship": "spouse"}]
    for i in range(n - 2):
        people.append({"name": f"Child {i}", "name_local": "", "gender": "F" if i % 2 else "M", "age": 5 + i,
                       "relationship": "daughter" if i % 2 else "son"})
    return {"urn": urn, "village_code": "1001", "guardian_name": "Mohan Lal", "insurer": "New India Assurance",
            "policy_start": "2026-12-01", "policy_end": "2027-11-30", "members": people[:n], **over}


def write(tmp_path: Path, verifier: EcdsaDistrictVerifier, rows: list[dict[str, Any]], district: str = "0923",
          header: dict[str, Any] | None = None) -> Path:
    path = tmp_path / "list.jsonl"
    data = encode_list(header or HEADER, rows)
    path.write_bytes(data)
    signature_path(path).write_bytes(verifier.sign(data, district))
    return path


def nothing_imported(db: Database) -> bool:
    with db.transaction() as s:
        return s.scalar(select(func.count(Household.id))) == 0 and s.scalar(select(func.count(AuditEvent.id))) == 0


def test_good_list_imports_with_devanagari(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household(), household("10092310010000002", n=2)])
    result = import_list(database, path, list_verifier, actor="asha")
    assert (result.households, result.members, result.signer) == (2, 5, "0923")
    with database.transaction() as s:
        h = s.scalar(select(Household).where(Household.urn == "10092310010000001"))
        assert h.head.name_local == "राम प्रसाद" and h.guardian_name == "Mohan Lal"
        assert h.head.year_of_birth == 1981 and h.sum_insured == 3_000_000
        assert all(m.insured for m in h.members) and not h.needs_selection
        assert h.village.district.code == "0923"


def test_more_than_five_members_flagged_and_head_spouse_kept(database: Database, tmp_path: Path,
                                                              list_verifier) -> None:
    big = household("10092310010000003", n=7)
    # Put the spouse last so the default selection has to reach past list order for her.
    big["members"] = [big["members"][0], *big["members"][2:], big["members"][1]]
    path = write(tmp_path, list_verifier, [household(n=5), big])
    result = import_list(database, path, list_verifier, actor="asha")
    assert result.needs_selection == ("10092310010000003",)
    with database.transaction() as s:
        five = s.scalar(select(Household).where(Household.urn == "10092310010000001"))
        assert not five.needs_selection and all(m.insured for m in five.members)
        h = s.scalar(select(Household).where(Household.urn == "10092310010000003"))
        insured = [m for m in h.members if m.insured]
        assert h.needs_selection and h.listed_members == 7 and len(insured) == 5
        assert {Relationship.HEAD, Relationship.SPOUSE} <= {m.relationship_ for m in insured}
        assert [m.seq for m in insured] == [1, 2, 3, 4, 7]


def test_tampered_list_refused(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household()])
    path.write_bytes(path.read_bytes().replace("राम".encode(), "श्याम".encode()))
    with pytest.raises(HouseholdListError, match="signature does not verify"):
        import_list(database, path, list_verifier, actor="asha")
    assert nothing_imported(database)


def test_unsigned_list_refused(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household()])
    signature_path(path).unlink()
    with pytest.raises(HouseholdListError, match="no signature"):
        import_list(database, path, list_verifier, actor="asha")
    assert nothing_imported(database)


def test_list_signed_by_another_district_refused(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household()], district="0924")
    with pytest.raises(HouseholdListError, match="signed by district 0924"):
        import_list(database, path, list_verifier, actor="asha")
    assert nothing_imported(database)


def test_wrong_district_key_refused(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household()])
    other = EcdsaDistrictVerifier()  # a station trusting a different key for district 0923
    other.key("0923")
    with pytest.raises(HouseholdListError, match="signature does not verify"):
        import_list(database, path, other, actor="asha")
    assert nothing_imported(database)


def _member(**over: Any) -> dict[str, Any]:
    return {**household()["members"][1], **over}


BAD_ROWS = [
    (household(urn="1009231001000000"), "17 characters"),
    (household(urn="10092310010000o01"), "17 characters"),
    ({k: v for k, v in household().items() if k != "guardian_name"}, "missing field 'guardian_name'"),
    (household(guardian_name="  "), "'guardian_name' is empty"),
    (household(village_code="9999"), "village code 9999 is not among"),
    (household(village_code="12a"), "village code"),
    (household(policy_start="2026-13-01"), "not a date"),
    (household(policy_end="2026-11-01"), "not after policy_start"),
    (household(members=[]), "no members"),
    (household(members=[_member(relationship="spouse")]), "exactly one head, found 0"),
    (household(members=[household()["members"][0]] * 2), "exactly one head, found 2"),
    (household(members=[_member(), household()["members"][0]]), "head must be the first"),
    (household(members=[household()["members"][0], _member(gender="X")]), "member 2: gender 'X'"),
    (household(members=[household()["members"][0], _member(age=130)]), "member 2: age 130"),
    (household(members=[household()["members"][0], _member(age="41")]), "member 2: field 'age' must be int"),
    (household(members=[household()["members"][0], _member(relationship="cousin")]), "relationship 'cousin'"),
    (household(members=[household()["members"][0], _member(name="अ" * 41)]), "longer than 120"),
    (household(members=[household()["members"][0]] + [_member()] * 20), "more than 20"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_malformed_row_refuses_whole_file_with_line(database: Database, tmp_path: Path, list_verifier,
                                                    row: dict[str, Any], reason: str) -> None:
    rows = [household("10092310010000001"), household("10092310010000002"), row]
    rows[2]["urn"] = rows[2]["urn"] if "urn" in reason or "17" in reason else "10092310010000003"
    path = write(tmp_path, list_verifier, rows)
    with pytest.raises(HouseholdListError) as err:
        import_list(database, path, list_verifier, actor="asha")
    assert err.value.line == 4, str(err.value)  # header is line 1, the bad household the third one
    assert reason in str(err.value)
    assert nothing_imported(database)


def test_duplicate_urn(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household(), household("10092310010000002"), household()])
    with pytest.raises(HouseholdListError, match="line 4: duplicate URN 10092310010000001 \\(first on line 2\\)"):
        import_list(database, path, list_verifier, actor="asha")
    assert nothing_imported(database)


def test_urn_already_on_station_refuses_second_list(database: Database, tmp_path: Path, list_verifier) -> None:
    import_list(database, write(tmp_path, list_verifier, [household()]), list_verifier, actor="asha")
    second = tmp_path / "b"
    second.mkdir()
    path = write(second, list_verifier, [household("10092310010000009"), household()])
    with pytest.raises(HouseholdListError, match="line 3: URN 10092310010000001 is already on this station"):
        import_list(database, path, list_verifier, actor="asha")
    with database.transaction() as s:  # the first list stays, nothing of the second arrived
        assert s.scalar(select(func.count(Household.id))) == 1
        assert s.scalar(select(func.count(Member.id))) == 3


def test_same_file_twice_refused(database: Database, tmp_path: Path, list_verifier) -> None:
    path = write(tmp_path, list_verifier, [household()])
    import_list(database, path, list_verifier, actor="asha")
    with pytest.raises(HouseholdListError, match="already imported"):
        import_list(database, path, list_verifier, actor="asha")


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 0, "empty"),
        (b"\xef\xbb\xbf{}\n", 1, "byte-order mark"),
        (b'{"format": "other"}\n', 1, "not a household list"),
        (json.dumps({"format": "household-list", "version": 9}).encode() + b"\n", 1, "version 9"),
        (encode_list(HEADER, []), 0, "no households"),
        (encode_list(HEADER, [household()]) + b"{not json\n", 3, "not valid JSON"),
        (encode_list(HEADER, [household()]) + b"\n\n", 3, "empty line"),
        (encode_list(HEADER, [household()]) + b'"a string"\n', 3, "JSON object"),
        (encode_list(HEADER, [household()]) + b'{"urn": "\xff"}\n', 3, "UTF-8"),
        (encode_list({**HEADER, "district_code": "09230"}, [household()]), 1, "district code"),
        (encode_list({**HEADER, "villages": []}, [household()]), 1, "no villages"),
    ],
)
def test_malformed_file(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(HouseholdListError) as err:
        parse_list(data)
    assert err.value.line == line and reason in str(err.value)


def test_scheme_trust_with_keymgmt_signatures(database: Database, tmp_path: Path) -> None:
    """The real chain: scheme root -> district certificate -> detached list signature."""
    from keymgmt import hierarchy
    from keymgmt.signing import sign_document
    from keymgmt.store import FileKeyStore
    from station.trust import SchemeTrust

    central = FileKeyStore.create(tmp_path / "central.keys", "central-pass", scrypt_n=2**10)
    root = hierarchy.create_scheme(central, "RSBY", "RSBY")
    trust = SchemeTrust(root)
    data = encode_list(HEADER, [household()])

    def district(code: str, name: str) -> object:
        store = FileKeyStore.create(tmp_path / f"{code}.keys", "district-pass", scrypt_n=2**10)
        hierarchy.create_district(central, store, code, name)
        return hierarchy.district_signer(store)

    gaya, patna = district("0923", "Gaya"), district("0924", "Patna")
    path = tmp_path / "list.jsonl"
    path.write_bytes(data)
    sig = signature_path(path)
    sig.write_text(sign_document(patna, data, "household-list").to_text())
    with pytest.raises(HouseholdListError, match="signed by district 0924"):
        import_list(database, path, trust, actor="asha")
    sig.write_text(sign_document(gaya, data, "camp-bundle").to_text())
    with pytest.raises(HouseholdListError, match="not a 'household-list'"):
        import_list(database, path, trust, actor="asha")
    other_root = hierarchy.create_scheme(FileKeyStore.create(tmp_path / "o.keys", "other-pass", scrypt_n=2**10), "RSBY")
    sig.write_text(sign_document(gaya, data, "household-list").to_text())
    with pytest.raises(HouseholdListError, match="signature does not verify"):
        import_list(database, path, SchemeTrust(other_root), actor="asha")
    assert nothing_imported(database)
    assert import_list(database, path, trust, actor="asha").signer == "0923"
