"""SLA clocks: targets per desk, request type and priority, measured from a ticket's activity.

A clock is never stored: :func:`measure` computes it from when the ticket
opened, its status changes and its first agent reply, on the desk's
calendar, so it gives the same answer whenever it is asked.  Running time
counts towards the target; time in a pausing status (waiting for the
customer or a third party, by default) counts as paused; a stopping status
(resolved or closed, by default) meets the target, and if the ticket is
reopened the clock runs on from where it stood.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

import attrs

from ._models import ActivityEntry, ActivityKind, Priority, Role, Ticket
from .clock import Calendar
from .workflow import StatusCategory, Workflow

__all__ = [
    "SlaClock",
    "SlaMetric",
    "SlaPolicy",
    "SlaState",
    "SlaTarget",
    "measure",
    "policy_for",
]


class SlaMetric(enum.StrEnum):
    """What a target times."""

    FIRST_RESPONSE = "first_response"
    """Until the first public update by an agent (or a stopping status)."""
    RESOLUTION = "resolution"
    """Until a stopping status: resolved or closed, by default."""


class SlaState(enum.StrEnum):
    """Where a clock stands."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    """Stopped before its target; met and breached never hold together."""
    BREACHED = "breached"
    """Its counted time reached the target; it stays breached."""


def _fraction(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"warn_at is a fraction of the target between 0 and 1, got {value!r}")
    return value


@attrs.frozen(kw_only=True)
class SlaTarget:
    """One timed goal: ``metric`` within ``within`` of counted time.

    ``within`` reads like a timer's duration in the desk's calendar: in a
    business calendar, whole days are working days and the rest working
    hours.  ``pauses`` and ``stops`` name statuses; None takes the desk's
    workflow's waiting statuses, and its resolved and closed ones.
    """

    metric: SlaMetric
    within: timedelta
    warn_at: float = attrs.field(default=0.75, converter=_fraction)
    """A warning fires when this fraction of the target has run."""
    pauses: frozenset[str] | None = None
    stops: frozenset[str] | None = None


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """The targets of a desk's tickets, narrowed to a request type and a priority if given.

    The most specific policy that matches a ticket applies: one naming both
    its request type and its priority, then its request type, then its
    priority, then the desk's.
    """

    desk: str
    """The desk's key (``HHA``)."""
    targets: tuple[SlaTarget, ...]
    request_type_id: str | None = None
    priority: Priority | None = None

    def applies_to(self, ticket: Ticket) -> bool:
        """Whether this policy, of the ticket's desk, is about ``ticket``'s type and priority."""
        return self.request_type_id in (None, ticket.request_type_id) and self.priority in (
            None,
            ticket.priority,
        )

    @property
    def specificity(self) -> int:
        """How narrowly it applies: the more specific policy wins."""
        return 2 * (self.request_type_id is not None) + (self.priority is not None)


@attrs.frozen(kw_only=True)
class SlaClock:
    """One target's clock on one ticket, at ``at``; all durations are counted time."""

    metric: SlaMetric
    state: SlaState
    at: datetime
    target: timedelta
    """The target as counted time (a working day is its working hours)."""
    elapsed: timedelta
    """Running time so far; it may pass the target once breached."""
    paused: timedelta
    """Time spent in pausing statuses while the clock had not stopped."""
    due_at: datetime | None
    """When it breaches if it keeps running now; None unless running."""
    breached_at: datetime | None = None
    met_at: datetime | None = None
    warn_after: timedelta
    """The counted time at which its warning fires."""

    @property
    def remaining(self) -> timedelta:
        """Counted time left before the breach; zero once breached."""
        return max(self.target - self.elapsed, timedelta(0))


@attrs.frozen
class _Spell:
    """A stretch of the ticket's life in one status, or stopped by a reply."""

    since: datetime
    until: datetime
    status: str
    replied: bool


def policy_for(policies: Iterable[SlaPolicy], ticket: Ticket) -> SlaPolicy | None:
    """The most specific of a desk's ``policies`` that applies to ``ticket``; None if none does."""
    matching = [p for p in policies if p.applies_to(ticket)]
    return max(matching, key=lambda p: p.specificity, default=None)


