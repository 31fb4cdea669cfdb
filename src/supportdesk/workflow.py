"""The ticket status machine: workflow definitions as data, checked when loaded, fired by party.

A :class:`WorkflowDefinition` lists statuses, transitions and timers.  A
:class:`Workflow` checks a definition once and builds one
``transitions.Machine`` for it, shared by every ticket; it answers which
triggers a party may fire from a status, fires them, plans the timers a status
sets and renders the definition to Mermaid.  It stores nothing and has no side
effects: the caller persists the new status and the planned timers.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta

import attrs
from transitions import Machine

from ._errors import InvalidTransition, WorkflowDefinitionError
from ._models import Ticket, Timer
from .clock import Calendar, _uncountable

__all__ = [
    "CUSTOMER_PARTIES",
    "DEFAULT_WORKFLOW",
    "Party",
    "StatusCategory",
    "StatusSpec",
    "TimerSpec",
    "TransitionSpec",
    "Workflow",
    "WorkflowDefinition",
]


class Party(enum.StrEnum):
    """Who fires a trigger, relative to the ticket; admins act as :attr:`AGENT`."""

    REQUESTER = "requester"
    COLLABORATOR = "collaborator"
    CUSTOMER = "customer"
    """Another customer who can see the ticket (same organisation)."""
    AGENT = "agent"
    SYSTEM = "system"
    """Timers."""


CUSTOMER_PARTIES: frozenset[Party] = frozenset(
    {Party.REQUESTER, Party.COLLABORATOR, Party.CUSTOMER}
)
"""The parties that are customers: requester, collaborator and any other customer."""


class StatusCategory(enum.StrEnum):
    """What a status means to lists, SLAs and follow-ups, whatever its name."""

    OPEN = "open"
    WAITING = "waiting"
    """Open, but waiting on the customer or a third party."""
    RESOLVED = "resolved"
    CLOSED = "closed"
    """Final: no transition leads out of it (closed, canceled)."""


_OPEN_CATEGORIES = frozenset({StatusCategory.OPEN, StatusCategory.WAITING})


@attrs.frozen(kw_only=True)
class StatusSpec:
    """One status of a workflow: ``name`` is stored on tickets, ``label`` is shown to people."""

    name: str
    label: str
    category: StatusCategory


@attrs.frozen(kw_only=True)
class TransitionSpec:
    """``trigger`` moves a ticket from any of ``sources`` to ``dest``, fired by one of ``parties``.

    ``dest`` None keeps the ticket in the status it is in (``escalate``,
    ``share_update`` on a new ticket).
    """

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    parties: frozenset[Party]


@attrs.frozen(kw_only=True)
class TimerSpec:
    """A timer set when a ticket enters ``status``, due ``after`` that long in the desk's calendar.

    ``trigger`` None makes a reminder; otherwise the timer fires ``trigger`` as
    :attr:`Party.SYSTEM`.
    """

    status: str
    name: str
    after: timedelta
    trigger: str | None = None


@attrs.frozen(kw_only=True)
class WorkflowDefinition:
    """A workflow as data; :class:`Workflow` checks it and makes it usable.

    ``reopen_to`` is where an update lands when a desk's follow-up policy
    reopens a closed ticket; it must be an open status, or None when the
    workflow never reopens.  ``customer_actions`` are the triggers a portal
    offers customers as buttons; each needs a transition a customer party may
    fire.
    """

    name: str
    statuses: tuple[StatusSpec, ...]
    initial: str
    transitions: tuple[TransitionSpec, ...]
    timers: tuple[TimerSpec, ...] = ()
    reopen_to: str | None
    customer_actions: tuple[str, ...]


_STATUS_ATTRIBUTE = "status"
"""The attribute ``transitions`` reads and writes on the status holder."""


class _StatusHolder:
    """The model ``transitions`` moves: a ticket's status and nothing else.

    Tickets are frozen and compared by value, so they cannot be models
    themselves; a throw-away holder per call keeps the shared machine free of
    per-ticket state.
    """

    __slots__ = (_STATUS_ATTRIBUTE,)

    def __init__(self, status: str) -> None:
        self.status = status


class Workflow:
    """A checked :class:`WorkflowDefinition` with one status machine shared by all tickets.

    Methods that take a status raise :class:`ValueError` for a status the
    definition does not have: a ticket stored under another workflow is a
    configuration error, not a refused transition.  Every method is free of
    side effects and safe to call from several threads.
    """

    def __init__(self, definition: WorkflowDefinition) -> None:
        """Check ``definition`` and build its machine.

        :raises WorkflowDefinitionError: listing every problem found, not just the first.
        """
        problems = _definition_problems(definition)
        if problems:
            raise WorkflowDefinitionError(definition.name, problems)
        self._definition = definition
        self._statuses = {spec.name: spec for spec in definition.statuses}
        self._moves = _moves(definition.transitions)
        self._allowed = _allowed_triggers(self._moves)
        self._machine = _build_machine(definition)
        self._open = self._names_in(_OPEN_CATEGORIES)
        self._resolved = self._names_in({StatusCategory.RESOLVED})
        self._closed = self._names_in({StatusCategory.CLOSED})

    def _names_in(self, categories: Iterable[StatusCategory]) -> frozenset[str]:
        wanted = frozenset(categories)
        return frozenset(n for n, spec in self._statuses.items() if spec.category in wanted)

    @property
    def definition(self) -> WorkflowDefinition:
        """The definition this workflow was built from."""
        return self._definition

    @property
    def initial(self) -> str:
        """The status a new ticket starts in."""
        return self._definition.initial

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status name, in the order the definition lists them."""
        return tuple(self._statuses)

    @property
    def open_statuses(self) -> frozenset[str]:
        """Statuses of category :attr:`StatusCategory.OPEN` or :attr:`StatusCategory.WAITING`."""
        return self._open

    @property
    def resolved_statuses(self) -> frozenset[str]:
        """Statuses of category :attr:`StatusCategory.RESOLVED`."""
        return self._resolved

    @property
    def closed_statuses(self) -> frozenset[str]:
        """Statuses of category :attr:`StatusCategory.CLOSED`: final ones."""
        return self._closed

    def status(self, name: str) -> StatusSpec:
        """The :class:`StatusSpec` called ``name``.

        :raises ValueError: naming the known statuses, when there is none.
        """
        try:
            return self._statuses[name]
        except KeyError:
            known = ", ".join(self._statuses)
            raise ValueError(
                f"workflow {self._definition.name!r} has no status {name!r}; known: {known}"
            ) from None

    def category(self, status: str) -> StatusCategory:
        """The :class:`StatusCategory` of ``status``."""
        return self.status(status).category

    def is_open(self, status: str) -> bool:
        """Whether ``status`` is open, waiting ones included."""
        return self.category(status) in _OPEN_CATEGORIES

    def allowed_triggers(self, status: str, party: Party) -> tuple[str, ...]:
        """The triggers ``party`` may fire on a ticket in ``status``, sorted."""
        self.status(status)
        return self._allowed.get((status, party), ())

    def can_fire(self, status: str, trigger: str, party: Party) -> bool:
        """Whether ``party`` may fire ``trigger`` on a ticket in ``status``."""
        if (status, trigger, party) in self._moves:
            return True
        self.status(status)
        return False

    def fire(self, status: str, trigger: str, party: Party) -> str:
        """The status a ticket in ``status`` moves to when ``party`` fires ``trigger``.

        The status is returned unchanged for a transition without a
        destination.  Nothing is stored: the caller evolves its ticket.

        :raises InvalidTransition: when ``status`` or ``party`` does not allow
            ``trigger``; it lists what ``party`` may fire instead.
        """
        self.status(status)
        holder = _StatusHolder(status)
        event = self._machine.events.get(trigger)
        # The party condition on each machine transition picks among
        # transitions that share a trigger and a source; a refusal is False.
        if event is None or not event.trigger(holder, party):
            raise InvalidTransition(
                status, trigger, str(party), self.allowed_triggers(status, party)
            )
        return holder.status

    def plan_timers(self, ticket: Ticket, entered_at: datetime, calendar: Calendar) -> list[Timer]:
        """The timers ``ticket`` sets by entering its current status at ``entered_at``, by due time.

        Each is bound to the ticket's ``status`` and ``status_epoch`` and due
        ``after`` its spec's duration counted in ``calendar``.  A reminder
        goes stale when the next later timer of the status falls due, so a
        sweep after downtime skips it instead of sending reminders in a burst.

        :raises ValueError: when ``entered_at`` is naive or the status unknown.
        """
        if entered_at.utcoffset() is None:
            raise ValueError(f"entered_at must be timezone-aware, got {entered_at!r}")
        self.status(ticket.status)
        specs = [t for t in self._definition.timers if t.status == ticket.status]
        due = sorted(
            (
                (calendar.add(entered_at, spec.after), index, spec)
                for index, spec in enumerate(specs)
            ),
            key=lambda item: (item[0], item[1]),
        )
        due_times = [due_at for due_at, _, _ in due]
        return [
            Timer(
                ticket_id=ticket.id,
                name=spec.name,
                status=ticket.status,
                status_epoch=ticket.status_epoch,
                due_at=due_at,
                trigger=spec.trigger,
                stale_at=None if spec.trigger is not None else _next_later(due_times, due_at),
            )
            for due_at, _, spec in due
        ]

    def check_calendar(self, calendar: Calendar) -> None:
        """Make sure ``calendar`` can count every timer's duration, before any ticket needs it.

        :raises WorkflowDefinitionError: naming each timer the calendar refuses, and why.
        """
        timers = self._definition.timers
        named = ((f"timer {t.name!r} on status {t.status!r}", t.after) for t in timers)
        if problems := _uncountable(calendar, named):
            raise WorkflowDefinitionError(self._definition.name, problems)

    def relabel(self, labels: Mapping[str, str], *, name: str | None = None) -> Workflow:
        """This workflow with other words for some statuses: same statuses, transitions and timers.

        A desk shows its customers its own labels (JSM's "Waiting for
        support") without redefining how tickets move.  ``labels`` maps status
        names to their new labels; ``name`` names the result (by default the
        same name).

        :raises WorkflowDefinitionError: naming each status the workflow does
            not have, or a label that is blank.
        """
        problems = [
            f"no status {status!r} to relabel" for status in labels if status not in self._statuses
        ]
        problems += [
            f"status {status!r} needs a label that is not blank"
            for status, label in labels.items()
            if not str(label).strip()
        ]
        if problems:
            raise WorkflowDefinitionError(name or self._definition.name, problems)
        statuses = tuple(
            attrs.evolve(spec, label=labels[spec.name].strip()) if spec.name in labels else spec
            for spec in self._definition.statuses
        )
        definition = self._definition
        return Workflow(attrs.evolve(definition, name=name or definition.name, statuses=statuses))

    def to_mermaid(self) -> str:
        """The workflow as a Mermaid ``stateDiagram-v2``.

        Transitions are labelled with their trigger and parties, automatic
        ones with their delay (``after 4 days``); reminders are notes.
        """
        return "\n".join(_mermaid_lines(self._definition, self._moves))


