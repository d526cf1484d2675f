"""Alembic migrations of the station database (package so the revisions ship as package data)."""
