"""E-mail notifications: a dispatcher loop that renders events with ``email``, sends by SMTP.

supportdesk writes events, with their recipients and payload, to its outbox;
the host delivers them.  This loop does it by e-mail, one plain-text message
per recipient, through the SMTP server named by the environment:

``SMTP_HOST`` (default ``localhost``), ``SMTP_PORT`` (default 25),
``SMTP_FROM`` (default ``support@example.test``) and ``PORTAL_URL``, where
links point (default ``https://support.example.test``).

Run ``python examples/notify_smtp.py --once`` to deliver what is due on a
small demo desk and stop; without ``--once`` it keeps polling.  A host
builds its own :class:`~supportdesk.SupportDesk` on its store instead of
:func:`demo_desk` and runs :func:`run` in a worker.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr

from supportdesk import (
    Clock,
    Contact,
    Desk,
    Event,
    EventKind,
    RequestType,
    Role,
    Submission,
    SupportDesk,
    thread_headers,
)

SUBJECTS: Mapping[EventKind, str] = {
    EventKind.TICKET_CREATED: "[{reference}] New request: {summary}",
    EventKind.TICKET_RECEIVED: "[{reference}] We received your request: {summary}",
    EventKind.PUBLIC_UPDATE: "[{reference}] New update: {summary}",
    EventKind.INTERNAL_NOTE: "[{reference}] Internal note: {summary}",
    EventKind.STATUS_CHANGED: "[{reference}] Now {status_label}: {summary}",
    EventKind.ASSIGNED: "[{reference}] Assigned to {assignee}: {summary}",
    EventKind.REMINDER_DUE: "[{reference}] Waiting for your reply: {summary}",
    EventKind.CLOSING_SOON: "[{reference}] Closing soon: {summary}",
    EventKind.AUTO_RESOLVED: "[{reference}] Resolved: {summary}",
    EventKind.AUTO_CLOSED: "[{reference}] Closed: {summary}",
    EventKind.COLLABORATOR_ADDED: "[{reference}] Shared with you: {summary}",
    EventKind.FOLLOW_UP_CREATED: "[{reference}] Follow-up of {follow_up_of}: {summary}",
    EventKind.ESCALATED: "[{reference}] Escalated: {summary}",
    EventKind.ATTACHMENT_ADDED: "[{reference}] New file: {summary}",
    EventKind.ATTACHMENT_REJECTED: "[{reference}] File refused: {filename}",
    EventKind.SIGNUP_REQUESTED: "Your sign-up to the support portal",
    EventKind.PASSWORD_RESET_REQUESTED: "Reset your support portal password",
    EventKind.APPROVAL_NEEDED: "Sign-up waiting for approval: {email}",
    EventKind.APPROVED: "Your support portal account is ready",
    EventKind.REJECTED: "Your support portal sign-up",
    EventKind.SLA_WARNING: "[{reference}] SLA {metric} due soon: {summary}",
    EventKind.SLA_BREACHED: "[{reference}] SLA {metric} breached: {summary}",
    EventKind.SLA_MET: "[{reference}] SLA {metric} met: {summary}",
}

MAIL_DOMAIN = os.environ.get("MAIL_DOMAIN", "support.example.test")
"""The right-hand side of the Message-IDs this portal sends."""

# Payload entries worth a line of their own, in this order, with their labels.
DETAILS = (
    ("body", ""),
    ("comment", ""),
    ("resolution", "Resolution: "),
    ("reason", "Reason: "),
    ("attachments", "Files: "),
    ("assignee", "Assignee: "),
    ("priority", "Priority: "),
)


def render(event: Event, index: int, *, sender: str, portal_url: str) -> EmailMessage:
    """The message for the ``index``-th recipient of ``event``: plain text, no HTML."""
    recipient = event.recipients[index]
    fields = defaultdict(str, event.payload)
    message = EmailMessage()
    message["Subject"] = SUBJECTS[event.kind].format_map(fields)
    message["From"] = sender
    message["To"] = formataddr((recipient.full_name, recipient.email))
    # A Message-ID stable per event and recipient (a redelivery is dropped as a
    # duplicate), and a ticket's messages threaded together in mail clients.
    for name, value in thread_headers(event, index, domain=MAIL_DOMAIN).items():
        message[name] = value
    message["X-Supportdesk-Event"] = f"{event.kind.value} {event.id}"
    message.set_content(body(event, portal_url))
    return message


def body(event: Event, portal_url: str) -> str:
    """The text of an event's message."""
    payload = event.payload
    if event.kind in (EventKind.SIGNUP_REQUESTED, EventKind.PASSWORD_RESET_REQUESTED):
        return LINK_TEXTS[payload["template"]].format_map({**payload, "portal_url": portal_url})
    lines = []
    if "status_label" in payload:
        # The label people read ("Waiting for customer"), not the stored name.
        actor = payload.get("actor", "")
        lines.append(f"{payload['reference']} ({payload['status_label']}), by {actor}:")
    lines += [f"{label}{payload[key]}" for key, label in DETAILS if payload.get(key)]
    if "reference" in payload:
        lines.append(f"\nOpen it: {portal_url}/requests/{payload['reference']}")
    elif event.kind is EventKind.APPROVAL_NEEDED:
        lines.append(f"{payload['full_name']} <{payload['email']}> asks for an account.")
        lines.append(f"Review it: {portal_url}/admin/signups/{payload['contact_id']}")
    elif event.kind is EventKind.APPROVED:
        lines.append(f"Welcome, {payload['full_name']}. Sign in at {portal_url}/login")
    return "\n".join(lines) + "\n"