# --- building ----------------------------------------------------------------


def _moves(transitions: Iterable[TransitionSpec]) -> dict[tuple[str, str, Party], str]:
    """(status, trigger, party) -> the status a ticket ends up in: the fast lookup table."""
    moves: dict[tuple[str, str, Party], str] = {}
    for spec in transitions:
        for source in spec.sources:
            for party in spec.parties:
                moves.setdefault((source, spec.trigger, party), spec.dest or source)
    return moves


def _allowed_triggers(
    moves: Iterable[tuple[str, str, Party]],
) -> dict[tuple[str, Party], tuple[str, ...]]:
    allowed: dict[tuple[str, Party], set[str]] = {}
    for status, trigger, party in moves:
        allowed.setdefault((status, party), set()).add(trigger)
    return {key: tuple(sorted(triggers)) for key, triggers in allowed.items()}


def _build_machine(definition: WorkflowDefinition) -> Machine:
    # One machine per definition, no model attached: tickets never become
    # models, so nothing grows with the number of tickets.
    machine = Machine(
        model=None,
        states=[spec.name for spec in definition.statuses],
        initial=definition.initial,
        auto_transitions=False,
        ignore_invalid_triggers=True,
        send_event=False,
        model_attribute=_STATUS_ATTRIBUTE,
        name=definition.name,
    )
    for spec in definition.transitions:
        machine.add_transition(
            spec.trigger, list(spec.sources), spec.dest, conditions=spec.parties.__contains__
        )
    return machine


