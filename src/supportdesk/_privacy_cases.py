"""Privacy use cases: a person's data exported or erased, and history purged after its retention."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Final, TypeVar

import attrs

from ._attachment_cases import ERASED_BLOBS
from ._desk_base import _DeskBase, _found
from ._errors import PermissionDenied, StorageError
from ._input import check_count, check_duration, check_id
from ._models import (
    Activity,
    Attachment,
    Contact,
    ContactState,
    Event,
    Notification,
    NotificationSettings,
    Ticket,
    normalize_email,
)
from ._serialization import to_data
from .storage.protocol import PersonalData, Redacted
from .storage.protocol.outbox import without_secrets

DEFAULT_RETENTION: Final = timedelta(days=90)
"""How long :meth:`SupportDesk.purge` keeps finished history by default: 90 days."""

EXPORT_FORMAT: Final = 1
"""The shape of :meth:`SupportDesk.export_contact_data`'s answer, under its ``"format"`` key."""

ERASED_NAME: Final = "Erased contact"
"""What an erased person's name reads everywhere it was stored."""

ERASED_TEXT: Final = "(erased)"
"""What an erased person's words read: summaries, updates, notes, filenames."""

_LONGEST_RETENTION = timedelta(days=36_525)
"""A retention of a century: any longer, and "now" minus it is no date."""

_WORDS = frozenset(
    {"summary", "description", "body", "comment", "resolution", "reason", "filename"}
)
"""Keys of activity data and event payloads whose value is somebody's words."""

_NAMES = frozenset({"actor", "full_name", "assignee", "contact"})
"""Keys of activity data and event payloads whose value is a person's name."""

_ACCOUNT_SHAPE = frozenset({"contact_id", "template", "expires_at"})
"""What an account event about an erased person keeps; its other values are emptied."""

_PLAIN_ID = re.compile(r"[a-z0-9]+")
"""Ids that read the same in a lower-cased address (random ids are hex)."""

M = TypeVar("M")


@attrs.frozen(kw_only=True)
class ErasureReport:
    """What one :meth:`SupportDesk.erase_contact` call changed; all zero when erasing again."""

    contact_id: str
    """The erased contact: it keeps this id."""
    tickets: int = 0
    """Tickets they requested whose summary, description and fields were redacted."""
    activities: int = 0
    """Activity entries redacted: theirs, and others' that copied their words or name."""
    attachments: int = 0
    """Files they uploaded: renamed, their bytes deleted, no longer downloaded."""
    events: int = 0
    """Outbox events they were taken out of, or whose payload named or quoted them."""
    notifications: int = 0
    """Feed entries: their own removed, and others' that named or quoted them redacted."""
    collaborations: int = 0
    """Tickets no longer shared with them."""


@attrs.frozen(kw_only=True)
class PurgeReport:
    """What one :meth:`SupportDesk.purge` call removed."""

    timers: int = 0
    """Fired, skipped and canceled timers."""
    events: int = 0
    """Delivered outbox events."""
    notifications: int = 0
    """Read feed entries."""
    finished: bool = True
    """False when a kind filled its batch: more may be left, call again."""

    @property
    def removed(self) -> int:
        """How many rows the call removed, of every kind."""
        return self.timers + self.events + self.notifications


