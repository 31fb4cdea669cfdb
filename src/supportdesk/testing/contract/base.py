"""What every area's contract shares: the store fixture to override, a small world, factories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from ..._models import (
    Activity,
    ActivityKind,
    Announcement,
    Article,
    Attachment,
    Audience,
    Contact,
    Desk,
    Event,
    EventKind,
    Notification,
    Organization,
    Role,
    Ticket,
    Timer,
)
from ...storage.protocol import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_ticket(desk: Desk, number: int, requester: Contact, **changes: Any) -> Ticket:
    """A ticket on ``desk`` numbered ``number``, created ``number`` minutes after T0."""
    at = T0 + timedelta(minutes=number)
    ticket = Ticket(
        reference=f"{desk.key}-{number}",
        desk_id=desk.id,
        request_type_id="rt",
        summary=f"ticket {number}",
        status="new",
        requester_id=requester.id,
        organization_id=requester.organization_id,
        created_at=at,
        updated_at=at,
    )
    return attrs.evolve(ticket, **changes)


@attrs.frozen(kw_only=True)
class World:
    """The directory the contract tests share."""

    desk: Desk
    alice: Contact
    bob: Contact
    carol: Contact
    agent: Contact


class ContractBase:
    """The fixtures of every area's contract: override ``store`` with an empty store of yours."""

    @pytest.fixture
    def store(self) -> Store:
        """An empty store of the adapter under test."""
        raise NotImplementedError

    @pytest.fixture
    def world(self, store: Store) -> World:
        """Two organisations, three customers, an agent, a desk."""
        acme = Organization(name="Acme")
        globex = Organization(name="Globex")
        desk = Desk(key="HHA", name="Help")
        alice = Contact(email="alice@acme.test", full_name="Alice", organization_id=acme.id)
        bob = Contact(email="bob@acme.test", full_name="Bob", organization_id=acme.id)
        carol = Contact(email="carol@globex.test", full_name="Carol", organization_id=globex.id)
        agent = Contact(
            email="agent@desk.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({desk.id}),
        )
        with store.unit_of_work() as work:
            for organization in (acme, globex):
                work.directory.put_organization(organization)
            work.desks.put_desk(desk)
            for contact in (alice, bob, carol, agent):
                work.directory.put_contact(contact)
        return World(desk=desk, alice=alice, bob=bob, carol=carol, agent=agent)


def _event(ticket: Ticket | None, at: datetime, **changes: Any) -> Event:
    event = Event(
        kind=EventKind.PUBLIC_UPDATE, at=at, ticket_id=None if ticket is None else ticket.id
    )
    return attrs.evolve(event, **changes)


def _queue(store: Store, events: Sequence[Event], *tickets: Ticket) -> None:
    """Store ``tickets``, then ``events`` (of those tickets, or of none), in one unit of work."""
    with store.unit_of_work() as work:
        for ticket in tickets:
            work.tickets.add(ticket)
        work.outbox.add(events)


def _announcement(
    title: str,
    active_from: datetime,
    *,
    until: datetime | None = None,
    audience: Audience = Audience.EVERYONE,
) -> Announcement:
    return Announcement(
        title=title,
        body=f"{title}: details.",
        audience=audience,
        active_from=active_from,
        active_until=until,
        created_at=active_from,
        updated_at=active_from,
    )


def _article(title: str, **changes: Any) -> Article:
    article = Article(title=title, body="Body.", published=True, created_at=T0, updated_at=T0)
    return attrs.evolve(article, **changes)


def _notification(contact: Contact, at: datetime) -> Notification:
    return Notification(
        contact_id=contact.id,
        event_id="e",
        kind=EventKind.PUBLIC_UPDATE,
        at=at,
        ticket_id="t",
        payload={"reference": "HHA-1"},
    )


def _activity(ticket: Ticket, **changes: Any) -> Activity:
    activity = Activity(
        ticket_id=ticket.id,
        kind=ActivityKind.PUBLIC_UPDATE,
        actor_id=ticket.requester_id,
        at=T0,
        body="hi",
    )
    return attrs.evolve(activity, **changes)


def _attachment(ticket: Ticket, filename: str, **changes: Any) -> Attachment:
    attachment = Attachment(
        ticket_id=ticket.id,
        activity_id="activity",
        filename=filename,
        content_type="image/png",
        size=100,
        sha256="ab" * 32,
        blob_key="",
        uploader_id=ticket.requester_id,
        uploaded_at=T0,
    )
    blob_key = changes.pop("blob_key", f"tickets/{ticket.id}/{attachment.id}")
    return attrs.evolve(attachment, blob_key=blob_key, **changes)


def _timer(ticket: Ticket, due_at: datetime) -> Timer:
    return Timer(
        ticket_id=ticket.id, name="reminder_1", status="new", status_epoch=1, due_at=due_at
    )
