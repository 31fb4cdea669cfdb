"""The SQL desks: desks, their request types and the counters behind ticket references."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..._errors import Conflict
from ..._models import Desk, RequestType
from . import dialects, rows
from ._transaction import Repository, by_id, upsert_by_id
from .schema import desk_sequences, desks, request_types

GET_DESK = by_id(desks)
LIST_DESKS = sa.select(desks).order_by(desks.c.name, desks.c.id)
GET_REQUEST_TYPE = by_id(request_types)
LIST_ALL_REQUEST_TYPES = sa.select(request_types).order_by(request_types.c.position)
LIST_REQUEST_TYPES = LIST_ALL_REQUEST_TYPES.where(
    request_types.c.desk_id == sa.bindparam("desk_id")
)
CURRENT_REFERENCE = sa.select(desk_sequences.c.last_number).where(
    desk_sequences.c.desk_id == sa.bindparam("desk_id")
)


@functools.cache
def _claim_reference(dialect_name: str) -> Any:
    insert = dialects.insert_for(dialect_name)
    counter = insert(desk_sequences).values(desk_id=sa.bindparam("desk_id"), last_number=1)
    return counter.on_conflict_do_update(
        index_elements=[desk_sequences.c.desk_id],
        set_={"last_number": desk_sequences.c.last_number + 1},
    ).returning(desk_sequences.c.last_number)


@functools.cache
def _put_next_reference(dialect_name: str) -> Any:
    insert = dialects.insert_for(dialect_name)
    counter = insert(desk_sequences).values(
        desk_id=sa.bindparam("desk_id"), last_number=sa.bindparam("last_number")
    )
    # Only forward: a sequence never moves back over numbers it issued.
    return counter.on_conflict_do_update(
        index_elements=[desk_sequences.c.desk_id],
        set_={"last_number": counter.excluded.last_number},
        where=desk_sequences.c.last_number < counter.excluded.last_number,
    )


class SqlDesks(Repository):
    """Desks and request types in SQL; each desk's last reference number in ``desk_sequences``."""

    def put_desk(self, desk: Desk) -> None:
        conflict = Conflict("desk", desk.key, "another desk has this key")
        statement = upsert_by_id(self._tx.dialect_name, desks)
        self._tx.replace_guarded(statement, rows.DESKS.row(desk), conflict)

    def get_desk(self, desk_id: str) -> Desk | None:
        return self._tx.one(rows.DESKS, GET_DESK, id=desk_id)

    def list_desks(self) -> Sequence[Desk]:
        return self._tx.all(rows.DESKS, LIST_DESKS)

    def put_request_type(self, request_type: RequestType) -> None:
        statement = upsert_by_id(self._tx.dialect_name, request_types)
        self._tx.execute(statement, rows.REQUEST_TYPES.row(request_type))

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        return self._tx.one(rows.REQUEST_TYPES, GET_REQUEST_TYPE, id=request_type_id)

    def list_request_types(self, desk_id: str | None = None) -> Sequence[RequestType]:
        if desk_id is None:
            return self._tx.all(rows.REQUEST_TYPES, LIST_ALL_REQUEST_TYPES)
        return self._tx.all(rows.REQUEST_TYPES, LIST_REQUEST_TYPES, desk_id=desk_id)

    def claim_reference(self, desk_id: str) -> int:
        # One upsert both creates the counter and takes the next number; on
        # Postgres its row lock makes concurrent creators take turns.
        claimed = self._tx.execute(_claim_reference(self._tx.dialect_name), {"desk_id": desk_id})
        return int(claimed.scalar_one())

    def get_next_reference(self, desk_id: str) -> int:
        last = self._tx.execute(CURRENT_REFERENCE, {"desk_id": desk_id}).scalar_one_or_none()
        return (last or 0) + 1

    def put_next_reference(self, desk_id: str, number: int) -> None:
        moved = self._tx.execute(
            _put_next_reference(self._tx.dialect_name),
            {"desk_id": desk_id, "last_number": number - 1},
        )
        if moved.rowcount == 1:
            return
        last = self._tx.execute(CURRENT_REFERENCE, {"desk_id": desk_id}).scalar_one()
        if last >= number:
            raise Conflict("desk", desk_id, f"references up to {last} are issued already")