def _next_later(due_times: list[datetime], due_at: datetime) -> datetime | None:
    return next((later for later in due_times if later > due_at), None)


# --- checking ----------------------------------------------------------------


def _definition_problems(definition: WorkflowDefinition) -> list[str]:
    """Every reason ``definition`` cannot work, in definition order; empty when it is sound."""
    known = {spec.name for spec in definition.statuses}
    return [
        *_status_problems(definition),
        *_transition_problems(definition, known),
        *_ambiguity_problems(definition.transitions),
        *_reachability_problems(definition, known),
        *_waiting_problems(definition),
        *_final_problems(definition),
        *_customer_action_problems(definition),
        *_timer_problems(definition, known),
        *_reopen_problems(definition),
    ]


def _status_problems(definition: WorkflowDefinition) -> Iterator[str]:
    seen: set[str] = set()
    for spec in definition.statuses:
        if not spec.name.isidentifier():
            yield f"status name {spec.name!r} is not an identifier"
        if spec.name in seen:
            yield f"status {spec.name!r} is defined more than once"
        seen.add(spec.name)
    if definition.initial not in seen:
        yield f"initial status {definition.initial!r} is not a defined status"


def _transition_problems(definition: WorkflowDefinition, known: set[str]) -> Iterator[str]:
    for spec in definition.transitions:
        name = spec.trigger
        if not name.isidentifier():
            yield f"trigger {name!r} is not an identifier"
        elif name == _STATUS_ATTRIBUTE:
            yield f"trigger {name!r} is a reserved name"
        if not spec.sources:
            yield f"transition {name!r} has no source status"
        if not spec.parties:
            yield f"transition {name!r} has no party that may fire it"
        for source in spec.sources:
            if source not in known:
                yield f"transition {name!r} leaves unknown status {source!r}"
        if spec.dest is not None and spec.dest not in known:
            yield f"transition {name!r} leads to unknown status {spec.dest!r}"


