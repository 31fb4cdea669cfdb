"""The SQL schema: one MetaData holding every table and index the SQL store uses, by area.

Column names equal the model attribute names, so that a row and
:func:`~supportdesk.to_data` of its model line up.  The Alembic revisions,
run in turn, create exactly this schema; a test keeps the two equal.
"""

from ._columns import DELIVERED, PENDING, REJECTED, SCANNING, metadata
from .content import announcements, articles, search_fields
from .delivery import events, notifications, received_mail, timers
from .directory import (
    contact_desks,
    contacts,
    desk_sequences,
    desks,
    organizations,
    password_hashes,
    request_types,
    signup_answers,
    signup_tokens,
)
from .tickets import activities, attachments, collaborators, email_opt_outs, muted, tickets

__all__ = [
    "DELIVERED",
    "PENDING",
    "REJECTED",
    "SCANNING",
    "activities",
    "announcements",
    "articles",
    "attachments",
    "collaborators",
    "contact_desks",
    "contacts",
    "desk_sequences",
    "desks",
    "email_opt_outs",
    "events",
    "metadata",
    "muted",
    "notifications",
    "organizations",
    "password_hashes",
    "received_mail",
    "request_types",
    "search_fields",
    "signup_answers",
    "signup_tokens",
    "tickets",
    "timers",
]
