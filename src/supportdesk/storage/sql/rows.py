"""Rows and models: each model type moved in and out of its table through the one converter."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
from sqlalchemy import Table
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import Label
from sqlalchemy.sql.selectable import NamedFromClause

from ..._models import (
    AccountToken,
    Activity,
    Announcement,
    Article,
    Attachment,
    Collaborator,
    Contact,
    DeliveryState,
    Desk,
    Event,
    Notification,
    Organization,
    OutboxEntry,
    ReceivedMail,
    RequestType,
    SearchKind,
    SignupAnswers,
    Ticket,
    Timer,
)
from ..._serialization import from_data, to_data
from ...search import TITLE_WEIGHT, tokenize
from . import dialects
from .schema import (
    activities,
    announcements,
    articles,
    attachments,
    collaborators,
    contacts,
    desks,
    events,
    notifications,
    organizations,
    received_mail,
    request_types,
    signup_answers,
    signup_tokens,
    tickets,
    timers,
)

M = TypeVar("M", bound=attrs.AttrsInstance)


class Rows(Generic[M]):
    """Moves one model type in and out of its table, through the one converter."""

    def __init__(self, table: Table, model: type[M]) -> None:
        self.table = table
        self._model = model
        self._fields = tuple(field.name for field in attrs.fields(model))
        self._times = frozenset(
            column.name for column in table.columns if isinstance(column.type, dialects.UtcDateTime)
        )

    def row(self, model: M) -> dict[str, Any]:
        """The model as column values: plain data, but datetimes kept for the column type."""
        data: dict[str, Any] = to_data(model)
        for name in self._fields:
            if name in self._times:
                data[name] = getattr(model, name)
            elif isinstance(data[name], enum.Enum):
                # Drivers may adapt an enum by its name; the schema holds values.
                data[name] = data[name].value
        return data

    def model(self, row: RowMapping, prefix: str = "") -> M:
        """The model a stored row holds; in a join, under the names :meth:`labelled` gave."""
        return from_data({name: row[f"{prefix}{name}"] for name in self._fields}, self._model)

    def labelled(self, source: NamedFromClause, prefix: str) -> list[Label[Any]]:
        """The model's columns of ``source`` (its table, or an alias), named ``prefix`` + field.

        So that a join reads several models in one row without their names clashing.
        """
        return [source.c[name].label(f"{prefix}{name}") for name in self._fields]

    def joined(self, row: RowMapping, prefix: str) -> M | None:
        """The model :meth:`labelled` read in ``row``, or None where an outer join found none."""
        return None if row[f"{prefix}id"] is None else self.model(row, prefix)


ORGANIZATIONS = Rows(organizations, Organization)
RECEIVED_MAIL = Rows(received_mail, ReceivedMail)
CONTACTS = Rows(contacts, Contact)
DESKS = Rows(desks, Desk)
REQUEST_TYPES = Rows(request_types, RequestType)
TICKETS = Rows(tickets, Ticket)
ACTIVITIES = Rows(activities, Activity)
COLLABORATORS = Rows(collaborators, Collaborator)
ATTACHMENTS = Rows(attachments, Attachment)
TIMERS = Rows(timers, Timer)
EVENTS = Rows(events, Event)
NOTIFICATIONS = Rows(notifications, Notification)
SIGNUP_TOKENS = Rows(signup_tokens, AccountToken)
SIGNUP_ANSWERS = Rows(signup_answers, SignupAnswers)
ANNOUNCEMENTS = Rows(announcements, Announcement)
ARTICLES = Rows(articles, Article)


def outbox_entry(row: RowMapping) -> OutboxEntry:
    """An outbox row as the event and the state of its delivery."""
    return OutboxEntry(
        event=EVENTS.model(row),
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"],
        claimed_until=row["claimed_until"],
        claimed_by=row["claimed_by"],
        finished_at=row["finished_at"],
    )


def outbox_row(event: Event, secret_until: datetime | None = None) -> dict[str, Any]:
    """A new event's row: its delivery pending, due at the event's time, unleased.

    ``secret_until``: until when the payload keeps its secrets, if it has any.
    """
    return {
        **EVENTS.row(event),
        "state": DeliveryState.PENDING.value,
        "attempts": 0,
        "last_error": None,
        "next_attempt_at": event.at,
        "claimed_until": None,
        "claimed_by": None,
        "finished_at": None,
        "secret_until": secret_until,
    }


@attrs.frozen
class Searchable:
    """One field of a search target, as the search index stores it."""

    field: str
    text: str
    weight: float = 1.0
    internal: bool = False

    def row(self, kind: SearchKind, target_id: str) -> dict[str, Any]:
        """The ``search_fields`` row of this field of target ``kind``/``target_id``."""
        return {
            "kind": kind.value,
            "target_id": target_id,
            "field": self.field,
            "text": self.text,
            "tokens": " ".join(tokenize(self.text)),
            "weight": self.weight,
            "internal": self.internal,
        }


def ticket_fields(ticket: Ticket) -> tuple[Searchable, ...]:
    """What search indexes of a ticket itself; its activity entries are fields of their own."""
    return (
        Searchable("title", f"{ticket.reference} {ticket.summary}", TITLE_WEIGHT),
        Searchable("description", ticket.description),
    )