class _PrivacyCases(_DeskBase):
    """Exporting and erasing what is stored about a person; purging old history."""

    def export_contact_data(self, actor: Contact, contact_id: str) -> dict[str, Any]:
        """Everything stored about one person, as JSON-ready data (admins).

        The answer, ready for :func:`json.dumps`, holds ``format``
        (:data:`EXPORT_FORMAT`), ``exported_at``, and the person's
        ``contact``; the ``tickets`` they requested or that are shared with
        them; their ``collaborations``, ``muted_tickets``,
        ``notification_settings`` and ``signup_answers`` (while their
        sign-up waits for review); the
        ``activities`` they wrote (updates, notes, status changes); the
        metadata of the ``attachments`` they uploaded (not the bytes: open
        them with :meth:`open_attachment`); their ``notifications`` (the
        feed); and the outbox ``events`` addressed to them.  An event shows
        them alone among its recipients, and an account event about someone
        else (a sign-up an admin reviewed) drops that person's e-mail, name
        and details; secrets (a sign-up link's token) read ``""``.  Models
        are as :func:`~supportdesk.to_data` writes them.

        :raises PermissionDenied: unless ``actor`` is an active admin.
        :raises NotFound: when there is no contact ``contact_id``.
        """
        check_id("contact_id", contact_id)
        now = self._clock.now()
        with self._store.unit_of_work() as work:
            self._require_admin(work, actor, "export a contact's data")
            person = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            found = work.privacy.find_personal_data(person.id)
            stored = work.participants.find_settings([person.id])
            signup = work.accounts.find_signup_answers([person.id])
        settings = stored[0] if stored else NotificationSettings(contact_id=person.id)
        return {
            "format": EXPORT_FORMAT,
            "exported_at": now.isoformat(),
            "contact": to_data(person),
            "tickets": [to_data(ticket) for ticket in found.tickets],
            "collaborations": [to_data(shared) for shared in found.collaborations],
            "muted_tickets": sorted(found.muted),
            "notification_settings": to_data(settings),
            "signup_answers": [to_data(answers) for answers in signup],
            "activities": [to_data(a) for a in found.activities if a.actor_id == person.id],
            "attachments": [_file_data(a) for a in found.attachments],
            "notifications": [
                {**to_data(n), "payload": without_secrets(n.payload)}
                for n in found.notifications
                if n.contact_id == person.id
            ],
            "events": [
                to_data(_addressed(entry.event, person))
                for entry in found.events
                if any(r.contact_id == person.id for r in entry.event.recipients)
            ],
        }

    def erase_contact(self, actor: Contact, contact_id: str) -> ErasureReport:
        """Redact a person's personal data, keeping the skeleton counts and audits need (admins).

        The contact stays, with its id, role and organisation, but becomes
        :attr:`~supportdesk.ContactState.ERASED` (it never signs in or acts
        again), named :data:`ERASED_NAME`, at an address that reaches nobody
        (``erased-<id>@erased.invalid``: their real address is free for a new
        sign-up); its password and sign-up tokens go.  The tickets they
        requested keep reference, status, desk, request type and times, but
        their summary reads :data:`ERASED_TEXT` and their description and
        fields are emptied.  Every activity entry stays in its place, but what
        they wrote reads :data:`ERASED_TEXT`, and their name where others'
        entries copied it :data:`ERASED_NAME`.  Their files keep their
        metadata under a redacted filename; the bytes are deleted once the
        transaction commits, and downloads answer
        :class:`~supportdesk.NotFound`.  Their feed, collaborations and mutes
        go; outbox events and others' feed entries lose their address, name
        and words the same way.  Search no longer finds the erased text.
        Timers and their history are untouched.

        Erasing again changes nothing and reports zeros.  What others wrote
        about them in their own words stays: an admin reads those.

        :raises PermissionDenied: unless ``actor`` is an active admin, or
            when an admin tries to erase themself.
        :raises NotFound: when there is no contact ``contact_id``.
        :raises Conflict: when one of their tickets changed while it was
            redacted; erase again.
        """
        check_id("contact_id", contact_id)
        with self._store.unit_of_work() as work:
            admin = self._require_admin(work, actor, "erase a contact's data")
            if contact_id == admin.id:
                raise PermissionDenied("erase your own data", "another admin must erase it")
            person = _found(work.directory.get_contact(contact_id), "contact", contact_id)
            found = work.privacy.find_personal_data(person.id)
            redaction = _Redaction.of(person, found)
            tickets = _redacted(redaction.ticket, found.tickets)
            # In id order, so that erasures of overlapping tickets lock them in one order.
            for ticket in sorted(tickets, key=lambda ticket: ticket.id):
                work.tickets.update(attrs.evolve(ticket, version=ticket.version + 1))
            activities = _redacted(redaction.activity, found.activities)
            attachments = _redacted(redaction.attachment, found.attachments)
            events = _redacted(redaction.event, (entry.event for entry in found.events))
            theirs = [n for n in found.notifications if n.contact_id == person.id]
            others = _redacted(
                redaction.notification,
                (n for n in found.notifications if n.contact_id != person.id),
            )
            work.privacy.mark_redacted(
                Redacted(
                    activities=activities,
                    attachments=attachments,
                    events=events,
                    notifications=others,
                )
            )
            work.privacy.remove_personal_rows(person.id)
            work.accounts.remove_password_hash(person.id)
            work.accounts.remove_signup_answers(person.id)
            if redaction.contact != person:
                work.directory.put_contact(redaction.contact)
        stored = {a.id: a.blob_key for a in found.attachments}
        for attachment in attachments:
            # The key no longer in the metadata: the orphan sweep removes what stays.
            with contextlib.suppress(StorageError):
                self._blobs.delete(stored[attachment.id])
        return ErasureReport(
            contact_id=person.id,
            tickets=len(tickets),
            activities=len(activities),
            attachments=len(attachments),
            events=len(events),
            notifications=len(theirs) + len(others),
            collaborations=len(found.collaborations),
        )

    def purge(
        self, older_than: timedelta = DEFAULT_RETENTION, *, batch_size: int = 1_000
    ) -> PurgeReport:
        """Remove history finished more than ``older_than`` ago, a batch of each kind at a time.

        In one transaction, up to ``batch_size`` of each: timers fired,
        skipped or canceled (by ``done_at``), outbox events delivered (by
        ``finished_at``), and feed entries read (by ``at``), oldest first.
        Nothing a ticket still needs goes: never a pending timer, an event
        still pending or parked (parked ones wait for an admin, see
        :meth:`list_undelivered`), nor an unread feed entry, however old.
        Tickets, their activity and attachments are kept for as long as the
        portal runs.  When :attr:`PurgeReport.finished` is False a kind
        filled its batch: call again.  Safe to run from several workers at
        once.  ``older_than`` is longer than zero and at most a century
        (:data:`DEFAULT_RETENTION`, 90 days, by default); ``batch_size`` is
        1 to 10,000.
        """
        check_duration("older_than", older_than, most=_LONGEST_RETENTION)
        check_count("batch_size", batch_size, most=10_000)
        before = self._clock.now() - older_than
        with self._store.unit_of_work() as work:
            report = PurgeReport(
                timers=work.privacy.remove_finished_timers(before, batch_size),
                events=work.privacy.remove_delivered_events(before, batch_size),
                notifications=work.privacy.remove_read_notifications(before, batch_size),
            )
        full = max(report.timers, report.events, report.notifications) >= batch_size
        return attrs.evolve(report, finished=not full)


