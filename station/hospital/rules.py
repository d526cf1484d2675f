"""The hospital's configuration and the signed package list.

Package list file (UTF-8 JSON, detached ``.sig`` next to it, purpose ``package-list``, signed by the
scheme root or a district)::

    {"format": "rsby-packages/1", "version": 3, "packages": [
        {"code": "OBG012", "name": "Caesarean delivery", "rate": 900000,   # paise
         "sex": "F", "min_age": 15, "max_age": 50, "preauth": false}, ...]}

``sex`` is "" (any), "M" or "F"; ages are whole years at admission. A newer version replaces the
hospital's list; an older one is refused (no rollback to higher rates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select

from keymgmt.certs import Certificate, Role
from keymgmt.errors import KeyManagementError
from keymgmt.signing import verify_document
from station.errors import RuleViolation, StationError
from station.hospital.models import HospitalPackage
from station.storage import Database, audit
from station.trust import parse_signature

PACKAGE_PURPOSE = "package-list"
PACKAGE_FORMAT = "rsby-packages/1"


@dataclass(frozen=True)
class HospitalRules:
    """What a hospital may configure (the scheme's defaults: Rs 100 per visit, Rs 1,000 a year)."""

    hospital_id: str  # ≤ 8 ASCII, written as the place id on every card log record
    beds: int = 20
    transport_per_visit: int = 10_000  # paise
    transport_yearly_cap: int = 100_000  # paise, per family and policy year
    finger_tries: int = 2  # captures per finger before the next fallback
    override_limit: int = 3  # overrides by one staff member within the window before a fraud flag
    override_window: timedelta = field(default=timedelta(days=1))
    match_fmr: float = 0.001  # false-match rate the fingerprint threshold is set for
    check_target_seconds: float = 1.0  # the authenticity check's budget (software time)

    def __post_init__(self) -> None:
        if not (self.hospital_id.isascii() and self.hospital_id.isprintable() and 1 <= len(self.hospital_id) <= 8):
            raise StationError("hospital id must be 1-8 printable ASCII characters (it goes on every card record)")
        if self.beds < 1 or self.transport_per_visit < 0 or self.transport_yearly_cap < 0 or self.finger_tries < 1:
            raise StationError("beds and finger tries must be at least 1, transport amounts not negative")


@dataclass(frozen=True)
class Package:
    code: str
    name: str
    rate: int  # paise
    sex: str = ""  # "" any, "M", "F"
    min_age: int = 0
    max_age: int = 150
    preauth: bool = False  # procedure outside the list's fixed rates: needs the insurer's authorisation

    def misfit(self, gender: str, age: int) -> str:
        """Why this package does not fit a member of ``gender`` ("M"/"F"/"T") and ``age``; "" if it fits."""
        if self.sex and gender != self.sex:
            return f"package {self.code} ({self.name}) is for {'women' if self.sex == 'F' else 'men'} only"
        if not self.min_age <= age <= self.max_age:
            return f"package {self.code} ({self.name}) is for ages {self.min_age}-{self.max_age}, patient is {age}"
        return ""


def _package(raw: dict) -> Package:
    try:
        p = Package(str(raw["code"]), str(raw["name"]), int(raw["rate"]), str(raw.get("sex", "")),
                    int(raw.get("min_age", 0)), int(raw.get("max_age", 150)), bool(raw.get("preauth", False)))
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleViolation(f"package list entry {raw!r:.60} is malformed ({exc}); ask for a fresh list") from None
    if not (p.code.isascii() and 1 <= len(p.code) <= 16) or p.rate < 0 or p.sex not in ("", "M", "F"):
        raise RuleViolation(f"package {p.code!r}: code 1-16 ASCII, rate ≥ 0 and sex '', 'M' or 'F' required")
    return p


def load_package_list(db: Database, path: Path, root: Certificate, actor: str) -> int:
    """Verify the signed list at ``path`` (``path.sig`` beside it) and make it the hospital's; return its version."""
    data = path.read_bytes()
    sig_path = path.with_name(path.name + ".sig")
    try:
        doc = parse_signature(sig_path.read_bytes())
        signer = verify_document(data, doc, root, purpose=PACKAGE_PURPOSE, roles=(Role.ROOT, Role.DISTRICT))
    except OSError:
        raise RuleViolation(f"no signature {sig_path.name} next to the package list; ask for the signed list") from None
    except KeyManagementError as exc:
        raise RuleViolation(f"the package list is not signed by the scheme or a district: {exc}") from None
    try:
        body = json.loads(data.decode("utf-8"))
        version = int(body["version"])
        if body.get("format") != PACKAGE_FORMAT:
            raise ValueError(f"format {body.get('format')!r}")
        packages = [_package(p) for p in body["packages"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise RuleViolation(f"the package list is malformed ({exc}); ask for a fresh list") from None
    if len({p.code for p in packages}) != len(packages):
        raise RuleViolation("the package list names a package code twice; ask for a corrected list")
    with db.transaction() as s:
        current = s.scalar(select(func.max(HospitalPackage.list_version)))
        if current is not None and version < current:
            raise RuleViolation(f"package list version {version} is older than the loaded version {current}")
        s.execute(delete(HospitalPackage))
        for p in packages:
            s.add(HospitalPackage(code=p.code, name=p.name, rate=p.rate, sex=p.sex, min_age=p.min_age,
                                  max_age=p.max_age, preauth=p.preauth, list_version=version))
        audit.record(s, actor, "hospital.packages", f"packages:{version}", signer=signer.subject, count=len(packages))
    return version


def packages(db: Database) -> tuple[Package, ...]:
    with db.transaction() as s:
        rows = s.scalars(select(HospitalPackage).order_by(HospitalPackage.code))
        return tuple(Package(r.code, r.name, r.rate, r.sex, r.min_age, r.max_age, r.preauth) for r in rows)


def package(db: Database, code: str) -> Package:
    found = next((p for p in packages(db) if p.code == code), None)
    if found is None:
        raise RuleViolation(f"package {code!r} is not on the hospital's list; choose a listed package or ask "
                            "the insurer for a pre-authorisation")
    return found
