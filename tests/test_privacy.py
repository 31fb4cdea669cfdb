"""Export and erasure of one person's data, on every store: what goes, what stays, who may."""

from __future__ import annotations

import io
import json
from typing import Any

import attrs
import pytest

from supportdesk import (
    Attachment,
    Contact,
    ContactState,
    ErasureReport,
    EventKind,
    FieldKind,
    FieldSpec,
    NotFound,
    Participant,
    PermissionDenied,
    RequestType,
    SignupPolicy,
    Store,
    Submission,
    SupportDesk,
    Ticket,
    ValidationError,
    to_data,
)
from supportdesk._privacy_cases import ERASED_NAME, ERASED_TEXT, EXPORT_FORMAT
from supportdesk.storage.protocol import ContactQuery, FeedQuery

from .conftest import Portal

SECRETS = ("alice@acme.test", "Alice Payer", "Zebra", "quagga", "okapi", "C-1234")
"""What alice's data holds, each word of it nowhere once she is erased."""


@attrs.frozen
class Story:
    """Alice's ticket and file, and bob's ticket she collaborates on."""

    ticket: Ticket
    attachment: Attachment
    shared: Ticket


def _story(portal: Portal) -> Story:
    desk, alice, agent = portal.desk, portal.alice, portal.agent
    claims = desk.add_request_type(
        RequestType(
            desk_id=portal.help_desk.id,
            name="Claims",
            fields=(FieldSpec(key="member", label="Member id", kind=FieldKind.SHORT_TEXT),),
        )
    )
    ticket = desk.open_ticket(
        alice,
        claims.id,
        Submission(
            summary="Zebra claims missing", description="Since May", fields={"member": "C-1234"}
        ),
    )
    desk.share_update(alice, ticket.reference, "The quagga batch failed")
    desk.assign(agent, ticket.reference, agent.id)
    desk.ask_customer(agent, ticket.reference, "Which batch exactly?")
    attachment = desk.attach(alice, ticket.reference, "okapi.txt", io.BytesIO(b"batch 7 log"))
    shared = portal.open(portal.bob, summary="Shared claims")
    desk.add_collaborator(portal.bob, shared.reference, alice.email)
    desk.share_update(alice, shared.reference, "Same okapi trouble here")
    desk.set_notifications(alice, shared.reference, enabled=False)
    return Story(ticket=ticket, attachment=attachment, shared=shared)


def _everything(store: Store) -> str:
    """Every event, feed entry and activity entry the store holds, as text."""
    with store.unit_of_work() as work:
        events = work.outbox.list_events()
        tickets = [work.tickets.get(e.ticket_id) for e in events if e.ticket_id]
        ids = {t.id for t in tickets if t is not None}
        entries = [e for t in ids for e in work.activity.list_entries(t, include_internal=True)]
        contacts = work.directory.find_contacts(ContactQuery())
        feed = [n for c in contacts for n in work.feed.find(FeedQuery(contact_id=c.id, limit=1000))]
    return json.dumps(to_data([*events, *tickets, *entries, *feed, *contacts]))


# Export.


def test_an_export_holds_what_is_stored_about_a_person(portal: Portal) -> None:
    story = _story(portal)
    exported = portal.desk.export_contact_data(portal.admin, portal.alice.id)

    assert json.loads(json.dumps(exported)) == exported
    assert exported["format"] == EXPORT_FORMAT == 1
    assert exported["contact"]["email"] == "alice@acme.test"
    tickets = {t["reference"]: t for t in exported["tickets"]}
    assert set(tickets) == {story.ticket.reference, story.shared.reference}
    assert tickets[story.ticket.reference]["fields"] == {"member": "C-1234"}
    assert [c["ticket_id"] for c in exported["collaborations"]] == [story.shared.id]
    assert exported["muted_tickets"] == [story.shared.id]
    assert exported["notification_settings"]["contact_id"] == portal.alice.id
    bodies = [a["body"] for a in exported["activities"]]
    assert "The quagga batch failed" in bodies and "Which batch exactly?" not in bodies
    assert {a["actor_id"] for a in exported["activities"]} == {portal.alice.id}
    (attached,) = exported["attachments"]
    assert attached["filename"] == "okapi.txt" and "blob_key" not in attached
    assert exported["notifications"]
    assert {n["contact_id"] for n in exported["notifications"]} == {portal.alice.id}
    assert exported["events"]
    for event in exported["events"]:
        assert [r["contact_id"] for r in event["recipients"]] == [portal.alice.id]


