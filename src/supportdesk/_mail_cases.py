"""Mail use cases: an inbound e-mail becomes an update, a ticket, or nothing, and says which."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime

import attrs

from . import access
from ._desk_base import _require_text
from ._errors import InvalidTransition, NotFound, SupportDeskError, ValidationError
from ._input import check_email, check_id, check_type
from ._mail_reading import InboundMail, read_mail
from ._models import Contact, ContactState, MailOutcome, ReceivedMail, Ticket, new_id
from ._ticket_cases import _Request, _TicketCases
from ._views import MailDirection, TicketEmail
from .forms import SUMMARY_MAX_LENGTH, Submission
from .storage.protocol import UnitOfWork
from .workflow import Party

_LANDED = frozenset(
    {MailOutcome.UPDATED, MailOutcome.OPENED, MailOutcome.FOLLOWED_UP, MailOutcome.NOTED}
)
_ROOT = re.compile(r"<(ticket|staff)\.([^@<>\s]{1,64})@[^<>\s]+>")
"""The thread roots :func:`~supportdesk.thread_headers` names: ``<ticket.ID@domain>``, and
``<staff.ID@domain>`` for staff-only mail."""
_THREAD_IDS = 20
"""How many of the ids a message answers are looked up: the last ones, which name its thread
(a forged ``References`` of thousands costs no more)."""
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv)\s*:\s*)+", re.IGNORECASE)
_TAGS = re.compile(r"\[[A-Z0-9]{2,10}-[0-9]{1,15}\]\s*")


@attrs.frozen(kw_only=True)
class Mailbox:
    """Where inbound mail comes in, and what mail that answers no ticket does there."""

    address: str
    """The mailbox's own address: mail from it (or from ``also_from``) is a loop."""
    request_type_id: str
    """What a ticket opened by e-mail is: a request type of the mailbox's desk."""
    opens_tickets: bool = True
    """Whether mail from a contact that answers no ticket they may see opens one; else refused."""
    also_from: frozenset[str] = frozenset()
    """The desk's other sending addresses."""


@attrs.frozen(kw_only=True)
class MailReport:
    """What :meth:`SupportDesk.ingest_email` did with one message."""

    outcome: MailOutcome
    message_id: str | None
    """None only for a message too malformed to have one."""
    reference: str | None = None
    """The ticket it updated, opened or followed up."""
    reason: str = ""
    """Why it was dropped, refused or malformed."""
    attachments: tuple[str, ...] = ()
    """The ids of the attachments its files became."""
    rejected_files: tuple[str, ...] = ()
    """Each file of it not taken, with why (``"virus.exe: ..."``)."""


class _Taken(Exception):
    """The message was taken in by another transaction meanwhile."""


