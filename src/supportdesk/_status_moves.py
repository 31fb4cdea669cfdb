"""Moving a ticket through its workflow: status, timers, activity and event in one step."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ._desk_base import _changed, _Context
from ._models import ActivityKind, EventKind, Ticket
from ._sla_steps import _SlaSteps
from .sla import STATUS_MOVES
from .storage.protocol import UnitOfWork
from .workflow import Party, StatusCategory

_TIMER_MOVES = {
    "resolve": (ActivityKind.AUTO_RESOLVED, EventKind.AUTO_RESOLVED),
    "close": (ActivityKind.AUTO_CLOSED, EventKind.AUTO_CLOSED),
}
"""The log entry and event of a timer's move, by its trigger; other moves are status changes."""


class _StatusMoves(_SlaSteps):
    """The workflow's effect on a ticket, shared by updates, actions, attachments and timers."""

    def _fire(
        self,
        ctx: _Context,
        trigger: str,
        now: datetime,
        *,
        target: str | None = None,
        comment: str = "",
        announce: bool = True,
        **changes: Any,
    ) -> Ticket:
        """Move the ticket by ``trigger``, with its timers, log entry and event.

        The workflow names the status it goes to, unless ``target`` does (a
        reopen); where it stays, only ``changes`` are made.  The status event
        carries ``comment`` and the resolution in force; ``announce=False``
        leaves the event to the caller (a customer's update announces itself).
        """
        ticket = ctx.ticket
        rules = self._rules.of(ctx.work, ticket.desk_id)
        if target is None:
            target = rules.workflow.fire(ticket.status, trigger, ctx.party)
            if target == ticket.status and not changes:
                return self._touched(ctx, now)
        if target == ticket.status:
            moved = _changed(ticket, now, **changes)
            ctx.work.tickets.update(moved)
            return moved
        category = rules.workflow.category(target)
        moved = _entered(ticket, target, category, now, **changes)
        ctx.work.tickets.update(moved)
        ctx.work.timers.mark_canceled(ticket.id, now)
        ctx.work.timers.add(rules.workflow.plan_timers(moved, now, rules.calendar))
        data = {"from": ticket.status, "to": target, "trigger": trigger}
        if moved.sub_status:
            data["sub_status"] = moved.sub_status  # whom it waits for, as the log tells
        leaving = rules.workflow.category(ticket.status)
        resolution = _resolution(ctx.work, ticket, leaving, category, comment)
        if resolution and category is StatusCategory.RESOLVED:
            data["resolution"] = resolution
        kind, event = _move_kinds(ctx.party, trigger)
        actor = None if ctx.party is Party.SYSTEM else ctx.actor
        self._log(ctx.work, moved, kind, None if actor is None else actor.id, now, data=data)
        if announce:
            payload = _status_payload(moved, data, comment, category, resolution)
            self._emit(ctx.work, moved, event, actor, now, ctx.audience, **payload)
        return moved

    def _touched(self, ctx: _Context, now: datetime) -> Ticket:
        """Mark the ticket updated at ``now`` and return it as touched, without reading it again.

        Like the store, a later ``updated_at`` is never moved back.
        """
        ctx.work.tickets.mark_updated(ctx.ticket.id, now)
        return attrs.evolve(ctx.ticket, updated_at=max(ctx.ticket.updated_at, now))

    def _emit_update(self, ctx: _Context, ticket: Ticket, body: str, now: datetime) -> None:
        """The public update's event; it says so when the update moved the ticket."""
        moved = _moved_from(ctx.ticket, ticket)
        kind = EventKind.PUBLIC_UPDATE
        self._emit(ctx.work, ticket, kind, ctx.actor, now, ctx.audience, body=body, **moved)


def _move_kinds(party: Party, trigger: str) -> tuple[ActivityKind, EventKind]:
    """The log entry and event of a move: a timer's resolve and close have their own."""
    if party is Party.SYSTEM and trigger in _TIMER_MOVES:
        return _TIMER_MOVES[trigger]
    return ActivityKind.STATUS_CHANGED, EventKind.STATUS_CHANGED


def _resolution(
    work: UnitOfWork,
    ticket: Ticket,
    leaving: StatusCategory,
    entering: StatusCategory,
    comment: str,
) -> str:
    """What resolves the ticket as it moves from a status of ``leaving`` to one of ``entering``.

    Resolving (or closing an open ticket) is resolved by its comment;
    closing a resolved ticket carries the resolution in force, never one
    that a reopen has since undone.
    """
    if entering not in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        return ""
    if leaving is not StatusCategory.RESOLVED:
        return comment
    for entry in reversed(work.activity.list_entries(ticket.id, include_internal=False)):
        if entry.kind in STATUS_MOVES:
            return entry.data.get("resolution", "")
    return ""


def _entered(
    ticket: Ticket, target: str, category: StatusCategory, now: datetime, **changes: Any
) -> Ticket:
    """The ticket as it enters ``target``, a status of ``category``."""
    resolved_at = ticket.resolved_at
    if category is StatusCategory.RESOLVED or (
        category is StatusCategory.CLOSED and resolved_at is None
    ):
        resolved_at = now
    elif category in (StatusCategory.OPEN, StatusCategory.WAITING):
        resolved_at = None
    closed_at = now if category is StatusCategory.CLOSED else None
    sub_status = changes.pop("sub_status", None)
    return _changed(
        ticket,
        now,
        status=target,
        sub_status=sub_status,
        status_epoch=ticket.status_epoch + 1,
        resolved_at=resolved_at,
        closed_at=closed_at,
        **changes,
    )


def _moved_from(before: Ticket, after: Ticket) -> dict[str, str]:
    """The ``from`` an action's event carries when the action also moved the ticket."""
    return {"from": before.status} if after.status != before.status else {}


def _status_payload(
    moved: Ticket,
    data: Mapping[str, str],
    comment: str,
    entered: StatusCategory,
    resolution: str,
) -> dict[str, str]:
    """A status event's payload: the move, its comment, the resolution in force, when resolved."""
    payload = {**data, "comment": comment} if comment else dict(data)
    if entered in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        payload["resolution"] = resolution
    if moved.resolved_at is not None:
        payload["resolved_at"] = moved.resolved_at.isoformat()
    return payload