def test_an_export_shows_no_token_and_no_one_elses_sign_up(store: Store, portal: Portal) -> None:
    desk = SupportDesk(store, clock=portal.clock, signup_policy=SignupPolicy.always_review())
    sent: list[Any] = []
    desk.request_signup("newt@x.test")
    desk.dispatch_notifications(sent.append)
    desk.request_signup("newt@x.test")  # A second link, never delivered: its token kept.
    newt = desk.find_contact("newt@x.test")

    exported = desk.export_contact_data(portal.admin, newt.id)
    tokens = [e["payload"]["token"] for e in exported["events"]]
    assert len(tokens) == 2 and set(tokens) == {""}
    assert sent[0].payload["token"] not in json.dumps(exported)

    desk.complete_signup(sent[0].payload["token"], "Newt Scamander")
    review = desk.export_contact_data(portal.admin, portal.admin.id)
    (needed,) = [e for e in review["events"] if e["kind"] == EventKind.APPROVAL_NEEDED]
    assert needed["payload"] == {"contact_id": newt.id}


def test_only_an_admin_exports_a_known_contact(portal: Portal) -> None:
    with pytest.raises(PermissionDenied, match="only admins"):
        portal.desk.export_contact_data(portal.agent, portal.alice.id)
    with pytest.raises(NotFound, match="contact 'nobody'"):
        portal.desk.export_contact_data(portal.admin, "nobody")


# Erasure.


def test_erasure_redacts_a_person_and_keeps_the_skeleton(store: Store, portal: Portal) -> None:
    desk, admin, alice = portal.desk, portal.admin, portal.alice
    story = _story(portal)
    reference = story.ticket.reference
    before = desk.view_ticket(admin, reference)
    with store.unit_of_work() as work:
        timers = work.timers.list_pending(story.ticket.id)
    assert portal.desk.blob_store.exists(story.attachment.blob_key)
    assert [secret for secret in SECRETS if secret not in _everything(store)] == []

    report = desk.erase_contact(admin, alice.id)

    erased = desk.get_contact(alice.id)
    assert erased.state is ContactState.ERASED
    assert (erased.full_name, erased.email) == (ERASED_NAME, f"erased-{alice.id}@erased.invalid")
    assert (erased.id, erased.role, erased.organization_id) == (
        alice.id,
        alice.role,
        alice.organization_id,
    )
    ticket = desk.get_ticket(admin, reference)
    assert (ticket.summary, ticket.description, dict(ticket.fields)) == (ERASED_TEXT, "", {})
    kept = ("reference", "status", "desk_id", "request_type_id", "created_at", "requester_id")
    assert all(getattr(ticket, name) == getattr(before.ticket, name) for name in kept)
    after = desk.view_ticket(admin, reference)
    assert [a.seq for a in after.activities] == [a.seq for a in before.activities]
    for entry in after.activities:
        if entry.actor_id == alice.id and entry.body:
            assert entry.body == ERASED_TEXT
    assert "Which batch exactly?" in [a.body for a in after.activities]
    (file,) = desk.list_attachments(admin, reference)
    assert (file.filename, file.size, file.sha256) == (
        ERASED_TEXT,
        story.attachment.size,
        story.attachment.sha256,
    )
    assert not portal.desk.blob_store.exists(story.attachment.blob_key)
    with pytest.raises(NotFound):
        desk.open_attachment(admin, file.id)
    with pytest.raises(NotFound):
        desk.attachment_url(admin, file.id)
    for word in ("zebra", "quagga", "okapi"):
        assert desk.search(admin, word).hits == (), word
    assert [hit.reference for hit in desk.search(admin, "batch exactly").hits] == [reference]
    assert desk.view_ticket(admin, story.shared.reference).shared_with == (
        Participant.of(desk.get_contact(portal.bob.id), admin),
    )
    with store.unit_of_work() as work:
        assert work.timers.list_pending(story.ticket.id) == timers
        assert work.privacy.find_personal_data(alice.id).muted == frozenset()
    text = _everything(store)
    assert [secret for secret in SECRETS if secret in text] == []
    assert report == ErasureReport(
        contact_id=alice.id,
        tickets=1,
        activities=report.activities,
        attachments=1,
        events=report.events,
        notifications=report.notifications,
        collaborations=1,
    )
    assert report.activities >= 4 and report.events >= 4 and report.notifications >= 4


