"""The intake example takes real mail over SMTP on loopback: the reply lands on the ticket."""

from __future__ import annotations

import importlib.util
import smtplib
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

from supportdesk import ActivityKind, Contact, Event, EventKind, Role, Submission, thread_headers

from .test_notify_smtp_example import free_port

EXAMPLE = Path(__file__).parent.parent / "examples" / "mail_intake.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mail_intake", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_reply_sent_by_smtp_lands_on_the_ticket_and_in_the_feed() -> None:
    example = load_example()
    desk, mailbox = example.demo_desk()
    alice = desk.find_contact("alice@acme.test")
    (help_desk,) = desk.list_desks(alice)
    agent = desk.add_contact(
        Contact(
            email="agent@portal.test",
            full_name="Agent",
            role=Role.AGENT,
            desk_ids=frozenset({help_desk.id}),
        )
    )
    ticket = desk.open_ticket(alice, mailbox.request_type_id, Submission(summary="Claims missing"))
    sent = Event(kind=EventKind.PUBLIC_UPDATE, at=ticket.created_at, ticket_id=ticket.id)
    reply = EmailMessage()
    reply["From"] = "Alice Payer <alice@acme.test>"
    reply["To"] = mailbox.address
    reply["Subject"] = f"Re: [{ticket.reference}] Claims missing"
    reply["Message-ID"] = "<reply-1@mail.acme.test>"
    reply["References"] = thread_headers(sent, 0, domain="portal.test")["References"]
    reply.set_content("Batch 0517, members 1001 to 1040.\n\n> Which claims?\n")

    controller = example.serve(desk, mailbox, host="127.0.0.1", port=free_port())
    try:
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=10) as client:
            client.send_message(reply)
    finally:
        controller.stop()

    entries = desk.view_ticket(alice, ticket.reference).activities
    assert [e.body for e in entries if e.kind is ActivityKind.PUBLIC_UPDATE] == [
        "Batch 0517, members 1001 to 1040."
    ]
    feed = desk.notifications(agent).notifications
    assert next(n.kind for n in feed if n.ticket_id == ticket.id) is EventKind.PUBLIC_UPDATE
