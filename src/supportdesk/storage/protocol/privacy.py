"""The privacy area: what is stored about one person, its redaction, and the retention purge."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

import attrs

from ..._models import (
    Activity,
    ActivityKind,
    Attachment,
    Collaborator,
    Event,
    Notification,
    OutboxEntry,
    Ticket,
)

COPYING_KINDS = frozenset(
    {
        ActivityKind.CREATED,
        ActivityKind.ASSIGNED,
        ActivityKind.COLLABORATOR_ADDED,
        ActivityKind.COLLABORATOR_REMOVED,
        ActivityKind.STATUS_CHANGED,
        ActivityKind.AUTO_RESOLVED,
        ActivityKind.AUTO_CLOSED,
    }
)
"""Entries others (or timers) write that may copy a person's words or name: a ticket's
description, an assignee's or collaborator's name, a resolution carried on."""


def event_names(event: Event, contact_id: str) -> bool:
    """Whether ``event`` is by the contact, or holds their id as a recipient or a payload value."""
    return (
        event.actor_id == contact_id
        or any(recipient.contact_id == contact_id for recipient in event.recipients)
        or contact_id in event.payload.values()
    )


@attrs.frozen(kw_only=True)
class PersonalData:
    """The stored rows that hold one contact's personal data, or may copy it.

    Each tuple is in the order :meth:`Privacy.find_personal_data` names.
    """

    tickets: tuple[Ticket, ...] = ()
    """Tickets they requested or that are shared with them."""
    collaborations: tuple[Collaborator, ...] = ()
    """The tickets shared with them ("Shared with"), as collaborator rows."""
    muted: frozenset[str] = frozenset()
    """Ids of the tickets whose notifications they switched off."""
    activities: tuple[Activity, ...] = ()
    """Entries they wrote, and entries of :data:`COPYING_KINDS` on their tickets."""
    attachments: tuple[Attachment, ...] = ()
    """Files they uploaded."""
    notifications: tuple[Notification, ...] = ()
    """Their feed, and others' feed entries that may copy their words or name."""
    events: tuple[OutboxEntry, ...] = ()
    """Outbox events to them, by them, naming them, or on one of their tickets."""


@attrs.frozen(kw_only=True)
class Redacted:
    """Redacted copies of stored rows, for :meth:`Privacy.mark_redacted` to write back."""

    activities: Collection[Activity] = ()
    attachments: Collection[Attachment] = ()
    events: Collection[Event] = ()
    notifications: Collection[Notification] = ()


class Privacy(Protocol):
    """Rows found by person, and rows removed by age: the data protection work of a portal.

    Erasure and export find everything about a person in a few statements;
    the retention purge removes history nobody needs any more, a bounded
    batch at a time.  "Their tickets" below means the tickets they
    requested, that are shared with them, or that they wrote an entry on.
    """

    def find_personal_data(self, contact_id: str) -> PersonalData:
        """The rows that hold the contact's personal data or may copy it; see :class:`PersonalData`.

        - ``tickets``: requested by them or shared with them, oldest
          ``created_at`` first (ties by id);
        - ``collaborations``: their collaborator rows, oldest ``added_at``
          first (ties by ticket id);
        - ``muted``: the tickets they muted;
        - ``activities``: every entry whose ``actor_id`` is theirs, and every
          entry of one of :data:`COPYING_KINDS` on their tickets, each once,
          by ``at``, then ticket id, then ``seq``;
        - ``attachments``: those whose ``uploader_id`` is theirs, in the
          order added;
        - ``notifications``: their own feed entries, others' entries on their
          tickets, and entries without a ticket whose payload holds their
          contact id as a value (their sign-up, told to the admins who review
          it), each once, oldest ``at`` first (ties by id);
        - ``events``: every outbox entry on one of their tickets or that
          :func:`event_names` them, oldest first, with its delivery state.

        The caller picks from these what it redacts or exports: entries of
        others are candidates, not all of them name the contact.  An unknown
        id finds nothing.  SQL adapters find the rows of each table by an
        index, except the outbox, which is read once whole, and the feed
        entries without a ticket (the retention purge keeps both short).
        """
        ...

    def mark_redacted(self, redacted: Redacted) -> int:
        """Write the redacted copies over the stored rows they match; returns how many changed.

        Each row is matched by id and keeps its place and skeleton; only the
        content changes:

        - an activity entry takes the given ``body`` and ``data`` (its ticket,
          ``seq``, kind, actor and time stay), and its body is indexed for
          search again as :meth:`ActivityLog.add` indexes it.  Redaction
          replaces words, it never removes them: a body is empty exactly when
          the stored one is;
        - an attachment takes the given ``filename`` and ``blob_key``: the old
          key is no longer needed (:meth:`Attachments.find_kept_blob_keys`);
        - an outbox event takes the given ``payload`` and ``recipients`` (its
          delivery state, attempts and lease stay);
        - a feed entry takes the given ``payload`` (its read mark stays).

        Ids that match no row are skipped, uncounted.
        """
        ...

    def remove_personal_rows(self, contact_id: str) -> bool:
        """Delete the rows that exist for the contact alone; False when there were none.

        Their feed entries, their collaborator rows, their mutes and their
        sign-up tokens.  Tickets, entries, events and the contact's own row
        stay: erasure redacts those in place.
        """
        ...

    def remove_finished_timers(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished timers whose ``done_at`` is before ``before``.

        Fired, skipped and canceled timers alike (any no longer ``pending``),
        oldest ``done_at`` first; returns how many.  A pending timer is never
        removed.  SQL adapters find them by a partial index and skip rows a
        concurrent purge holds (Postgres).
        """
        ...

    def remove_delivered_events(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` delivered events whose ``finished_at`` is before ``before``.

        Oldest ``finished_at`` first; returns how many.  Pending and parked
        events are never removed: the first still wait for delivery, the
        second for someone to look at them.  Indexed as
        :meth:`remove_finished_timers`.
        """
        ...

    def remove_read_notifications(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` read feed entries whose ``at`` is before ``before``.

        Oldest ``at`` first; returns how many.  An unread entry is never
        removed, however old.  Indexed as :meth:`remove_finished_timers`.
        """
        ...