LINK_TEXTS: Mapping[str, str] = {
    "verify": (
        "Finish signing up with this link:\n"
        "{portal_url}/signup/complete?token={token}\n"
        "It works once, until {expires_at}.\n"
    ),
    "account_exists": (
        "Someone asked to sign up with this address, which already has an account.\n"
        "Sign in at {portal_url}/login; if it was not you, ignore this message.\n"
    ),
    "reset": (
        "Set a new password with this link:\n"
        "{portal_url}/password/reset?token={token}\n"
        "It works once, until {expires_at}.\n"
        "If you did not ask for it, ignore this message: your password stays as it is.\n"
    ),
    "no_active_account": (
        "Someone asked to reset the password of this address, which has no active account.\n"
        "Sign up at {portal_url}/signup; if it was not you, ignore this message.\n"
    ),
}
"""The text of a sign-up or password reset e-mail, by the event's ``template``."""


class SmtpHandler:
    """A notification handler that mails each recipient of an event.

    The recipients are exactly those to mail: supportdesk leaves out whoever
    switched e-mail of the event's kind off.  A refused connection or message
    raises, so supportdesk retries the event later and, after too many
    failures, parks it.
    """

    def __init__(self, host: str, port: int, *, sender: str, portal_url: str) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.portal_url = portal_url.rstrip("/")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> SmtpHandler:
        """A handler configured by ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_FROM``, ``PORTAL_URL``."""
        return cls(
            environ.get("SMTP_HOST", "localhost"),
            int(environ.get("SMTP_PORT", "25")),
            sender=environ.get("SMTP_FROM", "support@example.test"),
            portal_url=environ.get("PORTAL_URL", "https://support.example.test"),
        )

    def __call__(self, event: Event) -> None:
        """Send one message per recipient; an event without recipients sends nothing."""
        if not event.recipients:
            return
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            for index in range(len(event.recipients)):
                smtp.send_message(
                    render(event, index, sender=self.sender, portal_url=self.portal_url)
                )


def run(desk: SupportDesk, handler: SmtpHandler, *, once: bool = False, idle: float = 5.0) -> int:
    """Dispatch due events, resting ``idle`` seconds whenever none are due.

    With ``once`` it stops at the first rest and returns how many events it
    delivered.  Failures are only printed: the desk retries them later.
    """
    delivered = 0
    while True:
        report = desk.dispatch_notifications(handler)
        delivered += len(report.delivered)
        for entry in report.retrying:
            print(f"retry {entry.event.id} at {entry.next_attempt_at}: {entry.last_error}")
        for entry in report.parked:
            print(f"parked {entry.event.id} after {entry.attempts} tries: {entry.last_error}")
        if report.attempted:
            continue
        if once:
            return delivered
        time.sleep(idle)


def demo_desk(clock: Clock | None = None) -> SupportDesk:
    """A desk with a little to tell: a request, a reply, a note, a sign-up."""
    desk = SupportDesk.in_memory(clock=clock)
    help_desk = desk.add_desk(Desk(key="HHA", name="Customer Service Desk"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General Request"))
    alice = desk.add_contact(Contact(email="alice@acme.test", full_name="Alice Payer"))
    agent = desk.add_contact(
        Contact(
            email="sam@desk.test",
            full_name="Sam Agent",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    ticket = desk.open_ticket(
        alice, general.id, Submission(summary="Claims missing", description="May claims")
    )
    desk.ask_customer(agent, ticket.reference, "Which member ids?")
    desk.add_note(agent, ticket.reference, "Feed stalled on the 3rd")
    desk.request_signup("dana@example.test")
    return desk


def main(argv: Sequence[str] | None = None) -> int:
    """Deliver the demo desk's notifications through the SMTP server of the environment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--once", action="store_true", help="stop when nothing is due")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to rest when idle")
    args = parser.parse_args(argv)
    handler = SmtpHandler.from_environment()
    delivered = run(demo_desk(), handler, once=args.once, idle=args.idle)
    print(f"{delivered} events delivered through {handler.host}:{handler.port}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
