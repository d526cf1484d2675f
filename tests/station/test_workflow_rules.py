"""Login, search and the scheme's rules on household details; forms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from station.errors import AuthenticationError, NotFound, RuleViolation, WorkflowError
from station.storage.models import AuditEvent, FormKind, Gender, HouseholdStatus, Relationship, Role
from station.workflows import households as hh
from station.workflows.capture import finish_capture
from station.workflows.forms import record_form
from station.workflows.session import CampContext, create_operator, login, open_camp


def test_login_wrong_password_refused_and_audited(camp: CampContext) -> None:
    with pytest.raises(AuthenticationError, match="wrong password"):
        login(camp.db, camp.data_dir, "asha", "not-the-password")
    with pytest.raises(AuthenticationError, match="no active operator"):
        login(camp.db, camp.data_dir, "nobody", "whatever-123")
    with camp.db.transaction() as s:
        actions = list(s.scalars(select(AuditEvent.action)))
    assert actions.count("login.refused") == 2
    assert all("not-the-password" not in d for d in camp.db.session().scalars(select(AuditEvent.detail)))


def test_second_operator_needs_supervisor(camp: CampContext) -> None:
    with pytest.raises(RuleViolation, match="supervisor"):
        create_operator(camp.db, camp.data_dir, "ravi", "Ravi", "ravi-pass-123")
    with pytest.raises(RuleViolation, match="supervisor"):
        create_operator(camp.db, camp.data_dir, "ravi", "Ravi", "ravi-pass-123", by=camp.op)


def test_supervisor_adds_operator_who_shares_the_data_key(database, tmp_path) -> None:
    data = tmp_path / "d"
    create_operator(database, data, "boss", "Boss", "boss-pass-123", role=Role.SUPERVISOR)
    boss = login(database, data, "boss", "boss-pass-123")
    create_operator(database, data, "ravi", "Ravi", "ravi-pass-123", by=boss)
    ravi = login(database, data, "ravi", "ravi-pass-123")
    blob = boss.cipher.encrypt(b"template", "capture:1:finger:2")
    assert ravi.cipher.decrypt(blob, "capture:1:finger:2") == b"template"


def test_camp_reopened_after_restart(camp: CampContext) -> None:
    again = open_camp(camp.db, camp.op, "1001", "STN01", camp.data_dir)
    assert again.camp_id == camp.camp_id
    with pytest.raises(NotFound, match="village 4242"):
        open_camp(camp.db, camp.op, "4242", "STN01", camp.data_dir)


def test_search_by_urn_name_devanagari_and_village(camp: CampContext) -> None:
    assert [r.urn for r in hh.search(camp, "1009231001000000")] == [
        "10092310010000001", "10092310010000002", "10092310010000003"]
    assert [r.urn for r in hh.search(camp, "10092310010000002")] == ["10092310010000002"]
    assert len(hh.search(camp, "ram prasad")) == 3
    assert len(hh.search(camp, "सीता")) == 3
    assert len(hh.search(camp, "child 4")) == 1
    assert len(hh.search(camp, "", village_code="1001")) == 3
    assert len(hh.search(camp, "bodh")) == 3
    assert hh.search(camp, "", village_code="1002") == ()
    assert hh.search(camp, "nobody at all") == ()


def test_only_listed_households(camp: CampContext) -> None:
    with pytest.raises(NotFound, match="exclusion form"):
        hh.begin_enrolment(camp, "10092310019999999")


def test_head_name_locked_dependants_editable(camp: CampContext) -> None:
    urn = "10092310010000001"
    hh.begin_enrolment(camp, urn)
    with pytest.raises(RuleViolation, match="head's name is locked"):
        hh.edit_member(camp, urn, 1, name="Shyam Prasad")
    with pytest.raises(RuleViolation, match="head's name is locked"):
        hh.edit_member(camp, urn, 1, name_local="श्याम")
    with pytest.raises(RuleViolation, match="head is fixed"):
        hh.edit_member(camp, urn, 2, relationship=Relationship.HEAD)
    with pytest.raises(RuleViolation, match="head is fixed"):
        hh.edit_member(camp, urn, 1, relationship=Relationship.SON)
    v = hh.edit_member(camp, urn, 2, name="Seeta Devi", name_local="सीता देवी", year_of_birth=1984,
                       gender=Gender.FEMALE)
    assert v.members[1].name == "Seeta Devi" and v.members[1].edited and not v.members[0].edited
    v = hh.edit_member(camp, urn, 1, year_of_birth=1980)  # head's other details can be corrected
    assert v.head.year_of_birth == 1980 and v.head.name == "Ram Prasad"
    with pytest.raises(RuleViolation, match="plausible"):
        hh.edit_member(camp, urn, 3, year_of_birth=1800)


def test_at_most_five_insured_head_always(camp: CampContext) -> None:
    urn = "10092310010000002"  # seven listed
    v = hh.begin_enrolment(camp, urn)
    assert v.needs_selection and len(v.insured) == 5
    with pytest.raises(RuleViolation, match="choose the insured members first"):
        finish_capture(camp, urn)
    with pytest.raises(RuleViolation, match="at most 5"):
        hh.set_insured(camp, urn, {1, 2, 3, 4, 5, 6})
    with pytest.raises(RuleViolation, match="head is always insured"):
        hh.set_insured(camp, urn, {2, 3, 4})
    with pytest.raises(NotFound):
        hh.set_insured(camp, urn, {1, 9})
    v = hh.set_insured(camp, urn, {1, 2, 6, 7})
    assert [m.seq for m in v.insured] == [1, 2, 6, 7] and not v.needs_selection
    with pytest.raises(WorkflowError, match="still to capture"):
        finish_capture(camp, urn)


def test_issued_household_locked_and_no_second_card(camp: CampContext) -> None:
    urn = "10092310010000003"
    hh.begin_enrolment(camp, urn)
    from station.storage.models import Household

    with camp.db.transaction() as s:
        s.scalar(select(Household).where(Household.urn == urn)).status = HouseholdStatus.ISSUED
    with pytest.raises(RuleViolation, match="no longer change"):
        hh.edit_member(camp, urn, 2, name="X")
    with pytest.raises(RuleViolation, match="one card per household"):
        hh.begin_enrolment(camp, urn)
    from station.storage.models import District

    with camp.db.transaction() as s:
        s.scalar(select(District)).allow_duplicate_cards = True
    assert hh.begin_enrolment(camp, urn).status is HouseholdStatus.ENROLLING


def test_forms(camp: CampContext) -> None:
    f = record_form(camp, FormKind.EXCLUSION, "Gopal Das", "1001", "left off the census list", members_claimed=4)
    assert f.id and f.kind is FormKind.EXCLUSION
    with pytest.raises(RuleViolation, match="enrol it instead"):
        record_form(camp, FormKind.EXCLUSION, "Ram Prasad", "1001", "x", urn="10092310010000001")
    g = record_form(camp, FormKind.GRIEVANCE, "Ram Prasad", "1001", "head's name misspelt", urn="10092310010000001")
    assert g.urn == "10092310010000001"
    with pytest.raises(RuleViolation, match="name is required"):
        record_form(camp, FormKind.GRIEVANCE, " ", "1001", "x")
