"""Operators, login and the camp context every workflow step runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from station.errors import AuthenticationError, NotFound, RuleViolation, StationError
from station.storage import Database, audit
from station.storage.crypto import DataCipher, WrappedKey, load_station_secret, unwrap_data_key, wrap_data_key
from station.storage.models import Camp, Operator, Role, Village, utcnow

MIN_PASSWORD = 8


@dataclass(frozen=True)
class OperatorSession:
    """A logged-in operator; holds the station data key in memory for as long as the session lives."""

    operator_id: int
    login: str
    name: str
    role: Role
    cipher: DataCipher = field(repr=False)


@dataclass(frozen=True)
class CampContext:
    """What every camp step needs: the database, who is acting, in which camp, on which station."""

    db: Database
    op: OperatorSession
    camp_id: int
    station_id: str
    data_dir: Path


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthenticationError(f"a password needs at least {MIN_PASSWORD} characters")


def create_operator(db: Database, data_dir: Path, login: str, name: str, password: str,
                    role: Role = Role.OPERATOR, by: OperatorSession | None = None) -> int:
    """Add an operator. The first operator of a station creates the data key; later ones need a
    logged-in supervisor (``by``) so the key can be wrapped for them."""
    _check_password(password)
    if not login.isascii() or not login.strip() or len(login) > 64:
        raise StationError(f"login {login!r} must be 1-64 ASCII characters")
    secret = load_station_secret(data_dir)
    with db.transaction() as s:
        count = s.scalar(select(func.count(Operator.id)))
        if count:
            if by is None or by.role not in (Role.SUPERVISOR, Role.DISTRICT):
                raise RuleViolation("only a logged-in supervisor can add operators")
            dek = by.cipher._key  # the one place the key is re-wrapped for another operator
        else:
            dek = DataCipher.new_key()
        if s.scalar(select(Operator.id).where(Operator.login == login)) is not None:
            raise StationError(f"login {login!r} already exists; choose another")
        wrapped = wrap_data_key(dek, login, password, secret)
        row = Operator(login=login, name=name, role=role, key_salt=wrapped.salt, wrapped_data_key=wrapped.wrapped)
        s.add(row)
        s.flush()
        audit.record(s, by.login if by else login, "operator.create", f"operator:{row.id}", login=login,
                     role=role.value)
        return row.id


def login(db: Database, data_dir: Path, login_name: str, password: str) -> OperatorSession:
    secret = load_station_secret(data_dir, create=False)
    refusal: tuple[str, str, AuthenticationError] | None = None
    with db.transaction() as s:
        row = s.scalar(select(Operator).where(Operator.login == login_name))
        if row is None or not row.active:
            refusal = ("operator:?", "unknown or inactive", AuthenticationError(
                f"no active operator {login_name!r}; check the login or ask a supervisor"))
        else:
            try:
                dek = unwrap_data_key(WrappedKey(row.key_salt, row.wrapped_data_key), login_name, password, secret)
            except AuthenticationError as exc:
                refusal = (f"operator:{row.id}", "wrong password", exc)
            else:
                audit.record(s, login_name, "login", f"operator:{row.id}")
                return OperatorSession(row.id, row.login, row.name, row.role, DataCipher(dek))
    # The refusal is recorded in its own step: raising inside the one above would roll it back.
    entity, reason, error = refusal
    with db.transaction() as s:
        audit.record(s, login_name, "login.refused", entity, reason=reason)
    raise error


def open_camp(db: Database, op: OperatorSession, village_code: str, station_id: str, data_dir: Path,
              code: str | None = None) -> CampContext:
    """Open a camp in a village, or re-enter the one still open there (after a restart)."""
    with db.transaction() as s:
        village = s.scalar(select(Village).where(Village.code == village_code))
        if village is None:
            raise NotFound(f"village {village_code} is not on any imported list; import the district's list first")
        camp = s.scalar(select(Camp).where(Camp.village_id == village.id, Camp.station_id == station_id,
                                           Camp.closed_at.is_(None)))
        if camp is None:
            camp = Camp(code=code or f"{station_id}-{village_code}-{utcnow():%Y%m%d%H%M%S}", village_id=village.id,
                        station_id=station_id, opened_by=op.operator_id)
            s.add(camp)
            s.flush()
            audit.record(s, op.login, "camp.open", f"camp:{camp.id}", village=village_code, code=camp.code)
        return CampContext(db, op, camp.id, station_id, data_dir)
