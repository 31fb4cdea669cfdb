"""Opaque page cursors: keyset positions for lists and offsets for search."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from ._errors import ValidationError
from ._models import Ticket
from .storage.protocol import TicketSort


def _ticket_cursor(ticket: Ticket, sort: TicketSort) -> str:
    moment = ticket.updated_at if sort is TicketSort.RECENTLY_UPDATED else ticket.created_at
    return _encode_cursor(moment.isoformat(), ticket.id)


def _encode_cursor(*parts: str) -> str:
    """An opaque page cursor holding ``parts``."""
    raw = "|".join(parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_parts(cursor: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ValidationError({"cursor": "not a cursor from a previous page"}) from error
    parts = raw.split("|", count - 1)
    if len(parts) != count:
        raise ValidationError({"cursor": "not a cursor from a previous page"})
    return parts


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The keyset position (time, id) in a list's cursor."""
    if cursor is None:
        return None
    moment, key = _cursor_parts(cursor, 2)
    try:
        return datetime.fromisoformat(moment), key
    except ValueError as error:
        raise ValidationError({"cursor": "not a cursor from a previous page"}) from error


def _decode_offset(cursor: str | None) -> int:
    """How many ranked results a search cursor skips."""
    if cursor is None:
        return 0
    (offset,) = _cursor_parts(cursor, 1)
    if not offset.isdigit():
        raise ValidationError({"cursor": "not a cursor from a previous page"})
    return int(offset)
