"""Station storage: typed ORM tables, migrations, encrypted biometrics, the hash-chained audit log."""

import station.hospital.models  # noqa: F401 - registers the hospital counter's tables on Base.metadata
from station.storage.db import Database, upgrade
from station.storage.models import Base

__all__ = ["Base", "Database", "upgrade"]
