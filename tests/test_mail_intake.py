"""Inbound e-mail: replies thread by header or tag, never onto a ticket the sender may not see;
each message once; auto-replies, loops and bounces open nothing; on every store."""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk import (
    ActivityKind,
    AttachmentLimits,
    Event,
    EventKind,
    FakeClock,
    FollowUpPolicy,
    Mailbox,
    MailDirection,
    MailOutcome,
    MemoryStore,
    NotFound,
    Submission,
    Ticket,
    TicketList,
    thread_headers,
)
from supportdesk.storage.protocol import Store

from .conftest import Portal, build_portal

DESK_ADDRESS = "help@portal.test"


def mailbox(portal: Portal, **changes: object) -> Mailbox:
    box = Mailbox(address=DESK_ADDRESS, request_type_id=portal.general.id)
    return attrs.evolve(box, **changes)


def message(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str = "<m1@mail.acme.test>",
    files: Mapping[str, tuple[bytes, str]] | None = None,
    **headers: str,
) -> bytes:
    """A message's bytes; ``files`` attaches each file name's bytes with its MIME type."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = DESK_ADDRESS
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    for filename, (data, mime_type) in (files or {}).items():
        maintype, subtype = mime_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(mail)


def reply_to(
    ticket: Ticket,
    sender: str,
    body: str,
    message_id: str = "<m1@mail.acme.test>",
    answering: EventKind = EventKind.PUBLIC_UPDATE,
    **headers: str,
) -> bytes:
    """A reply to the library's own mail about ``ticket``: it names the ticket's thread."""
    sent = Event(kind=answering, at=ticket.created_at, ticket_id=ticket.id)
    root = thread_headers(sent, 0, domain="portal.test")["References"]
    quoted = f"{body}\n\nOn Mon, 5 Jan 2026 Support <{DESK_ADDRESS}> wrote:\n> Which claims?\n"
    return message(
        sender, "Re: Claims missing", quoted, message_id=message_id, References=root, **headers
    )


def updates(portal: Portal, ticket: Ticket) -> list[str]:
    entries = portal.desk.view_ticket(portal.agent, ticket.reference).activities
    return [e.body for e in entries if e.kind is ActivityKind.PUBLIC_UPDATE]


def test_a_reply_threads_by_its_headers_without_the_quoted_history(portal: Portal) -> None:
    ticket = portal.open()
    report = portal.desk.ingest_email(
        reply_to(ticket, "Alice Payer <alice@acme.test>", "Batch 0517.\n-- \nAlice"),
        mailbox=mailbox(portal),
    )
    assert (report.outcome, report.reference) == (MailOutcome.UPDATED, ticket.reference)
    assert updates(portal, ticket) == ["Batch 0517."]
    # A customer's reply moves the ticket as an update in the portal would.
    assert portal.desk.get_ticket(portal.alice, ticket.reference).status == "new"


@pytest.mark.parametrize(
    "head",
    [
        "On Mon, 5 Jan 2026 at 09:00, Support <help@portal.test> wrote:",
        "Am Mo., 5. Jan. 2026 um 09:00 Uhr schrieb Support <help@portal.test>:",
        "Le lun. 5 janv. 2026 à 09:00, Support <help@portal.test> a écrit\u00a0:",
        "El lun, 5 ene 2026 a las 9:00, Support (<help@portal.test>) escribió:",
        "Il giorno lun 5 gen 2026 alle ore 09:00 Support <help@portal.test> ha scritto:",
        "Em seg., 5 de jan. de 2026 às 09:00, Support <help@portal.test> escreveu:",
        "Op ma 5 jan. 2026 om 09:00 schreef Support <help@portal.test>:",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "Von: Support <help@portal.test>",
        "De : Support <help@portal.test>",
    ],
)
def test_the_quoted_history_is_cut_whatever_the_client_s_language(
    portal: Portal, head: str
) -> None:
    ticket = portal.open()
    sent = Event(kind=EventKind.PUBLIC_UPDATE, at=ticket.created_at, ticket_id=ticket.id)
    root = thread_headers(sent, 0, domain="portal.test")["References"]
    body = f"Batch 0517.\n\n{head}\nWhich claims are missing?\n"
    raw = message(
        "alice@acme.test", "Re: Claims missing", body, message_id="<q@x>", References=root
    )
    assert portal.desk.ingest_email(raw, mailbox=mailbox(portal)).outcome is MailOutcome.UPDATED
    assert updates(portal, ticket) == ["Batch 0517."]


def test_a_line_that_only_looks_like_a_quote_head_is_kept(portal: Portal) -> None:
    ticket = portal.open()
    text = "On Monday the export wrote 12 rows:\nLe batch 0517 manque.\nDe plus, rien."
    raw = message("alice@acme.test", f"Re: [{ticket.reference}] x", text, message_id="<k@x>")
    portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert updates(portal, ticket) == [text]


def test_a_reply_threads_by_the_tag_in_its_subject_but_never_by_subject_alone(
    portal: Portal,
) -> None:
    ticket = portal.open()
    tagged = message(
        "bob@acme.test", f"Re: [{ticket.reference}] Claims missing", "Same here", message_id="<t@x>"
    )
    assert portal.desk.ingest_email(tagged, mailbox=mailbox(portal)).reference == ticket.reference
    plain = message("alice@acme.test", "Re: Portal missing data", "Any news?", message_id="<p@x>")
    report = portal.desk.ingest_email(plain, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.OPENED
    assert report.reference != ticket.reference
    opened = portal.desk.get_ticket(portal.alice, report.reference or "")
    assert (opened.summary, opened.description) == ("Portal missing data", "Any news?")


def test_a_sender_who_may_not_see_the_ticket_never_lands_on_it(portal: Portal) -> None:
    ticket = portal.open()
    stranger = reply_to(ticket, "carol@globex.test", "Let me in")
    report = portal.desk.ingest_email(stranger, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.OPENED
    assert report.reference != ticket.reference
    assert updates(portal, ticket) == []
    refused = portal.desk.ingest_email(
        reply_to(ticket, "carol@globex.test", "Again", message_id="<2@x>"),
        mailbox=mailbox(portal, opens_tickets=False),
    )
    assert refused.outcome is MailOutcome.REFUSED
    assert updates(portal, ticket) == []


def test_the_same_message_twice_is_one_update(portal: Portal) -> None:
    ticket = portal.open()
    raw = reply_to(ticket, "alice@acme.test", "Once")
    first = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    again = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert (first.outcome, again.outcome) == (MailOutcome.UPDATED, MailOutcome.DUPLICATE)
    assert again.message_id == first.message_id
    assert updates(portal, ticket) == ["Once"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X_Autoreply": "yes"},
    ],
    ids=["auto-submitted", "precedence", "x-autoreply"],
)
def test_automatic_mail_opens_nothing(portal: Portal, headers: dict[str, str]) -> None:
    ticket = portal.open()
    raw = reply_to(ticket, "alice@acme.test", "I am out of office", **headers)
    report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.DROPPED
    assert "automatic" in report.reason
    assert updates(portal, ticket) == []
    assert portal.desk.count_tickets(portal.alice, TicketList.CREATED_BY_ME) == 1


def test_mail_from_the_desk_itself_is_a_loop(portal: Portal) -> None:
    raw = message(DESK_ADDRESS, "Re: [HHA-1] Claims", "echo")
    report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert (report.outcome, report.reason) == (MailOutcome.DROPPED, "sent by this desk: a loop")


DSN = (
    b"From: MAILER-DAEMON@mail.acme.test\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <bounce@mail.acme.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mail.acme.test\r\n\r\n"
    b"Final-Recipient: rfc822; alice@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"--B--\r\n"
)
"""A delivery status notification as RFC 3464 has it: a text part, then the status."""


def test_a_bounce_is_recorded_against_the_contact(portal: Portal, store: Store) -> None:
    report = portal.desk.ingest_email(DSN, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.BOUNCED
    assert report.reason == "a delivery failed"
    with store.unit_of_work() as work:
        recorded = work.mail.get("<bounce@mail.acme.test>")
    assert recorded is not None and recorded.contact_id == portal.alice.id
    assert portal.desk.count_tickets(portal.alice, TicketList.CREATED_BY_ME) == 0


def test_a_reply_to_a_closed_ticket_follows_the_desks_policy(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.close(portal.alice, ticket.reference)
    report = portal.desk.ingest_email(
        reply_to(ticket, "alice@acme.test", "It is back"), mailbox=mailbox(portal)
    )
    assert report.outcome is MailOutcome.FOLLOWED_UP
    assert report.reference not in (None, ticket.reference)
    portal.desk.add_desk(attrs.evolve(portal.help_desk, follow_up_policy=FollowUpPolicy.REFUSE))
    refused = portal.desk.ingest_email(
        reply_to(ticket, "alice@acme.test", "Hello?", message_id="<late@x>"),
        mailbox=mailbox(portal),
    )
    assert refused.outcome is MailOutcome.REFUSED


def test_an_unknown_sender_is_refused_and_a_malformed_message_does_not_block_the_next(
    portal: Portal,
) -> None:
    unknown = message("nobody@elsewhere.test", "Help", "Who am I?")
    assert portal.desk.ingest_email(unknown, mailbox=mailbox(portal)).outcome is (
        MailOutcome.REFUSED
    )
    broken = portal.desk.ingest_email(b"\x00\xff not a message", mailbox=mailbox(portal))
    assert (broken.outcome, broken.message_id) == (MailOutcome.MALFORMED, None)
    fine = message("alice@acme.test", "Portal down", "Since 9:00", message_id="<next@x>")
    assert portal.desk.ingest_email(fine, mailbox=mailbox(portal)).outcome is MailOutcome.OPENED


HEADER_NAMES = (
    "From",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Precedence",
    "Content-Type",
    "Content-Transfer-Encoding",
)
header_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(
    [
        "alice@acme.test",
        "<ticket.x@portal.test>",
        "[HHA-1] Re:",
        "multipart/report; report-type=delivery-status",
        "base64",
        "auto-replied",
        "=?utf-8?q?=E2=82=AC?=",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_text), max_size=8),
    body=st.binary(max_size=200),
)
def test_random_header_mixes_get_a_report_never_a_stray_exception(
    headers: list[tuple[str, str]], body: bytes
) -> None:
    portal = build_portal(MemoryStore(), FakeClock())
    lines = [f"{name}: {value}".encode("utf-8", "surrogateescape") for name, value in headers]
    raw = b"\r\n".join([*lines, b"", body])
    report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert report.outcome in MailOutcome


PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def test_the_files_of_a_reply_go_through_the_attachment_rules(portal: Portal) -> None:
    ticket = portal.open()
    files = {
        "portal.png": (PNG, "image/png"),
        "tool.exe": (b"MZ\x90\x00binary", "application/octet-stream"),
    }
    mail = message(
        "alice@acme.test",
        f"Re: [{ticket.reference}] Claims missing",
        "Screenshots attached.",
        message_id="<files@mail.acme.test>",
        files=files,
    )
    report = portal.desk.ingest_email(mail, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.UPDATED
    assert len(report.attachments) == 1
    assert [r.split(":")[0] for r in report.rejected_files] == ["tool.exe"]
    files = portal.desk.list_attachments(portal.alice, ticket.reference)
    assert [(f.filename, f.content_type) for f in files] == [("portal.png", "image/png")]


def test_a_reply_obeys_the_desks_attachment_limits(portal: Portal) -> None:
    small = AttachmentLimits(max_file_bytes=32, max_ticket_bytes=64)
    portal.desk.add_desk(attrs.evolve(portal.help_desk, attachment_limits=small))
    ticket = portal.open()
    mail = message(
        "alice@acme.test",
        f"Re: [{ticket.reference}] Claims missing",
        "Too big?",
        message_id="<big@mail.acme.test>",
        files={"portal.png": (PNG, "image/png")},
    )
    report = portal.desk.ingest_email(mail, mailbox=mailbox(portal))
    assert (report.outcome, report.attachments) == (MailOutcome.UPDATED, ())
    assert report.rejected_files[0].startswith("portal.png:")
    assert portal.desk.list_attachments(portal.alice, ticket.reference) == ()


def test_the_tickets_email_thread_is_scoped_like_every_read(portal: Portal) -> None:
    ticket = portal.open()
    portal.desk.ingest_email(reply_to(ticket, "alice@acme.test", "More"), mailbox=mailbox(portal))
    portal.desk.add_note(portal.agent, ticket.reference, "Internal only")
    staff = portal.desk.list_ticket_emails(portal.agent, ticket.reference)
    assert [(e.direction, e.kind) for e in staff if e.direction is MailDirection.IN] == [
        (MailDirection.IN, "updated")
    ]
    assert any(e.kind == "ticket_created" for e in staff)  # to the staff, not to Alice
    alice = portal.desk.list_ticket_emails(portal.alice, ticket.reference)
    assert [e.kind for e in alice if e.direction is MailDirection.OUT] == ["ticket_received"]
    assert all(e.to in ((), ("alice@acme.test",)) for e in alice)
    with pytest.raises(NotFound):
        portal.desk.list_ticket_emails(portal.carol, ticket.reference)


def test_a_refused_reply_leaves_the_ticket_as_it_was(store: Store) -> None:
    from .test_desk_workflows import two_desks

    world = two_desks(store)
    desk = world.desk
    case = desk.open_ticket(world.alice, world.case.id, Submission(summary="Claims"))
    desk.ask_customer(world.agent, case.reference, "Which?")
    desk.resolve(world.agent, case.reference)  # the short workflow takes no update now
    raw = message("alice@acme.test", f"Re: [{case.reference}] Claims", "Still there?")
    report = desk.ingest_email(
        raw, mailbox=Mailbox(address="help@x.test", request_type_id=world.case.id)
    )
    assert report.outcome is MailOutcome.REFUSED
    entries = desk.view_ticket(world.agent, case.reference).activities
    assert "Still there?" not in [e.body for e in entries]
    again = desk.ingest_email(
        raw, mailbox=Mailbox(address="help@x.test", request_type_id=world.case.id)
    )
    assert again.outcome is MailOutcome.DUPLICATE


def test_staff_answering_staff_mail_write_an_internal_note(portal: Portal) -> None:
    ticket = portal.open()
    desk, box = portal.desk, mailbox(portal)
    note = EventKind.INTERNAL_NOTE
    files = {"ledger.csv": (b"a,b\n1,2\n", "text/csv")}
    raw = reply_to(ticket, portal.agent.email, "Keep the refund on hold.", answering=note)
    report = desk.ingest_email(raw, mailbox=box)
    assert (report.outcome, report.reference) == (MailOutcome.NOTED, ticket.reference)
    log = desk.view_ticket(portal.agent, ticket.reference).activities
    assert (log[-1].kind, log[-1].body) == (ActivityKind.INTERNAL_NOTE, "Keep the refund on hold.")
    customer = desk.view_ticket(portal.alice, ticket.reference).activities
    assert "Keep the refund on hold." not in [e.body for e in customer]
    # A customer holding staff mail (forwarded) is refused, not turned into an update.
    forwarded = reply_to(ticket, portal.alice.email, "What is this?", "<m2@x.test>", note)
    assert desk.ingest_email(forwarded, mailbox=box).outcome is MailOutcome.REFUSED
    # A file on an agent's answer to staff mail stays on the note.
    with_file = message(
        portal.agent.email,
        "Re: note",
        "The ledger.",
        message_id="<m3@desk.test>",
        References=thread_headers(
            Event(kind=note, at=ticket.created_at, ticket_id=ticket.id), 0, domain="portal.test"
        )["References"],
        files=files,
    )
    (file_id,) = desk.ingest_email(with_file, mailbox=box).attachments
    assert desk.list_attachments(portal.alice, ticket.reference) == ()
    (attachment,) = desk.list_attachments(portal.agent, ticket.reference)
    assert (attachment.id, attachment.internal) == (file_id, True)


def test_a_from_that_names_more_than_one_mailbox_is_nobodys(portal: Portal) -> None:
    ticket = portal.open()
    for n, forged in enumerate(
        (
            "alice@acme.test <attacker@evil.test>",
            "<>, alice@acme.test",
            "Alice <alice@acme.test>, Mallory <m@evil.test>",
        )
    ):
        raw = reply_to(ticket, forged, "Send the refund elsewhere.", f"<f{n}@evil.test>")
        report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
        assert (report.outcome, report.reason) == (
            MailOutcome.MALFORMED,
            "invalid input: raw: no sender address (From) to answer",
        ), forged
    assert updates(portal, ticket) == []


def test_a_reply_is_held_to_the_portals_limits(portal: Portal) -> None:
    ticket = portal.open()
    raw = reply_to(ticket, portal.alice.email, "x" * 100_001)
    report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert report.outcome is MailOutcome.REFUSED
    assert updates(portal, ticket) == []


def test_a_header_block_over_the_cap_is_refused_before_it_is_parsed(portal: Portal) -> None:
    ticket = portal.open()
    forged = " ".join(f"<r{n}@evil.test>" for n in range(12_000))  # about 180 KiB
    raw = reply_to(ticket, portal.alice.email, "Hello", In_Reply_To=forged)
    report = portal.desk.ingest_email(raw, mailbox=mailbox(portal))
    assert (report.outcome, report.reason) == (
        MailOutcome.MALFORMED,
        "invalid input: raw: headers of at most 131,072 bytes",
    )
    assert updates(portal, ticket) == []