def _ambiguity_problems(transitions: Iterable[TransitionSpec]) -> Iterator[str]:
    # The machine would silently take the first match; a definition must say
    # one thing for each status, trigger and party.
    dests: dict[tuple[str, str, Party], str | None] = {}
    reported: set[tuple[str, str]] = set()
    for spec in transitions:
        for source in spec.sources:
            for party in sorted(spec.parties):
                key = (source, spec.trigger, party)
                if key in dests and dests[key] != spec.dest and key[:2] not in reported:
                    reported.add(key[:2])
                    yield (
                        f"transition {spec.trigger!r} from status {source!r} leads to"
                        f" {dests[key]!r} and to {spec.dest!r} for {party}"
                    )
                dests.setdefault(key, spec.dest)


def _reachability_problems(definition: WorkflowDefinition, known: set[str]) -> Iterator[str]:
    if definition.initial not in known:
        return
    # Timer triggers are transitions too, so following every transition
    # covers what timers reach.
    reached = {definition.initial}
    queue = deque([definition.initial])
    while queue:
        status = queue.popleft()
        for spec in definition.transitions:
            if status in spec.sources and spec.dest in known and spec.dest not in reached:
                reached.add(spec.dest)
                queue.append(spec.dest)
    for status_spec in definition.statuses:
        if status_spec.name not in reached:
            yield (
                f"status {status_spec.name!r} is unreachable"
                f" from initial status {definition.initial!r}"
            )


def _waiting_problems(definition: WorkflowDefinition) -> Iterator[str]:
    for status in definition.statuses:
        if status.category is not StatusCategory.WAITING:
            continue
        if not any(
            status.name in spec.sources and spec.dest not in (None, status.name)
            for spec in definition.transitions
        ):
            yield f"waiting status {status.name!r} has no transition out of it"


def _final_problems(definition: WorkflowDefinition) -> Iterator[str]:
    final = {s.name for s in definition.statuses if s.category is StatusCategory.CLOSED}
    for spec in definition.transitions:
        for source in spec.sources:
            if source in final and spec.dest not in (None, source):
                yield f"transition {spec.trigger!r} leads out of final status {source!r}"


