"""The memory store's privacy area: a person's rows found by scanning, redacted, purged by age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import attrs

from ..._models import (
    Activity,
    ActivityKind,
    Attachment,
    DeliveryState,
    Event,
    Notification,
    SearchKind,
    TimerState,
)
from ...search import IndexedText
from ..protocol.privacy import COPYING_KINDS, PersonalData, Redacted, event_names
from ._changes import Area
from .tables import Tables


class MemoryPrivacy(Area[Tables]):
    """The privacy area of a :class:`~.store.MemoryUnitOfWork`.

    It reads and writes the tables of every area that holds a person's
    data; memory is small, so it finds by scanning.
    """

    def _entries(self) -> Iterator[Activity]:
        for log in self._tables.activity.logs.values():
            yield from log

    def find_personal_data(self, contact_id: str) -> PersonalData:
        requested = set(self._tables.tickets.ids_by_requester.get(contact_id, {}))
        collaborations = [
            shared[contact_id]
            for shared in self._tables.participants.collaborators.values()
            if contact_id in shared
        ]
        shared_ids = {collaborator.ticket_id for collaborator in collaborations}
        written = {e.ticket_id for e in self._entries() if e.actor_id == contact_id}
        theirs = requested | shared_ids | written
        tickets = [self._tables.tickets.tickets[ticket_id] for ticket_id in requested | shared_ids]
        activities = [
            entry
            for entry in self._entries()
            if entry.actor_id == contact_id
            or (entry.ticket_id in theirs and entry.kind in COPYING_KINDS)
        ]
        notifications = [
            n
            for n in self._tables.feed.by_id.values()
            if n.contact_id == contact_id
            or n.ticket_id in theirs
            or (n.ticket_id is None and contact_id in n.payload.values())
        ]
        events = [
            self._tables.outbox.entries[event.id]
            for event in self._tables.outbox.events
            if event.ticket_id in theirs or event_names(event, contact_id)
        ]
        return PersonalData(
            tickets=tuple(sorted(tickets, key=lambda t: (t.created_at, t.id))),
            collaborations=tuple(sorted(collaborations, key=lambda c: (c.added_at, c.ticket_id))),
            muted=frozenset(t for t, c in self._tables.participants.muted if c == contact_id),
            activities=tuple(sorted(activities, key=lambda e: (e.at, e.ticket_id, e.seq))),
            attachments=tuple(
                a
                for a in self._tables.attachments.attachments.values()
                if a.uploader_id == contact_id
            ),
            notifications=tuple(sorted(notifications, key=lambda n: (n.at, n.id))),
            events=tuple(events),
        )

    def mark_redacted(self, redacted: Redacted) -> int:
        changed = sum(self._redact_entry(entry) for entry in redacted.activities)
        changed += sum(self._redact_attachment(file) for file in redacted.attachments)
        changed += sum(self._redact_event(event) for event in redacted.events)
        return changed + sum(self._redact_notification(n) for n in redacted.notifications)

    def _redact_entry(self, activity: Activity) -> bool:
        log = self._tables.activity.logs.get(activity.ticket_id, [])
        position = next((n for n, e in enumerate(log) if e.id == activity.id), None)
        if position is None:
            return False
        stored = log[position]
        log[position] = attrs.evolve(stored, body=activity.body, data=dict(activity.data))
        self._changes.on_rollback(lambda: log.__setitem__(position, stored))
        # As the log indexes an appended entry: its body, unless it repeats the description.
        if activity.body and stored.kind is not ActivityKind.CREATED:
            indexed = IndexedText.of(
                SearchKind.TICKET, stored.ticket_id, activity.body, internal=stored.internal
            )
            self._changes.index(self._tables.search.index, ("activity", stored.id), indexed)
        return True

    def _redact_attachment(self, attachment: Attachment) -> bool:
        stored = self._tables.attachments.attachments.get(attachment.id)
        if stored is None:
            return False
        by_key = self._tables.attachments.ids_by_blob_key
        self._changes.delete(by_key, stored.blob_key)
        self._changes.set(by_key, attachment.blob_key, stored.id)
        redacted = attrs.evolve(stored, filename=attachment.filename, blob_key=attachment.blob_key)
        self._changes.set(self._tables.attachments.attachments, stored.id, redacted)
        return True

    def _redact_event(self, event: Event) -> bool:
        entry = self._tables.outbox.entries.get(event.id)
        if entry is None:
            return False
        redacted = attrs.evolve(
            entry.event, payload=dict(event.payload), recipients=event.recipients
        )
        log, position = self._tables.outbox.events, self._tables.outbox.positions[event.id]
        before = log[position]
        self._changes.on_rollback(lambda: log.__setitem__(position, before))
        log[position] = redacted
        self._changes.set(
            self._tables.outbox.entries, event.id, attrs.evolve(entry, event=redacted)
        )
        return True

    def _redact_notification(self, notification: Notification) -> bool:
        stored = self._tables.feed.by_id.get(notification.id)
        if stored is None:
            return False
        redacted = attrs.evolve(stored, payload=dict(notification.payload))
        self._changes.set(self._tables.feed.by_id, stored.id, redacted)
        self._changes.set(self._tables.feed.by_contact[stored.contact_id], stored.id, redacted)
        return True

    def remove_personal_rows(self, contact_id: str) -> bool:
        feed = list(self._tables.feed.by_contact.get(contact_id, {}))
        for notification_id in feed:
            self._changes.delete(self._tables.feed.by_id, notification_id)
            self._changes.unfile(self._tables.feed.by_contact, contact_id, notification_id)
        shared = [s for s in self._tables.participants.collaborators.values() if contact_id in s]
        for collaborators in shared:
            self._changes.delete(collaborators, contact_id)
        muted = [key for key in self._tables.participants.muted if key[1] == contact_id]
        for key in muted:
            self._changes.delete(self._tables.participants.muted, key)
        tokens = self._tables.accounts.signup_tokens
        hashes = [h for h, token in tokens.items() if token.contact_id == contact_id]
        for token_hash in hashes:
            self._changes.delete(tokens, token_hash)
        return bool(feed or shared or muted or hashes)

    def remove_finished_timers(self, before: datetime, limit: int) -> int:
        done = sorted(
            (
                timer
                for timer in self._tables.timers.timers.values()
                if timer.state is not TimerState.PENDING
                and timer.done_at is not None
                and timer.done_at < before
            ),
            key=lambda timer: (timer.done_at, timer.id),
        )[:limit]
        for timer in done:
            self._changes.delete(self._tables.timers.timers, timer.id)
        return len(done)

    def remove_delivered_events(self, before: datetime, limit: int) -> int:
        outbox = self._tables.outbox
        delivered = sorted(
            (
                entry
                for entry in outbox.entries.values()
                if entry.state is DeliveryState.DELIVERED
                and entry.finished_at is not None
                and entry.finished_at < before
            ),
            key=lambda entry: (entry.finished_at, outbox.positions[entry.event.id]),
        )[:limit]
        if not delivered:
            return 0
        gone = {entry.event.id for entry in delivered}
        for event_id in gone:
            self._changes.delete(outbox.entries, event_id)
            self._changes.delete(outbox.secret_until, event_id)
        # Positions index the event log: the events after a removed one move up.
        log, positions, pending = outbox.events, outbox.positions, outbox.pending
        saved_log, saved_positions, saved_pending = list(log), dict(positions), dict(pending)

        def restore() -> None:
            log[:] = saved_log
            positions.clear()
            positions.update(saved_positions)
            pending.clear()
            pending.update(saved_pending)

        self._changes.on_rollback(restore)
        log[:] = [event for event in log if event.id not in gone]
        positions.clear()
        positions.update((event.id, position) for position, event in enumerate(log))
        for event_id in pending:
            pending[event_id] = positions[event_id]
        return len(gone)

    def remove_read_notifications(self, before: datetime, limit: int) -> int:
        feed = self._tables.feed
        read = sorted(
            (n for n in feed.by_id.values() if n.read_at is not None and n.at < before),
            key=lambda n: (n.at, n.id),
        )[:limit]
        for notification in read:
            self._changes.delete(feed.by_id, notification.id)
            self._changes.unfile(feed.by_contact, notification.contact_id, notification.id)
        return len(read)