@attrs.frozen
class _Redaction:
    """How each stored row reads once one person is erased."""

    person: Contact
    contact: Contact
    """The person as erased."""
    words: frozenset[str]
    """What they wrote: any copy of it is redacted where words are kept."""
    requested: frozenset[str]
    """Ids of the tickets they requested."""
    files: frozenset[str]
    """Ids of the attachments they uploaded."""

    @classmethod
    def of(cls, person: Contact, found: PersonalData) -> _Redaction:
        requested = [t for t in found.tickets if t.requester_id == person.id]
        written = [a for a in found.activities if a.actor_id == person.id]
        words = {
            *(text for t in requested for text in (t.summary, t.description)),
            *(a.body for a in written),
            *(value for a in written for key, value in a.data.items() if key in _WORDS),
            *(a.filename for a in found.attachments),
        }
        erased = attrs.evolve(
            person,
            email=_erased_email(person.id),
            full_name=ERASED_NAME,
            state=ContactState.ERASED,
        )
        return cls(
            person=person,
            contact=erased,
            words=frozenset(words - {"", ERASED_TEXT}),
            requested=frozenset(t.id for t in requested),
            files=frozenset(a.id for a in found.attachments),
        )

    def ticket(self, ticket: Ticket) -> Ticket:
        if ticket.id not in self.requested:
            return ticket
        return attrs.evolve(ticket, summary=ERASED_TEXT, description="", fields={})

    def activity(self, entry: Activity) -> Activity:
        wrote = entry.actor_id == self.person.id
        body = entry.body
        if body and (wrote or body in self.words):
            body = ERASED_TEXT
        return attrs.evolve(entry, body=body, data=self._redacted(entry.data, by_them=wrote))

    def attachment(self, attachment: Attachment) -> Attachment:
        return attrs.evolve(
            attachment, filename=ERASED_TEXT, blob_key=f"{ERASED_BLOBS}{attachment.id}"
        )

    def event(self, event: Event) -> Event:
        by_them = event.actor_id == self.person.id or event.payload.get("attachment_id") in (
            self.files
        )
        subject = next((r.contact_id for r in event.recipients), None)
        about = event.ticket_id is None and _subject(event.payload, subject) == self.person.id
        return attrs.evolve(
            event,
            payload=self._redacted(event.payload, by_them=by_them, account=about),
            recipients=tuple(r for r in event.recipients if r.contact_id != self.person.id),
        )

    def notification(self, entry: Notification) -> Notification:
        # A feed entry names no actor id: its event may be gone, purged.
        named = bool(self.person.full_name) and entry.payload.get("actor") == self.person.full_name
        by_them = named or entry.payload.get("attachment_id") in self.files
        about = entry.ticket_id is None and _subject(entry.payload, None) == self.person.id
        payload = self._redacted(entry.payload, by_them=by_them, account=about)
        return attrs.evolve(entry, payload=payload)

    def _redacted(
        self, values: Mapping[str, str], *, by_them: bool, account: bool = False
    ) -> dict[str, str]:
        """``values`` (activity data, a payload) without the person's address, name and words.

        An account event about them (a sign-up, its review) keeps only its
        shape: every value but :data:`_ACCOUNT_SHAPE` is emptied, the
        sign-up's details included.
        """
        redacted = {}
        for key, value in values.items():
            if key == "email" and normalize_email(value) == self.person.email:
                value = self.contact.email
            elif key in _NAMES and value and value == self.person.full_name:
                value = ERASED_NAME
            elif key in _WORDS and value and (by_them or value in self.words):
                value = ERASED_TEXT
            elif account and key not in _ACCOUNT_SHAPE:
                value = {"email": self.contact.email, "full_name": ERASED_NAME}.get(key, "")
            redacted[key] = value
        return redacted


