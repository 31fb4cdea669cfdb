"""The in-memory store: for tests, demos and hosts that keep nothing across restarts."""

from __future__ import annotations

from .store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
