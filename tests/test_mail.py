"""The headers that thread a ticket's e-mails: stable ids, one root per ticket and one for its
staff-only mail, and never an answer from a mailbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk import Event, EventKind, thread_headers

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_tickets_messages_answer_one_root_and_each_has_its_own_id() -> None:
    first = Event(id="e1", kind=EventKind.PUBLIC_UPDATE, at=AT, ticket_id="t1")
    second = Event(id="e2", kind=EventKind.STATUS_CHANGED, at=AT, ticket_id="t1")
    headers = [
        thread_headers(e, i, domain="mail.example.com") for e in (first, second) for i in (0, 1)
    ]
    assert [h["Message-ID"] for h in headers] == [
        "<e1.0@mail.example.com>",
        "<e1.1@mail.example.com>",
        "<e2.0@mail.example.com>",
        "<e2.1@mail.example.com>",
    ]
    assert {h["References"] for h in headers} == {"<ticket.t1@mail.example.com>"}
    assert {h["In-Reply-To"] for h in headers} == {"<ticket.t1@mail.example.com>"}
    assert {h["Auto-Submitted"] for h in headers} == {"auto-generated"}  # no mailbox answers
    # A redelivery is the same message.
    assert thread_headers(first, 1, domain="mail.example.com") == headers[1]


def test_staff_only_mail_threads_apart() -> None:
    note = Event(id="e4", kind=EventKind.INTERNAL_NOTE, at=AT, ticket_id="t1")
    headers = thread_headers(note, 0, domain="mail.example.com")
    assert headers["References"] == headers["In-Reply-To"] == "<staff.t1@mail.example.com>"


def test_an_account_message_stands_alone() -> None:
    link = Event(id="e3", kind=EventKind.SIGNUP_REQUESTED, at=AT)
    assert thread_headers(link, 0, domain="example.com") == {
        "Message-ID": "<e3.0@example.com>",
        "Auto-Submitted": "auto-generated",
    }


@pytest.mark.parametrize("domain", ["", "a b", "x>y", "bad..com", "-x.com", "é.com", "a" * 300])
def test_a_domain_must_be_a_host_name(domain: str) -> None:
    event = Event(id="e1", kind=EventKind.PUBLIC_UPDATE, at=AT, ticket_id="t1")
    with pytest.raises(ValueError, match="host name"):
        thread_headers(event, 0, domain=domain)