def _redacted(redact: Callable[[M], M], rows: Iterable[M]) -> list[M]:
    """The rows ``redact`` changes, redacted."""
    return [redacted for row in rows if (redacted := redact(row)) != row]


def _erased_email(contact_id: str) -> str:
    """A unique address that reaches nobody (``.invalid`` is reserved, RFC 2606)."""
    local = contact_id if _PLAIN_ID.fullmatch(contact_id) else f"hex-{contact_id.encode().hex()}"
    return f"erased-{local}@erased.invalid"


def _subject(payload: Mapping[str, str], recipient: str | None) -> str | None:
    """Whom an account event is about: the ``contact_id`` it names, else its recipient."""
    return payload.get("contact_id", recipient)


def _addressed(event: Event, person: Contact) -> Event:
    """``event`` as exported to ``person``: them alone as recipient, no one else's data."""
    payload = without_secrets(event.payload)
    subject = _subject(payload, person.id)
    if subject != person.id:
        payload = {
            key: value
            for key, value in payload.items()
            # Sign-up events of 0.1 also carried the person's answers as detail.<key>.
            if key not in ("email", "full_name") and not key.startswith("detail.")
        }
    return attrs.evolve(
        event,
        payload=payload,
        recipients=tuple(r for r in event.recipients if r.contact_id == person.id),
    )


def _file_data(attachment: Attachment) -> dict[str, Any]:
    """An attachment's metadata as exported: where its bytes are stored is the portal's business."""
    data: dict[str, Any] = to_data(attachment)
    del data["blob_key"]
    return data
