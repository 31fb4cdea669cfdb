"""The in-memory store: for tests, demos and hosts that keep nothing across restarts."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import attrs

from .._errors import Conflict, NotFound
from .._models import (
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
)
from ..search import TAG_WEIGHT, TITLE_WEIGHT, IndexedText, Match, SearchIndex, snippet
from .protocol import AttachmentUsage, SearchQuery, TicketQuery, TicketSort


class _State:
    """Everything the store holds; mutated only by a unit of work holding the lock."""

    def __init__(self) -> None:
        self.organizations: dict[str, Organization] = {}
        self.contacts: dict[str, Contact] = {}
        self.contact_ids_by_email: dict[str, str] = {}
        self.contact_ids_by_desk: dict[str, dict[str, None]] = {}
        """Desk id -> ids of the contacts working on it, as an ordered set."""
        self.desks: dict[str, Desk] = {}
        self.request_types: dict[str, RequestType] = {}
        self.references: dict[str, int] = {}
        self.tickets: dict[str, Ticket] = {}
        self.ticket_ids_by_reference: dict[str, str] = {}
        self.ticket_ids_by_requester: dict[str, dict[str, None]] = {}
        """Requester id -> ids of their tickets, as an ordered set."""
        self.activities: dict[str, list[Activity]] = {}
        self.collaborators: dict[str, dict[str, Collaborator]] = {}
        self.muted: set[tuple[str, str]] = set()
        self.timers: dict[str, Timer] = {}
        self.pending_timers: dict[str, dict[str, Timer]] = {}
        """Ticket id -> timer id -> timer, for the pending timers only."""
        self.events: list[Event] = []
        self.outbox: dict[str, OutboxEntry] = {}
        self.outbox_positions: dict[str, int] = {}
        self.pending_events: dict[str, int] = {}
        """Event id -> outbox position, for the pending entries only."""
        self.notifications: dict[str, dict[str, Notification]] = {}
        """Contact id -> notification id -> feed entry."""
        self.notifications_by_id: dict[str, Notification] = {}
        self.signup_tokens: dict[str, SignupToken] = {}
        self.announcements: dict[str, Announcement] = {}
        self.articles: dict[str, Article] = {}
        self.index = SearchIndex()
        self.password_hashes: dict[str, str] = {}
        self.attachments: dict[str, Attachment] = {}
        """Attachment id -> attachment, in the order added."""
        self.attachment_ids_by_blob_key: dict[str, str] = {}


def _sort_key(query: TicketQuery) -> Callable[[Ticket], tuple[datetime, str]]:
    if query.sort is TicketSort.RECENTLY_UPDATED:
        return lambda ticket: (ticket.updated_at, ticket.id)
    return lambda ticket: (ticket.created_at, ticket.id)


class MemoryUnitOfWork:
    """A transaction over :class:`MemoryStore`: writes are undone if it rolls back."""

    def __init__(self, state: _State) -> None:
        self._state = state
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        """Undo every write of this unit of work, newest first."""
        while self._undo:
            self._undo.pop()()

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if key in table:
            old = table[key]
            self._undo.append(lambda: table.__setitem__(key, old))
        else:
            self._undo.append(lambda: table.pop(key, None))
        table[key] = value

    def _delete(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            old = table.pop(key)
            self._undo.append(lambda: table.__setitem__(key, old))

    def _file(self, table: dict[str, dict[str, Any]], key: str, member: str, value: Any) -> None:
        """Put ``member`` in the group ``table[key]``, making the group when there is none."""
        if key not in table:
            self._set(table, key, {})
        self._set(table[key], member, value)

    def _unfile(self, table: dict[str, dict[str, Any]], key: str, member: str) -> None:
        """Take ``member`` out of the group ``table[key]``; an emptied group goes too."""
        group = table.get(key)
        if group is not None:
            self._delete(group, member)
            if not group:
                self._delete(table, key)

    def _index(self, key: tuple[str, ...], field: IndexedText | None) -> None:
        index = self._state.index
        previous = index.put(key, field)

        def undo() -> None:
            index.put(key, previous)

        self._undo.append(undo)

    # Directory.

    def put_organization(self, organization: Organization) -> None:
        self._set(self._state.organizations, organization.id, organization)

    def get_organization(self, organization_id: str) -> Organization | None:
        return self._state.organizations.get(organization_id)

    def put_contact(self, contact: Contact) -> None:
        by_email = self._state.contact_ids_by_email
        holder = by_email.get(contact.email)
        if holder is not None and holder != contact.id:
            raise Conflict("contact", contact.email, "another contact has this e-mail")
        previous = self._state.contacts.get(contact.id)
        if previous is not None and previous.email != contact.email:
            self._delete(by_email, previous.email)
        self._set(by_email, contact.email, contact.id)
        by_desk = self._state.contact_ids_by_desk
        for desk_id in previous.desk_ids - contact.desk_ids if previous else ():
            self._unfile(by_desk, desk_id, contact.id)
        for desk_id in contact.desk_ids:
            self._file(by_desk, desk_id, contact.id, None)
        self._set(self._state.contacts, contact.id, contact)

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._state.contacts.get(contact_id)

    def get_contact_by_email(self, email: str) -> Contact | None:
        contact_id = self._state.contact_ids_by_email.get(email.strip().lower())
        return None if contact_id is None else self._state.contacts[contact_id]

    def list_contacts(
        self,
        *,
        roles: Collection[Role] | None = None,
        state: ContactState | None = None,
        desk_id: str | None = None,
    ) -> Sequence[Contact]:
        contacts: Iterable[Contact] = self._state.contacts.values()
        if desk_id is not None:
            members = self._state.contact_ids_by_desk.get(desk_id, {})
            contacts = [self._state.contacts[contact_id] for contact_id in members]
        found = [
            contact
            for contact in contacts
            if (roles is None or contact.role in roles)
            and (state is None or contact.state is state)
        ]
        return sorted(found, key=lambda contact: (contact.email, contact.id))

    def add_signup_token(self, token: SignupToken) -> None:
        if token.token_hash in self._state.signup_tokens:
            raise Conflict("sign-up token", token.token_hash[:8], "this token hash exists")
        self._set(self._state.signup_tokens, token.token_hash, token)

    def get_signup_token(self, token_hash: str) -> SignupToken | None:
        return self._state.signup_tokens.get(token_hash)

    def use_signup_token(self, token_hash: str, now: datetime) -> bool:
        token = self._state.signup_tokens.get(token_hash)
        if token is None or token.used_at is not None:
            return False
        self._set(self._state.signup_tokens, token_hash, attrs.evolve(token, used_at=now))
        return True

    def set_password_hash(self, contact_id: str, password_hash: str | None) -> None:
        if password_hash is None:
            self._delete(self._state.password_hashes, contact_id)
        else:
            self._set(self._state.password_hashes, contact_id, password_hash)

    def get_password_hash(self, contact_id: str) -> str | None:
        return self._state.password_hashes.get(contact_id)

    def put_desk(self, desk: Desk) -> None:
        for other in self._state.desks.values():
            if other.key == desk.key and other.id != desk.id:
                raise Conflict("desk", desk.key, "another desk has this key")
        self._set(self._state.desks, desk.id, desk)

    def get_desk(self, desk_id: str) -> Desk | None:
        return self._state.desks.get(desk_id)

    def list_desks(self) -> Sequence[Desk]:
        return sorted(self._state.desks.values(), key=lambda desk: (desk.name, desk.id))

    def put_request_type(self, request_type: RequestType) -> None:
        self._set(self._state.request_types, request_type.id, request_type)

    def get_request_type(self, request_type_id: str) -> RequestType | None:
        return self._state.request_types.get(request_type_id)

    def list_request_types(self, desk_id: str) -> Sequence[RequestType]:
        return [rt for rt in self._state.request_types.values() if rt.desk_id == desk_id]

    # Tickets.

    def allocate_reference(self, desk_id: str) -> int:
        # Numbers are never handed out twice, even after a rollback: the
        # counter is deliberately not undone.
        number = self._state.references.get(desk_id, 0) + 1
        self._state.references[desk_id] = number
        return number

    def next_reference(self, desk_id: str) -> int:
        return self._state.references.get(desk_id, 0) + 1

    def insert_ticket(self, ticket: Ticket) -> None:
        if ticket.id in self._state.tickets:
            raise Conflict("ticket", ticket.id, "a ticket with this id exists")
        if ticket.reference in self._state.ticket_ids_by_reference:
            raise Conflict("ticket", ticket.reference, "a ticket with this reference exists")
        self._set(self._state.tickets, ticket.id, ticket)
        self._set(self._state.ticket_ids_by_reference, ticket.reference, ticket.id)
        self._file(self._state.ticket_ids_by_requester, ticket.requester_id, ticket.id, None)
        self._index_ticket(ticket)

    def _index_ticket(self, ticket: Ticket) -> None:
        title = f"{ticket.reference} {ticket.summary}"
        kind = SearchKind.TICKET
        self._index(
            ("ticket", ticket.id, "title"),
            IndexedText.of(kind, ticket.id, title, weight=TITLE_WEIGHT),
        )
        self._index(
            ("ticket", ticket.id, "description"),
            IndexedText.of(kind, ticket.id, ticket.description),
        )

    def update_ticket(self, ticket: Ticket) -> None:
        stored = self._state.tickets.get(ticket.id)
        if stored is None:
            raise NotFound("ticket", ticket.id)
        if stored.version != ticket.version - 1:
            raise Conflict(
                "ticket",
                ticket.reference,
                f"stored version is {stored.version}, the change was based on {ticket.version - 1}",
            )
        self._set(self._state.tickets, ticket.id, ticket)
        if stored.requester_id != ticket.requester_id:
            self._unfile(self._state.ticket_ids_by_requester, stored.requester_id, ticket.id)
            self._file(self._state.ticket_ids_by_requester, ticket.requester_id, ticket.id, None)
        if (stored.summary, stored.description) != (ticket.summary, ticket.description):
            self._index_ticket(ticket)

    def touch_ticket(self, ticket_id: str, at: datetime) -> None:
        ticket = self._state.tickets[ticket_id]
        if at > ticket.updated_at:
            self._set(self._state.tickets, ticket_id, attrs.evolve(ticket, updated_at=at))

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._state.tickets.get(ticket_id)

    def get_ticket_by_reference(self, reference: str) -> Ticket | None:
        ticket_id = self._state.ticket_ids_by_reference.get(reference.upper())
        return None if ticket_id is None else self._state.tickets[ticket_id]

    def _matching(self, query: TicketQuery) -> Iterator[Ticket]:
        tickets: Iterable[Ticket] = self._state.tickets.values()
        if query.requester_id is not None:
            mine = self._state.ticket_ids_by_requester.get(query.requester_id, {})
            tickets = [self._state.tickets[ticket_id] for ticket_id in mine]
        for ticket in tickets:
            collaborators = self._state.collaborators.get(ticket.id, {})
            if query.scope.grant(ticket, collaborators) is None:
                continue
            if query.collaborator_id is not None and query.collaborator_id not in collaborators:
                continue
            if _filters_admit(query, ticket):
                yield ticket

    def find_tickets(self, query: TicketQuery) -> Sequence[Ticket]:
        key = _sort_key(query)
        descending = query.sort is not TicketSort.OLDEST
        found = sorted(self._matching(query), key=key, reverse=descending)
        if query.after is not None:
            after = query.after
            found = [t for t in found if (key(t) < after if descending else key(t) > after)]
        return found[: query.limit]

    def count_tickets(self, query: TicketQuery) -> int:
        return sum(1 for _ in self._matching(query))

    # The activity log and who takes part.

    def append_activity(self, activity: Activity) -> Activity:
        log = self._state.activities.setdefault(activity.ticket_id, [])
        entry = attrs.evolve(activity, seq=len(log) + 1)
        log.append(entry)
        self._undo.append(lambda: log.remove(entry))
        if entry.body and entry.kind is not ActivityKind.CREATED:
            # The creation entry repeats the description, which is indexed already.
            text = IndexedText.of(
                SearchKind.TICKET, entry.ticket_id, entry.body, internal=entry.internal
            )
            self._index(("activity", entry.id), text)
        return entry

    def list_activities(self, ticket_id: str, *, include_internal: bool) -> Sequence[Activity]:
        log = self._state.activities.get(ticket_id, [])
        return [entry for entry in log if include_internal or not entry.internal]

    def add_collaborator(self, collaborator: Collaborator) -> None:
        shared = self._state.collaborators.setdefault(collaborator.ticket_id, {})
        if collaborator.contact_id not in shared:
            self._set(shared, collaborator.contact_id, collaborator)

    def remove_collaborator(self, ticket_id: str, contact_id: str) -> bool:
        shared = self._state.collaborators.get(ticket_id, {})
        if contact_id not in shared:
            return False
        self._delete(shared, contact_id)
        return True

    def list_collaborators(self, ticket_id: str) -> Sequence[Collaborator]:
        return list(self._state.collaborators.get(ticket_id, {}).values())

    def set_notifications(self, ticket_id: str, contact_id: str, enabled: bool) -> None:
        key = (ticket_id, contact_id)
        muted = self._state.muted
        was_muted = key in muted
        if enabled:
            muted.discard(key)
        else:
            muted.add(key)
        self._undo.append(lambda: muted.add(key) if was_muted else muted.discard(key))

    def muted_contacts(self, ticket_id: str) -> frozenset[str]:
        return frozenset(contact for ticket, contact in self._state.muted if ticket == ticket_id)

    # Attachments.

    def add_attachment(self, attachment: Attachment) -> None:
        if attachment.id in self._state.attachments:
            raise Conflict("attachment", attachment.id, "an attachment with this id exists")
        if attachment.blob_key in self._state.attachment_ids_by_blob_key:
            raise Conflict("attachment", attachment.blob_key, "another attachment has this blob")
        self._set(self._state.attachments, attachment.id, attachment)
        self._set(self._state.attachment_ids_by_blob_key, attachment.blob_key, attachment.id)

    def get_attachment(self, attachment_id: str) -> Attachment | None:
        return self._state.attachments.get(attachment_id)

    def list_attachments(
        self, ticket_id: str, *, include_internal: bool, include_rejected: bool
    ) -> Sequence[Attachment]:
        return [
            attachment
            for attachment in self._state.attachments.values()
            if attachment.ticket_id == ticket_id
            and (include_internal or not attachment.internal)
            and (include_rejected or attachment.scan_status is not ScanStatus.REJECTED)
        ]

    def attachment_usage(self, ticket_id: str) -> AttachmentUsage:
        kept = self.list_attachments(ticket_id, include_internal=True, include_rejected=False)
        return AttachmentUsage(files=len(kept), bytes=sum(a.size for a in kept))

    def finish_scan(
        self, attachment_id: str, status: ScanStatus, *, reason: str | None = None
    ) -> Attachment | None:
        if status is ScanStatus.SCANNING:
            raise ValueError("finish_scan records a verdict: clean or rejected, not scanning")
        stored = self._state.attachments.get(attachment_id)
        if stored is None or stored.scan_status is not ScanStatus.SCANNING:
            return None
        kept_reason = reason if status is ScanStatus.REJECTED else None
        finished = attrs.evolve(stored, scan_status=status, rejection_reason=kept_reason)
        self._set(self._state.attachments, attachment_id, finished)
        return finished

    def attachments_to_scan(self, limit: int) -> Sequence[Attachment]:
        waiting = [
            attachment
            for attachment in self._state.attachments.values()
            if attachment.scan_status is ScanStatus.SCANNING
        ]
        # sorted() is stable: equal upload times keep the order added.
        return sorted(waiting, key=lambda attachment: attachment.uploaded_at)[:limit]

    def known_blob_keys(self, keys: Collection[str]) -> set[str]:
        by_key = self._state.attachment_ids_by_blob_key
        return {
            key
            for key in keys
            if key in by_key
            and self._state.attachments[by_key[key]].scan_status is not ScanStatus.REJECTED
        }

    # Timers.

    def add_timers(self, timers: Collection[Timer]) -> None:
        for timer in timers:
            self._put_timer(timer)

    def _put_timer(self, timer: Timer) -> None:
        """Store ``timer``, keeping the index of pending timers in step."""
        previous = self._state.timers.get(timer.id)
        if previous is not None and previous.state is TimerState.PENDING:
            self._unfile(self._state.pending_timers, previous.ticket_id, timer.id)
        if timer.state is TimerState.PENDING:
            self._file(self._state.pending_timers, timer.ticket_id, timer.id, timer)
        self._set(self._state.timers, timer.id, timer)

    def _all_pending(self) -> Iterator[Timer]:
        for pending in self._state.pending_timers.values():
            yield from pending.values()

    def cancel_timers(self, ticket_id: str, now: datetime) -> int:
        pending = self.pending_timers(ticket_id)
        for timer in pending:
            self._put_timer(attrs.evolve(timer, state=TimerState.CANCELED, done_at=now))
        return len(pending)

    def pending_timers(self, ticket_id: str) -> Sequence[Timer]:
        return _soonest_first(iter(self._state.pending_timers.get(ticket_id, {}).values()))

    def claim_due_timers(self, now: datetime, limit: int) -> Sequence[Timer]:
        # The store's lock is held for the whole unit of work, so nobody else
        # can claim these timers before this transaction finishes them.
        due = _soonest_first(timer for timer in self._all_pending() if timer.due_at <= now)
        return due[:limit]

    def finish_timer(self, timer_id: str, state: TimerState, now: datetime) -> None:
        timer = self._state.timers[timer_id]
        self._put_timer(attrs.evolve(timer, state=state, done_at=now))

    def next_timer_due(self) -> datetime | None:
        return min((timer.due_at for timer in self._all_pending()), default=None)

    # Announcements and the knowledge base.

    def put_announcement(self, announcement: Announcement) -> None:
        self._set(self._state.announcements, announcement.id, announcement)
        self._index_content(SearchKind.ANNOUNCEMENT, announcement.id, announcement.title)
        self._index(
            ("announcement", announcement.id, "body"),
            IndexedText.of(SearchKind.ANNOUNCEMENT, announcement.id, announcement.body),
        )

    def _index_content(self, kind: SearchKind, target_id: str, title: str) -> None:
        text = IndexedText.of(kind, target_id, title, weight=TITLE_WEIGHT)
        self._index((kind.value, target_id, "title"), text)

    def get_announcement(self, announcement_id: str) -> Announcement | None:
        return self._state.announcements.get(announcement_id)

    def delete_announcement(self, announcement_id: str) -> bool:
        if announcement_id not in self._state.announcements:
            return False
        self._delete(self._state.announcements, announcement_id)
        for field in ("title", "body"):
            self._index(("announcement", announcement_id, field), None)
        return True

    def list_announcements(
        self, *, active_at: datetime | None = None, audiences: Collection[Audience] | None = None
    ) -> Sequence[Announcement]:
        found = [
            a
            for a in self._state.announcements.values()
            if (active_at is None or a.is_active(active_at))
            and (audiences is None or a.audience in audiences)
        ]
        return sorted(found, key=lambda a: (a.active_from or _EPOCH, a.id), reverse=True)

    def put_article(self, article: Article) -> None:
        self._set(self._state.articles, article.id, article)
        kind = SearchKind.ARTICLE
        self._index_content(kind, article.id, article.title)
        self._index(("article", article.id, "body"), IndexedText.of(kind, article.id, article.body))
        tags = IndexedText.of(kind, article.id, " ".join(article.tags), weight=TAG_WEIGHT)
        self._index(("article", article.id, "tags"), tags)

    def get_article(self, article_id: str) -> Article | None:
        return self._state.articles.get(article_id)

    def delete_article(self, article_id: str) -> bool:
        if article_id not in self._state.articles:
            return False
        self._delete(self._state.articles, article_id)
        for field in ("title", "body", "tags"):
            self._index(("article", article_id, field), None)
        return True

    def list_articles(
        self,
        *,
        published_only: bool,
        kind: ArticleKind | None = None,
        tag: str | None = None,
    ) -> Sequence[Article]:
        wanted = None if tag is None else tag.casefold()
        found = [
            a
            for a in self._state.articles.values()
            if (a.published or not published_only)
            and (kind is None or a.kind is kind)
            and (wanted is None or wanted in {t.casefold() for t in a.tags})
        ]
        return sorted(found, key=lambda a: (a.title.casefold(), a.id))

    # Search.

    def search(self, query: SearchQuery) -> Sequence[SearchHit]:
        matches = self._state.index.match(query.terms, include_internal=query.include_internal)
        hits = [
            hit
            for match in matches
            if match.kind in query.kinds and (hit := self._hit(match, query)) is not None
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.kind, hit.id))
        return hits[query.offset : query.offset + query.limit]

    def _hit(self, match: Match, query: SearchQuery) -> SearchHit | None:
        """The hit for a match the query may see, or None."""
        found = snippet(match.best.text, query.terms)
        hit = SearchHit(
            kind=match.kind, id=match.target_id, title="", snippet=found, score=match.score
        )
        if match.kind is SearchKind.TICKET:
            ticket = self._state.tickets[match.target_id]
            collaborators = self._state.collaborators.get(ticket.id, {})
            if query.ticket_scope.grant(ticket, collaborators) is None:
                return None
            return attrs.evolve(hit, title=ticket.summary, reference=ticket.reference)
        if match.kind is SearchKind.ARTICLE:
            article = self._state.articles[match.target_id]
            visible = article.published or query.include_drafts
            return attrs.evolve(hit, title=article.title) if visible else None
        announcement = self._state.announcements[match.target_id]
        shown = announcement.audience in query.audiences and announcement.is_active(query.now)
        return attrs.evolve(hit, title=announcement.title) if shown else None

    # The outbox.

    def add_events(self, events: Collection[Event]) -> None:
        log = self._state.events
        size = len(log)
        log.extend(events)
        self._undo.append(lambda: log.__delitem__(slice(size, None)))
        for position, event in enumerate(events, start=size):
            entry = OutboxEntry(event=event, next_attempt_at=event.at)
            self._set(self._state.outbox, event.id, entry)
            self._set(self._state.outbox_positions, event.id, position)
            self._set(self._state.pending_events, event.id, position)

    def list_events(self, ticket_id: str | None = None) -> Sequence[Event]:
        return [e for e in self._state.events if ticket_id is None or e.ticket_id == ticket_id]

    def claim_events(
        self, now: datetime, limit: int, *, lease_until: datetime
    ) -> Sequence[OutboxEntry]:
        claimed: list[OutboxEntry] = []
        held_back: set[str] = set()
        pending = sorted(self._state.pending_events.items(), key=lambda item: item[1])
        for event_id, _position in pending:
            if len(claimed) >= limit:
                break
            entry = self._state.outbox[event_id]
            ticket_id = entry.event.ticket_id
            if ticket_id is not None:
                if ticket_id in held_back:
                    continue
                held_back.add(ticket_id)
            leased = entry.claimed_until is not None and entry.claimed_until > now
            if entry.next_attempt_at <= now and not leased:
                lease = attrs.evolve(entry, claimed_until=lease_until)
                self._set(self._state.outbox, event_id, lease)
                claimed.append(lease)
        return claimed

    def _outbox_entry(self, event_id: str) -> OutboxEntry:
        entry = self._state.outbox.get(event_id)
        if entry is None:
            raise NotFound("event", event_id)
        return entry

    def _finish_event(self, entry: OutboxEntry) -> None:
        self._set(self._state.outbox, entry.event.id, entry)
        if entry.state is DeliveryState.PENDING:
            position = self._state.outbox_positions[entry.event.id]
            self._set(self._state.pending_events, entry.event.id, position)
        else:
            self._delete(self._state.pending_events, entry.event.id)

    def mark_event_delivered(self, event_id: str, now: datetime) -> None:
        entry = self._outbox_entry(event_id)
        self._finish_event(
            attrs.evolve(entry, state=DeliveryState.DELIVERED, claimed_until=None, finished_at=now)
        )

    def mark_event_failed(
        self, event_id: str, *, error: str, now: datetime, retry_at: datetime | None
    ) -> OutboxEntry:
        stored = self._outbox_entry(event_id)
        entry = attrs.evolve(
            stored, attempts=stored.attempts + 1, last_error=error, claimed_until=None
        )
        if retry_at is None:
            entry = attrs.evolve(entry, state=DeliveryState.PARKED, finished_at=now)
        else:
            entry = attrs.evolve(entry, state=DeliveryState.PENDING, next_attempt_at=retry_at)
        self._finish_event(entry)
        return entry

    def requeue_event(self, event_id: str, now: datetime) -> bool:
        entry = self._state.outbox.get(event_id)
        if entry is None or entry.state is not DeliveryState.PARKED:
            return False
        self._finish_event(
            attrs.evolve(
                entry,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                finished_at=None,
            )
        )
        return True

    def list_outbox(
        self,
        *,
        state: DeliveryState | None = None,
        ticket_id: str | None = None,
        limit: int = 100,
    ) -> Sequence[OutboxEntry]:
        found = (
            entry
            for entry in self._state.outbox.values()
            if (state is None or entry.state is state)
            and (ticket_id is None or entry.event.ticket_id == ticket_id)
        )
        return list(itertools.islice(found, limit))

    # The in-app feed.

    def add_notifications(self, notifications: Collection[Notification]) -> None:
        for notification in notifications:
            feed = self._state.notifications.setdefault(notification.contact_id, {})
            self._set(feed, notification.id, notification)
            self._set(self._state.notifications_by_id, notification.id, notification)

    def list_notifications(
        self,
        contact_id: str,
        *,
        unread_only: bool = False,
        limit: int = 25,
        before: tuple[datetime, str] | None = None,
    ) -> Sequence[Notification]:
        feed = self._state.notifications.get(contact_id, {}).values()
        found = sorted(
            (n for n in feed if n.unread or not unread_only),
            key=lambda n: (n.at, n.id),
            reverse=True,
        )
        if before is not None:
            found = [n for n in found if (n.at, n.id) < before]
        return found[:limit]

    def get_notification(self, notification_id: str) -> Notification | None:
        return self._state.notifications_by_id.get(notification_id)

    def count_unread_notifications(self, contact_id: str) -> int:
        feed = self._state.notifications.get(contact_id, {})
        return sum(1 for notification in feed.values() if notification.unread)

    def mark_notifications_read(
        self, contact_id: str, notification_ids: Collection[str] | None, now: datetime
    ) -> int:
        feed = self._state.notifications.get(contact_id, {})
        wanted = feed.keys() if notification_ids is None else set(notification_ids)
        changed = [n for n in list(feed.values()) if n.unread and n.id in wanted]
        for notification in changed:
            read = attrs.evolve(notification, read_at=now)
            self._set(feed, notification.id, read)
            self._set(self._state.notifications_by_id, notification.id, read)
        return len(changed)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _soonest_first(timers: Iterator[Timer]) -> list[Timer]:
    return sorted(timers, key=lambda timer: (timer.due_at, timer.id))


def _filters_admit(query: TicketQuery, ticket: Ticket) -> bool:
    return (
        (query.requester_id is None or ticket.requester_id == query.requester_id)
        and (query.organization_id is None or ticket.organization_id == query.organization_id)
        and (query.statuses is None or ticket.status in query.statuses)
        and (query.desk_id is None or ticket.desk_id == query.desk_id)
        and (query.request_type_id is None or ticket.request_type_id == query.request_type_id)
    )


class MemoryStore:
    """A store in this process's memory: one unit of work at a time, fully isolated."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.RLock()

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        with self._lock:
            work = MemoryUnitOfWork(self._state)
            try:
                yield work
            except BaseException:
                work.rollback()
                raise

    def close(self) -> None:
        """Nothing to release."""
