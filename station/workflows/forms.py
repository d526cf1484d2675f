"""Exclusion and grievance forms: people left off the list, or any complaint, go back to the district."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from station.errors import RuleViolation
from station.storage import audit
from station.storage.models import Form, FormKind, Household
from station.workflows.session import CampContext


@dataclass(frozen=True)
class FormView:
    id: int
    kind: FormKind
    applicant_name: str
    village_code: str
    urn: str
    members_claimed: int
    details: str


def record_form(ctx: CampContext, kind: FormKind, applicant_name: str, village_code: str, details: str,
                urn: str = "", members_claimed: int = 0) -> FormView:
    applicant_name, details, urn = applicant_name.strip(), details.strip(), urn.strip().upper()
    if not applicant_name:
        raise RuleViolation("the applicant's name is required on the form")
    if not village_code.isdigit():
        raise RuleViolation(f"village code {village_code!r} must be digits")
    if not 0 <= members_claimed <= 20:
        raise RuleViolation("members claimed must be 0..20")
    with ctx.db.transaction() as s:
        listed = urn and s.scalar(select(Household.id).where(Household.urn == urn)) is not None
        if kind is FormKind.EXCLUSION and listed:
            raise RuleViolation(f"household {urn} is on the list: enrol it instead of filing an exclusion form")
        row = Form(camp_id=ctx.camp_id, kind=kind, applicant_name=applicant_name[:120], village_code=village_code,
                   urn=urn, members_claimed=members_claimed, details=details[:4000], operator_id=ctx.op.operator_id)
        s.add(row)
        s.flush()
        audit.record(s, ctx.op.login, f"form.{kind.value}", f"form:{row.id}", village=village_code, urn=urn)
        return FormView(row.id, kind, row.applicant_name, village_code, urn, members_claimed, row.details)
