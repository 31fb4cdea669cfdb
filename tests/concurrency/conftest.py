"""Fixtures of the concurrency tests: a migrated Postgres schema of each test's own."""

from __future__ import annotations

import pytest

from supportdesk.storage.sql import upgrade


@pytest.fixture
def postgres_url(empty_postgres_schema: str) -> str:
    """A fresh schema at the head revision for this test alone, dropped afterwards.

    The workers of a test write thousands of rows; sharing the session's
    schema would make each test clean up after the others.
    """
    upgrade(empty_postgres_schema)
    return empty_postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database of each dialect: a SQLite file (WAL), a Postgres schema."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url
