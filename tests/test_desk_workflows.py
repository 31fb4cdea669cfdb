"""Each desk follows the workflow and calendar it names: statuses, labels, actions and timers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import attrs
import pytest

from supportdesk import (
    DEFAULT_WORKFLOW,
    BusinessCalendar,
    Contact,
    Desk,
    FakeClock,
    Party,
    RequestType,
    Role,
    StatusCategory,
    StatusSpec,
    Submission,
    SupportDesk,
    TicketList,
    TimerSpec,
    TransitionSpec,
    ValidationError,
    Workflow,
    WorkflowDefinition,
    WorkflowDefinitionError,
)
from supportdesk.storage.protocol import Store

CUSTOMER = frozenset({Party.REQUESTER, Party.COLLABORATOR, Party.CUSTOMER})
SUPPORT_LABELS = {
    "new": "Waiting for support",
    "assigned": "Waiting for support",
    "pending_support": "Waiting for support",
}
"""JSM's customer-facing words on the default workflow."""

OFFICE = BusinessCalendar(timezone="Europe/London", opens=time(9), closes=time(17))
MONDAY_9_LONDON = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def short_workflow(
    *, auto_resolve_after: timedelta = timedelta(days=5), resolved: str = "resolved"
) -> Workflow:
    """Two open statuses, other transitions than the default; resolves itself after a wait.

    ``resolved`` names its resolved status.
    """
    waiting = ("waiting_for_support", "waiting_for_customer")
    return Workflow(
        WorkflowDefinition(
            name="short",
            statuses=(
                StatusSpec(
                    name="waiting_for_support",
                    label="Waiting for support",
                    category=StatusCategory.OPEN,
                ),
                StatusSpec(
                    name="waiting_for_customer",
                    label="Waiting for customer",
                    category=StatusCategory.WAITING,
                ),
                StatusSpec(name=resolved, label="Resolved", category=StatusCategory.RESOLVED),
            ),
            initial="waiting_for_support",
            transitions=(
                TransitionSpec(
                    trigger="ask_customer",
                    sources=("waiting_for_support",),
                    dest="waiting_for_customer",
                    parties=frozenset({Party.AGENT}),
                ),
                TransitionSpec(
                    trigger="share_update",
                    sources=("waiting_for_customer",),
                    dest="waiting_for_support",
                    parties=CUSTOMER,
                ),
                TransitionSpec(
                    trigger="share_update",
                    sources=("waiting_for_support",),
                    dest=None,
                    parties=CUSTOMER,
                ),
                TransitionSpec(
                    trigger="resolve",
                    sources=waiting,
                    dest=resolved,
                    parties=frozenset({Party.AGENT, Party.SYSTEM}),
                ),
            ),
            timers=(
                TimerSpec(
                    status="waiting_for_customer",
                    name="auto_resolve",
                    after=auto_resolve_after,
                    trigger="resolve",
                ),
            ),
            reopen_to=None,
            customer_actions=("share_update",),
        )
    )


@attrs.frozen
class TwoDesks:
    desk: SupportDesk
    clock: FakeClock
    service: Desk
    cases: Desk
    general: RequestType
    case: RequestType
    alice: Contact
    agent: Contact


