"""The memory store's desks: desks, request types and each desk's reference counter."""

from __future__ import annotations

from collections.abc import Sequence

from ..._errors import Conflict
from ..._models import Desk, RequestType
from ._changes import Area


class DeskTables:
    """Desks and request types by id, and the last reference number taken per desk."""

    def __init__(self) -> None:
        self.desks: dict[str, Desk] = {}
        self.request_types: dict[str, RequestType] = {}
        self.references: dict[str, int] = {}


class MemoryDesks(Area[DeskTables]):
    """The desks area of a :class:`~.store.MemoryUnitOfWork`."""

    def put_desk(self, desk: Desk) -> None:
        for other in self._tables.desks.values():
            if other.key == desk.key and other.id != desk.id:
                raise Conflict("desk", desk.key, "another desk has this key")
        self._changes.set(self._tables.desks, desk.id, desk)

    def get_desk(self, desk_id: str) -> Desk | None:
        return self._tables.desks.get(desk_id)

    def list_desks(self) -> Sequence[Desk]:
        return sorted(self._tables.desks.values(), key=lambda desk: (desk.name, desk.id))

    def put_request_type(self, request_type: RequestType) -> None:
        self._changes.set(self._tables.request_types, request_type.id, request_type)

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        return self._tables.request_types.get(request_type_id)

    def list_request_types(self, desk_id: str | None = None) -> Sequence[RequestType]:
        every = self._tables.request_types.values()
        return [rt for rt in every if desk_id is None or rt.desk_id == desk_id]

    def claim_reference(self, desk_id: str) -> int:
        # Numbers are never handed out twice, even after a rollback: the
        # counter is deliberately not undone.
        number = self._tables.references.get(desk_id, 0) + 1
        self._tables.references[desk_id] = number
        return number

    def get_next_reference(self, desk_id: str) -> int:
        return self._tables.references.get(desk_id, 0) + 1

    def put_next_reference(self, desk_id: str, number: int) -> None:
        last = self._tables.references.get(desk_id, 0)
        if last >= number:
            raise Conflict("desk", desk_id, f"references up to {last} are issued already")
        self._changes.set(self._tables.references, desk_id, number - 1)
