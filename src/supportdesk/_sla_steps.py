"""SLA clocks inside the use cases: timers planned after each change, warnings and breaches fired.

The clocks themselves are never stored (see :mod:`supportdesk.sla`): each
step reads the ticket's log and measures again.  Timers only wake a sweep
up; when one fires, the clock measured at that moment decides, so a timer
left behind by a change (a reply, a new priority) fires nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from ._desk_base import _Audience, _DeskBase
from ._desk_rules import _Rules
from ._models import ActivityEntry, ActivityKind, Contact, EventKind, Ticket, Timer
from .sla import SlaClock, SlaMetric, SlaPolicy, SlaState, SlaTarget, measure, policy_for
from .storage.protocol import UnitOfWork

SLA_TIMER = "sla"
"""The first part of an SLA timer's name: ``sla:resolution:breach``."""

_REPLAN = frozenset(
    {
        ActivityKind.CREATED,
        ActivityKind.STATUS_CHANGED,
        ActivityKind.AUTO_RESOLVED,
        ActivityKind.AUTO_CLOSED,
        ActivityKind.ESCALATED,
        ActivityKind.PRIORITY_CHANGED,
        ActivityKind.REQUEST_TYPE_CHANGED,
    }
)
"""Entries after which the clocks may run to other times: their timers are planned again."""

_FIRED = {"warning": ActivityKind.SLA_WARNING, "breach": ActivityKind.SLA_BREACHED}
_EVENTS = {
    ActivityKind.SLA_WARNING: EventKind.SLA_WARNING,
    ActivityKind.SLA_BREACHED: EventKind.SLA_BREACHED,
    ActivityKind.SLA_MET: EventKind.SLA_MET,
}


class _SlaSteps(_DeskBase):
    """Each log entry lets the ticket's SLA clocks follow; SLA timers fire here."""

    def _follow_log(
        self, work: UnitOfWork, ticket: Ticket, kind: ActivityKind, now: datetime
    ) -> None:
        """Let the SLA clocks follow a log entry.

        Every use case logs, so no change escapes the clocks; a desk without
        SLA policies costs nothing more.
        """
        if kind in _REPLAN or kind is ActivityKind.PUBLIC_UPDATE:
            self._follow_sla(work, ticket, kind, now)

    def _sla_clocks(
        self, work: UnitOfWork, ticket: Ticket, entries: Sequence[ActivityEntry], now: datetime
    ) -> tuple[SlaClock, ...]:
        """The ticket's clocks at ``now``: one per target of its policy, none without one."""
        rules = self._rules.of(work, ticket.desk_id)
        policy = _policy(rules, ticket)
        return () if policy is None else _clocks(policy, ticket, entries, rules, now)

    def _follow_sla(
        self, work: UnitOfWork, ticket: Ticket, kind: ActivityKind, now: datetime
    ) -> None:
        rules = self._rules.of(work, ticket.desk_id)
        policy = _policy(rules, ticket)
        if policy is None:
            if ticket.sla_due_at is not None:  # its new priority or type has no targets
                work.tickets.set_sla_due(ticket.id, None)
            return
        # A new ticket has no history yet: nothing to read.
        created = kind is ActivityKind.CREATED
        entries = () if created else work.activity.list_entries(ticket.id, include_internal=True)
        logged = _logged(entries)
        timers: list[Timer] = []
        clocks = _clocks(policy, ticket, entries, rules, now)
        for clock in clocks:
            if clock.state is SlaState.MET and clock.met_at == now:
                if (clock.metric, ActivityKind.SLA_MET) not in logged:
                    self._sla_entry(work, ticket, ActivityKind.SLA_MET, clock, now)
            elif kind in _REPLAN:
                timers += _planned(ticket, clock, logged, rules, now)
        work.timers.add(timers)
        # Written each time: the ticket in hand may predate an earlier step of this unit of work.
        work.tickets.set_sla_due(ticket.id, min(_running_due(clocks), default=None))

    def _fire_sla(
        self,
        work: UnitOfWork,
        timer: Timer,
        ticket: Ticket,
        now: datetime,
        staff: dict[str, Sequence[Contact]],
    ) -> bool:
        """Fire an SLA timer if the clock, measured now, says its moment has come."""
        _, metric, which = timer.name.split(":")
        rules = self._rules.of(work, ticket.desk_id)
        policy = _policy(rules, ticket)
        target = _target(policy, metric)
        if target is None:
            return False
        entries = work.activity.list_entries(ticket.id, include_internal=True)
        kind = _FIRED[which]
        if (target.metric, kind) in _logged(entries):
            return False
        clock = _measured(target, ticket, entries, rules, now)
        due = (
            clock.state is SlaState.BREACHED
            if kind is ActivityKind.SLA_BREACHED
            else clock.state is SlaState.RUNNING and clock.elapsed >= clock.warn_after
        )
        if due:
            self._sla_entry(work, ticket, kind, clock, now, _Audience(desk_staff=staff))
        return due

    def _sla_entry(
        self,
        work: UnitOfWork,
        ticket: Ticket,
        kind: ActivityKind,
        clock: SlaClock,
        now: datetime,
        known: _Audience | None = None,
    ) -> None:
        """Log an internal SLA entry and tell the desk's staff."""
        data = _described(clock)
        self._log(work, ticket, kind, None, now, internal=True, data=data)
        self._emit(work, ticket, _EVENTS[kind], None, now, known, **data)


