"""The desks area: service desks, their request types and their reference sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..._models import Desk, RequestType


class Desks(Protocol):
    """Desks, request types, and the per-desk number behind each ticket's reference."""

    def put_desk(self, desk: Desk) -> None:
        """Insert or replace the desk; raises ``Conflict`` when another desk has its key."""
        ...

    def get_desk(self, desk_id: str) -> Desk | None:
        """The desk with that id."""
        ...

    def list_desks(self) -> Sequence[Desk]:
        """All desks, by name."""
        ...

    def put_request_type(self, request_type: RequestType) -> None:
        """Insert or replace the request type with ``request_type.id``."""
        ...

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        """The request type with that id."""
        ...

    def list_request_types(self, desk_id: str | None = None) -> Sequence[RequestType]:
        """A desk's request types in the order they were first put; with None, every desk's."""
        ...

    def claim_reference(self, desk_id: str) -> int:
        """The next number of the desk's reference sequence: 1, 2, ...

        No two committed tickets ever get the same number, even from
        concurrent transactions.  A number taken by a transaction that rolls
        back was never issued: an adapter may skip it (memory) or hand it out
        again (SQL, where the counter row rolls back too).
        """
        ...

    def get_next_reference(self, desk_id: str) -> int:
        """The number :meth:`claim_reference` would return now, without taking it.

        Only previews use it: nothing is reserved, and a concurrent
        transaction may take that number first.
        """
        ...

    def put_next_reference(self, desk_id: str, number: int) -> None:
        """Make :meth:`claim_reference` return ``number`` next (a desk moved from another system).

        Raises ``Conflict`` when the desk has already issued ``number`` or a
        later one: numbers are never reused, so a sequence only moves forward.
        Setting the number it would return anyway changes nothing.
        """
        ...
