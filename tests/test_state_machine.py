"""Random sequences of triggers, updates and clock moves; the invariants hold after every step."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from supportdesk import (
    Activity,
    ActivityKind,
    Contact,
    FakeClock,
    InvalidTransition,
    MemoryStore,
    Ticket,
    TimerState,
)

from .conftest import Portal, build_portal

OPEN = ("new", "assigned", "waiting_for_customer", "waiting_for_third_party", "pending_support")
WAITING_ANY = ("waiting_for_customer", "waiting_for_third_party")

# The workflow table of DESIGN.md, written out again here so the test does not
# trust the definition it checks: (trigger, from) -> to.
TABLE: dict[tuple[str, str], str] = {}
for source in ("new", "pending_support", "waiting_for_third_party"):
    TABLE["assign", source] = "assigned"
for source in ("new", "assigned", "pending_support", "waiting_for_third_party"):
    TABLE["ask_customer", source] = "waiting_for_customer"
for source in ("new", "assigned", "pending_support"):
    TABLE["wait_for", source] = "waiting_for_third_party"
for source in ("assigned", "waiting_for_customer", "waiting_for_third_party", "resolved"):
    TABLE["share_update", source] = "pending_support"
for source in OPEN:
    TABLE["resolve", source] = "resolved"
    TABLE["close", source] = "closed"
TABLE["close", "resolved"] = "closed"
TABLE["reopen", "resolved"] = "pending_support"
for source in ("new", "assigned", "pending_support", *WAITING_ANY):
    TABLE["cancel", source] = "canceled"

TRIGGERS = (
    "assign",
    "ask_customer",
    "wait_for",
    "resolve",
    "reopen",
    "close",
    "cancel",
    "escalate",
)


class TicketLife(RuleBasedStateMachine):
    """One portal on the memory store, driven at random."""

    def __init__(self) -> None:
        super().__init__()
        self.portal: Portal = build_portal(MemoryStore(), FakeClock())
        self.references: list[str] = []
        self.logs: dict[str, list[Activity]] = {}

    def actor(self, index: int) -> Contact:
        p = self.portal
        return (p.alice, p.bob, p.carol, p.agent)[index]

    def ticket(self, index: int) -> Ticket:
        return self.portal.desk.get_ticket(
            self.portal.admin, self.references[index % len(self.references)]
        )

    @rule()
    def open_ticket(self) -> None:
        ticket = self.portal.open()
        self.references.append(ticket.reference)
        self.portal.desk.add_collaborator(
            self.portal.alice, ticket.reference, self.portal.carol.email
        )

    @precondition(lambda self: self.references)
    @rule(index=st.integers(0, 50), who=st.integers(0, 3), trigger=st.sampled_from(TRIGGERS))
    def fire(self, index: int, who: int, trigger: str) -> None:
        before = self.ticket(index)
        actor = self.actor(who)
        try:
            if trigger == "assign":
                after = self.portal.desk.assign(actor, before.reference, self.portal.agent.id)
            elif trigger == "wait_for":
                after = self.portal.desk.wait_for(actor, before.reference, "the clearing house")
            elif trigger == "ask_customer":
                after = self.portal.desk.ask_customer(actor, before.reference, "question")
            else:
                after = self.portal.desk.transition(actor, before.reference, trigger)
        except InvalidTransition:
            assert self.ticket(index) == before
            return
        if before.status in ("closed", "canceled"):
            raise AssertionError(f"{trigger} accepted on a {before.status} ticket")
        if after.status != before.status:
            assert TABLE[trigger, before.status] == after.status

    @precondition(lambda self: self.references)
    @rule(index=st.integers(0, 50), who=st.integers(0, 3))
    def share_update(self, index: int, who: int) -> None:
        before = self.ticket(index)
        landed = self.portal.desk.share_update(self.actor(who), before.reference, "an update")
        if before.status in ("closed", "canceled"):
            assert landed.follow_up_of == before.id
            assert self.ticket(index) == before
            self.references.append(landed.reference)

    @precondition(lambda self: self.references)
    @rule(index=st.integers(0, 50))
    def add_note(self, index: int) -> None:
        self.portal.desk.add_note(self.portal.agent, self.ticket(index).reference, "note")

    @rule(hours=st.integers(1, 24 * 12))
    def time_passes(self, hours: int) -> None:
        self.portal.clock.advance(timedelta(hours=hours))
        self.portal.desk.run_due_timers()

    @invariant()
    def status_changes_follow_the_table(self) -> None:
        for reference in self.references:
            for entry in self.log(reference):
                if entry.kind in (
                    ActivityKind.STATUS_CHANGED,
                    ActivityKind.AUTO_RESOLVED,
                    ActivityKind.AUTO_CLOSED,
                ):
                    moved = (entry.data["trigger"], entry.data["from"])
                    assert TABLE[moved] == entry.data["to"]

    @invariant()
    def timers_belong_to_the_current_epoch(self) -> None:
        with self.portal.desk._store.unit_of_work() as work:
            for reference in self.references:
                ticket = work.tickets.get_by_reference(reference)
                assert ticket is not None
                for timer in work.timers.list_pending(ticket.id):
                    assert timer.state is TimerState.PENDING
                    assert (timer.status, timer.status_epoch) == (
                        ticket.status,
                        ticket.status_epoch,
                    )

    @invariant()
    def logs_only_grow_in_order(self) -> None:
        for reference in self.references:
            log = self.log(reference)
            previous = self.logs.get(reference, [])
            assert log[: len(previous)] == previous
            assert [entry.seq for entry in log] == list(range(1, len(log) + 1))
            assert all(a.at <= b.at for a, b in itertools.pairwise(log))
            self.logs[reference] = log

    def log(self, reference: str) -> list[Activity]:
        return list(self.portal.desk.view_ticket(self.portal.admin, reference).activities)


TicketLife.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestTicketLife = TicketLife.TestCase