def _clocks(
    policy: SlaPolicy,
    ticket: Ticket,
    entries: Sequence[ActivityEntry],
    rules: _Rules,
    now: datetime,
) -> tuple[SlaClock, ...]:
    """The ticket's clock of each target of ``policy``, measured at ``now`` from its log."""
    return tuple(_measured(target, ticket, entries, rules, now) for target in policy.targets)


def _policy(rules: _Rules, ticket: Ticket) -> SlaPolicy | None:
    return policy_for(rules.sla, ticket)


def _target(policy: SlaPolicy | None, metric: str) -> SlaTarget | None:
    targets = () if policy is None else policy.targets
    return next((t for t in targets if t.metric.value == metric), None)


def _measured(
    target: SlaTarget,
    ticket: Ticket,
    entries: Sequence[ActivityEntry],
    rules: _Rules,
    now: datetime,
) -> SlaClock:
    return measure(target, ticket, entries, rules.workflow, rules.calendar, now)


def _logged(entries: Sequence[ActivityEntry]) -> set[tuple[SlaMetric, ActivityKind]]:
    """Which SLA entries the log holds: warnings and breaches are told once per target."""
    kinds = (ActivityKind.SLA_WARNING, ActivityKind.SLA_BREACHED, ActivityKind.SLA_MET)
    return {(SlaMetric(e.data["metric"]), e.kind) for e in entries if e.kind in kinds}


def _planned(
    ticket: Ticket,
    clock: SlaClock,
    logged: set[tuple[SlaMetric, ActivityKind]],
    rules: _Rules,
    now: datetime,
) -> list[Timer]:
    """The warning and breach timers a clock needs now; due at once if one was missed."""
    due: dict[str, datetime] = {}
    if clock.state is SlaState.RUNNING:
        if (clock.metric, ActivityKind.SLA_WARNING) not in logged:
            left = max(clock.warn_after - clock.elapsed, timedelta(0))
            due["warning"] = rules.calendar.add_working_time(now, left)
        if clock.due_at is not None:
            due["breach"] = clock.due_at
    elif (
        clock.state is SlaState.BREACHED and (clock.metric, ActivityKind.SLA_BREACHED) not in logged
    ):
        due["breach"] = now
    return [
        Timer(
            ticket_id=ticket.id,
            name=f"{SLA_TIMER}:{clock.metric.value}:{which}",
            status=ticket.status,
            status_epoch=ticket.status_epoch,
            due_at=at,
        )
        for which, at in due.items()
    ]


def _described(clock: SlaClock) -> Mapping[str, str]:
    """What an SLA entry and its event say: the target, and where its clock stands."""
    data = {"metric": clock.metric.value, "state": clock.state.value}
    for name in ("due_at", "breached_at", "met_at"):
        if (moment := getattr(clock, name)) is not None:
            data[name] = moment.isoformat()
    return data


def _running_due(clocks: Sequence[SlaClock]) -> list[datetime]:
    """When each clock breaches, or breached: an overdue ticket heads the queue."""
    return [moment for clock in clocks if (moment := clock.due_at or clock.breached_at)]
