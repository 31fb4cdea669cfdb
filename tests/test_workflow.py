"""The status machine: the default workflow row by row, definition checks, timers, Mermaid."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from supportdesk._errors import InvalidTransition, WorkflowDefinitionError
from supportdesk._models import Ticket, Timer
from supportdesk.clock import ALWAYS_OPEN
from supportdesk.workflow import (
    CUSTOMER_PARTIES,
    DEFAULT_WORKFLOW,
    Party,
    StatusCategory,
    StatusSpec,
    TimerSpec,
    TransitionSpec,
    Workflow,
    WorkflowDefinition,
)

# --- the default workflow, written out from DESIGN.md ------------------------
# Deliberately not derived from DEFAULT_WORKFLOW: this is the table the
# definition must match.

STATUSES = (
    "new",
    "assigned",
    "waiting_for_customer",
    "waiting_for_third_party",
    "pending_support",
    "resolved",
    "closed",
    "canceled",
)
OPEN = ("new", "assigned", "waiting_for_customer", "waiting_for_third_party", "pending_support")
CUSTOMERS = "requester collaborator customer"
ENTERED: datetime = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)

# (trigger, from) -> (to, who); absent pairs are refused to everyone.
EXPECTED: dict[tuple[str, str], tuple[str, str]] = {
    ("assign", "new"): ("assigned", "agent"),
    ("assign", "pending_support"): ("assigned", "agent"),
    ("assign", "waiting_for_third_party"): ("assigned", "agent"),
    ("ask_customer", "new"): ("waiting_for_customer", "agent"),
    ("ask_customer", "assigned"): ("waiting_for_customer", "agent"),
    ("ask_customer", "pending_support"): ("waiting_for_customer", "agent"),
    ("ask_customer", "waiting_for_third_party"): ("waiting_for_customer", "agent"),
    ("wait_for", "new"): ("waiting_for_third_party", "agent"),
    ("wait_for", "assigned"): ("waiting_for_third_party", "agent"),
    ("wait_for", "pending_support"): ("waiting_for_third_party", "agent"),
    # Not in the first design table: issue 11 (a customer's answer came by phone;
    # now a supplier holds the ticket).
    ("wait_for", "waiting_for_customer"): ("waiting_for_third_party", "agent"),
    ("share_update", "assigned"): ("pending_support", CUSTOMERS),
    ("share_update", "waiting_for_customer"): ("pending_support", CUSTOMERS),
    ("share_update", "waiting_for_third_party"): ("pending_support", CUSTOMERS),
    ("share_update", "resolved"): ("pending_support", CUSTOMERS),
    ("share_update", "new"): ("new", CUSTOMERS),
    ("share_update", "pending_support"): ("pending_support", CUSTOMERS),
    ("resolve", "new"): ("resolved", "agent requester system"),
    ("resolve", "assigned"): ("resolved", "agent requester system"),
    ("resolve", "waiting_for_customer"): ("resolved", "agent requester system"),
    ("resolve", "waiting_for_third_party"): ("resolved", "agent requester system"),
    ("resolve", "pending_support"): ("resolved", "agent requester system"),
    ("reopen", "resolved"): ("pending_support", "agent"),
    ("close", "new"): ("closed", "requester agent system"),
    ("close", "assigned"): ("closed", "requester agent system"),
    ("close", "waiting_for_customer"): ("closed", "requester agent system"),
    ("close", "waiting_for_third_party"): ("closed", "requester agent system"),
    ("close", "pending_support"): ("closed", "requester agent system"),
    ("close", "resolved"): ("closed", "requester agent system"),
    ("cancel", "new"): ("canceled", "requester"),
    ("cancel", "assigned"): ("canceled", "requester"),
    ("cancel", "pending_support"): ("canceled", "requester"),
    ("cancel", "waiting_for_customer"): ("canceled", "requester"),
    ("cancel", "waiting_for_third_party"): ("canceled", "requester"),
    ("escalate", "new"): ("new", "requester collaborator"),
    ("escalate", "assigned"): ("assigned", "requester collaborator"),
    ("escalate", "waiting_for_customer"): ("waiting_for_customer", "requester collaborator"),
    ("escalate", "waiting_for_third_party"): ("waiting_for_third_party", "requester collaborator"),
    ("escalate", "pending_support"): ("pending_support", "requester collaborator"),
}
# "open" creates a ticket (the caller's business) and "delete" does not exist:
# both must be refused everywhere.
TRIGGERS = (
    "assign",
    "ask_customer",
    "wait_for",
    "share_update",
    "resolve",
    "reopen",
    "close",
    "cancel",
    "escalate",
    "open",
    "delete",
)


def expected_move(trigger: str, status: str, party: Party) -> str | None:
    """The status the table gives, or None when it refuses."""
    row = EXPECTED.get((trigger, status))
    if row is None or party.value not in row[1].split():
        return None
    return row[0]


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    return Workflow(DEFAULT_WORKFLOW)


@pytest.mark.parametrize(
    ("trigger", "status", "party"), list(itertools.product(TRIGGERS, STATUSES, Party))
)
def test_default_workflow_matches_the_design_table(
    workflow: Workflow, trigger: str, status: str, party: Party
) -> None:
    expected = expected_move(trigger, status, party)
    assert workflow.can_fire(status, trigger, party) is (expected is not None)
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            workflow.fire(status, trigger, party)
        assert (refused.value.status, refused.value.trigger) == (status, trigger)
        assert refused.value.party == party.value
    else:
        assert workflow.fire(status, trigger, party) == expected


@pytest.mark.parametrize(("status", "party"), list(itertools.product(STATUSES, Party)))
def test_allowed_triggers_are_the_table_rows_sorted(
    workflow: Workflow, status: str, party: Party
) -> None:
    expected = sorted(t for t in TRIGGERS if expected_move(t, status, party) is not None)
    assert workflow.allowed_triggers(status, party) == tuple(expected)


def test_invalid_transition_names_status_trigger_party_and_what_is_allowed(
    workflow: Workflow,
) -> None:
    with pytest.raises(InvalidTransition) as refused:
        workflow.fire("waiting_for_customer", "assign", Party.AGENT)
    assert str(refused.value) == (
        "cannot 'assign' a ticket in status 'waiting_for_customer' as agent;"
        " allowed: close, resolve, wait_for"
    )
    assert refused.value.allowed == ("close", "resolve", "wait_for")


def test_a_follow_up_on_a_closed_ticket_is_refused_with_nothing_allowed(
    workflow: Workflow,
) -> None:
    with pytest.raises(InvalidTransition, match="allowed: nothing") as refused:
        workflow.fire("closed", "share_update", Party.REQUESTER)
    assert refused.value.allowed == ()


UNKNOWN_STATUS_CALLS: list[Callable[[Workflow], object]] = [
    lambda w: w.status("archived"),
    lambda w: w.category("archived"),
    lambda w: w.is_open("archived"),
    lambda w: w.allowed_triggers("archived", Party.AGENT),
    lambda w: w.can_fire("archived", "assign", Party.AGENT),
    lambda w: w.fire("archived", "assign", Party.AGENT),
    lambda w: w.plan_timers(ticket_in("archived"), ENTERED, ALWAYS_OPEN),
]


@pytest.mark.parametrize("call", UNKNOWN_STATUS_CALLS)
def test_an_unknown_status_is_a_value_error_naming_the_known_ones(
    workflow: Workflow, call: Callable[[Workflow], object]
) -> None:
    with pytest.raises(ValueError, match=r"no status 'archived'; known: new, assigned, .*canceled"):
        call(workflow)


def test_statuses_and_categories(workflow: Workflow) -> None:
    assert workflow.initial == "new"
    assert workflow.definition is DEFAULT_WORKFLOW
    assert workflow.statuses == STATUSES
    assert workflow.open_statuses == frozenset(OPEN)
    assert workflow.resolved_statuses == {"resolved"}
    assert workflow.closed_statuses == {"closed", "canceled"}
    assert workflow.category("waiting_for_customer") is StatusCategory.WAITING
    assert workflow.category("waiting_for_third_party") is StatusCategory.WAITING
    assert workflow.category("pending_support") is StatusCategory.OPEN
    assert workflow.status("waiting_for_customer").label == "Waiting for customer"
    assert [workflow.is_open(s) for s in STATUSES] == [True] * 5 + [False] * 3


def test_default_definition_extras() -> None:
    assert DEFAULT_WORKFLOW.reopen_to == "pending_support"
    assert DEFAULT_WORKFLOW.customer_actions == (
        "share_update",
        "resolve",
        "close",
        "cancel",
        "escalate",
    )
    assert frozenset({Party.REQUESTER, Party.COLLABORATOR, Party.CUSTOMER}) == CUSTOMER_PARTIES


def test_firing_leaves_the_shared_machine_without_models(workflow: Workflow) -> None:
    # One machine serves every ticket: firing must not register anything on it.
    for status in OPEN:
        workflow.fire(status, "escalate", Party.REQUESTER)
        workflow.fire(status, "resolve", Party.SYSTEM)
    assert workflow._machine.models == []


def test_the_party_picks_between_transitions_sharing_trigger_and_source() -> None:
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            *small_definition().transitions,
            TransitionSpec(
                trigger="reply", sources=("open",), dest="waiting", parties=frozenset({Party.AGENT})
            ),
            TransitionSpec(
                trigger="reply", sources=("open",), dest=None, parties=frozenset({Party.REQUESTER})
            ),
        ),
    )
    workflow = Workflow(definition)
    assert workflow.fire("open", "reply", Party.REQUESTER) == "open"
    assert workflow.fire("open", "reply", Party.AGENT) == "waiting"


# --- definition checks ---------------------------------------------------------


def small_definition() -> WorkflowDefinition:
    """A sound three-status workflow each check test breaks in one way."""
    everyone = frozenset(Party)
    return WorkflowDefinition(
        name="small",
        statuses=(
            StatusSpec(name="open", label="Open", category=StatusCategory.OPEN),
            StatusSpec(name="waiting", label="Waiting", category=StatusCategory.WAITING),
            StatusSpec(name="done", label="Done", category=StatusCategory.CLOSED),
        ),
        initial="open",
        transitions=(
            TransitionSpec(
                trigger="wait", sources=("open",), dest="waiting", parties=frozenset({Party.AGENT})
            ),
            TransitionSpec(trigger="answer", sources=("waiting",), dest="open", parties=everyone),
            TransitionSpec(
                trigger="finish", sources=("open", "waiting"), dest="done", parties=everyone
            ),
        ),
        timers=(TimerSpec(status="waiting", name="give_up", after=timedelta(1), trigger="finish"),),
        reopen_to="open",
        customer_actions=("answer", "finish"),
    )


def problems_of(definition: WorkflowDefinition) -> tuple[str, ...]:
    with pytest.raises(WorkflowDefinitionError) as refused:
        Workflow(definition)
    assert str(refused.value).startswith(f"workflow {definition.name!r} is invalid: ")
    return refused.value.problems


def with_transition(spec: TransitionSpec) -> WorkflowDefinition:
    definition = small_definition()
    return attrs.evolve(definition, transitions=(*definition.transitions, spec))


def with_timer(spec: TimerSpec) -> WorkflowDefinition:
    definition = small_definition()
    return attrs.evolve(definition, timers=(*definition.timers, spec))


def test_the_small_definition_is_sound() -> None:
    assert Workflow(small_definition()).fire("open", "wait", Party.AGENT) == "waiting"


def test_unknown_source_status_is_refused() -> None:
    spec = TransitionSpec(
        trigger="wait", sources=("limbo",), dest="waiting", parties=frozenset({Party.AGENT})
    )
    assert problems_of(with_transition(spec)) == (
        "transition 'wait' leaves unknown status 'limbo'",
    )


def test_unknown_destination_status_is_refused() -> None:
    spec = TransitionSpec(
        trigger="park", sources=("open",), dest="limbo", parties=frozenset({Party.AGENT})
    )
    assert problems_of(with_transition(spec)) == (
        "transition 'park' leads to unknown status 'limbo'",
    )


def test_unknown_initial_status_is_refused() -> None:
    definition = attrs.evolve(small_definition(), initial="start")
    assert problems_of(definition) == ("initial status 'start' is not a defined status",)


def test_duplicate_status_is_refused() -> None:
    definition = small_definition()
    duplicate = StatusSpec(name="waiting", label="Waiting again", category=StatusCategory.WAITING)
    definition = attrs.evolve(definition, statuses=(*definition.statuses, duplicate))
    assert problems_of(definition) == ("status 'waiting' is defined more than once",)


def test_status_names_must_be_identifiers() -> None:
    definition = small_definition()
    odd = StatusSpec(name="on hold", label="On hold", category=StatusCategory.OPEN)
    spec = TransitionSpec(
        trigger="hold", sources=("open",), dest="on hold", parties=frozenset({Party.AGENT})
    )
    definition = attrs.evolve(
        definition,
        statuses=(*definition.statuses, odd),
        transitions=(*definition.transitions, spec),
    )
    assert problems_of(definition) == ("status name 'on hold' is not an identifier",)


def test_trigger_names_must_be_identifiers_and_not_reserved() -> None:
    agent = frozenset({Party.AGENT})
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            *small_definition().transitions,
            TransitionSpec(trigger="go-on", sources=("open",), dest=None, parties=agent),
            TransitionSpec(trigger="status", sources=("open",), dest=None, parties=agent),
        ),
    )
    assert problems_of(definition) == (
        "trigger 'go-on' is not an identifier",
        "trigger 'status' is a reserved name",
    )


def test_transition_without_sources_or_parties_is_refused() -> None:
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            *small_definition().transitions,
            TransitionSpec(trigger="nowhere", sources=(), dest="open", parties=frozenset(Party)),
            TransitionSpec(trigger="nobody", sources=("open",), dest=None, parties=frozenset()),
        ),
    )
    assert problems_of(definition) == (
        "transition 'nowhere' has no source status",
        "transition 'nobody' has no party that may fire it",
    )


def test_ambiguous_transitions_are_refused() -> None:
    spec = TransitionSpec(
        trigger="wait", sources=("open",), dest="done", parties=frozenset({Party.AGENT})
    )
    assert problems_of(with_transition(spec)) == (
        "transition 'wait' from status 'open' leads to 'waiting' and to 'done' for agent",
    )


def test_unreachable_status_is_refused() -> None:
    definition = small_definition()
    island = StatusSpec(name="island", label="Island", category=StatusCategory.OPEN)
    definition = attrs.evolve(definition, statuses=(*definition.statuses, island))
    assert problems_of(definition) == ("status 'island' is unreachable from initial status 'open'",)


def test_a_status_reached_only_by_a_timer_trigger_is_reachable() -> None:
    definition = small_definition()
    expired = StatusSpec(name="expired", label="Expired", category=StatusCategory.CLOSED)
    expire = TransitionSpec(
        trigger="expire", sources=("waiting",), dest="expired", parties=frozenset({Party.SYSTEM})
    )
    timer = TimerSpec(status="waiting", name="expiry", after=timedelta(days=9), trigger="expire")
    definition = attrs.evolve(
        definition,
        statuses=(*definition.statuses, expired),
        transitions=(*definition.transitions, expire),
        timers=(*definition.timers, timer),
    )
    assert Workflow(definition).fire("waiting", "expire", Party.SYSTEM) == "expired"


def test_waiting_status_nobody_can_leave_is_refused() -> None:
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            TransitionSpec(
                trigger="wait", sources=("open",), dest="waiting", parties=frozenset({Party.AGENT})
            ),
            # Staying put is not leaving.
            TransitionSpec(
                trigger="nudge", sources=("waiting",), dest=None, parties=CUSTOMER_PARTIES
            ),
            TransitionSpec(
                trigger="finish", sources=("open",), dest="done", parties=CUSTOMER_PARTIES
            ),
        ),
        timers=(),
        customer_actions=("finish",),
    )
    assert problems_of(definition) == ("waiting status 'waiting' has no transition out of it",)


def test_a_waiting_status_only_the_system_leaves_is_sound() -> None:
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            TransitionSpec(
                trigger="wait", sources=("open",), dest="waiting", parties=frozenset({Party.AGENT})
            ),
            TransitionSpec(
                trigger="finish",
                sources=("waiting",),
                dest="done",
                parties=frozenset({Party.SYSTEM}),
            ),
            TransitionSpec(
                trigger="answer", sources=("open",), dest=None, parties=CUSTOMER_PARTIES
            ),
        ),
        customer_actions=("answer",),
    )
    assert Workflow(definition).allowed_triggers("waiting", Party.SYSTEM) == ("finish",)


def test_a_transition_out_of_a_final_status_is_refused() -> None:
    definition = attrs.evolve(
        small_definition(),
        transitions=(
            *small_definition().transitions,
            TransitionSpec(
                trigger="revive", sources=("done",), dest="open", parties=frozenset({Party.AGENT})
            ),
            # Staying put in a final status moves nothing.
            TransitionSpec(trigger="note", sources=("done",), dest=None, parties=frozenset(Party)),
        ),
    )
    assert problems_of(definition) == ("transition 'revive' leads out of final status 'done'",)


def test_customer_action_without_customer_transition_is_refused() -> None:
    definition = attrs.evolve(small_definition(), customer_actions=("answer", "wait", "fly"))
    assert problems_of(definition) == (
        "customer action 'wait' has no transition a customer may fire",
        "customer action 'fly' has no transition a customer may fire",
    )


def test_timer_whose_trigger_the_system_may_not_fire_is_refused() -> None:
    # "wait" exists, but only agents fire it, and not from "waiting".
    timer = TimerSpec(status="waiting", name="bounce", after=timedelta(hours=1), trigger="wait")
    assert problems_of(with_timer(timer)) == (
        "timer 'bounce' on status 'waiting' fires 'wait', which the system may not fire"
        " from status 'waiting'",
    )


def test_timer_on_unknown_status_is_refused() -> None:
    timer = TimerSpec(status="limbo", name="nudge", after=timedelta(hours=1))
    assert problems_of(with_timer(timer)) == (
        "timer 'nudge' on status 'limbo': unknown status 'limbo'",
    )


def test_duplicate_or_negative_timers_are_refused() -> None:
    definition = attrs.evolve(
        small_definition(),
        timers=(
            TimerSpec(status="waiting", name="nudge", after=timedelta(hours=1)),
            TimerSpec(status="waiting", name="nudge", after=timedelta(hours=-2)),
        ),
    )
    assert problems_of(definition) == (
        "timer 'nudge' on status 'waiting' is defined more than once",
        "timer 'nudge' on status 'waiting' has a negative delay (-7200 seconds)",
    )


def test_reopen_to_an_unknown_status_is_refused() -> None:
    definition = attrs.evolve(small_definition(), reopen_to="limbo")
    assert problems_of(definition) == ("reopen_to 'limbo' is not a defined status",)


def test_reopen_to_a_status_that_is_not_open_is_refused() -> None:
    definition = attrs.evolve(small_definition(), reopen_to="done")
    assert problems_of(definition) == ("reopen_to 'done' is not an open status (it is closed)",)


def test_a_waiting_status_is_a_fine_reopen_to_and_none_means_never() -> None:
    assert Workflow(attrs.evolve(small_definition(), reopen_to="waiting"))
    assert Workflow(attrs.evolve(small_definition(), reopen_to=None))


def test_every_problem_is_reported_at_once() -> None:
    definition = small_definition()
    definition = attrs.evolve(
        definition,
        statuses=(
            *definition.statuses,
            StatusSpec(name="island", label="Island", category=StatusCategory.WAITING),
        ),
        transitions=(
            *definition.transitions,
            TransitionSpec(
                trigger="park", sources=("open",), dest="limbo", parties=frozenset({Party.AGENT})
            ),
        ),
        timers=(
            *definition.timers,
            TimerSpec(status="open", name="auto_wait", after=timedelta(1), trigger="wait"),
            TimerSpec(status="gone", name="nudge", after=timedelta(1)),
        ),
        reopen_to="done",
        customer_actions=("answer", "park"),
    )
    assert problems_of(definition) == (
        "transition 'park' leads to unknown status 'limbo'",
        "status 'island' is unreachable from initial status 'open'",
        "waiting status 'island' has no transition out of it",
        "customer action 'park' has no transition a customer may fire",
        "timer 'auto_wait' on status 'open' fires 'wait', which the system may not fire"
        " from status 'open'",
        "timer 'nudge' on status 'gone': unknown status 'gone'",
        "reopen_to 'done' is not an open status (it is closed)",
    )


# --- timers ---------------------------------------------------------------------


def ticket_in(status: str, epoch: int = 4) -> Ticket:
    return Ticket(
        id="t1",
        reference="HHA-13782",
        desk_id="d1",
        request_type_id="rt1",
        summary="Portal missing data",
        status=status,
        requester_id="c1",
        created_at=ENTERED - timedelta(days=10),
        updated_at=ENTERED,
        status_epoch=epoch,
    )


def day(n: int) -> datetime:
    return ENTERED + timedelta(days=n)


def summary(timers: list[Timer]) -> list[tuple[str, datetime, str | None, datetime | None]]:
    return [(t.name, t.due_at, t.trigger, t.stale_at) for t in timers]


def test_waiting_for_customer_reminds_three_times_then_resolves(workflow: Workflow) -> None:
    timers = workflow.plan_timers(ticket_in("waiting_for_customer"), ENTERED, ALWAYS_OPEN)
    assert summary(timers) == [
        ("reminder_1", day(1), None, day(2)),
        ("reminder_2", day(2), None, day(3)),
        ("reminder_3", day(3), None, day(4)),
        ("auto_resolve", day(4), "resolve", None),
    ]
    assert {(t.ticket_id, t.status, t.status_epoch) for t in timers} == {
        ("t1", "waiting_for_customer", 4)
    }
    assert len({t.id for t in timers}) == 4


def test_resolved_reminds_once_then_closes(workflow: Workflow) -> None:
    timers = workflow.plan_timers(ticket_in("resolved", epoch=7), ENTERED, ALWAYS_OPEN)
    assert summary(timers) == [
        ("closing_reminder", day(2), None, day(3)),
        ("auto_close", day(3), "close", None),
    ]
    assert {(t.status, t.status_epoch) for t in timers} == {("resolved", 7)}


@pytest.mark.parametrize(
    "status", [s for s in STATUSES if s not in ("waiting_for_customer", "resolved")]
)
def test_other_statuses_set_no_timers(workflow: Workflow, status: str) -> None:
    assert workflow.plan_timers(ticket_in(status), ENTERED, ALWAYS_OPEN) == []


def test_plan_timers_refuses_a_naive_time(workflow: Workflow) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        workflow.plan_timers(ticket_in("resolved"), datetime(2026, 3, 2), ALWAYS_OPEN)


class WholeDays:
    """A calendar that rounds every duration up to whole days: milestones collide."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + timedelta(days=-(-duration // timedelta(days=1)))


