"""The storage contract, run against every store adapter."""

from __future__ import annotations

import pytest

from supportdesk import MemoryStore, Store
from supportdesk.testing.contract import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()
