"""Tickets through the facade: opening, updates and notes, visibility, collaborators, follow-ups."""

from __future__ import annotations

import io
from datetime import date, timedelta

import attrs
import pytest

from supportdesk import (
    Activity,
    ActivityKind,
    Conflict,
    Contact,
    ContactState,
    Desk,
    EventKind,
    FieldKind,
    FieldSpec,
    FollowUpPolicy,
    Grant,
    InvalidTransition,
    NotFound,
    Participant,
    PermissionDenied,
    Priority,
    RequestType,
    Role,
    Submission,
    TicketList,
    TicketSort,
    ValidationError,
)

from .conftest import Portal


def kinds(portal: Portal, reference: str) -> list[ActivityKind]:
    view = portal.desk.view_ticket(portal.agent, reference)
    return [entry.kind for entry in view.activities]


def test_opening_allocates_references_per_desk(portal: Portal) -> None:
    first, second = portal.open(), portal.open(portal.bob)
    assert (first.reference, second.reference) == ("HHA-1", "HHA-2")
    assert first.status == "new"
    assert first.organization_id == portal.acme.id
    assert first.shared_with_organization
    assert first.created_at == portal.clock.now()
    assert kinds(portal, first.reference) == [ActivityKind.CREATED]


def test_opening_validates_the_form_and_stores_nothing_on_error(portal: Portal) -> None:
    with pytest.raises(ValidationError) as caught:
        portal.desk.open_ticket(portal.alice, portal.general.id, Submission(summary=" "))
    assert set(caught.value.errors) == {"summary", "description"}
    with pytest.raises(ValidationError) as caught:
        portal.desk.open_ticket(
            portal.alice, portal.incident.id, Submission(summary="Down", fields={"severity": "meh"})
        )
    assert set(caught.value.errors) == {"severity"}
    assert portal.desk.count_tickets(portal.alice, TicketList.CREATED_BY_ME) == 0
    assert portal.open().reference == "HHA-1"


def test_agent_opens_on_behalf_of_a_customer(portal: Portal) -> None:
    ticket = portal.desk.open_ticket(
        portal.agent,
        portal.general.id,
        Submission(summary="Phoned in", description="By phone"),
        requester_id=portal.alice.id,
    )
    assert ticket.requester_id == portal.alice.id
    with pytest.raises(PermissionDenied):
        portal.desk.open_ticket(
            portal.bob,
            portal.general.id,
            Submission(summary="x", description="y"),
            requester_id=portal.alice.id,
        )


