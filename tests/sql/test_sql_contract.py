"""The storage contract, unchanged, on SQLite (a WAL file) and on Postgres."""

from __future__ import annotations

import pytest

from supportdesk.storage.sql import SqlStore
from supportdesk.testing.contract import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, sqlite_store: SqlStore) -> SqlStore:
        return sqlite_store


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_store: SqlStore) -> SqlStore:
        return postgres_store
