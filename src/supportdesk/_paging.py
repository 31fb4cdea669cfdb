"""Paging: page sizes, the page in a fetch of one row more, and opaque cursors."""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from . import _base64
from ._errors import ValidationError
from ._input import ID_TEXT, check_type, text_problem
from ._models import TicketRow
from .storage.protocol import TicketSort

T = TypeVar("T")

MAX_SEARCH_OFFSET = 10_000
"""How many ranked search results pages may skip: a search goes no deeper."""

_CURSOR_LENGTH = 512
"""Longer than any cursor the library writes."""

_OFFSET = re.compile(r"[1-9][0-9]{0,8}", re.ASCII)


def _check_page_size(limit: int, most: int, things: str) -> None:
    check_type("limit", limit, int)
    if not 1 <= limit <= most:
        raise ValidationError({"limit": f"ask for 1 to {most} {things} per page, not {limit}"})


def _one_page(found: Sequence[T], limit: int) -> tuple[tuple[T, ...], bool]:
    """The page in ``found``, fetched with ``limit + 1``, and whether another page follows."""
    return tuple(found[:limit]), len(found) > limit


def _ticket_cursor(ticket: TicketRow, sort: TicketSort) -> str:
    moment = ticket.created_at
    if sort is TicketSort.RECENTLY_UPDATED:
        moment = ticket.updated_at
    elif sort is TicketSort.SLA_DUE and ticket.sla_due_at is not None:
        moment = ticket.sla_due_at
    return _keyset_cursor(moment, ticket.id)


def _keyset_cursor(moment: datetime, key: str) -> str:
    """The cursor of a list ordered by time and id, which :func:`_decode_cursor` reads."""
    return _encode_cursor(moment.isoformat(), key)


def _encode_cursor(*parts: str) -> str:
    """An opaque page cursor holding ``parts``."""
    return _base64.encode("|".join(parts).encode())


def _cursor_parts(cursor: str, count: int) -> list[str]:
    check_type("cursor", cursor, str)
    if len(cursor) > _CURSOR_LENGTH:
        raise _bad_cursor()
    try:
        raw = _base64.decode(cursor).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise _bad_cursor() from error
    parts = raw.split("|", count - 1)
    if len(parts) != count:
        raise _bad_cursor()
    return parts


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The keyset position (time, id) in a list's cursor."""
    if cursor is None:
        return None
    moment, key = _cursor_parts(cursor, 2)
    if text_problem(key, max_length=ID_TEXT, one_line=True) is not None:
        raise _bad_cursor()
    try:
        at = datetime.fromisoformat(moment)
        # The library writes aware times only, and any of them is a time in UTC.
        utc = None if at.utcoffset() is None else at.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise _bad_cursor() from error
    if utc is None:
        raise _bad_cursor()
    return utc, key


def _decode_offset(cursor: str | None) -> int:
    """How many ranked results a search cursor skips."""
    if cursor is None:
        return 0
    (offset,) = _cursor_parts(cursor, 1)
    if _OFFSET.fullmatch(offset) is None or int(offset) > MAX_SEARCH_OFFSET:
        raise _bad_cursor()
    return int(offset)


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": "not a cursor from a previous page"})
