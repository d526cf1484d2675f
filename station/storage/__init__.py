"""Station storage: typed ORM tables, migrations, encrypted biometrics, the hash-chained audit log."""

from station.storage.db import Database, upgrade
from station.storage.models import Base

__all__ = ["Base", "Database", "upgrade"]