class _MailCases(_TicketCases):
    """Taking in e-mail: threads, senders, loops and bounces, each message once."""

    def ingest_email(self, raw: bytes, *, mailbox: Mailbox) -> MailReport:
        """Take in one inbound message: an update, a new ticket, or nothing, and say which.

        It lands on the ticket whose thread it answers (``References`` or
        ``In-Reply-To`` naming the root of :func:`~supportdesk.thread_headers`),
        or whose reference its subject tags (``[HHA-13782]``), never on a
        subject alone, and only when its sender may see that ticket; else it
        opens a ticket as ``mailbox`` says.  Quoted history and signatures
        are cut off.  Auto-replies, lists and loops are dropped, bounces
        recorded against the contact; a sender who is no active contact is
        refused.  A Message-ID taken in before changes nothing
        (``duplicate``); bytes no one can read are reported ``malformed``,
        never raised, so that the next message goes on.

        The files of a message that landed on a ticket are attached as the
        sender would attach them (:meth:`attach`: sniffing, the desk's
        limits, the scanner), each after the message is taken in; a file
        refused is listed in :attr:`MailReport.rejected_files`.

        :raises ValidationError: on ``mailbox`` for an address that is no
            e-mail address or a request type id that is no id.
        """
        check_type("mailbox", mailbox, Mailbox)
        check_email("mailbox.address", mailbox.address)
        check_id("mailbox.request_type_id", mailbox.request_type_id)
        try:
            mail = read_mail(raw)
        except ValidationError as error:
            return MailReport(outcome=MailOutcome.MALFORMED, message_id=None, reason=str(error))
        try:
            received, report = self._record(mail, lambda work: self._take_in(work, mail, mailbox))
        except (InvalidTransition, ValidationError) as refused:
            # The ticket or the form said no: what the message began is rolled
            # back, and its refusal is recorded on its own.
            refusal = _refusal(mail, self._clock.now(), str(refused))
            received, report = self._record(mail, refusal)
        if received is None or report.reference is None or not mail.attachments:
            return report
        return self._with_files(report, mail, received)

    def _record(
        self, mail: InboundMail, take_in: Callable[[UnitOfWork], ReceivedMail]
    ) -> tuple[ReceivedMail | None, MailReport]:
        """Take the message in with ``take_in``, once: a Message-ID seen before is a duplicate."""
        try:
            with self._store.unit_of_work() as work:
                if work.mail.get(mail.message_id) is not None:
                    raise _Taken
                received = take_in(work)
                if not work.mail.add(received):
                    raise _Taken
                return received, self._reported(work, received)
        except _Taken:
            taken = MailOutcome.DUPLICATE
            return None, MailReport(
                outcome=taken, message_id=mail.message_id, reason="taken in before"
            )

    def _with_files(
        self, report: MailReport, mail: InboundMail, received: ReceivedMail
    ) -> MailReport:
        """Attach the message's files to the ticket it landed on, as its sender."""
        if received.outcome not in _LANDED or received.contact_id is None:
            return report
        with self._store.unit_of_work() as work:
            sender = work.directory.get_contact(received.contact_id)
        if sender is None:  # erased meanwhile: nobody to attach them as
            return report
        attached: list[str] = []
        rejected: list[str] = []
        for filename, data in mail.attachments:
            internal = received.outcome is MailOutcome.NOTED  # files of a note stay staff's
            try:
                attachment = self.attach(
                    sender, report.reference or "", filename, io.BytesIO(data), internal=internal
                )
            except SupportDeskError as refused:  # rejected, or the ticket moved on meanwhile
                rejected.append(f"{filename}: {refused}")
            else:
                attached.append(attachment.id)
        return attrs.evolve(report, attachments=tuple(attached), rejected_files=tuple(rejected))

    def list_ticket_emails(self, actor: Contact, reference: str) -> tuple[TicketEmail, ...]:
        """The ticket's e-mail thread, oldest first: the messages it took in and the events
        that went out by e-mail.

        Scoped like every read: the messages taken in are the ticket's
        updates, which everyone who sees it sees; a customer sees the e-mails
        that went to them (to their address alone), staff every e-mail and
        address.
        """
        with self._store.unit_of_work() as work:
            ctx = self._load(work, actor, reference)
            staff, me = access.is_staff(ctx.actor), ctx.actor.id
            taken = [
                TicketEmail(
                    direction=MailDirection.IN,
                    at=mail.received_at,
                    message_id=mail.message_id,
                    kind=mail.outcome.value,
                )
                for mail in work.mail.list_for_ticket(ctx.ticket.id)
            ]
            sent = [
                TicketEmail(
                    direction=MailDirection.OUT,
                    at=event.at,
                    message_id=event.id,
                    kind=event.kind.value,
                    to=tuple(r.email for r in event.recipients if staff or r.contact_id == me),
                )
                for event in work.outbox.list_events(ctx.ticket.id)
                if event.recipients and (staff or me in {r.contact_id for r in event.recipients})
            ]
        return tuple(sorted([*taken, *sent], key=lambda email: (email.at, email.direction)))

    def _take_in(self, work: UnitOfWork, mail: InboundMail, mailbox: Mailbox) -> ReceivedMail:
        """What the message does, done in ``work``: the record of it, not yet stored."""
        now = self._clock.now()
        record = ReceivedMail(
            message_id=mail.message_id, received_at=now, outcome=MailOutcome.DROPPED
        )
        if mail.automatic is not None:
            return attrs.evolve(record, reason=f"automatic ({mail.automatic})")
        if mail.sender in {mailbox.address.lower(), *(a.lower() for a in mailbox.also_from)}:
            return attrs.evolve(record, reason="sent by this desk: a loop")
        if mail.bounced is not None:
            failed = work.directory.get_contact_by_email(mail.bounced) if mail.bounced else None
            return attrs.evolve(
                record,
                outcome=MailOutcome.BOUNCED,
                contact_id=None if failed is None else failed.id,
                # No address in the record: the contact id says whose it was.
                reason="a delivery failed" if failed else "a delivery to no contact failed",
            )
        sender = work.directory.get_contact_by_email(mail.sender)
        if sender is None or sender.state is not ContactState.ACTIVE:
            return attrs.evolve(record, outcome=MailOutcome.REFUSED, reason="not from a contact")
        return self._land(work, mail, mailbox, sender, attrs.evolve(record, contact_id=sender.id))

    def _land(
        self,
        work: UnitOfWork,
        mail: InboundMail,
        mailbox: Mailbox,
        sender: Contact,
        record: ReceivedMail,
    ) -> ReceivedMail:
        ticket, among_staff = _threaded(work, mail)
        body = _require_text("body", mail.body or "(no text)")
        if ticket is not None:
            try:
                ctx = self._load(work, sender, ticket.reference)
            except NotFound:
                ctx = None  # a ticket the sender may not see is no thread of theirs
            if ctx is not None and among_staff:
                if ctx.party is not Party.AGENT:  # staff mail forwarded to a customer
                    reason = "answers e-mail meant for staff only"
                    return attrs.evolve(record, outcome=MailOutcome.REFUSED, reason=reason)
                self._note(ctx, body, record.received_at)
                return attrs.evolve(record, outcome=MailOutcome.NOTED, ticket_id=ctx.ticket.id)
            if ctx is not None:
                landed = self._update(ctx, body, record.received_at)
                outcome = (
                    MailOutcome.FOLLOWED_UP if landed.id != ctx.ticket.id else MailOutcome.UPDATED
                )
                return attrs.evolve(record, outcome=outcome, ticket_id=landed.id)
        if not mailbox.opens_tickets:
            reason = "answers no ticket of the sender's, and this mailbox opens none"
            return attrs.evolve(record, outcome=MailOutcome.REFUSED, reason=reason)
        submission = Submission(summary=_summary(mail.subject), description=mail.body)
        request = _Request(mailbox.request_type_id, submission)
        opened = self._open(work, sender, new_id(), request, (), record.received_at)
        return attrs.evolve(record, outcome=MailOutcome.OPENED, ticket_id=opened.id)

    def _reported(self, work: UnitOfWork, received: ReceivedMail) -> MailReport:
        ticket = None if received.ticket_id is None else work.tickets.get(received.ticket_id)
        return MailReport(
            outcome=received.outcome,
            message_id=received.message_id,
            reference=None if ticket is None else ticket.reference,
            reason=received.reason,
        )


