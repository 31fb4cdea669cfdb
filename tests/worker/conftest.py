"""Fixtures of the worker tests: a migrated Postgres schema of each test's own."""

from __future__ import annotations

import pytest

from supportdesk.storage.sql import upgrade


@pytest.fixture
def postgres_url(empty_postgres_schema: str) -> str:
    """A fresh schema at the head revision for this test alone: worker processes share it."""
    upgrade(empty_postgres_schema)
    return empty_postgres_schema
