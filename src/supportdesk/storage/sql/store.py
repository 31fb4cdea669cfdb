"""The SQL store: units of work over SQLAlchemy Core, on SQLite and Postgres."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql import Executable

from ..._errors import Conflict, NotFound, StorageError
from ..._models import (
    Activity,
    ActivityKind,
    Announcement,
    Article,
    ArticleKind,
    Attachment,
    Audience,
    Collaborator,
    Contact,
    ContactState,
    DeliveryState,
    Desk,
    Event,
    Notification,
    Organization,
    OutboxEntry,
    RequestType,
    Role,
    ScanStatus,
    SearchHit,
    SearchKind,
    SignupToken,
    Ticket,
    Timer,
    TimerState,
    normalize_email,
)
from ...search import TAG_WEIGHT, TITLE_WEIGHT, snippet
from ..protocol import AttachmentUsage, SearchQuery, TicketQuery
from . import dialects, queries, rows, statements
from .rows import M
from .schema import announcements, articles, events


@contextmanager
def translated_errors(conflict: Conflict | None = None) -> Iterator[None]:
    """Turn driver errors into :class:`StorageError`, or a duplicate key into ``conflict``."""
    try:
        yield
    except IntegrityError as error:
        if conflict is not None and dialects.is_unique_violation(error):
            raise conflict from error
        raise StorageError(_describe(error)) from error
    except SQLAlchemyError as error:
        raise StorageError(_describe(error)) from error


def _describe(error: SQLAlchemyError) -> str:
    # The driver's own words, without SQLAlchemy's dump of the statement and
    # its parameters (which may hold personal data).
    cause = getattr(error, "orig", None) or error
    return f"the database failed: {type(cause).__name__}: {cause}".strip()


class SqlUnitOfWork:
    """One transaction on one connection of a :class:`SqlStore`."""

    def __init__(self, connection: Connection, upserts: statements.Upserts) -> None:
        self._connection = connection
        self._upserts = upserts
        # Tickets whose row this transaction has written or locked, and holds
        # until it ends: appends to them need no lock of their own.  On SQLite
        # (BEGIN IMMEDIATE: one writer at a time) a ticket read is held too.
        self._held: set[str] = set()
        self._one_writer = upserts.dialect_name == "sqlite"
        # The searchable text of each ticket this transaction read or wrote, by
        # version: an update that leaves it as it was leaves the index alone.
        self._searched: dict[str, tuple[int, tuple[rows.Searchable, ...]]] = {}

    def _execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] = (),
    ) -> CursorResult[Any]:
        with translated_errors():
            return self._connection.execute(statement, parameters or None)

    def _one(self, mapping: rows.Rows[M], statement: Executable, **parameters: Any) -> M | None:
        row = self._execute(statement, parameters).mappings().first()
        return None if row is None else mapping.model(row)

    def _all(self, mapping: rows.Rows[M], statement: Executable, **parameters: Any) -> list[M]:
        return [mapping.model(row) for row in self._execute(statement, parameters).mappings()]

    def _replace_guarded(
        self, statement: Executable, row: dict[str, Any], conflict: Conflict
    ) -> None:
        # A savepoint keeps the transaction usable after the duplicate key, as
        # Postgres otherwise aborts it: the caller may handle the Conflict.
        with translated_errors(conflict), self._connection.begin_nested():
            self._connection.execute(statement, row)

    def _index(self, kind: SearchKind, target_id: str, *fields: rows.Searchable) -> None:
        indexed = [field.row(kind, target_id) for field in fields]
        self._execute(self._upserts.search_field, indexed)

    def _unindex(self, kind: SearchKind, target_id: str) -> None:
        self._execute(statements.UNINDEX, {"kind": kind.value, "target_id": target_id})

    # Directory.

    def put_organization(self, organization: Organization) -> None:
        self._execute(self._upserts.organization, rows.ORGANIZATIONS.row(organization))

    def get_organization(self, organization_id: str) -> Organization | None:
        return self._one(rows.ORGANIZATIONS, statements.GET_ORGANIZATION, id=organization_id)

    def put_contact(self, contact: Contact) -> None:
        conflict = Conflict("contact", contact.email, "another contact has this e-mail")
        self._replace_guarded(self._upserts.contact, rows.CONTACTS.row(contact), conflict)
        desk_ids = sorted(contact.desk_ids)
        self._execute(
            statements.LEAVE_DESKS, {"match_contact_id": contact.id, "desk_ids": desk_ids}
        )
        if desk_ids:
            members = [{"contact_id": contact.id, "desk_id": desk_id} for desk_id in desk_ids]
            self._execute(self._upserts.contact_desk, members)

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._one(rows.CONTACTS, statements.GET_CONTACT, id=contact_id)

    def get_contact_by_email(self, email: str) -> Contact | None:
        return self._one(
            rows.CONTACTS, statements.GET_CONTACT_BY_EMAIL, email=normalize_email(email)
        )

    def list_contacts(
        self,
        *,
        roles: Collection[Role] | None = None,
        state: ContactState | None = None,
        desk_id: str | None = None,
    ) -> Sequence[Contact]:
        statement = statements.list_contacts(
            by_role=roles is not None, by_state=state is not None, by_desk=desk_id is not None
        )
        parameters = {
            "roles": sorted(role.value for role in roles or ()),
            "state": None if state is None else state.value,
            "desk_id": desk_id,
        }
        return self._all(rows.CONTACTS, statement, **parameters)

    def add_signup_token(self, token: SignupToken) -> None:
        row = rows.SIGNUP_TOKENS.row(token)
        if self._execute(self._upserts.signup_token, row).first() is None:
            raise Conflict("sign-up token", token.token_hash[:8], "this token hash exists")

    def get_signup_token(self, token_hash: str) -> SignupToken | None:
        return self._one(rows.SIGNUP_TOKENS, statements.GET_SIGNUP_TOKEN, token_hash=token_hash)

    def use_signup_token(self, token_hash: str, now: datetime) -> bool:
        # One UPDATE both checks and marks: of two racing users, one gets no row.
        used = self._execute(statements.USE_SIGNUP_TOKEN, {"match_hash": token_hash, "now": now})
        return used.rowcount == 1

    def set_password_hash(self, contact_id: str, password_hash: str | None) -> None:
        if password_hash is None:
            self._execute(statements.REMOVE_PASSWORD_HASH, {"contact_id": contact_id})
        else:
            row = {"contact_id": contact_id, "password_hash": password_hash}
            self._execute(self._upserts.password_hash, row)

    def get_password_hash(self, contact_id: str) -> str | None:
        found = self._execute(statements.GET_PASSWORD_HASH, {"contact_id": contact_id})
        password_hash: str | None = found.scalar_one_or_none()
        return password_hash

    def put_desk(self, desk: Desk) -> None:
        conflict = Conflict("desk", desk.key, "another desk has this key")
        self._replace_guarded(self._upserts.desk, rows.DESKS.row(desk), conflict)

    def get_desk(self, desk_id: str) -> Desk | None:
        return self._one(rows.DESKS, statements.GET_DESK, id=desk_id)

    def list_desks(self) -> Sequence[Desk]:
        return self._all(rows.DESKS, statements.LIST_DESKS)

    def put_request_type(self, request_type: RequestType) -> None:
        self._execute(self._upserts.request_type, rows.REQUEST_TYPES.row(request_type))

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        return self._one(rows.REQUEST_TYPES, statements.GET_REQUEST_TYPE, id=request_type_id)

    def list_request_types(self, desk_id: str) -> Sequence[RequestType]:
        return self._all(rows.REQUEST_TYPES, statements.LIST_REQUEST_TYPES, desk_id=desk_id)

    # Tickets.

    def allocate_reference(self, desk_id: str) -> int:
        # One upsert both creates the counter and takes the next number; on
        # Postgres its row lock makes concurrent creators take turns.
        number = self._execute(self._upserts.next_reference, {"desk_id": desk_id}).scalar_one()
        return int(number)

    def next_reference(self, desk_id: str) -> int:
        last = self._execute(
            statements.CURRENT_REFERENCE, {"desk_id": desk_id}
        ).scalar_one_or_none()
        return (last or 0) + 1

    def insert_ticket(self, ticket: Ticket) -> None:
        # ON CONFLICT DO NOTHING reports a taken id or reference without
        # aborting the transaction.
        inserted = self._execute(self._upserts.ticket, rows.TICKETS.row(ticket)).first()
        if inserted is None:
            raise Conflict("ticket", ticket.reference, "a ticket with this id or reference exists")
        self._held.add(ticket.id)
        self._index(SearchKind.TICKET, ticket.id, *rows.ticket_fields(ticket))
        self._seen(ticket)

    def update_ticket(self, ticket: Ticket) -> None:
        row = rows.TICKETS.row(ticket)
        row.update(match_id=row.pop("id"), match_version=ticket.version - 1)
        if self._execute(statements.UPDATE_TICKET, row).rowcount == 1:
            self._held.add(ticket.id)
            # Every update moves the version on: the stored text is the one read at it.
            fields = rows.ticket_fields(ticket)
            if self._searched.get(ticket.id) != (ticket.version - 1, fields):
                self._index(SearchKind.TICKET, ticket.id, *fields)
            self._searched[ticket.id] = (ticket.version, fields)
            return
        stored = self._execute(statements.TICKET_VERSION, {"id": ticket.id}).scalar_one_or_none()
        if stored is None:
            raise NotFound("ticket", ticket.id)
        raise Conflict(
            "ticket",
            ticket.reference,
            f"stored version is {stored}, the change was based on {ticket.version - 1}",
        )

    def touch_ticket(self, ticket_id: str, at: datetime) -> None:
        self._execute(statements.TOUCH_TICKET, {"match_id": ticket_id, "at": at})

    def _seen(self, ticket: Ticket | None) -> Ticket | None:
        if ticket is not None:
            self._searched[ticket.id] = (ticket.version, rows.ticket_fields(ticket))
            if self._one_writer:
                self._held.add(ticket.id)
        return ticket

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._seen(self._one(rows.TICKETS, statements.GET_TICKET, id=ticket_id))

    def get_ticket_by_reference(self, reference: str) -> Ticket | None:
        return self._seen(
            self._one(rows.TICKETS, statements.GET_TICKET_BY_REFERENCE, reference=reference.upper())
        )

    def find_tickets(self, query: TicketQuery) -> Sequence[Ticket]:
        if query.scope.is_empty:
            return []
        return self._all(rows.TICKETS, queries.find_statement(query))

    def count_tickets(self, query: TicketQuery) -> int:
        if query.scope.is_empty:
            return 0
        return int(self._execute(queries.count_statement(query)).scalar_one())

    # The activity log and who takes part.

    def append_activity(self, activity: Activity) -> Activity:
        lock = {"log_ticket_id": activity.ticket_id}
        if activity.ticket_id not in self._held:
            if self._execute(statements.LOCK_TICKET, lock).first() is None:
                raise NotFound("ticket", activity.ticket_id)
            self._held.add(activity.ticket_id)
        row = rows.ACTIVITIES.row(activity)
        del row["seq"]
        seq = self._execute(statements.APPEND_ACTIVITY, {**row, **lock}).scalar_one()
        if activity.body and activity.kind is not ActivityKind.CREATED:
            # The creation entry repeats the description, which is indexed already.
            field = rows.Searchable(
                f"activity:{activity.id}", activity.body, internal=activity.internal
            )
            self._index(SearchKind.TICKET, activity.ticket_id, field)
        return attrs.evolve(activity, seq=seq)

    def list_activities(self, ticket_id: str, *, include_internal: bool) -> Sequence[Activity]:
        statement = (
            statements.LIST_ACTIVITIES if include_internal else statements.LIST_PUBLIC_ACTIVITIES
        )
        return self._all(rows.ACTIVITIES, statement, ticket_id=ticket_id)

    def add_collaborator(self, collaborator: Collaborator) -> None:
        self._execute(self._upserts.collaborator, rows.COLLABORATORS.row(collaborator))

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        key = {"ticket_id": ticket_id, "contact_id": contact_id}
        return bool(self._execute(statements.REMOVE_COLLABORATOR, key).rowcount)

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        return self._all(rows.COLLABORATORS, statements.LIST_COLLABORATORS, ticket_id=ticket_id)

    def set_notifications(self, ticket_id: str, contact_id: str, enabled: bool) -> None:
        statement = statements.UNMUTE if enabled else self._upserts.mute
        self._execute(statement, {"ticket_id": ticket_id, "contact_id": contact_id})

    def muted_contacts(self, ticket_id: str) -> frozenset[str]:
        return frozenset(
            self._execute(statements.MUTED_CONTACTS, {"ticket_id": ticket_id}).scalars()
        )

    # Attachments.

    def add_attachment(self, attachment: Attachment) -> None:
        # ON CONFLICT DO NOTHING reports a taken id or blob key without
        # aborting the transaction.
        row = rows.ATTACHMENTS.row(attachment)
        if self._execute(self._upserts.attachment, row).first() is None:
            raise Conflict(
                "attachment", attachment.id, "an attachment with this id or blob key exists"
            )

    def get_attachment(self, attachment_id: str) -> Attachment | None:
        return self._one(rows.ATTACHMENTS, statements.GET_ATTACHMENT, id=attachment_id)

    def list_attachments(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        statement = statements.LIST_ATTACHMENTS[include_internal, include_rejected]
        return self._all(rows.ATTACHMENTS, statement, ticket_id=ticket_id)

    def attachment_usage(self, ticket_id: str) -> AttachmentUsage:
        usage = self._execute(statements.ATTACHMENT_USAGE, {"ticket_id": ticket_id}).one()
        return AttachmentUsage(files=int(usage.files), bytes=int(usage.size))

    def finish_scan(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        if status is ScanStatus.SCANNING:
            raise ValueError("finish_scan records a verdict: clean or rejected, not scanning")
        parameters = {
            "match_id": attachment_id,
            "new_status": status.value,
            "reason": reason if status is ScanStatus.REJECTED else None,
        }
        row = self._execute(statements.FINISH_SCAN, parameters).mappings().first()
        return None if row is None else rows.ATTACHMENTS.model(row)

    def attachments_to_scan(self, limit: int) -> Sequence[Attachment]:
        return self._all(rows.ATTACHMENTS, statements.ATTACHMENTS_TO_SCAN, limit=limit)

    def known_blob_keys(self, keys: Collection[str]) -> set[str]:
        wanted = sorted(set(keys))
        known: set[str] = set()
        for start in range(0, len(wanted), statements.KEYS_PER_QUERY):
            chunk = wanted[start : start + statements.KEYS_PER_QUERY]
            known.update(self._execute(statements.KNOWN_BLOB_KEYS, {"keys": chunk}).scalars())
        return known

    # Timers.

    def add_timers(self, timers: Collection[Timer]) -> None:
        if timers:
            self._execute(rows.TIMERS.table.insert(), [rows.TIMERS.row(timer) for timer in timers])

    def cancel_timers(self, ticket_id: str, now: datetime) -> int:
        return self._execute(
            statements.CANCEL_TIMERS, {"match_ticket_id": ticket_id, "now": now}
        ).rowcount

    def pending_timers(self, ticket_id: str) -> Sequence[Timer]:
        return self._all(rows.TIMERS, statements.PENDING_TIMERS, ticket_id=ticket_id)

    def claim_due_timers(self, now: datetime, limit: int) -> Sequence[Timer]:
        return self._all(rows.TIMERS, statements.CLAIM_DUE_TIMERS, now=now, limit=limit)

    def finish_timer(self, timer_id: str, state: TimerState, now: datetime) -> None:
        self._execute(
            statements.FINISH_TIMER, {"match_id": timer_id, "new_state": state.value, "now": now}
        )

    def next_timer_due(self) -> datetime | None:
        due: datetime | None = self._execute(statements.NEXT_TIMER_DUE).scalar_one()
        return due

    # Announcements and the knowledge base.

    def put_announcement(self, announcement: Announcement) -> None:
        self._execute(self._upserts.announcement, rows.ANNOUNCEMENTS.row(announcement))
        self._index(
            SearchKind.ANNOUNCEMENT,
            announcement.id,
            rows.Searchable("title", announcement.title, TITLE_WEIGHT),
            rows.Searchable("body", announcement.body),
        )

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        return self._one(rows.ANNOUNCEMENTS, statements.GET_ANNOUNCEMENT, id=announcement_id)

    def delete_announcement(self, announcement_id: str) -> bool:
        self._unindex(SearchKind.ANNOUNCEMENT, announcement_id)
        return self._execute(statements.DELETE_ANNOUNCEMENT, {"id": announcement_id}).rowcount == 1

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        statement = sa.select(announcements).order_by(
            announcements.c.active_from.desc().nulls_last(), announcements.c.id.desc()
        )
        if active_at is not None:
            statement = statement.where(queries.active_at(active_at))
        if audiences is not None:
            wanted = sorted(audience.value for audience in audiences)
            statement = statement.where(announcements.c.audience.in_(wanted))
        return self._all(rows.ANNOUNCEMENTS, statement)

    def put_article(self, article: Article) -> None:
        self._execute(self._upserts.article, rows.ARTICLES.row(article))
        self._index(
            SearchKind.ARTICLE,
            article.id,
            rows.Searchable("title", article.title, TITLE_WEIGHT),
            rows.Searchable("body", article.body),
            rows.Searchable("tags", " ".join(article.tags), TAG_WEIGHT),
        )

    def get_article(self, article_id: str) -> Article | None:
        return self._one(rows.ARTICLES, statements.GET_ARTICLE, id=article_id)

    def delete_article(self, article_id: str) -> bool:
        self._unindex(SearchKind.ARTICLE, article_id)
        return self._execute(statements.DELETE_ARTICLE, {"id": article_id}).rowcount == 1

    def list_articles(
        self,
        *,
        published_only: bool,
        kind: ArticleKind | None = None,
        tag: str | None = None,
    ) -> Sequence[Article]:
        statement = sa.select(articles)
        if published_only:
            statement = statement.where(articles.c.published == sa.true())
        if kind is not None:
            statement = statement.where(articles.c.kind == kind.value)
        found = self._all(rows.ARTICLES, statement)
        # Tags and titles compare by Python's casefold(), which SQL's lower()
        # does not match beyond ASCII; a knowledge base is small enough.
        if tag is not None:
            wanted = tag.casefold()
            found = [a for a in found if any(t.casefold() == wanted for t in a.tags)]
        return sorted(found, key=lambda article: (article.title.casefold(), article.id))

    # Search.

    def search(self, query: SearchQuery) -> Sequence[SearchHit]:
        if not query.terms or not query.kinds:
            return []
        statement = queries.search_statement(query, self._upserts.dialect_name)
        return [
            SearchHit(
                kind=SearchKind(row.kind),
                id=row.target_id,
                title=row.title,
                snippet=snippet(row.text, query.terms),
                reference=row.reference,
                score=float(row.score),
            )
            for row in self._execute(statement)
        ]

    # The outbox.

    def add_events(self, events: Collection[Event]) -> None:
        if events:
            self._execute(rows.EVENTS.table.insert(), [rows.outbox_row(event) for event in events])

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        if ticket_id is None:
            return self._all(rows.EVENTS, statements.LIST_EVENTS)
        return self._all(rows.EVENTS, statements.LIST_TICKET_EVENTS, ticket_id=ticket_id)

    def claim_events(
        self, now: datetime, limit: int, *, lease_until: datetime
    ) -> Sequence[OutboxEntry]:
        claimed = self._execute(statements.CLAIM_EVENTS, {"now": now, "limit": limit})
        due = claimed.mappings().all()
        if not due:
            return []
        positions = [row["position"] for row in due]
        self._execute(statements.LEASE_EVENTS, {"positions": positions, "lease_until": lease_until})
        return [attrs.evolve(rows.outbox_entry(row), claimed_until=lease_until) for row in due]

    def mark_event_delivered(self, event_id: str, now: datetime) -> None:
        if (
            self._execute(statements.DELIVER_EVENT, {"match_id": event_id, "now": now}).rowcount
            == 0
        ):
            raise NotFound("event", event_id)

    def mark_event_failed(
        self, event_id: str, *, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry:
        parameters = {"match_id": event_id, "error": error, "now": now, "retry_at": retry_at}
        statement = statements.PARK_EVENT if retry_at is None else statements.RETRY_EVENT
        row = self._execute(statement, parameters).mappings().first()
        if row is None:
            raise NotFound("event", event_id)
        return rows.outbox_entry(row)

    def requeue_event(self, event_id: str, now: datetime) -> bool:
        return (
            self._execute(statements.REQUEUE_EVENT, {"match_id": event_id, "now": now}).rowcount
            == 1
        )

    def list_outbox(
        self,
        *,
        state: DeliveryState | None = None,
        ticket_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[OutboxEntry]:
        statement = sa.select(events).order_by(events.c.position).limit(limit)
        if state is not None:
            statement = statement.where(events.c.state == state.value)
        if ticket_id is not None:
            statement = statement.where(events.c.ticket_id == ticket_id)
        return [rows.outbox_entry(row) for row in self._execute(statement).mappings()]

    # The in-app feed.

    def add_notifications(self, notifications: Collection[Notification]) -> None:
        if notifications:
            feed = [rows.NOTIFICATIONS.row(notification) for notification in notifications]
            self._execute(rows.NOTIFICATIONS.table.insert(), feed)

    def list_notifications(
        self,
        contact_id: str,
        *,
        unread_only: bool = False,
        limit: int = 25,
        before: tuple[datetime, str] | None = None,
    ) -> Sequence[Notification]:
        feed = rows.NOTIFICATIONS.table
        statement = (
            sa.select(feed)
            .where(feed.c.contact_id == contact_id)
            .order_by(feed.c.at.desc(), feed.c.id.desc())
            .limit(limit)
        )
        if unread_only:
            statement = statement.where(statements.IS_UNREAD)
        if before is not None:
            at, notification_id = before
            position = sa.tuple_(sa.literal(at, feed.c.at.type), sa.literal(notification_id))
            statement = statement.where(sa.tuple_(feed.c.at, feed.c.id) < position)
        return self._all(rows.NOTIFICATIONS, statement)

    def get_notification(self, notification_id: str) -> Notification | None:
        return self._one(rows.NOTIFICATIONS, statements.GET_NOTIFICATION, id=notification_id)

    def count_unread_notifications(self, contact_id: str) -> int:
        return int(self._execute(statements.COUNT_UNREAD, {"contact_id": contact_id}).scalar_one())

    def mark_notifications_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        parameters: dict[str, Any] = {"match_contact_id": contact_id, "now": now}
        statement = statements.MARK_ALL_READ
        if notification_ids is not None:
            statement = statements.MARK_READ
            parameters["notification_ids"] = sorted(notification_ids)
        return self._execute(statement, parameters).rowcount


class SqlStore:
    """A store in SQLite or PostgreSQL, through SQLAlchemy Core.

    Each unit of work is one connection and one transaction.  The schema must
    be at the head revision: run ``supportdesk db upgrade URL`` (or
    :func:`~supportdesk.storage.sql.upgrade`), or open the store with
    ``from_url(url, create=True)``.

    A SQLite engine gets the settings of :func:`make_engine` (WAL, busy timeout,
    foreign keys, ``BEGIN IMMEDIATE``) if it lacks them; give it one that has
    not connected yet.
    """

    def __init__(self, engine: Engine) -> None:
        self._upserts = statements.upserts(engine.dialect.name)
        dialects.configure_sqlite(engine)
        self._engine = engine
        self._turns: AbstractContextManager[object] = (
            threading.RLock() if dialects.shares_one_connection(engine) else nullcontext()
        )

    @classmethod
    def from_url(
        cls,
        url: str | sa.URL,
        *,
        synchronous: str = "NORMAL",
        echo: bool = False,
        create: bool = False,
    ) -> SqlStore:
        """A store on the database at ``url`` (``sqlite:///path``, ``postgresql+psycopg://...``).

        :param synchronous: SQLite's ``PRAGMA synchronous``; NORMAL is durable
            across application crashes in WAL mode, FULL across power loss too.
        :param echo: log every statement (SQLAlchemy's ``echo``).
        :param create: bring the schema to the head revision first, instead of
            requiring it to be there already.
        :raises StorageError: when the database is unreachable or its schema
            is not at the head revision (and ``create`` is false).
        """
        from .migrate import require_head, upgrade

        engine = dialects.make_engine(url, synchronous=synchronous, echo=echo)
        try:
            store = cls(engine)
            if create:
                upgrade(engine)
            else:
                require_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine the store runs on."""
        return self._engine

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises.

        :raises StorageError: when the database fails, the driver's error chained.
        """
        with self._turns, translated_errors(), self._engine.begin() as connection:
            yield SqlUnitOfWork(connection, self._upserts)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()