def test_timers_come_by_due_time_and_stale_at_is_the_next_later_one() -> None:
    definition = attrs.evolve(
        small_definition(),
        timers=(
            TimerSpec(
                status="waiting", name="give_up", after=timedelta(hours=30), trigger="finish"
            ),
            TimerSpec(status="waiting", name="late", after=timedelta(hours=20)),
            TimerSpec(status="waiting", name="early", after=timedelta(hours=2)),
            TimerSpec(status="waiting", name="final", after=timedelta(days=3)),
        ),
    )
    timers = Workflow(definition).plan_timers(ticket_in("waiting"), ENTERED, WholeDays())
    # "early" and "late" land on the same day: neither supersedes the other.
    assert summary(timers) == [
        ("late", day(1), None, day(2)),
        ("early", day(1), None, day(2)),
        ("give_up", day(2), "finish", None),
        ("final", day(3), None, None),
    ]


# --- Mermaid ----------------------------------------------------------------------


def test_to_mermaid_draws_every_edge(workflow: Workflow) -> None:
    lines = workflow.to_mermaid().splitlines()
    assert lines[0] == "stateDiagram-v2"
    body = {line.strip() for line in lines[1:]}
    for (trigger, source), (dest, who) in EXPECTED.items():
        parties = ", ".join(p.value for p in Party if p.value in who.split())
        assert f"{source} --> {dest} : {trigger} ({parties})" in body
    assert {
        "[*] --> new",
        "waiting_for_customer --> resolved : after 4 days (resolve)",
        "resolved --> closed : after 3 days (close)",
        "closed --> [*]",
        "canceled --> [*]",
        "waiting_for_customer : Waiting for customer",
        "reminder_1 after 1 day",
        "reminder_3 after 3 days",
        "closing_reminder after 2 days",
    } <= body
    edges = [line for line in body if "-->" in line]
    assert len(edges) == len(EXPECTED) + 2 + 1 + 2


