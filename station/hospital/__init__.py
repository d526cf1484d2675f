"""The hospital counter (issue 8): Qt-free core of the insurance desk; see ``docs/hospital.md``.

Kept import-light on purpose: ``station.storage`` imports :mod:`station.hospital.models` so the
hospital tables are always part of ``Base.metadata`` (migrations, schema checks).
"""
