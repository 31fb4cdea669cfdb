"""What each desk follows: the host's named workflow and calendar, its SLA policies; read once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from ._errors import NotFound, ValidationError, WorkflowDefinitionError
from ._models import Desk
from .clock import Calendar, _uncountable
from .sla import SlaPolicy
from .storage.protocol import UnitOfWork
from .workflow import Workflow


@attrs.frozen
class _Rules:
    """How one desk's tickets move, what its timers count in, and its SLA targets."""

    workflow: Workflow
    calendar: Calendar
    sla: tuple[SlaPolicy, ...] = ()
    """The SLA policies of the desk, by its key."""


class _RuleBook:
    """The host's named workflows and calendars, and the rules of each desk read so far.

    A desk's key, workflow and calendar are fixed once it is stored, and its
    SLA policies follow its key, so what one unit of work read of a desk
    holds for every later one, in every process: each desk costs one read
    per process.
    """

    def __init__(
        self,
        workflow: Workflow,
        calendar: Calendar,
        workflows: Mapping[str, Workflow],
        calendars: Mapping[str, Calendar],
        sla_policies: Sequence[SlaPolicy] = (),
    ) -> None:
        self._workflows: dict[str | None, Workflow] = {None: workflow}
        self._workflows.update(workflows)
        self._calendars: dict[str | None, Calendar] = {None: calendar}
        self._calendars.update(calendars)
        workflow.check_calendar(calendar)
        self._sla = tuple(sla_policies)
        self.open_statuses, self.ended_statuses = _statuses_by_state(self._workflows.values())
        self._desks: dict[str, _Rules] = {}

    def check(self, desk: Desk, stored: Desk | None) -> None:
        """Refuse a desk that names a workflow or calendar not given, or changes them.

        ``stored`` is the desk as stored now, if it is: its names are fixed.

        :raises ValidationError: on ``workflow`` or ``calendar``.
        """
        if problems := self._problems(desk, stored):
            raise ValidationError(problems)

    def _problems(self, desk: Desk, stored: Desk | None) -> dict[str, str]:
        found: dict[str, str] = {}
        if stored is not None and stored.key != desk.key:
            # SLA policies name desks by key, and references begin with it.
            found["key"] = f"desk {stored.key} keeps its key: its references begin with it"
        for field, chosen, known in (
            ("workflow", desk.workflow, self._workflows),
            ("calendar", desk.calendar, self._calendars),
        ):
            if chosen not in known:
                names = ", ".join(sorted(n for n in known if n is not None)) or "none"
                found[field] = f"no {field} named {chosen!r} was given (known: {names})"
            elif stored is not None and getattr(stored, field) != chosen:
                found[field] = (
                    f"desk {stored.key} keeps the {field} it was created with "
                    f"({getattr(stored, field)!r}): its tickets depend on it"
                )
        if not found:
            calendar = self._calendars[desk.calendar]
            try:
                self._workflows[desk.workflow].check_calendar(calendar)
            except WorkflowDefinitionError as error:
                found["calendar"] = "; ".join(error.problems)
            if problems := _sla_problems(self._sla, desk.key, calendar):
                found["calendar"] = "; ".join([*found.values(), *problems])
        return found

    def remember(self, desk: Desk) -> _Rules:
        """The rules of ``desk``, as just read from the store (never a caller's copy)."""
        rules = self._desks.get(desk.id)
        if rules is None:
            rules = self._desks[desk.id] = self.resolve(desk)
        return rules

    def of(self, work: UnitOfWork, desk_id: str) -> _Rules:
        """The rules of the desk ``desk_id``, read in ``work`` the first time only."""
        rules = self._desks.get(desk_id)
        if rules is not None:
            return rules
        desk = work.desks.get_desk(desk_id)
        if desk is None:
            raise NotFound("desk", desk_id)
        return self.remember(desk)

    def labeller(self, work: UnitOfWork) -> Callable[[str, str], str]:
        """``label(desk_id, status)``: a status's label on a desk, as list rows show it."""

        def label(desk_id: str, status: str) -> str:
            workflow = self.of(work, desk_id).workflow
            return workflow.status(status).label if status in workflow.statuses else status

        return label

    def resolve(self, desk: Desk) -> _Rules:
        """The rules ``desk`` names, remembered for no one.

        :raises WorkflowDefinitionError: for a name this desk was not given.
        """
        problem = self._problems(desk, None)
        if problem:  # a desk stored before this configuration was given
            raise WorkflowDefinitionError(
                desk.workflow or "default",
                [f"desk {desk.key}: {message}" for message in problem.values()],
            )
        workflow, calendar = self._workflows[desk.workflow], self._calendars[desk.calendar]
        return _Rules(workflow, calendar, tuple(p for p in self._sla if p.desk == desk.key))


def _statuses_by_state(workflows: Iterable[Workflow]) -> tuple[frozenset[str], frozenset[str]]:
    """Every workflow's open statuses, and the others: one name means one state everywhere.

    Lists across desks filter by status name, so a name that is open in one
    workflow and ended in another would put tickets in the wrong tab.
    """
    opened: set[str] = set()
    ended: set[str] = set()
    for workflow in workflows:
        opened |= workflow.open_statuses
        ended |= set(workflow.statuses) - workflow.open_statuses
    if clash := sorted(opened & ended):
        raise WorkflowDefinitionError(
            "workflows",
            [f"status {name!r} is open in one workflow and not in another" for name in clash],
        )
    return frozenset(opened), frozenset(ended)


def _sla_problems(policies: Iterable[SlaPolicy], desk_key: str, calendar: Calendar) -> list[str]:
    """Each SLA target of the desk that its calendar cannot count, and why."""
    targets = (t for p in policies if p.desk == desk_key for t in p.targets)
    return _uncountable(calendar, ((f"SLA target {t.metric.value!r}", t.within) for t in targets))