def test_to_mermaid_says_odd_delays_as_people_do() -> None:
    definition = attrs.evolve(
        small_definition(),
        timers=(
            TimerSpec(status="waiting", name="soon", after=timedelta(days=1, hours=12, seconds=1)),
            TimerSpec(
                status="waiting", name="give_up", after=timedelta(minutes=90), trigger="finish"
            ),
        ),
    )
    text = Workflow(definition).to_mermaid()
    assert "soon after 1 day 12 hours 1 second" in text
    assert "waiting --> done : after 1 hour 30 minutes (finish)" in text


# --- a host's own workflow -------------------------------------------------------------


def jira_like() -> WorkflowDefinition:
    """Jira Service Management's customer-facing statuses, as a host would define them."""
    customers = CUSTOMER_PARTIES
    return WorkflowDefinition(
        name="jira",
        statuses=(
            StatusSpec(
                name="waiting_for_support",
                label="Waiting for Support",
                category=StatusCategory.OPEN,
            ),
            StatusSpec(
                name="waiting_for_customer",
                label="Waiting for Customer",
                category=StatusCategory.WAITING,
            ),
            StatusSpec(name="resolved", label="Resolved", category=StatusCategory.RESOLVED),
            StatusSpec(name="canceled", label="Canceled", category=StatusCategory.CLOSED),
        ),
        initial="waiting_for_support",
        transitions=(
            TransitionSpec(
                trigger="respond",
                sources=("waiting_for_support",),
                dest="waiting_for_customer",
                parties=frozenset({Party.AGENT}),
            ),
            TransitionSpec(
                trigger="comment",
                sources=("waiting_for_customer", "resolved"),
                dest="waiting_for_support",
                parties=customers,
            ),
            TransitionSpec(
                trigger="comment", sources=("waiting_for_support",), dest=None, parties=customers
            ),
            TransitionSpec(
                trigger="resolve",
                sources=("waiting_for_support", "waiting_for_customer"),
                dest="resolved",
                parties=frozenset({Party.AGENT, Party.REQUESTER, Party.SYSTEM}),
            ),
            TransitionSpec(
                trigger="cancel",
                sources=("waiting_for_support", "waiting_for_customer"),
                dest="canceled",
                parties=frozenset({Party.REQUESTER}),
            ),
            TransitionSpec(
                trigger="escalate",
                sources=("waiting_for_support", "waiting_for_customer"),
                dest=None,
                parties=frozenset({Party.REQUESTER, Party.COLLABORATOR}),
            ),
        ),
        timers=(
            TimerSpec(status="waiting_for_customer", name="nudge", after=timedelta(days=2)),
            TimerSpec(
                status="waiting_for_customer",
                name="auto_resolve",
                after=timedelta(days=5),
                trigger="resolve",
            ),
        ),
        reopen_to="waiting_for_support",
        customer_actions=("comment", "resolve", "cancel", "escalate"),
    )


