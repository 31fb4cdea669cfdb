"""Alembic migrations of the SQL store (env.py and versions/), shipped in the package."""
