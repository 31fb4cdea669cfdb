"""List use cases: the portal's ticket lists and their counts."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from . import access
from ._desk_base import _DeskBase
from ._errors import PermissionDenied
from ._input import ID_TEXT, check_choice, check_optional_id, check_texts, check_type
from ._models import Contact
from ._paging import _check_page_size, _decode_cursor, _one_page, _ticket_cursor
from ._views import ListCount, Page, TicketList
from .storage.protocol import TicketQuery, TicketSort


class _ListCases(_DeskBase):
    """Pages of ticket lists, scoped to what the actor may see."""

    def list_tickets(
        self,
        actor: Contact,
        which: TicketList = TicketList.CREATED_BY_ME,
        *,
        open: bool | None = None,
        desk_id: str | None = None,
        request_type_id: str | None = None,
        statuses: Sequence[str] | None = None,
        sort: TicketSort = TicketSort.NEWEST,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page:
        """A page of one of the portal's ticket lists, ready to show, with every list's count.

        ``open`` keeps open (True) or not-open (False: resolved, closed,
        canceled) tickets; ``cursor`` continues from a previous page.  Each
        row carries the names the list shows and the status's label (the
        workflow's :attr:`~supportdesk.StatusSpec.label`, the same for
        customers and agents); :attr:`Page.counts` has the open and closed
        count of each :class:`TicketList`, for the tabs.  Three statements on
        SQL, however many rows: the actor, the rows, the counts.  SLA due
        times (``sort=TicketSort.SLA_DUE``, :attr:`TicketRow.sla_due_at
        <supportdesk.TicketRow.sla_due_at>`) are the staff's: a customer's
        rows have none, and their sorting by it is refused.

        :raises PermissionDenied: when a customer sorts by ``SLA_DUE``.
        """
        which = check_choice("which", which, TicketList)
        _check_open(open)
        check_optional_id("desk_id", desk_id)
        check_optional_id("request_type_id", request_type_id)
        chosen = None if statuses is None else check_texts("statuses", statuses, max_length=ID_TEXT)
        sort = check_choice("sort", sort, TicketSort)
        _check_page_size(limit, 500, "tickets")
        after = _decode_cursor(cursor)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            staff = access.is_staff(actor)
            if sort is TicketSort.SLA_DUE and not staff:
                raise PermissionDenied("sort by SLA due time", "only agents and admins may")
            tabs = {
                (listed, state): self._query(actor, listed, state, None)
                for listed in TicketList
                for state in (True, False)
            }
            query = self._query(actor, which, open, chosen)
            if query is not None:
                query = attrs.evolve(
                    query,
                    desk_id=desk_id,
                    request_type_id=request_type_id,
                    sort=sort,
                    limit=limit + 1,
                    after=after,
                )
            labels = self._rules.labeller(work)
            found = [] if query is None else list(work.tickets.find_rows(query, labels))
            # The tabs and the page's own total in one statement.
            asked = list(dict.fromkeys(q for q in (*tabs.values(), query) if q is not None))
            counted = dict(zip(asked, work.tickets.count_each(asked), strict=True))
        tickets, more = _one_page(found, limit)
        if not staff:  # SLA times are the staff's
            tickets = tuple(attrs.evolve(row, sla_due_at=None) for row in tickets)
        return Page(
            tickets=tickets,
            total=_counted(counted, query),
            next_cursor=_ticket_cursor(tickets[-1], sort) if more else None,
            counts={
                listed: ListCount(
                    open=_counted(counted, tabs[listed, True]),
                    closed=_counted(counted, tabs[listed, False]),
                )
                for listed in TicketList
            },
        )

    def count_tickets(self, actor: Contact, which: TicketList, *, open: bool | None = None) -> int:
        """How many tickets one of the lists holds (the portal's tab counts)."""
        which = check_choice("which", which, TicketList)
        _check_open(open)
        with self._store.unit_of_work() as work:
            actor = self._refresh(work, actor)
            query = self._query(actor, which, open, None)
            return 0 if query is None else work.tickets.count(query)

    def _query(
        self, actor: Contact, which: TicketList, open: bool | None, statuses: Sequence[str] | None
    ) -> TicketQuery | None:
        scope = access.ticket_scope(actor)
        if scope.is_empty:
            return None
        chosen = frozenset(statuses) if statuses is not None else None
        if open is not None:
            wanted = self._rules.open_statuses if open else self._rules.ended_statuses
            chosen = wanted if chosen is None else chosen & wanted
        query = TicketQuery(scope=scope, statuses=chosen)
        if which is TicketList.CREATED_BY_ME:
            return attrs.evolve(query, requester_id=actor.id)
        if which is TicketList.COLLABORATING:
            return attrs.evolve(query, collaborator_id=actor.id)
        if which in _QUEUES and not access.is_staff(actor):
            return None
        if which is TicketList.ASSIGNED_TO_ME:
            return attrs.evolve(query, assignee_id=actor.id)
        if which is TicketList.UNASSIGNED:
            return attrs.evolve(query, unassigned=True)
        if which is TicketList.ORGANIZATION:
            if actor.organization_id is None:
                return None
            return attrs.evolve(query, organization_id=actor.organization_id)
        return query


_QUEUES = frozenset({TicketList.ASSIGNED_TO_ME, TicketList.UNASSIGNED})
"""The agents' queues: a customer is assigned nothing and sees no one's assignments."""


def _counted(counted: dict[TicketQuery, int], query: TicketQuery | None) -> int:
    """What ``count_each`` said of ``query``; a list without a query holds nothing."""
    return 0 if query is None else counted[query]


def _check_open(open: object) -> None:
    if open is not None:
        check_type("open", open, bool)