def test_a_jira_like_workflow_loads_and_fires() -> None:
    jira = Workflow(jira_like())
    assert jira.initial == "waiting_for_support"
    assert jira.open_statuses == {"waiting_for_support", "waiting_for_customer"}
    assert jira.closed_statuses == {"canceled"}
    status = jira.fire("waiting_for_support", "respond", Party.AGENT)
    assert status == "waiting_for_customer"
    status = jira.fire(status, "comment", Party.COLLABORATOR)
    assert status == "waiting_for_support"
    assert jira.fire(status, "comment", Party.CUSTOMER) == "waiting_for_support"
    status = jira.fire(status, "resolve", Party.REQUESTER)
    assert status == "resolved"
    assert jira.allowed_triggers(status, Party.REQUESTER) == ("comment",)
    assert jira.allowed_triggers("waiting_for_customer", Party.REQUESTER) == (
        "cancel",
        "comment",
        "escalate",
        "resolve",
    )
    with pytest.raises(InvalidTransition, match="allowed: comment"):
        jira.fire(status, "cancel", Party.REQUESTER)
    timers = jira.plan_timers(ticket_in("waiting_for_customer"), ENTERED, ALWAYS_OPEN)
    assert summary(timers) == [
        ("nudge", day(2), None, day(5)),
        ("auto_resolve", day(5), "resolve", None),
    ]
    assert "waiting_for_customer --> resolved : after 5 days (resolve)" in jira.to_mermaid()


def test_relabel_changes_words_and_nothing_else() -> None:
    default = Workflow(DEFAULT_WORKFLOW)
    jsm = default.relabel(
        {"new": " Waiting for support ", "pending_support": "Waiting for support"}
    )
    assert jsm.status("new").label == "Waiting for support"
    assert jsm.status("pending_support").label == "Waiting for support"
    assert jsm.status("resolved") == default.status("resolved")
    assert jsm.definition.transitions == default.definition.transitions
    assert jsm.definition.timers == default.definition.timers
    assert default.status("new").label == "New"
    assert default.relabel({}, name="copy").definition.name == "copy"


def test_relabel_refuses_unknown_statuses_and_blank_labels() -> None:
    with pytest.raises(WorkflowDefinitionError) as refused:
        Workflow(DEFAULT_WORKFLOW).relabel({"open": "Open", "new": "  "})
    assert refused.value.problems == (
        "no status 'open' to relabel",
        "status 'new' needs a label that is not blank",
    )