def measure(
    target: SlaTarget,
    ticket: Ticket,
    entries: Sequence[ActivityEntry],
    workflow: Workflow,
    calendar: Calendar,
    now: datetime,
) -> SlaClock:
    """The clock of ``target`` on ``ticket`` at ``now``, from its activity ``entries`` in order."""
    pauses = _named(target.pauses, workflow, {StatusCategory.WAITING})
    stops = _named(target.stops, workflow, {StatusCategory.RESOLVED, StatusCategory.CLOSED})
    length = calendar.working_time(
        ticket.created_at, calendar.add(ticket.created_at, target.within)
    )
    warn_after = _part(length, target.warn_at)
    elapsed = paused = timedelta(0)
    breached_at = met_at = None
    state = SlaState.RUNNING
    for spell in _spells(ticket, entries, target.metric, now):
        counted = calendar.working_time(spell.since, spell.until)
        if spell.replied or spell.status in stops:
            state = SlaState.MET
            met_at = met_at or spell.since
            if spell.replied:
                break
        elif spell.status in pauses:
            state, paused, met_at = SlaState.PAUSED, paused + counted, None
        else:
            if breached_at is None and elapsed + counted >= length:
                breached_at = calendar.add_working_time(spell.since, length - elapsed)
            state, elapsed, met_at = SlaState.RUNNING, elapsed + counted, None
    if breached_at is not None:
        state = SlaState.BREACHED
    due_at = None
    if state is SlaState.RUNNING:
        due_at = calendar.add_working_time(now, length - elapsed)
    return SlaClock(
        metric=target.metric,
        state=state,
        at=now,
        target=length,
        elapsed=elapsed,
        paused=paused,
        due_at=due_at,
        breached_at=breached_at,
        met_at=met_at if state is SlaState.MET else None,
        warn_after=warn_after,
    )


def _named(
    names: frozenset[str] | None, workflow: Workflow, categories: set[StatusCategory]
) -> frozenset[str]:
    if names is not None:
        return names
    return frozenset(s for s in workflow.statuses if workflow.category(s) in categories)


def _part(length: timedelta, fraction: float) -> timedelta:
    """``fraction`` of ``length``, to the whole second below."""
    return timedelta(seconds=int(length.total_seconds() * fraction))


def _spells(
    ticket: Ticket, entries: Sequence[ActivityEntry], metric: SlaMetric, now: datetime
) -> Iterator[_Spell]:
    """The ticket's statuses from its opening to ``now``; a first agent reply ends them.

    Only first response is stopped by a reply: for it, the spell from the
    reply on is marked ``replied``.
    """
    moved = [e for e in entries if e.kind in STATUS_MOVES]
    moves = [(e.at, e.data["to"]) for e in moved]
    # The status it opened in is the one its first move left.
    first_move = moved[0] if moved else None
    status = ticket.status if first_move is None else first_move.data.get("from", ticket.status)
    since = ticket.created_at
    replied_at = _first_agent_reply(entries) if metric is SlaMetric.FIRST_RESPONSE else None
    # Spells may last no time at all: the last one still says where the clock stands.
    done = [(at, to) for at, to in moves if at <= now]
    for at, to in [*done, (now, None)]:
        end = max(at, since)
        if replied_at is not None and replied_at <= end:
            yield _Spell(since, max(replied_at, since), status, replied=False)
            yield _Spell(max(replied_at, since), now, status, replied=True)
            return
        yield _Spell(since, end, status, replied=False)
        if to is None:
            return
        since, status = end, to


STATUS_MOVES = frozenset(
    {ActivityKind.STATUS_CHANGED, ActivityKind.AUTO_RESOLVED, ActivityKind.AUTO_CLOSED}
)
"""The log entries of status changes: ``data["from"]`` and ``data["to"]`` name the statuses."""


def _first_agent_reply(entries: Sequence[ActivityEntry]) -> datetime | None:
    staff = (Role.AGENT, Role.ADMIN)
    for entry in entries:
        if entry.kind is ActivityKind.PUBLIC_UPDATE and entry.actor_role in staff:
            return entry.at
    return None
