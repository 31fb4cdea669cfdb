"""The storage contract: what every adapter (memory, SQLite, Postgres) must do, method by method."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import attrs

from .._models import (
    Activity,
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
)
from ..access import TicketScope


class TicketSort(enum.StrEnum):
    """Orders of a ticket list; ties break on the ticket id in the same direction."""

    NEWEST = "newest"
    """Newest created first."""
    OLDEST = "oldest"
    """Oldest created first."""
    RECENTLY_UPDATED = "recently_updated"
    """Most recently updated first."""


@attrs.frozen(kw_only=True)
class TicketQuery:
    """A filtered, sorted slice of the tickets in ``scope``.

    Every non-None filter must hold.  ``after`` is the keyset position: the
    sort value and id of the last ticket of the previous page; the slice
    starts strictly after it.
    """

    scope: TicketScope
    requester_id: str | None = None
    organization_id: str | None = None
    collaborator_id: str | None = None
    statuses: frozenset[str] | None = None
    desk_id: str | None = None
    request_type_id: str | None = None
    sort: TicketSort = TicketSort.NEWEST
    limit: int = 25
    after: tuple[datetime, str] | None = None


@attrs.frozen(kw_only=True)
class SearchQuery:
    """A site search, already scoped to one actor.

    ``terms`` come from :func:`supportdesk.search.query_terms`, lower-cased;
    a hit must hold every one of them, as a whole word, in any of its
    searchable fields.  A compound term (``hha-13782``, ``e-mail``) matches
    as a whole (FTS: the phrase of its parts).  Which targets may be hit:

    - tickets in ``ticket_scope`` (the same scope lists use), matched on
      reference, summary, description and the bodies of public activity
      entries, and of internal ones (notes) only when ``include_internal``;
    - articles and FAQs, published ones only unless ``include_drafts``;
    - announcements for one of ``audiences`` that are active at ``now``
      (``active_from <= now < active_until``, a None bound being open).

    Only ``kinds`` are searched.  Results are ranked, best first: a term in
    a title, summary or reference weighs more than one in a body, so that
    of two otherwise equal hits the title match comes first.  Ties break by
    kind then id; the ranked list is sliced by ``offset`` and ``limit``.
    """

    terms: tuple[str, ...]
    kinds: frozenset[SearchKind] = frozenset(SearchKind)
    ticket_scope: TicketScope
    include_internal: bool = False
    include_drafts: bool = False
    audiences: frozenset[Audience] = frozenset({Audience.EVERYONE, Audience.CUSTOMERS})
    now: datetime
    limit: int = 20
    offset: int = 0


@attrs.frozen(kw_only=True)
class AttachmentUsage:
    """How much of its attachment limits a ticket uses: its files not ``rejected``."""

    files: int = 0
    bytes: int = 0
    """The sum of their sizes."""


class UnitOfWork(Protocol):
    """One transaction.  Nothing it writes is seen by others before it commits.

    Reads see this transaction's own writes.  Models go in and come out
    unchanged (equal by value).  A ``get_*`` returns None for an unknown id.
    """

    # Directory: organisations, contacts, desks, request types.

    def put_organization(self, organization: Organization) -> None:
        """Insert or replace the organisation with ``organization.id``."""
        ...

    def get_organization(self, organization_id: str) -> Organization | None:
        """The organisation with that id."""
        ...

    def put_contact(self, contact: Contact) -> None:
        """Insert or replace the contact with ``contact.id``.

        Raises :class:`~supportdesk.Conflict` when another contact has the
        same e-mail (compared case-insensitively).
        """
        ...

    def get_contact(self, contact_id: str) -> Contact | None:
        """The contact with that id."""
        ...

    def get_contact_by_email(self, email: str) -> Contact | None:
        """The contact with that e-mail, compared case-insensitively."""
        ...

    def list_contacts(
        self,
        *,
        roles: Collection[Role] | None = None,
        state: ContactState | None = None,
        desk_id: str | None = None,
    ) -> Sequence[Contact]:
        """The contacts matching every given filter, by e-mail.

        ``roles`` keeps contacts with one of those roles, ``state`` those in
        that state, and ``desk_id`` those whose ``desk_ids`` hold that desk
        (the desk's agents).  Used to find whom to notify, so it must see
        this transaction's own writes.
        """
        ...

    # Sign-up and passwords.

    def add_signup_token(self, token: SignupToken) -> None:
        """Store a new sign-up token; ``Conflict`` if its ``token_hash`` is taken."""
        ...

    def get_signup_token(self, token_hash: str) -> SignupToken | None:
        """The sign-up token with that hash, used or not, expired or not."""
        ...

    def use_signup_token(self, token_hash: str, now: datetime) -> bool:
        """Mark an unused token used at ``now``; False when unknown or already used.

        Atomic: of two transactions using the same token, one gets False
        (SQL: ``UPDATE ... SET used_at = :now WHERE token_hash = :hash AND
        used_at IS NULL`` and check the row count).  Expiry is the caller's
        check.
        """
        ...

    def set_password_hash(self, contact_id: str, password_hash: str | None) -> None:
        """Store the contact's password hash (a :class:`PasswordHasher` string); None removes it.

        Kept apart from :class:`~supportdesk.Contact` so that contacts handed
        around never carry it.
        """
        ...

    def get_password_hash(self, contact_id: str) -> str | None:
        """The contact's password hash, or None when they have no password."""
        ...

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

    def list_request_types(self, desk_id: str) -> Sequence[RequestType]:
        """A desk's request types in the order they were first put."""
        ...

    # Tickets.

    def allocate_reference(self, desk_id: str) -> int:
        """The next number of the desk's reference sequence: 1, 2, ...

        No two committed tickets ever get the same number, even from
        concurrent transactions.  A number taken by a transaction that rolls
        back was never issued: an adapter may skip it (memory) or hand it out
        again (SQL, where the counter row rolls back too).
        """
        ...

    def next_reference(self, desk_id: str) -> int:
        """The number :meth:`allocate_reference` would return now, without taking it.

        Only previews use it: nothing is reserved, and a concurrent
        transaction may take that number first.
        """
        ...

    def insert_ticket(self, ticket: Ticket) -> None:
        """Store a new ticket; ``Conflict`` if its id or reference is taken."""
        ...

    def update_ticket(self, ticket: Ticket) -> None:
        """Replace a ticket whose stored version is ``ticket.version - 1``.

        Raises ``Conflict`` when the stored version differs (a concurrent
        change) and ``NotFound`` when there is no such ticket.
        """
        ...

    def touch_ticket(self, ticket_id: str, at: datetime) -> None:
        """Move the ticket's ``updated_at`` forward to ``at`` without a version check.

        Appends (updates, notes) use this so that they never conflict with each
        other; a later ``updated_at`` is never moved back.
        """
        ...

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        """The ticket with that id, whoever asks: access is the caller's job."""
        ...

    def get_ticket_by_reference(self, reference: str) -> Ticket | None:
        """The ticket with that reference (``HHA-13782``)."""
        ...

    def find_tickets(self, query: TicketQuery) -> Sequence[Ticket]:
        """Up to ``query.limit`` tickets matching ``query``, in its order."""
        ...

    def count_tickets(self, query: TicketQuery) -> int:
        """How many tickets match ``query``, ignoring its limit and position."""
        ...

    # The activity log and who takes part.

    def append_activity(self, activity: Activity) -> Activity:
        """Append to the ticket's log and return the entry with its ``seq``.

        ``seq`` is one more than the ticket's last entry; appends by
        concurrent transactions never conflict with each other.
        """
        ...

    def list_activities(self, ticket_id: str, *, include_internal: bool) -> Sequence[Activity]:
        """The ticket's log in ``seq`` order, without internal entries unless asked."""
        ...

    def add_collaborator(self, collaborator: Collaborator) -> None:
        """Share the ticket with a contact; adding one twice keeps the first."""
        ...

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        """Stop sharing; False when the contact was no collaborator."""
        ...

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        """The ticket's collaborators, in the order they were added."""
        ...

    def set_notifications(self, ticket_id: str, contact_id: str, enabled: bool) -> None:
        """Switch a participant's notifications about one ticket on or off."""
        ...

    def muted_contacts(self, ticket_id: str) -> frozenset[str]:
        """The contacts who switched this ticket's notifications off."""
        ...

    # Attachments (metadata; the bytes are in a blob store).

    def add_attachment(self, attachment: Attachment) -> None:
        """Store a new attachment's metadata.

        Raises ``Conflict`` when its ``id`` or its ``blob_key`` is taken: two
        attachments never share a blob.  The store keeps the order
        attachments were added in (SQL: an autoincrement position column);
        "in the order added" below means that order.
        """
        ...

    def get_attachment(self, attachment_id: str) -> Attachment | None:
        """The attachment with that id, whoever asks: access is the caller's job."""
        ...

    def list_attachments(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        """The ticket's attachments in the order added.

        Without ``include_internal``, those with ``internal`` set are left
        out; without ``include_rejected``, those whose ``scan_status`` is
        ``rejected``.  ``scanning`` and ``clean`` ones are always listed.
        """
        ...

    def attachment_usage(self, ticket_id: str) -> AttachmentUsage:
        """How many attachments the ticket has that are not ``rejected``, and their total size.

        Internal ones count too: the limits are the ticket's, whoever sees
        the files.  Sees this transaction's own writes.
        """
        ...

    def finish_scan(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        """Record the scanner's verdict on a ``scanning`` attachment and return it as stored.

        ``status`` is ``clean`` or ``rejected`` (``ValueError`` for
        ``scanning``); a rejected one gets ``reason`` as its
        ``rejection_reason``, a clean one keeps None whatever ``reason``
        says.  Returns None, changing nothing, when there is no such
        attachment or it is no longer ``scanning``: of two workers that
        scanned the same file, only the first verdict counts (SQL:
        ``UPDATE ... WHERE id = :id AND scan_status = 'scanning'`` and check
        the row count).
        """
        ...

    def attachments_to_scan(self, limit: int) -> Sequence[Attachment]:
        """Up to ``limit`` ``scanning`` attachments, oldest ``uploaded_at`` first.

        Ties break in the order added.  Nothing is claimed: workers running
        at once may get the same ones, and :meth:`finish_scan` keeps the
        first verdict.
        """
        ...

    def known_blob_keys(self, keys: Collection[str]) -> set[str]:
        """Those of ``keys`` that an attachment still needs: one not ``rejected`` has it as
        ``blob_key``.

        The orphan sweep deletes the blobs of the other keys, so it must see
        every committed attachment; a rejected attachment's blob is garbage.
        ``keys`` may hold hundreds of keys (SQL: one ``IN`` query, or a few).
        """
        ...

    # Timers.

    def add_timers(self, timers: Collection[Timer]) -> None:
        """Store new pending timers."""
        ...

    def cancel_timers(self, ticket_id: str, now: datetime) -> int:
        """Cancel every pending timer of the ticket; returns how many."""
        ...

    def pending_timers(self, ticket_id: str) -> Sequence[Timer]:
        """The ticket's pending timers, soonest first."""
        ...

    def claim_due_timers(self, now: datetime, limit: int) -> Sequence[Timer]:
        """Up to ``limit`` pending timers due at ``now``, oldest due first.

        The claim lasts until this transaction ends: a concurrent transaction
        never claims the same timer (it skips it), and a rolled-back claim
        leaves the timer pending for the next sweep.
        """
        ...

    def finish_timer(self, timer_id: str, state: TimerState, now: datetime) -> None:
        """Mark a claimed timer ``fired`` or ``skipped`` at ``now``."""
        ...

    def next_timer_due(self) -> datetime | None:
        """When the soonest pending timer is due, or None without any."""
        ...

    # Announcements and the knowledge base.

    def put_announcement(self, announcement: Announcement) -> None:
        """Insert or replace the announcement with ``announcement.id``; search sees it at once."""
        ...

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        """The announcement with that id."""
        ...

    def delete_announcement(self, announcement_id: str) -> bool:
        """Delete the announcement; False when there was none."""
        ...

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        """Announcements, newest ``active_from`` first (ties: newest id first).

        ``active_at`` keeps those active at that moment (as in
        :class:`SearchQuery`); ``audiences`` keeps those for one of them.
        """
        ...

    def put_article(self, article: Article) -> None:
        """Insert or replace the article with ``article.id``; search sees it at once."""
        ...

    def get_article(self, article_id: str) -> Article | None:
        """The article with that id, published or draft."""
        ...

    def delete_article(self, article_id: str) -> bool:
        """Delete the article; False when there was none."""
        ...

    def list_articles(
        self,
        *,
        published_only: bool,
        kind: ArticleKind | None = None,
        tag: str | None = None,
    ) -> Sequence[Article]:
        """Articles by title (case-insensitive), then id; filtered by kind and by a tag they carry.

        Tags compare case-insensitively.
        """
        ...

    # Search.

    def search(self, query: SearchQuery) -> Sequence[SearchHit]:
        """The hits of ``query``, best first; see :class:`SearchQuery` for what may match.

        Each hit's ``title`` is the ticket's summary or the content's title,
        ``reference`` the ticket's reference, and ``snippet`` a short excerpt
        of a field that matched and that the query may see (never an
        internal note unless ``include_internal``).  The in-memory store
        keeps a tokenised inverted index; SQL adapters use SQLite FTS5 or
        Postgres full-text search (``tsvector`` with a GIN index), indexing
        the same fields with the same visibility, and rank by their own
        relevance function.
        """
        ...

    # The outbox.

    def add_events(self, events: Collection[Event]) -> None:
        """Write domain events to the outbox, in this transaction, in the order given.

        Each enters as a ``pending`` :class:`~supportdesk.OutboxEntry` with no
        attempts, ``next_attempt_at`` equal to the event's ``at`` and no lease.
        The outbox keeps the order events were added in (SQL: an
        autoincrement position column); "oldest first" below means that order.
        """
        ...

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        """Outbox events, oldest first; only the ticket's when ``ticket_id`` is given."""
        ...

    def claim_events(
        self, now: datetime, limit: int, *, lease_until: datetime
    ) -> Sequence[OutboxEntry]:
        """Lease up to ``limit`` events due for delivery, oldest first.

        An entry may be claimed when it is ``pending``, its
        ``next_attempt_at`` is at or before ``now``, its lease is unset or
        ended (``claimed_until <= now``), and no earlier entry of the same
        ticket is still ``pending`` (leased, waiting for a retry or not yet
        due alike): a ticket's events go out one at a time, in order.  A
        ``parked`` entry no longer holds back the ticket's later events.
        Events without a ticket have no order to keep.

        The claimed entries get ``claimed_until = lease_until``, which this
        transaction writes, and are returned with it.  A concurrent claim
        never returns an entry claimed by a transaction in flight: SQL
        adapters select with ``FOR UPDATE SKIP LOCKED`` (Postgres; SQLite has
        one writer) and then set the lease.  A dispatcher that dies leaves
        its entries pending; they are claimed again once the lease ends.
        """
        ...

    def mark_event_delivered(self, event_id: str, now: datetime) -> None:
        """Record that the handler accepted the event: ``delivered`` at ``now``, lease cleared.

        Raises :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def mark_event_failed(
        self, event_id: str, *, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry:
        """Record a failed delivery and return the entry as stored.

        ``attempts`` grows by one, ``last_error`` becomes ``error`` and the
        lease is cleared.  With a ``retry_at`` the entry stays ``pending``
        with ``next_attempt_at = retry_at``; with None it is ``parked`` at
        ``now`` (``finished_at``) and never claimed again unless requeued.
        Raises :class:`~supportdesk.NotFound` for an unknown event.
        """
        ...

    def requeue_event(self, event_id: str, now: datetime) -> bool:
        """Make a parked entry ``pending`` again, due at ``now``, with zero attempts.

        ``last_error`` is kept for reference.  Returns False (and changes
        nothing) when there is no such entry or it is not ``parked``.
        """
        ...

    def list_outbox(
        self,
        *,
        state: DeliveryState | None = None,
        ticket_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[OutboxEntry]:
        """Up to ``limit`` outbox entries, oldest first, filtered by state and ticket."""
        ...

    # The in-app feed (the bell).

    def add_notifications(self, notifications: Collection[Notification]) -> None:
        """Store feed entries, written in the transaction of their event."""
        ...

    def list_notifications(
        self,
        contact_id: str,
        *,
        unread_only: bool = False,
        limit: int = 25,
        before: tuple[datetime, str] | None = None,
    ) -> Sequence[Notification]:
        """Up to ``limit`` of the contact's feed entries, newest first.

        Ordered by ``at`` then ``id``, both descending.  ``before`` is the
        keyset position (``at``, ``id``) of the last entry of the previous
        page; the page starts strictly after it.  ``unread_only`` keeps
        entries whose ``read_at`` is None.
        """
        ...

    def get_notification(self, notification_id: str) -> Notification | None:
        """The feed entry with that id, whoever it belongs to: ownership is the caller's job."""
        ...

    def count_unread_notifications(self, contact_id: str) -> int:
        """How many of the contact's feed entries are unread."""
        ...

    def mark_notifications_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        """Set ``read_at = now`` on the contact's unread entries; returns how many changed.

        ``notification_ids`` None means all of them.  Ids of other contacts'
        entries, or unknown ids, are ignored: they change nothing.
        """
        ...


class Store(Protocol):
    """A storage back end: hands out units of work."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
