"""Claims out: the daily file signed by the hospital card and checked as the insurer would, the offline
queue across a restart, fraud flags in the file, and the same card at two hospitals at once (sync)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from station.hospital import claims, desk, treatment
from station.hospital.models import FlagKind
from station.hospital.models import VerifyMethod as VM
from station.storage import Database
from tests.station.hospital.conftest import Desk


def _stay(d: Desk, check: desk.CardCheck, member: int, code: str = "GEN001", **kw: object) -> str:
    a = treatment.admit(d.ctx, check, desk.Verification(check.serial, member, VM.FINGER, ()), code, **kw)  # type: ignore[arg-type]
    d.advance(timedelta(hours=30))
    treatment.discharge(d.ctx, check, a.ref, 100_000)
    return a.ref


def test_daily_file_signed_verified_and_queue_survives_restart(hospital: Desk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    check = hospital.check("gaya")
    refs = [_stay(hospital, check, 0), _stay(hospital, check, 1, "OBG012", accept_flags=True)]
    # The station restarts before filing: the queue is in the database.
    hospital.db.close()
    db = Database(hospital.db.url)
    ctx = dataclasses.replace(hospital.ctx, db=db)
    day = ctx.now().date()
    filed = claims.write_daily_claims(ctx, day, tmp_path / "out")
    assert filed.claims == 2 and filed.flags == 0
    got = claims.verify_claims_file(filed.path, hospital.scheme.root_cert)
    assert [c["ref"] for c in got.claims] == refs and got.hospital_id == "H0923001"
    assert got.claims[1]["flags"] == [] and got.claims[0]["transactions"][0]["kind"] == "admission"
    assert claims.write_daily_claims(ctx, day, tmp_path / "again").claims == 0  # filed once
    db.close()
    # The insurer refuses an edited amount, and a statement that does not match its claim.
    body = json.loads(filed.path.read_bytes())
    body["claims"][0]["final"] = 99_999_999
    filed.path.write_bytes(claims.canonical(body))
    with pytest.raises(claims.ClaimsFileError, match="altered"):
        claims.verify_claims_file(filed.path, hospital.scheme.root_cert)


def test_flags_go_into_the_file(make_desk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from station.demo.hospital import SUPERVISOR, SUPERVISOR_PASS
    from station.hospital.rules import HospitalRules
    from tests.station.hospital.conftest import JPEG

    d = make_desk(rules=HospitalRules("H0923001", override_limit=1))
    check = d.check("gaya")
    v = desk.override(d.ctx, check, 0, SUPERVISOR, SUPERVISOR_PASS, JPEG, "worn fingertips, farm labourer")
    a = treatment.admit(d.ctx, check, v, "OBG012", accept_flags=True)
    treatment.discharge(d.ctx, check, a.ref, 500_000)
    filed = claims.write_daily_claims(d.ctx, d.ctx.now().date(), tmp_path)
    got = claims.verify_claims_file(filed.path, d.scheme.root_cert)
    kinds = {f["kind"] for f in got.claims[0]["flags"]}
    assert kinds == {FlagKind.PACKAGE_MISMATCH.value, FlagKind.REPEATED_OVERRIDES.value}
    assert got.claims[0]["verification"] == "override"
    assert [f["kind"] for f in got.desk_flags] == [FlagKind.REPEATED_OVERRIDES.value]
    later = claims.write_daily_claims(d.ctx, d.ctx.now().date() + timedelta(days=1), tmp_path / "next")
    assert claims.verify_claims_file(later.path, d.scheme.root_cert).desk_flags == ()  # filed once


def test_same_card_at_two_hospitals_at_overlapping_times(make_desk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = make_desk()
    second = make_desk(hospital_id="H0923002")
    card, t = first.insert_family("gaya")
    second.cards["gaya"] = card  # the same physical card travels
    check = desk.check_card(first.ctx, t)
    a = treatment.admit(first.ctx, check, desk.Verification(check.serial, 0, VM.FINGER, ()), "SUR014")
    # While admitted at the first hospital, the card shows up at the second: the desk sees the open stay.
    check2 = second.check("gaya")
    assert [o.place_id for o in check2.open_admissions] == ["H0923001"]
    with pytest.raises(treatment.FlagsRaised, match="H0923001"):
        _stay(second, check2, 1)
    b = _stay(second, check2, 1, accept_flags=True)
    first.advance(timedelta(hours=40))
    check = desk.check_card(first.ctx, t)
    treatment.discharge(first.ctx, check, a.ref, 800_000)
    files = [claims.write_daily_claims(d.ctx, d.ctx.now().date() + timedelta(days=1), tmp_path / n).path
             for n, d in (("one", first), ("two", second))]
    report = claims.merge_claims(files + files[:1], first.scheme.root_cert)  # a file sent twice counts once
    assert (report.files, report.claims) == (3, 2)
    assert [f.kind for f in report.flags] == [FlagKind.OVERLAPPING_STAY]
    assert set(report.flags[0].claims) == {("H0923001", a.ref), ("H0923002", b)}