def _threaded(work: UnitOfWork, mail: InboundMail) -> tuple[Ticket | None, bool]:
    """The ticket the message answers, by the thread it names, else by its subject's tag; and
    whether it answers the ticket's staff-only mail."""
    for message_id in mail.answers[:_THREAD_IDS]:
        if (root := _ROOT.fullmatch(message_id)) is not None:
            ticket = work.tickets.get(root.group(2))
            if ticket is not None:
                return ticket, root.group(1) == "staff"
    if mail.reference is None:
        return None, False
    return work.tickets.get_by_reference(mail.reference), False


def _summary(subject: str) -> str:
    """A new ticket's summary: the subject without ``Re:`` and reference tags, one line."""
    text = _TAGS.sub("", _REPLY_PREFIX.sub("", subject)).strip()
    return (text or "(no subject)")[:SUMMARY_MAX_LENGTH]


def _refusal(mail: InboundMail, now: datetime, reason: str) -> Callable[[UnitOfWork], ReceivedMail]:
    """The record of a message the ticket or the form refused, for :meth:`_MailCases._record`."""

    def refused(work: UnitOfWork) -> ReceivedMail:
        sender = work.directory.get_contact_by_email(mail.sender)
        return ReceivedMail(
            message_id=mail.message_id,
            received_at=now,
            outcome=MailOutcome.REFUSED,
            contact_id=None if sender is None else sender.id,
            reason=reason,
        )

    return refused
