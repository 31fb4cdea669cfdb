"""The SMTP example delivers the outbox to a real (local) SMTP server."""

from __future__ import annotations

import email
import email.policy
import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from supportdesk import ContactState, EventKind, FakeClock

EXAMPLE = Path(__file__).parent.parent / "examples" / "notify_smtp.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notify_smtp", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, dict[str, str]]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield (
            inbox,
            {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(controller.port),
                "SMTP_FROM": "help@portal.test",
                "PORTAL_URL": "https://portal.test/",
            },
        )
    finally:
        controller.stop()


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    content: Any = part.get_content()
    return str(content)


def test_the_example_runs_against_a_local_smtp_server(
    smtp_server: tuple[Inbox, dict[str, str]],
) -> None:
    inbox, environment = smtp_server
    finished = subprocess.run(
        [sys.executable, str(EXAMPLE), "--once"],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert f"5 events delivered through 127.0.0.1:{environment['SMTP_PORT']}" in finished.stdout
    # Opened: to the agent, and its confirmation to Alice.  Reply: to Alice.
    # Note: to nobody (its author is the only agent).  Sign-up: to Dana.
    subjects = sorted(str(m["Subject"]) for m in inbox.messages)
    assert subjects == [
        "Your sign-up to the support portal",
        "[HHA-1] New request: Claims missing",
        "[HHA-1] Now Waiting for customer: Claims missing",
        "[HHA-1] We received your request: Claims missing",
    ]
    received, reply = inbox.to("alice@acme.test")
    assert "HHA-1 (New), by Alice Payer:" in text(received)
    assert "Which member ids?" in text(reply)
    assert "https://portal.test/requests/HHA-1" in text(reply)
    assert "Feed stalled" not in "".join(text(m) for m in inbox.messages)
    assert all(sender == "help@portal.test" for sender, _ in inbox.envelopes)
    assert all(m.get_content_type() == "text/plain" for m in inbox.messages)
    # Each message its own id; a ticket's messages answer the ticket's thread, so
    # mail clients show them together (the sign-up link stands alone), the staff's
    # (the new ticket's notice, notes) a thread of their own.
    ids = [str(m["Message-ID"]) for m in inbox.messages]
    assert len(set(ids)) == len(ids)
    assert all(i.endswith("@support.example.test>") for i in ids)
    threads = {
        str(m["Subject"]): str(m["References"]).split(".")[0]
        for m in inbox.messages
        if "HHA-1" in str(m["Subject"])
    }
    assert threads == {
        "[HHA-1] New request: Claims missing": "<staff",  # the staff's notice
        "[HHA-1] Now Waiting for customer: Claims missing": "<ticket",
        "[HHA-1] We received your request: Claims missing": "<ticket",
    }
    assert all(m["Auto-Submitted"] == "auto-generated" for m in inbox.messages)
    (signup,) = [m for m in inbox.messages if "HHA-1" not in str(m["Subject"])]
    assert signup["In-Reply-To"] is None


def test_a_signup_link_by_mail_completes_the_signup(
    smtp_server: tuple[Inbox, dict[str, str]],
) -> None:
    inbox, environment = smtp_server
    example = load_example()
    desk = example.demo_desk()
    handler = example.SmtpHandler.from_environment(environment)
    assert example.run(desk, handler, once=True) == 5
    (invitation,) = inbox.to("dana@example.test")
    link = re.search(r"https://portal\.test/signup/complete\?token=(\S+)", text(invitation))
    assert link is not None
    dana = desk.complete_signup(link.group(1), "Dana Scully")
    assert dana.state is ContactState.ACTIVE
    assert example.run(desk, handler, once=True) == 1
    (welcome,) = inbox.to("dana@example.test")[1:]
    assert str(welcome["Subject"]) == "Your support portal account is ready"
    assert str(welcome["To"]) == "Dana Scully <dana@example.test>"
    assert str(welcome["X-Supportdesk-Event"]).startswith(EventKind.APPROVED.value)
    assert len({str(m["Message-ID"]) for m in inbox.messages}) == len(inbox.messages)


def test_a_password_reset_link_by_mail_sets_a_new_password(
    smtp_server: tuple[Inbox, dict[str, str]],
) -> None:
    inbox, environment = smtp_server
    example = load_example()
    desk = example.demo_desk()
    handler = example.SmtpHandler.from_environment(environment)
    desk.request_password_reset("alice@acme.test")
    desk.request_password_reset("nobody@acme.test")
    example.run(desk, handler, once=True)
    (reset,) = [m for m in inbox.to("alice@acme.test") if "password" in str(m["Subject"])]
    assert str(reset["Subject"]) == "Reset your support portal password"
    link = re.search(r"https://portal\.test/password/reset\?token=(\S+)", text(reset))
    assert link is not None
    alice = desk.reset_password(link.group(1), "a brand new secret")
    assert desk.verify_password("alice@acme.test", "a brand new secret") == alice
    (nobody,) = inbox.to("nobody@acme.test")
    assert "no active account" in text(nobody)
    assert "token=" not in text(nobody)


def test_an_unreachable_server_leaves_events_pending(
    smtp_server: tuple[Inbox, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, environment = smtp_server
    example = load_example()
    clock = FakeClock()
    desk = example.demo_desk(clock)
    down = example.SmtpHandler.from_environment({**environment, "SMTP_PORT": str(free_port())})
    # The ticket's first event fails and holds back the ticket's later ones.
    assert example.run(desk, down, once=True) == 0
    assert capsys.readouterr().out.count("ConnectionRefusedError") == 2
    assert inbox.messages == []
    up = example.SmtpHandler.from_environment(environment)
    assert example.run(desk, up, once=True) == 0  # not due again yet
    clock.advance(timedelta(minutes=1))
    assert example.run(desk, up, once=True) == 5
    assert len(inbox.messages) == 4
