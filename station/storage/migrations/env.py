"""Alembic environment: the engine is handed over in code (station.storage.db.upgrade), never from an .ini."""

from __future__ import annotations

from alembic import context

from station.storage.models import Base

engine = context.config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations through station.storage.db.upgrade(engine)")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