def test_customer_update_moves_ticket_back_to_support(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.assign(portal.agent, ticket.reference, portal.agent.id)
    portal.desk.ask_customer(portal.agent, ticket.reference, "Which claims?")
    updated = portal.desk.share_update(portal.alice, ticket.reference, "Claims 1 to 4")
    assert updated.status == "pending_support"
    assert kinds(portal, ticket.reference) == [
        ActivityKind.CREATED,
        ActivityKind.STATUS_CHANGED,
        ActivityKind.ASSIGNED,
        ActivityKind.STATUS_CHANGED,
        ActivityKind.PUBLIC_UPDATE,
        ActivityKind.PUBLIC_UPDATE,
        ActivityKind.STATUS_CHANGED,
    ]


def test_agent_public_update_keeps_status(portal: Portal) -> None:
    ticket = portal.open()
    portal.clock.advance(timedelta(minutes=5))
    after = portal.desk.share_update(portal.agent, ticket.reference, "Looking into it")
    assert after.status == "new"
    assert after.updated_at == portal.clock.now()
    assert after.version == ticket.version


def test_internal_notes_never_reach_customers(portal: Portal) -> None:
    ticket = portal.open()
    note = portal.desk.add_note(portal.agent, ticket.reference, "Customer is on the old plan")
    assert note.internal
    customer_view = portal.desk.view_ticket(portal.alice, ticket.reference)
    assert all(not entry.internal for entry in customer_view.activities)
    assert note.id not in {entry.id for entry in customer_view.activities}
    agent_view = portal.desk.view_ticket(portal.agent, ticket.reference)
    assert note.id in {entry.id for entry in agent_view.activities}
    with pytest.raises(PermissionDenied):
        portal.desk.add_note(portal.alice, ticket.reference, "sneaky")


def test_internal_notes_and_their_files_leave_the_update_time_alone(portal: Portal) -> None:
    # A customer who saw "Updated" move, or a list reorder, would learn a note was written.
    older = portal.open(summary="Older")
    portal.clock.advance(timedelta(hours=1))
    newer = portal.open(summary="Newer")
    portal.clock.advance(timedelta(hours=1))
    portal.desk.add_note(portal.agent, older.reference, "Customer is on the old plan")
    memo = io.BytesIO(b"call notes")
    portal.desk.attach(portal.agent, older.reference, "memo.txt", memo, internal=True)
    for reader in (portal.alice, portal.agent):
        assert portal.desk.get_ticket(reader, older.reference).updated_at == older.updated_at
        page = portal.desk.list_tickets(
            reader, TicketList.VISIBLE, sort=TicketSort.RECENTLY_UPDATED
        )
        assert [row.reference for row in page.tickets] == [newer.reference, older.reference]
    portal.clock.advance(timedelta(hours=1))
    portal.desk.share_update(portal.agent, older.reference, "Which plan are you on?")
    touched = portal.desk.get_ticket(portal.alice, older.reference)
    assert touched.updated_at == portal.clock.now()


def test_visibility(portal: Portal) -> None:
    ticket = portal.open()
    for outsider in (portal.carol, portal.loner, portal.outsider_agent):
        with pytest.raises(NotFound):
            portal.desk.get_ticket(outsider, ticket.reference)
        with pytest.raises(NotFound):
            portal.desk.share_update(outsider, ticket.reference, "hello?")
    for insider in (portal.alice, portal.bob, portal.agent, portal.admin):
        assert portal.desk.get_ticket(insider, ticket.reference) == ticket
    portal.desk.set_organization_sharing(portal.alice, ticket.reference, shared=False)
    with pytest.raises(NotFound):
        portal.desk.get_ticket(portal.bob, ticket.reference)


def test_not_found_and_invisible_are_told_apart_by_nothing(portal: Portal) -> None:
    ticket = portal.open()
    with pytest.raises(NotFound) as invisible:
        portal.desk.get_ticket(portal.carol, ticket.reference)
    with pytest.raises(NotFound) as missing:
        portal.desk.get_ticket(portal.carol, "HHA-999")
    assert str(invisible.value).replace(ticket.reference, "X") == str(missing.value).replace(
        "HHA-999", "X"
    )


def test_disabled_contact_loses_access_at_once(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.add_contact(attrs.evolve(portal.alice, state=ContactState.DISABLED))
    with pytest.raises(PermissionDenied):
        portal.desk.get_ticket(portal.alice, ticket.reference)


def test_explain_access(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    expected = {
        portal.alice.id: Grant.REQUESTER,
        portal.bob.id: Grant.ORGANIZATION,
        portal.carol.id: Grant.COLLABORATOR,
        portal.agent.id: Grant.DESK_AGENT,
        portal.admin.id: Grant.ADMIN,
        portal.loner.id: None,
    }
    for contact_id, grant in expected.items():
        explanation = portal.desk.explain_access(contact_id, ticket.reference)
        assert explanation.grant == grant
        assert explanation.allowed == (grant is not None)


def test_collaborator_from_another_organisation(portal: Portal) -> None:
    ticket = portal.open()
    with pytest.raises(NotFound):
        portal.desk.get_ticket(portal.carol, ticket.reference)
    portal.desk.add_collaborator(portal.alice, ticket.reference, "CAROL@globex.test")
    view = portal.desk.view_ticket(portal.carol, ticket.reference)
    # Names for all; an address for staff and for the person themselves only.
    shown = [(c.full_name, c.email) for c in view.shared_with]
    assert shown == [("Alice Payer", None), ("Carol Provider", portal.carol.email)]
    staff = portal.desk.view_ticket(portal.agent, ticket.reference).shared_with
    assert [c.email for c in staff] == [portal.alice.email, portal.carol.email]
    bob = portal.desk.view_ticket(portal.bob, ticket.reference).shared_with  # by organisation
    assert [c.email for c in bob] == [None, None]
    portal.desk.share_update(portal.carol, ticket.reference, "I see the same on our side")
    assert ActivityKind.COLLABORATOR_ADDED in kinds(portal, ticket.reference)


def test_collaborator_rules(portal: Portal) -> None:
    ticket = portal.open()
    with pytest.raises(ValidationError):
        portal.desk.add_collaborator(portal.alice, ticket.reference, "stranger@nowhere.test")
    with pytest.raises(ValidationError):
        portal.desk.add_collaborator(portal.alice, ticket.reference, portal.alice.email)
    with pytest.raises(PermissionDenied):
        portal.desk.add_collaborator(portal.bob, ticket.reference, portal.carol.email)
    pending = portal.desk.add_contact(
        attrs.evolve(
            portal.loner, id="p", email="pending@x.test", state=ContactState.PENDING_APPROVAL
        )
    )
    with pytest.raises(ValidationError):
        portal.desk.add_collaborator(portal.alice, ticket.reference, pending.email)
    portal.desk.add_collaborator(portal.agent, ticket.reference, portal.carol.email)
    portal.desk.add_collaborator(portal.carol, ticket.reference, portal.loner.email)
    portal.desk.remove_collaborator(portal.alice, ticket.reference, portal.loner.id)
    with pytest.raises(NotFound):
        portal.desk.get_ticket(portal.loner, ticket.reference)
    with pytest.raises(NotFound):
        portal.desk.remove_collaborator(portal.alice, ticket.reference, portal.loner.id)


def test_a_collaborator_must_be_able_to_see_the_ticket(portal: Portal) -> None:
    ticket = portal.open()
    for actor in (portal.alice, portal.agent, portal.admin):
        with pytest.raises(ValidationError) as refused:
            portal.desk.add_collaborator(actor, ticket.reference, portal.outsider_agent.email)
        assert set(refused.value.errors) == {"email"}
        # Staff learn why; a customer, what an unknown address would tell.
        if actor is portal.alice:
            with pytest.raises(ValidationError) as unknown:
                portal.desk.add_collaborator(actor, ticket.reference, "nobody@x.test")
            said = unknown.value.errors["email"].replace("nobody@x.test", "")
            assert refused.value.errors["email"].replace(portal.outsider_agent.email, "") == said
        else:
            assert "own desks" in refused.value.errors["email"]
    shared = portal.desk.view_ticket(portal.alice, ticket.reference).shared_with
    assert [c.id for c in shared] == [portal.alice.id]
    assert ActivityKind.COLLABORATOR_ADDED not in kinds(portal, ticket.reference)
    with pytest.raises(NotFound):
        portal.desk.get_ticket(portal.outsider_agent, ticket.reference)
    # Whoever sees the ticket once added may be added: an admin, an agent of its desk.
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.admin.email)
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.agent.email)
    shared_with = portal.desk.view_ticket(portal.alice, ticket.reference).shared_with
    assert [c.id for c in shared_with] == [portal.alice.id, portal.admin.id, portal.agent.id]


def test_notifications_switch(portal: Portal) -> None:
    ticket = portal.open()
    assert portal.desk.view_ticket(portal.alice, ticket.reference).notifications_on
    portal.desk.set_notifications(portal.alice, ticket.reference, enabled=False)
    assert not portal.desk.view_ticket(portal.alice, ticket.reference).notifications_on
    assert portal.desk.view_ticket(portal.bob, ticket.reference).notifications_on


def test_escalate_raises_priority_once_per_step(portal: Portal) -> None:
    ticket = portal.open()
    escalated = portal.desk.escalate(portal.alice, ticket.reference, "Payroll blocked")
    assert escalated.escalated
    assert escalated.priority is Priority.HIGH
    assert portal.desk.escalate(portal.alice, ticket.reference).priority is Priority.HIGHEST
    assert portal.desk.escalate(portal.alice, ticket.reference).priority is Priority.HIGHEST
    with pytest.raises(InvalidTransition):
        portal.desk.escalate(portal.agent, ticket.reference)
    with pytest.raises(InvalidTransition):
        portal.desk.escalate(portal.bob, ticket.reference)


def test_stale_version_conflicts(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.share_update(portal.agent, ticket.reference, "reply")
    portal.desk.escalate(portal.alice, ticket.reference)
    with pytest.raises(Conflict):
        portal.desk.transition(
            portal.agent, ticket.reference, "resolve", expected_version=ticket.version
        )
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "new"


def test_events_written_with_each_change(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.add_note(portal.agent, ticket.reference, "note")
    portal.desk.resolve(portal.alice, ticket.reference)
    with portal.desk._store.unit_of_work() as work:
        events = [event.kind for event in work.outbox.list_events(ticket.id)]
    assert events == [
        EventKind.TICKET_CREATED,
        EventKind.TICKET_RECEIVED,
        EventKind.INTERNAL_NOTE,
        EventKind.STATUS_CHANGED,
    ]


def closed_ticket(portal: Portal) -> str:
    ticket = portal.open()
    portal.desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    portal.desk.resolve(portal.agent, ticket.reference)
    portal.desk.close(portal.alice, ticket.reference)
    return ticket.reference


def test_update_on_closed_ticket_opens_a_follow_up(portal: Portal) -> None:
    reference = closed_ticket(portal)
    before = portal.desk.view_ticket(portal.agent, reference)
    follow_up = portal.desk.share_update(portal.alice, reference, "It happened again")
    original = portal.desk.get_ticket(portal.alice, reference)
    assert original.status == "closed"
    # The closed ticket stays as it was, its log now saying which ticket continued it.
    after = portal.desk.view_ticket(portal.agent, reference)
    assert attrs.evolve(after, activities=after.activities[:-1]) == before
    assert (after.activities[-1].kind, after.activities[-1].data) == (
        ActivityKind.FOLLOWED_UP,
        {"follow_up": "HHA-2"},
    )
    assert after.activities[-1].actor_name == portal.alice.full_name
    assert follow_up.follow_up_of == original.id
    assert follow_up.reference == "HHA-2"
    assert follow_up.status == "new"
    assert (follow_up.desk_id, follow_up.request_type_id) == (
        original.desk_id,
        original.request_type_id,
    )
    assert follow_up.organization_id == original.organization_id
    view = portal.desk.view_ticket(portal.carol, follow_up.reference)
    assert [c.id for c in view.shared_with] == [portal.alice.id, portal.carol.id]
    assert [e.kind for e in view.activities] == [
        ActivityKind.CREATED,
        ActivityKind.FOLLOW_UP_CREATED,
    ]


def test_follow_up_policies(portal: Portal) -> None:
    def set_policy(policy: FollowUpPolicy, window: timedelta | None = None) -> None:
        desk = attrs.evolve(portal.help_desk, follow_up_policy=policy, follow_up_window=window)
        portal.desk.add_desk(desk)

    set_policy(FollowUpPolicy.REFUSE)
    reference = closed_ticket(portal)
    with pytest.raises(InvalidTransition):
        portal.desk.share_update(portal.alice, reference, "again")
    set_policy(FollowUpPolicy.REOPEN)
    reopened = portal.desk.share_update(portal.alice, reference, "again")
    assert (reopened.reference, reopened.status, reopened.closed_at) == (
        reference,
        "pending_support",
        None,
    )
    set_policy(FollowUpPolicy.FOLLOW_UP, window=timedelta(days=7))
    reference = closed_ticket(portal)
    portal.clock.advance(timedelta(days=8))
    with pytest.raises(InvalidTransition):
        portal.desk.share_update(portal.alice, reference, "too late")


def test_desk_keys_are_checked(portal: Portal) -> None:
    with pytest.raises(ValidationError):
        portal.desk.add_desk(Desk(key="hha", name="Lower"))
    with pytest.raises(Conflict):
        portal.desk.add_desk(Desk(key="HHA", name="Twin"))


def test_only_staff_set_a_priority_and_only_a_priority(portal: Portal) -> None:
    """Issue 10, defect 3: a customer's priority is refused; only a Priority is stored."""
    general = portal.general.id
    submission = Submission(summary="Down", description="All of it.")
    with pytest.raises(PermissionDenied):
        portal.desk.open_ticket(portal.alice, general, submission, priority=Priority.HIGHEST)
    with pytest.raises(PermissionDenied):
        portal.desk.open_ticket(portal.alice, general, submission, priority=Priority.MEDIUM)
    assert portal.desk.open_ticket(portal.alice, general, submission).priority is Priority.MEDIUM
    assert portal.desk.open_ticket(portal.alice, general, submission, priority=None).priority == 3
    raised = portal.desk.open_ticket(
        portal.agent, general, submission, requester_id=portal.alice.id, priority=Priority.HIGH
    )
    assert portal.desk.get_ticket(portal.alice, raised.reference).priority is Priority.HIGH
    # The number of a priority is taken, as a JSON body gives it; no other.
    assert portal.desk.open_ticket(portal.agent, general, submission, priority=5).priority is (
        Priority.HIGHEST
    )
    for value in (99, 0, -1):
        with pytest.raises(ValidationError) as caught:
            portal.desk.open_ticket(portal.agent, general, submission, priority=value)
        assert list(caught.value.errors) == ["priority"]
    for wrong in ("high", 4.0, True, object()):
        with pytest.raises(TypeError, match="priority"):
            portal.desk.open_ticket(portal.agent, general, submission, priority=wrong)
    assert portal.desk.count_tickets(portal.admin, TicketList.VISIBLE) == 4


def test_the_ticket_page_names_everyone_on_it(portal: Portal) -> None:
    desk = portal.desk
    ticket = portal.open()
    desk.add_collaborator(portal.alice, ticket.reference, portal.carol.email)
    desk.assign(portal.agent, ticket.reference, portal.agent.id)
    desk.share_update(portal.carol, ticket.reference, "Ours too")
    desk.add_note(portal.admin, ticket.reference, "Known issue")
    desk.ask_customer(portal.agent, ticket.reference, "Which claims?")
    portal.clock.advance(timedelta(days=1))
    desk.run_due_timers()
    view = desk.view_ticket(portal.agent, ticket.reference)
    assert [c.full_name for c in view.shared_with] == ["Alice Payer", "Carol Provider"]
    assert (view.status_label, view.assignee_name) == ("Waiting for customer", "Agent Smith")
    told = [(e.kind, e.actor_name, e.actor_role) for e in view.activities]
    assert told[0] == (ActivityKind.CREATED, "Alice Payer", Role.CUSTOMER)
    assert (ActivityKind.PUBLIC_UPDATE, "Carol Provider", Role.CUSTOMER) in told
    assert (ActivityKind.INTERNAL_NOTE, "Admin", Role.ADMIN) in told
    assert told[-1] == (ActivityKind.REMINDER_SENT, "System", None)
    assert all(isinstance(e, Activity) for e in view.activities)  # entries read as entries
    # Names are the directory's now, not as they were when written.
    desk.add_contact(attrs.evolve(portal.carol, full_name="Carol Renamed"))
    customer = desk.view_ticket(portal.alice, ticket.reference)
    assert [c.full_name for c in customer.shared_with] == ["Alice Payer", "Carol Renamed"]
    assert "Carol Renamed" in {e.actor_name for e in customer.activities}
    assert "Admin" not in {e.actor_name for e in customer.activities}  # the note is staff's
    assert desk.view_ticket(portal.bob, ticket.reference).assignee_name == "Agent Smith"


def test_an_unassigned_ticket_page(portal: Portal) -> None:
    ticket = portal.open()
    view = portal.desk.view_ticket(portal.bob, ticket.reference)
    assert (view.assignee_name, view.status_label) == (None, "New")
    assert view.shared_with == (Participant.of(portal.alice, portal.bob),)
    assert view.notifications_on
    assert "escalate" not in view.actions  # Bob is neither requester nor collaborator


def test_customers_never_read_an_internal_field(portal: Portal) -> None:
    triage = portal.desk.add_request_type(
        RequestType(
            desk_id=portal.help_desk.id,
            name="Triage",
            fields=(
                FieldSpec(key="product", label="Product"),
                FieldSpec(key="root_cause", label="Root cause", internal=True),
            ),
        )
    )
    submission = Submission(
        summary="Phoned in", fields={"product": "Portal", "root_cause": "Expired card"}
    )
    ticket = portal.desk.open_ticket(
        portal.agent, triage.id, submission, requester_id=portal.alice.id
    )
    assert portal.desk.get_ticket(portal.agent, ticket.reference).fields == ticket.fields
    assert "root_cause" in portal.desk.view_ticket(portal.agent, ticket.reference).ticket.fields
    desk, alice, ref = portal.desk, portal.alice, ticket.reference
    for read in (
        desk.get_ticket(alice, ref),
        desk.view_ticket(alice, ref).ticket,
        # What a customer's write returns is read as much as a get.
        desk.share_update(alice, ref, "Still failing"),
        desk.escalate(alice, ref),
        desk.set_organization_sharing(alice, ref, False),
        desk.transition(alice, ref, "resolve", comment="Works now"),
        desk.close(alice, ref),
        desk.share_update(alice, ref, "Failing again"),  # the follow-up
    ):
        assert read.fields == {"product": "Portal"}, read
    # The store keeps the internal answer, on the follow-up too.
    follow_up = desk.list_tickets(portal.agent, TicketList.VISIBLE, open=True).tickets[0]
    assert desk.get_ticket(portal.agent, ref).fields["root_cause"] == "Expired card"
    assert desk.get_ticket(portal.agent, follow_up.reference).fields["root_cause"] == "Expired card"
    # Nor the form's internal fields themselves: only staff read their labels.
    product = (FieldSpec(key="product", label="Product"),)
    (theirs,) = [t for t in desk.list_request_types(alice) if t.id == triage.id]
    assert theirs.fields == product
    assert desk.view_ticket(alice, follow_up.reference).request_type.fields == product
    (staffs,) = [t for t in desk.list_request_types(portal.agent) if t.id == triage.id]
    assert staffs == triage


def test_an_answer_whose_field_left_the_form_is_the_staffs(portal: Portal) -> None:
    fields = (FieldSpec(key="product", label="Product"), FieldSpec(key="score", label="Score"))
    form = portal.desk.add_request_type(
        RequestType(desk_id=portal.help_desk.id, name="Claims", fields=fields)
    )
    answers = {"product": "Portal", "score": "99"}
    ticket = portal.desk.open_ticket(portal.alice, form.id, Submission(summary="x", fields=answers))
    # The form drops the field: what was answered in it is no longer the customer's to read.
    portal.desk.add_request_type(attrs.evolve(form, fields=fields[:1]))
    assert portal.desk.get_ticket(portal.alice, ticket.reference).fields == {"product": "Portal"}
    assert portal.desk.get_ticket(portal.agent, ticket.reference).fields == answers


def test_agents_set_priority_and_unassign(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.assign(portal.agent, ticket.reference, portal.agent.id)
    raised = portal.desk.set_priority(portal.agent, ticket.reference, Priority.HIGH)
    assert raised.priority is Priority.HIGH
    freed = portal.desk.unassign(portal.agent, ticket.reference)
    assert freed.assignee_id is None
    # Doing it again changes nothing and logs nothing.
    assert portal.desk.unassign(portal.agent, ticket.reference) == freed
    entries = portal.desk.view_ticket(portal.agent, ticket.reference).activities
    assert [(e.kind, dict(e.data)) for e in entries[-2:]] == [
        (ActivityKind.PRIORITY_CHANGED, {"priority": "high"}),
        (ActivityKind.UNASSIGNED, {}),
    ]
    with pytest.raises(PermissionDenied):
        portal.desk.set_priority(portal.alice, ticket.reference, Priority.HIGHEST)
    with pytest.raises(PermissionDenied):
        portal.desk.unassign(portal.alice, ticket.reference)
    with pytest.raises(ValidationError):
        portal.desk.set_priority(portal.agent, ticket.reference, 99)  # type: ignore[arg-type]
    portal.desk.resolve(portal.agent, ticket.reference)
    with pytest.raises(InvalidTransition):
        portal.desk.set_priority(portal.agent, ticket.reference, Priority.LOW)
    assert portal.desk.get_ticket(portal.agent, ticket.reference).priority is Priority.HIGH


def test_the_assign_to_list_holds_whom_assign_takes(portal: Portal) -> None:
    desk, agent, admin = portal.desk, portal.agent, portal.admin
    away = desk.add_contact(
        Contact(
            email="away@desk.test",
            full_name="Away",
            role=Role.AGENT,
            desk_ids=frozenset({portal.help_desk.id}),
            state=ContactState.DISABLED,
        )
    )
    assignees = desk.list_assignees(agent, portal.help_desk.id)
    assert assignees == [admin, agent]  # by e-mail; not the disabled agent nor the EDI one
    assert desk.list_assignees(admin, portal.other_desk.id) == [admin, portal.outsider_agent]
    ticket = portal.open()
    for assignee in assignees:
        assert desk.assign(agent, ticket.reference, assignee.id).assignee_id == assignee.id
    with pytest.raises(ValidationError):
        desk.assign(agent, ticket.reference, away.id)
    with pytest.raises(PermissionDenied):
        desk.list_assignees(portal.alice, portal.help_desk.id)
    with pytest.raises(PermissionDenied):
        desk.list_assignees(portal.outsider_agent, portal.help_desk.id)
    with pytest.raises(NotFound):
        desk.list_assignees(admin, "no-such-desk")


def test_agents_change_the_request_type_and_the_answers_follow_the_new_form(
    portal: Portal,
) -> None:
    desk, agent = portal.desk, portal.agent
    outage = desk.add_request_type(
        RequestType(
            desk_id=portal.help_desk.id,
            name="Outage",
            fields=(
                FieldSpec(
                    key="severity", label="Severity", kind=FieldKind.CHOICE, options=("low", "high")
                ),
                FieldSpec(key="since", label="Since", kind=FieldKind.DATE, required=True),
            ),
        )
    )
    submission = Submission(summary="Portal down", fields={"severity": "high"})
    ticket = desk.open_ticket(portal.alice, portal.incident.id, submission)

    # Every problem of the new form at once, and nothing changes.
    with pytest.raises(ValidationError) as refused:
        desk.change_request_type(agent, ticket.reference, outage.id, {"severity": "fatal"})
    assert set(refused.value.errors) == {"severity", "since"}
    assert desk.get_ticket(agent, ticket.reference) == ticket

    moved = desk.change_request_type(agent, ticket.reference, outage.id, {"since": "2026-01-02"})
    assert moved.request_type_id == outage.id
    assert moved.fields == {"severity": "high", "since": date(2026, 1, 2)}
    # The general request's form has neither field: both answers go.
    back = desk.change_request_type(agent, ticket.reference, portal.general.id)
    assert (back.request_type_id, back.fields) == (portal.general.id, {})
    entries = desk.view_ticket(portal.alice, ticket.reference).activities
    assert [(e.kind, dict(e.data)) for e in entries[-2:]] == [
        (ActivityKind.REQUEST_TYPE_CHANGED, {"from": "Incident", "to": "Outage"}),
        (ActivityKind.REQUEST_TYPE_CHANGED, {"from": "Outage", "to": "General Request"}),
    ]
    assert desk.change_request_type(agent, ticket.reference, portal.general.id) == back


def test_a_request_type_change_stays_on_the_desk_and_with_staff(portal: Portal) -> None:
    desk = portal.desk
    ticket = portal.open()
    edi = desk.add_request_type(RequestType(desk_id=portal.other_desk.id, name="SFTP Issue"))
    with pytest.raises(ValidationError) as elsewhere:
        desk.change_request_type(portal.admin, ticket.reference, edi.id)
    assert "own desk" in elsewhere.value.errors["request_type_id"]
    with pytest.raises(ValidationError):
        desk.change_request_type(portal.agent, ticket.reference, "no-such-type")
    with pytest.raises(PermissionDenied):
        desk.change_request_type(portal.alice, ticket.reference, portal.incident.id)
    desk.resolve(portal.agent, ticket.reference)
    with pytest.raises(InvalidTransition):
        desk.change_request_type(portal.agent, ticket.reference, portal.incident.id)
    assert desk.get_ticket(portal.agent, ticket.reference).request_type_id == portal.general.id


def test_waiting_for_a_third_party_says_whom_on_the_ticket_and_in_its_log(portal: Portal) -> None:
    ticket = portal.open()
    waiting = portal.desk.wait_for(portal.agent, ticket.reference, " the clearing house ")
    assert (waiting.status, waiting.sub_status) == ("waiting_for_third_party", "the clearing house")
    view = portal.desk.view_ticket(portal.alice, ticket.reference)
    (moved,) = [e for e in view.activities if e.kind is ActivityKind.STATUS_CHANGED]
    assert moved.data == {
        "from": "new",
        "to": "waiting_for_third_party",
        "trigger": "wait_for",
        "sub_status": "the clearing house",
    }