def test_an_erased_contact_can_neither_act_nor_take_part(portal: Portal) -> None:
    desk, alice = portal.desk, portal.alice
    ticket = portal.open()
    desk.set_password(alice, "a long enough secret")
    desk.erase_contact(portal.admin, alice.id)
    erased = desk.get_contact(alice.id)

    for actor in (alice, erased):
        with pytest.raises(PermissionDenied, match="not an active contact"):
            desk.get_ticket(actor, ticket.reference)
    assert desk.verify_password("alice@acme.test", "a long enough secret") is None
    # Her new address is reserved (RFC 2606): no sign-in, sign-up or invitation takes it.
    for use in (
        lambda: desk.verify_password(erased.email, "a long enough secret"),
        lambda: desk.request_signup(erased.email),
        lambda: desk.add_collaborator(portal.agent, ticket.reference, erased.email),
    ):
        with pytest.raises(ValidationError, match="reserved name"):
            use()
    with pytest.raises(ValidationError, match="not an active contact"):
        desk.add_collaborator(portal.agent, ticket.reference, "alice@acme.test")
    with pytest.raises(ValidationError):
        desk.open_ticket(
            portal.agent, portal.general.id, Submission(summary="For her"), requester_id=alice.id
        )
    # Her real address is free: signing up with it makes a new account.
    desk.request_signup("alice@acme.test")
    newcomer = desk.find_contact("alice@acme.test")
    assert newcomer.id != alice.id and newcomer.state is ContactState.PENDING_VERIFICATION


def test_an_erased_agent_is_no_longer_assigned_nor_named(store: Store, portal: Portal) -> None:
    desk, agent = portal.desk, portal.agent
    ticket = portal.open()
    desk.assign(agent, ticket.reference, agent.id)
    desk.add_note(agent, ticket.reference, "Agent Smith checked the quagga feed")
    desk.erase_contact(portal.admin, agent.id)

    view = desk.view_ticket(portal.admin, ticket.reference)
    names = {a.actor_name for a in view.activities if a.actor_id == agent.id}
    assert names == {ERASED_NAME}
    assert "Agent Smith" not in _everything(store)
    assert "quagga" not in _everything(store)
    with pytest.raises(ValidationError, match="assignee_id"):
        desk.assign(portal.admin, ticket.reference, agent.id)


def test_erased_addresses_are_unique_whatever_the_ids(portal: Portal) -> None:
    desk = portal.desk
    ids = ["Ann.Lee", "ann.lee", "c0ffee"]
    for n, contact_id in enumerate(ids):
        desk.add_contact(Contact(id=contact_id, email=f"ann{n}@x.test", full_name="Ann Lee"))
        desk.erase_contact(portal.admin, contact_id)
    emails = [desk.get_contact(contact_id).email for contact_id in ids]
    assert emails[2] == "erased-c0ffee@erased.invalid"
    assert len(set(emails)) == 3 and all(e.endswith("@erased.invalid") for e in emails)


def test_erasing_twice_changes_nothing_more(portal: Portal) -> None:
    _story(portal)
    first = portal.desk.erase_contact(portal.admin, portal.alice.id)
    assert first.tickets == 1
    exported = portal.desk.export_contact_data(portal.admin, portal.alice.id)
    assert portal.desk.erase_contact(portal.admin, portal.alice.id) == ErasureReport(
        contact_id=portal.alice.id
    )
    assert portal.desk.export_contact_data(portal.admin, portal.alice.id) == exported


def test_only_another_admin_erases_a_known_contact(portal: Portal) -> None:
    desk = portal.desk
    with pytest.raises(PermissionDenied, match="only admins"):
        desk.erase_contact(portal.agent, portal.alice.id)
    with pytest.raises(PermissionDenied, match="another admin"):
        desk.erase_contact(portal.admin, portal.admin.id)
    with pytest.raises(NotFound, match="contact 'nobody'"):
        desk.erase_contact(portal.admin, "nobody")
    with pytest.raises(TypeError, match="contact_id"):
        desk.erase_contact(portal.admin, 7)  # type: ignore[arg-type]
    assert desk.get_contact(portal.alice.id) == portal.alice


def test_erasing_a_reviewed_sign_up_redacts_what_the_admins_were_told(
    store: Store, portal: Portal
) -> None:
    policy = SignupPolicy.always_review(fields=(FieldSpec(key="member", label="Member id"),))
    desk = SupportDesk(store, clock=portal.clock, signup_policy=policy)
    sent: list[Any] = []
    desk.request_signup("newt@x.test")
    desk.dispatch_notifications(sent.append)
    newt = desk.complete_signup(
        sent[0].payload["token"], "Newt Scamander", details={"member": "C-1234"}
    )
    (bell,) = desk.notifications(portal.admin).notifications
    assert bell.payload["full_name"] == "Newt Scamander"

    desk.erase_contact(portal.admin, newt.id)

    (bell,) = desk.notifications(portal.admin).notifications
    assert bell.payload == {
        "email": f"erased-{newt.id}@erased.invalid",
        "full_name": ERASED_NAME,
        "contact_id": newt.id,
    }
    text = _everything(store)
    assert "newt@x.test" not in text and "Newt" not in text and "C-1234" not in text
