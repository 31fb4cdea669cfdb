"""Statements built once, at import: plain Core ones, and per dialect those with ON CONFLICT.

SQLAlchemy finds the compiled form of a statement object in its cache without
building and hashing it again on every call.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from ..._models import (
    DeliveryState,
    TimerState,
)
from . import dialects
from .schema import (
    PENDING,
    REJECTED,
    SCANNING,
    activities,
    announcements,
    articles,
    attachments,
    collaborators,
    contact_desks,
    contacts,
    desk_sequences,
    desks,
    events,
    muted,
    notifications,
    organizations,
    password_hashes,
    request_types,
    search_fields,
    signup_tokens,
    tickets,
    timers,
)


def _by_id(table: sa.Table) -> sa.Select[Any]:
    return sa.select(table).where(table.c.id == sa.bindparam("id"))


# Statements built once: SQLAlchemy then finds their compiled form in its cache
# without building and hashing them again on every call.
GET_ORGANIZATION = _by_id(organizations)
GET_CONTACT = _by_id(contacts)
GET_CONTACT_BY_EMAIL = sa.select(contacts).where(contacts.c.email == sa.bindparam("email"))
# The desks a contact no longer works on; an empty list of desks leaves none.
LEAVE_DESKS = contact_desks.delete().where(
    contact_desks.c.contact_id == sa.bindparam("match_contact_id"),
    contact_desks.c.desk_id.not_in(sa.bindparam("desk_ids", expanding=True)),
)
GET_SIGNUP_TOKEN = sa.select(signup_tokens).where(
    signup_tokens.c.token_hash == sa.bindparam("token_hash")
)
USE_SIGNUP_TOKEN = (
    signup_tokens.update()
    .where(
        signup_tokens.c.token_hash == sa.bindparam("match_hash"), signup_tokens.c.used_at.is_(None)
    )
    .values(used_at=sa.bindparam("now"))
)
GET_PASSWORD_HASH = sa.select(password_hashes.c.password_hash).where(
    password_hashes.c.contact_id == sa.bindparam("contact_id")
)
REMOVE_PASSWORD_HASH = password_hashes.delete().where(
    password_hashes.c.contact_id == sa.bindparam("contact_id")
)
GET_DESK = _by_id(desks)
LIST_DESKS = sa.select(desks).order_by(desks.c.name, desks.c.id)
GET_REQUEST_TYPE = _by_id(request_types)
LIST_REQUEST_TYPES = (
    sa.select(request_types)
    .where(request_types.c.desk_id == sa.bindparam("desk_id"))
    .order_by(request_types.c.position)
)
GET_TICKET = _by_id(tickets)
GET_TICKET_BY_REFERENCE = sa.select(tickets).where(tickets.c.reference == sa.bindparam("reference"))
TICKET_VERSION = sa.select(tickets.c.version).where(tickets.c.id == sa.bindparam("id"))
# In UPDATEs, binds named like a column would clash with the SET values.
UPDATE_TICKET = tickets.update().where(
    tickets.c.id == sa.bindparam("match_id"), tickets.c.version == sa.bindparam("match_version")
)
TOUCH_TICKET = (
    tickets.update()
    .where(tickets.c.id == sa.bindparam("match_id"), tickets.c.updated_at < sa.bindparam("at"))
    .values(updated_at=sa.bindparam("at"))
)
# Appends to one ticket queue on its row; FOR NO KEY UPDATE, unlike FOR
# UPDATE, leaves the row free for the key-share locks foreign keys take.
# SQLite renders no lock: BEGIN IMMEDIATE already admits one writer.
LOCK_TICKET = (
    sa.select(tickets.c.id)
    .where(tickets.c.id == sa.bindparam("log_ticket_id"))
    .with_for_update(key_share=True)
)
APPEND_ACTIVITY = (
    activities.insert()
    .values(
        seq=sa.select(sa.func.coalesce(sa.func.max(activities.c.seq), 0) + 1)
        .where(activities.c.ticket_id == sa.bindparam("log_ticket_id"))
        .scalar_subquery()
    )
    .returning(activities.c.seq)
)
LIST_ACTIVITIES = (
    sa.select(activities)
    .where(activities.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(activities.c.seq)
)
LIST_PUBLIC_ACTIVITIES = LIST_ACTIVITIES.where(activities.c.internal == sa.false())
REMOVE_COLLABORATOR = collaborators.delete().where(
    collaborators.c.ticket_id == sa.bindparam("ticket_id"),
    collaborators.c.contact_id == sa.bindparam("contact_id"),
)
LIST_COLLABORATORS = (
    sa.select(collaborators)
    .where(collaborators.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(collaborators.c.position)
)
UNMUTE = muted.delete().where(
    muted.c.ticket_id == sa.bindparam("ticket_id"), muted.c.contact_id == sa.bindparam("contact_id")
)
MUTED_CONTACTS = sa.select(muted.c.contact_id).where(muted.c.ticket_id == sa.bindparam("ticket_id"))
GET_ATTACHMENT = _by_id(attachments)
NOT_REJECTED = attachments.c.scan_status != REJECTED
_TICKET_ATTACHMENTS = (
    sa.select(attachments)
    .where(attachments.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(attachments.c.position)
)
LIST_ATTACHMENTS: dict[tuple[bool, bool], sa.Select[Any]] = {
    # By (include_internal, include_rejected).
    (True, True): _TICKET_ATTACHMENTS,
    (True, False): _TICKET_ATTACHMENTS.where(NOT_REJECTED),
    (False, True): _TICKET_ATTACHMENTS.where(attachments.c.internal == sa.false()),
    (False, False): _TICKET_ATTACHMENTS.where(attachments.c.internal == sa.false(), NOT_REJECTED),
}
ATTACHMENT_USAGE = sa.select(
    sa.func.count().label("files"),
    sa.func.coalesce(sa.func.sum(attachments.c.size), 0).label("size"),
).where(attachments.c.ticket_id == sa.bindparam("ticket_id"), NOT_REJECTED)
# One UPDATE both checks and records: of two workers, the second gets no row.
FINISH_SCAN = (
    attachments.update()
    .where(
        attachments.c.id == sa.bindparam("match_id"),
        attachments.c.scan_status == SCANNING,
    )
    .values(scan_status=sa.bindparam("new_status"), rejection_reason=sa.bindparam("reason"))
    .returning(*attachments.c)
)
ATTACHMENTS_TO_SCAN = (
    sa.select(attachments)
    .where(attachments.c.scan_status == SCANNING)
    .order_by(attachments.c.uploaded_at, attachments.c.position)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
KNOWN_BLOB_KEYS = sa.select(attachments.c.blob_key).where(
    attachments.c.blob_key.in_(sa.bindparam("keys", expanding=True)), NOT_REJECTED
)
KEYS_PER_QUERY = 900
"""Blob keys looked up per statement: below SQLite's oldest limit of 999 parameters."""
IS_PENDING = timers.c.state == PENDING
CANCEL_TIMERS = (
    timers.update()
    .where(timers.c.ticket_id == sa.bindparam("match_ticket_id"), IS_PENDING)
    .values(state=TimerState.CANCELED.value, done_at=sa.bindparam("now"))
)
PENDING_TIMERS = (
    sa.select(timers)
    .where(timers.c.ticket_id == sa.bindparam("ticket_id"), IS_PENDING)
    .order_by(timers.c.due_at, timers.c.id)
)
# Postgres: concurrent sweeps skip each other's claimed rows instead of
# waiting for them.  SQLite renders no lock: one writer at a time.
CLAIM_DUE_TIMERS = (
    sa.select(timers)
    .where(IS_PENDING, timers.c.due_at <= sa.bindparam("now"))
    .order_by(timers.c.due_at, timers.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
FINISH_TIMER = (
    timers.update()
    .where(timers.c.id == sa.bindparam("match_id"))
    .values(state=sa.bindparam("new_state"), done_at=sa.bindparam("now"))
)
NEXT_TIMER_DUE = sa.select(sa.func.min(timers.c.due_at)).where(IS_PENDING)
LIST_EVENTS = sa.select(events).order_by(events.c.position)
LIST_TICKET_EVENTS = LIST_EVENTS.where(events.c.ticket_id == sa.bindparam("ticket_id"))
EVENT_IS_PENDING = events.c.state == PENDING
_earlier = events.alias("earlier")
# A ticket's events go out one at a time: only its first pending one may be
# claimed.  Postgres skips entries other dispatchers hold; an entry they
# hold still holds back its ticket's later ones, as it is still pending.
CLAIM_EVENTS = (
    sa.select(events)
    .where(
        EVENT_IS_PENDING,
        events.c.next_attempt_at <= sa.bindparam("now"),
        sa.or_(events.c.claimed_until.is_(None), events.c.claimed_until <= sa.bindparam("now")),
        sa.or_(
            events.c.ticket_id.is_(None),
            ~sa.exists().where(
                _earlier.c.state == PENDING,
                _earlier.c.ticket_id == events.c.ticket_id,
                _earlier.c.position < events.c.position,
            ),
        ),
    )
    .order_by(events.c.position)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True, of=events)
)
LEASE_EVENTS = (
    events.update()
    .where(events.c.position.in_(sa.bindparam("positions", expanding=True)))
    .values(claimed_until=sa.bindparam("lease_until"))
)
EVENT_BY_ID = events.c.id == sa.bindparam("match_id")
DELIVER_EVENT = (
    events.update()
    .where(EVENT_BY_ID)
    .values(
        state=DeliveryState.DELIVERED.value, claimed_until=None, finished_at=sa.bindparam("now")
    )
)
FAIL_EVENT = (
    events.update()
    .where(EVENT_BY_ID)
    .values(attempts=events.c.attempts + 1, last_error=sa.bindparam("error"), claimed_until=None)
    .returning(*events.c)
)
RETRY_EVENT = FAIL_EVENT.values(
    state=DeliveryState.PENDING.value, next_attempt_at=sa.bindparam("retry_at")
)
PARK_EVENT = FAIL_EVENT.values(state=DeliveryState.PARKED.value, finished_at=sa.bindparam("now"))
REQUEUE_EVENT = (
    events.update()
    .where(EVENT_BY_ID, events.c.state == DeliveryState.PARKED.value)
    .values(
        state=DeliveryState.PENDING.value,
        attempts=0,
        next_attempt_at=sa.bindparam("now"),
        finished_at=None,
    )
)
GET_NOTIFICATION = _by_id(notifications)
IS_UNREAD = notifications.c.read_at.is_(None)
COUNT_UNREAD = sa.select(sa.func.count()).where(
    notifications.c.contact_id == sa.bindparam("contact_id"), IS_UNREAD
)
MARK_ALL_READ = (
    notifications.update()
    .where(notifications.c.contact_id == sa.bindparam("match_contact_id"), IS_UNREAD)
    .values(read_at=sa.bindparam("now"))
)
MARK_READ = MARK_ALL_READ.where(
    notifications.c.id.in_(sa.bindparam("notification_ids", expanding=True))
)
GET_ANNOUNCEMENT = _by_id(announcements)
DELETE_ANNOUNCEMENT = announcements.delete().where(announcements.c.id == sa.bindparam("id"))
GET_ARTICLE = _by_id(articles)
DELETE_ARTICLE = articles.delete().where(articles.c.id == sa.bindparam("id"))
UNINDEX = search_fields.delete().where(
    search_fields.c.kind == sa.bindparam("kind"),
    search_fields.c.target_id == sa.bindparam("target_id"),
)
CURRENT_REFERENCE = sa.select(desk_sequences.c.last_number).where(
    desk_sequences.c.desk_id == sa.bindparam("desk_id")
)


@functools.cache
def list_contacts(*, by_role: bool, by_state: bool, by_desk: bool) -> sa.Select[Any]:
    """Contacts by e-mail, filtered by the binds ``roles``, ``state`` and ``desk_id`` as asked.

    Built once per combination of filters: whom an event reaches is asked on every one.
    """
    statement = sa.select(contacts).order_by(contacts.c.email, contacts.c.id)
    if by_role:
        statement = statement.where(contacts.c.role.in_(sa.bindparam("roles", expanding=True)))
    if by_state:
        statement = statement.where(contacts.c.state == sa.bindparam("state"))
    if by_desk:
        # From the desk's index of members, not a scan of every contact.
        members = sa.select(contact_desks.c.contact_id).where(
            contact_desks.c.desk_id == sa.bindparam("desk_id")
        )
        statement = statement.where(contacts.c.id.in_(members))
    return statement


class Upserts:
    """The statements that need a dialect's ``ON CONFLICT``, built once per dialect."""

    def __init__(self, dialect_name: str) -> None:
        self.dialect_name = dialect_name
        insert = dialects.insert_for(dialect_name)
        self.organization = self._replace(insert, organizations)
        self.contact = self._replace(insert, contacts)
        self.contact_desk = insert(contact_desks).on_conflict_do_nothing()
        self.desk = self._replace(insert, desks)
        self.request_type = self._replace(insert, request_types)
        self.ticket = insert(tickets).on_conflict_do_nothing().returning(tickets.c.id)
        self.signup_token = (
            insert(signup_tokens).on_conflict_do_nothing().returning(signup_tokens.c.token_hash)
        )
        password = insert(password_hashes)
        self.password_hash = password.on_conflict_do_update(
            index_elements=[password_hashes.c.contact_id],
            set_={"password_hash": password.excluded.password_hash},
        )
        self.collaborator = insert(collaborators).on_conflict_do_nothing(
            index_elements=[collaborators.c.ticket_id, collaborators.c.contact_id]
        )
        self.mute = insert(muted).on_conflict_do_nothing()
        # No conflict target: a taken id or blob key alike inserts nothing.
        self.attachment = insert(attachments).on_conflict_do_nothing().returning(attachments.c.id)
        self.announcement = self._replace(insert, announcements)
        self.article = self._replace(insert, articles)
        field = insert(search_fields)
        indexed = ("text", "tokens", "weight", "internal")
        self.search_field = field.on_conflict_do_update(
            index_elements=[search_fields.c.kind, search_fields.c.target_id, search_fields.c.field],
            set_={name: field.excluded[name] for name in indexed},
            # An unchanged field is left alone: no rewrite of its full-text entry.
            where=sa.or_(*(search_fields.c[name] != field.excluded[name] for name in indexed)),
        )
        counter = insert(desk_sequences).values(desk_id=sa.bindparam("desk_id"), last_number=1)
        self.next_reference = counter.on_conflict_do_update(
            index_elements=[desk_sequences.c.desk_id],
            set_={"last_number": desk_sequences.c.last_number + 1},
        ).returning(desk_sequences.c.last_number)

    @staticmethod
    def _replace(insert: dialects.Insert, table: sa.Table) -> Any:
        # Insert or replace by id; a surrogate position keeps its first value.
        statement = insert(table)
        kept = {"id", "position"}
        return statement.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in kept},
        )


@functools.cache
def upserts(dialect_name: str) -> Upserts:
    """The dialect's upserts, built on first use."""
    return Upserts(dialect_name)