def two_desks(store: Store) -> TwoDesks:
    """A JSM-like desk (default workflow, its own labels) and a desk on the short workflow."""
    clock = FakeClock(MONDAY_9_LONDON)
    desk = SupportDesk(
        store,
        clock=clock,
        workflows={
            "jsm": Workflow(DEFAULT_WORKFLOW).relabel(SUPPORT_LABELS),
            "short": short_workflow(),
        },
        calendars={"office": OFFICE},
    )
    service = desk.add_desk(Desk(key="CSD", name="Customer Service Desk", workflow="jsm"))
    cases = desk.add_desk(Desk(key="CASE", name="Cases", workflow="short", calendar="office"))
    general = desk.add_request_type(RequestType(desk_id=service.id, name="General Request"))
    case = desk.add_request_type(RequestType(desk_id=cases.id, name="Case"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice"))
    agent = desk.add_contact(
        Contact(
            email="agent@desk.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({service.id, cases.id}),
        )
    )
    return TwoDesks(desk, clock, service, cases, general, case, alice, agent)


def test_each_desk_moves_its_tickets_by_its_own_workflow(store: Store) -> None:
    world = two_desks(store)
    desk, alice, agent = world.desk, world.alice, world.agent
    request = desk.open_ticket(alice, world.general.id, Submission(summary="Login fails"))
    case = desk.open_ticket(alice, world.case.id, Submission(summary="Claims missing"))
    assert (request.status, case.status) == ("new", "waiting_for_support")

    request_page = desk.view_ticket(alice, request.reference)
    case_page = desk.view_ticket(alice, case.reference)
    assert request_page.status_label == case_page.status_label == "Waiting for support"
    assert "cancel" in request_page.actions
    assert case_page.actions == ("share_update",)

    desk.ask_customer(agent, case.reference, "Which claims?")
    desk.ask_customer(agent, request.reference, "Which browser?")
    rows = desk.list_tickets(alice, TicketList.CREATED_BY_ME, open=True).tickets
    assert {(r.reference, r.status_label) for r in rows} == {
        (request.reference, "Waiting for customer"),
        (case.reference, "Waiting for customer"),
    }
    # The default workflow lets a requester cancel; the short one has no such move.
    assert desk.cancel(alice, request.reference).status == "canceled"
    with pytest.raises(Exception, match="cancel"):
        desk.cancel(alice, case.reference)


def test_events_carry_the_label_of_the_tickets_desk(store: Store) -> None:
    world = two_desks(store)
    desk = world.desk
    request = desk.open_ticket(world.alice, world.general.id, Submission(summary="Login fails"))
    feed = desk.notifications(world.alice).notifications
    assert [n.payload["status_label"] for n in feed if n.ticket_id == request.id] == [
        "Waiting for support"
    ]


def test_timers_count_in_the_desks_calendar(store: Store) -> None:
    world = two_desks(store)
    desk, clock = world.desk, world.clock
    friday_4pm = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)  # 16:00 in London, winter
    clock.set(friday_4pm)
    case = desk.open_ticket(world.alice, world.case.id, Submission(summary="Claims missing"))
    desk.ask_customer(world.agent, case.reference, "Which claims?")
    # Five working days from Friday 16:00 is the next Friday 16:00; 24x7 would say Wednesday.
    due = OFFICE.add(friday_4pm, timedelta(days=5))
    assert due == datetime(2026, 1, 16, 16, 0, tzinfo=UTC)
    assert desk.next_timer_due() == due

    clock.set(due - timedelta(minutes=1))
    assert desk.run_due_timers().fired == 0
    clock.set(due)
    assert desk.run_due_timers().fired == 1
    assert desk.get_ticket(world.alice, case.reference).status == "resolved"


def test_a_desk_names_only_rules_it_was_given_and_keeps_them(store: Store) -> None:
    world = two_desks(store)
    desk = world.desk
    with pytest.raises(ValidationError) as unknown:
        desk.add_desk(Desk(key="NEW", name="New", workflow="salesforce", calendar="moon"))
    assert set(unknown.value.errors) == {"workflow", "calendar"}
    assert "known: jsm, short" in unknown.value.errors["workflow"]

    with pytest.raises(ValidationError) as changed:
        desk.add_desk(attrs.evolve(world.cases, workflow="jsm"))
    assert "keeps the workflow" in changed.value.errors["workflow"]
    with pytest.raises(ValidationError) as moved:
        desk.add_desk(attrs.evolve(world.cases, calendar=None))
    assert "keeps the calendar" in moved.value.errors["calendar"]
    with pytest.raises(ValidationError) as rekeyed:
        desk.add_desk(attrs.evolve(world.cases, key="CASES"))
    assert "keeps its key" in rekeyed.value.errors["key"]
    # Everything else about a desk may change.
    renamed = desk.add_desk(attrs.evolve(world.cases, name="Support cases"))
    assert desk.workflow_of(renamed).definition.name == "short"
    assert desk.workflow_of(world.service).status("new").label == "Waiting for support"


def test_a_calendar_that_cannot_count_the_workflows_timers_is_refused(store: Store) -> None:
    desk = SupportDesk(
        store,
        clock=FakeClock(MONDAY_9_LONDON),
        workflows={"hourly": short_workflow(auto_resolve_after=timedelta(hours=10))},
        calendars={"office": OFFICE},
    )
    with pytest.raises(ValidationError) as refused:
        desk.add_desk(Desk(key="HRS", name="Hours", workflow="hourly", calendar="office"))
    assert "auto_resolve" in refused.value.errors["calendar"]
    # On the 24x7 default calendar ten hours count fine.
    desk.add_desk(Desk(key="HRS", name="Hours", workflow="hourly"))


def test_a_desk_whose_workflow_this_instance_lacks_is_a_configuration_error(
    store: Store,
) -> None:
    world = two_desks(store)
    case = world.desk.open_ticket(world.alice, world.case.id, Submission(summary="Claims"))
    forgetful = SupportDesk(store, clock=world.clock)
    # Reading needs no workflow; moving the ticket does.
    assert forgetful.get_ticket(world.alice, case.reference).status == "waiting_for_support"
    with pytest.raises(WorkflowDefinitionError, match=r"CASE.*short"):
        forgetful.share_update(world.alice, case.reference, "anyone?")


def test_one_status_name_means_one_state_in_every_workflow() -> None:
    # "pending_support" is open in the default workflow: a list of open tickets
    # could not say which tab a ticket of this one belongs in.
    odd = short_workflow(resolved="pending_support")
    with pytest.raises(WorkflowDefinitionError, match="pending_support"):
        SupportDesk.in_memory(workflows={"odd": odd})