def _customer_action_problems(definition: WorkflowDefinition) -> Iterator[str]:
    fireable = {spec.trigger for spec in definition.transitions if spec.parties & CUSTOMER_PARTIES}
    for action in definition.customer_actions:
        if action not in fireable:
            yield f"customer action {action!r} has no transition a customer may fire"


def _timer_problems(definition: WorkflowDefinition, known: set[str]) -> Iterator[str]:
    seen: set[tuple[str, str]] = set()
    for timer in definition.timers:
        label = f"timer {timer.name!r} on status {timer.status!r}"
        if timer.status not in known:
            yield f"{label}: unknown status {timer.status!r}"
            continue
        if (timer.status, timer.name) in seen:
            yield f"{label} is defined more than once"
        seen.add((timer.status, timer.name))
        if timer.after < timedelta(0):
            yield f"{label} has a negative delay ({timer.after.total_seconds():g} seconds)"
        if timer.trigger is not None and not _system_may_fire(definition, timer):
            yield (
                f"{label} fires {timer.trigger!r}, which the system may not fire"
                f" from status {timer.status!r}"
            )


def _system_may_fire(definition: WorkflowDefinition, timer: TimerSpec) -> bool:
    return any(
        spec.trigger == timer.trigger
        and timer.status in spec.sources
        and Party.SYSTEM in spec.parties
        for spec in definition.transitions
    )


def _reopen_problems(definition: WorkflowDefinition) -> Iterator[str]:
    target = definition.reopen_to
    if target is None:
        return
    category = {spec.name: spec.category for spec in definition.statuses}.get(target)
    if category is None:
        yield f"reopen_to {target!r} is not a defined status"
    elif category not in _OPEN_CATEGORIES:
        yield f"reopen_to {target!r} is not an open status (it is {category})"


# --- rendering ---------------------------------------------------------------


def _mermaid_lines(
    definition: WorkflowDefinition, moves: dict[tuple[str, str, Party], str]
) -> Iterator[str]:
    yield "stateDiagram-v2"
    for status in definition.statuses:
        yield f"    {status.name} : {status.label}"
    yield f"    [*] --> {definition.initial}"
    for (source, dest, trigger), parties in _edges(definition.transitions).items():
        yield f"    {source} --> {dest} : {trigger} ({', '.join(parties)})"
    for timer in definition.timers:
        if timer.trigger is not None:
            dest = moves[(timer.status, timer.trigger, Party.SYSTEM)]
            after = _describe(timer.after)
            yield f"    {timer.status} --> {dest} : after {after} ({timer.trigger})"
    yield from _reminder_notes(definition.timers)
    for status in definition.statuses:
        if status.category is StatusCategory.CLOSED:
            yield f"    {status.name} --> [*]"


def _reminder_notes(timers: Iterable[TimerSpec]) -> Iterator[str]:
    reminders: dict[str, list[TimerSpec]] = {}
    for timer in timers:
        if timer.trigger is None:
            reminders.setdefault(timer.status, []).append(timer)
    for status, specs in reminders.items():
        yield f"    note right of {status}"
        for spec in specs:
            yield f"        {spec.name} after {_describe(spec.after)}"
        yield "    end note"


def _edges(transitions: Iterable[TransitionSpec]) -> dict[tuple[str, str, str], list[str]]:
    """(source, dest, trigger) -> its parties in :class:`Party` order, one diagram edge each."""
    edges: dict[tuple[str, str, str], set[Party]] = {}
    for spec in transitions:
        for source in spec.sources:
            edges.setdefault((source, spec.dest or source, spec.trigger), set()).update(
                spec.parties
            )
    return {key: [p.value for p in Party if p in parties] for key, parties in edges.items()}


def _describe(delay: timedelta) -> str:
    """``4 days``, ``1 day 12 hours``, ``90 seconds``: a delay as people say it."""
    units = (("day", delay.days), *zip(("hour", "minute", "second"), _hms(delay), strict=True))
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for unit, n in units if n]
    return " ".join(parts) or "0 seconds"


