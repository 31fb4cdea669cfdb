"""The memory store's transaction plumbing: a unit of work's undo log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ...search import IndexedText, SearchIndex

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class Changes:
    """One unit of work's undo log: every write goes through it, so that a rollback undoes it."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], object]] = []

    def rollback(self) -> None:
        """Undo every write of this unit of work, newest first."""
        while self._undo:
            self._undo.pop()()

    def on_rollback(self, undo: Callable[[], object]) -> None:
        """Call ``undo`` on rollback: for a write the methods below do not cover."""
        self._undo.append(undo)

    def set(self, table: dict[K, V], key: K, value: V) -> None:
        """Put ``value`` under ``key``."""
        if key in table:
            old = table[key]
            self._undo.append(lambda: table.__setitem__(key, old))
        else:
            self._undo.append(lambda: table.pop(key, None))
        table[key] = value

    def delete(self, table: dict[K, V], key: K) -> None:
        """Take ``key`` out of ``table``, if it is there."""
        if key in table:
            old = table.pop(key)
            self._undo.append(lambda: table.__setitem__(key, old))

    def file(self, table: dict[str, dict[str, V]], key: str, member: str, value: V) -> None:
        """Put ``member`` in the group ``table[key]``, making the group when there is none."""
        if key not in table:
            self.set(table, key, {})
        self.set(table[key], member, value)

    def unfile(self, table: dict[str, dict[str, V]], key: str, member: str) -> None:
        """Take ``member`` out of the group ``table[key]``; an emptied group goes too."""
        group = table.get(key)
        if group is not None:
            self.delete(group, member)
            if not group:
                self.delete(table, key)

    def index(self, index: SearchIndex, key: tuple[str, ...], field: IndexedText | None) -> None:
        """Index ``field`` under ``key`` in the search index (None removes it)."""
        previous = index.put(key, field)

        def undo() -> None:
            index.put(key, previous)

        self._undo.append(undo)


class Area(Generic[T]):
    """One area of a memory unit of work: its own tables, written through the one undo log."""

    def __init__(self, tables: T, changes: Changes) -> None:
        self._tables = tables
        self._changes = changes