def _hms(delay: timedelta) -> tuple[int, int, int]:
    hours, rest = divmod(delay.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return hours, minutes, seconds


# --- the default -------------------------------------------------------------

_OPEN_FIVE = (
    "new",
    "assigned",
    "waiting_for_customer",
    "waiting_for_third_party",
    "pending_support",
)


def _default_definition() -> WorkflowDefinition:
    agent = frozenset({Party.AGENT})
    return WorkflowDefinition(
        name="default",
        statuses=(
            StatusSpec(name="new", label="New", category=StatusCategory.OPEN),
            StatusSpec(name="assigned", label="Assigned", category=StatusCategory.OPEN),
            StatusSpec(
                name="waiting_for_customer",
                label="Waiting for customer",
                category=StatusCategory.WAITING,
            ),
            StatusSpec(
                name="waiting_for_third_party",
                label="Waiting for third party",
                category=StatusCategory.WAITING,
            ),
            StatusSpec(
                name="pending_support", label="Pending support", category=StatusCategory.OPEN
            ),
            StatusSpec(name="resolved", label="Resolved", category=StatusCategory.RESOLVED),
            StatusSpec(name="closed", label="Closed", category=StatusCategory.CLOSED),
            StatusSpec(name="canceled", label="Canceled", category=StatusCategory.CLOSED),
        ),
        initial="new",
        transitions=(
            TransitionSpec(
                trigger="assign",
                sources=("new", "pending_support", "waiting_for_third_party"),
                dest="assigned",
                parties=agent,
            ),
            TransitionSpec(
                trigger="ask_customer",
                sources=("new", "assigned", "pending_support", "waiting_for_third_party"),
                dest="waiting_for_customer",
                parties=agent,
            ),
            TransitionSpec(
                trigger="wait_for",
                # The customer answered elsewhere, or a supplier holds it now.
                sources=("new", "assigned", "pending_support", "waiting_for_customer"),
                dest="waiting_for_third_party",
                parties=agent,
            ),
            TransitionSpec(
                trigger="share_update",
                sources=("assigned", "waiting_for_customer", "waiting_for_third_party", "resolved"),
                dest="pending_support",
                parties=CUSTOMER_PARTIES,
            ),
            TransitionSpec(
                trigger="share_update",
                sources=("new", "pending_support"),
                dest=None,
                parties=CUSTOMER_PARTIES,
            ),
            TransitionSpec(
                trigger="resolve",
                sources=_OPEN_FIVE,
                dest="resolved",
                parties=frozenset({Party.AGENT, Party.REQUESTER, Party.SYSTEM}),
            ),
            TransitionSpec(
                trigger="reopen", sources=("resolved",), dest="pending_support", parties=agent
            ),
            TransitionSpec(
                trigger="close",
                sources=(*_OPEN_FIVE, "resolved"),
                dest="closed",
                parties=frozenset({Party.REQUESTER, Party.AGENT, Party.SYSTEM}),
            ),
            TransitionSpec(
                trigger="cancel",
                sources=_OPEN_FIVE,
                dest="canceled",
                parties=frozenset({Party.REQUESTER}),
            ),
            TransitionSpec(
                trigger="escalate",
                sources=_OPEN_FIVE,
                dest=None,
                parties=frozenset({Party.REQUESTER, Party.COLLABORATOR}),
            ),
        ),
        timers=(
            TimerSpec(status="waiting_for_customer", name="reminder_1", after=timedelta(days=1)),
            TimerSpec(status="waiting_for_customer", name="reminder_2", after=timedelta(days=2)),
            TimerSpec(status="waiting_for_customer", name="reminder_3", after=timedelta(days=3)),
            TimerSpec(
                status="waiting_for_customer",
                name="auto_resolve",
                after=timedelta(days=4),
                trigger="resolve",
            ),
            TimerSpec(status="resolved", name="closing_reminder", after=timedelta(days=2)),
            TimerSpec(
                status="resolved", name="auto_close", after=timedelta(days=3), trigger="close"
            ),
        ),
        reopen_to="pending_support",
        customer_actions=("share_update", "resolve", "close", "cancel", "escalate"),
    )


DEFAULT_WORKFLOW: WorkflowDefinition = _default_definition()
"""The portal's own workflow (DESIGN.md, "The default workflow" and "Timer policies")."""
