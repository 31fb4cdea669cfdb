"""Mail intake: an SMTP server on loopback that hands each message to ``ingest_email``.

Point your mail server's delivery for the desk's address at it (a
``transport`` to ``smtp:[127.0.0.1]:8025`` in Postfix, say).  Every message
is accepted, so that no sender gets a bounce for what the desk decided; what
the desk did with it is logged, one line per message.

Run ``python examples/mail_intake.py`` to serve a small demo desk on
127.0.0.1:8025 until Ctrl-C.  A host builds its own
:class:`~supportdesk.SupportDesk` on its store instead of :func:`demo_desk`,
and its own :class:`~supportdesk.Mailbox`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
from collections.abc import Sequence

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from supportdesk import Contact, Desk, Mailbox, RequestType, SupportDesk

log = logging.getLogger("mail_intake")


class IntakeHandler:
    """An aiosmtpd handler: each message to the desk, one at a time, off the event loop."""

    def __init__(self, desk: SupportDesk, mailbox: Mailbox) -> None:
        self._desk = desk
        self._mailbox = mailbox
        self._one_at_a_time = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd names hooks so)
        raw = envelope.original_content or b""
        report = await asyncio.to_thread(self._ingest, raw)
        log.info("%s %s %s %s", report.outcome, report.message_id, report.reference, report.reason)
        return "250 Message accepted for delivery"

    def _ingest(self, raw: bytes) -> object:
        with self._one_at_a_time:
            return self._desk.ingest_email(raw, mailbox=self._mailbox)


def serve(desk: SupportDesk, mailbox: Mailbox, *, host: str, port: int) -> Controller:
    """Start the intake; call ``stop()`` on what it returns to end it."""
    controller = Controller(IntakeHandler(desk, mailbox), hostname=host, port=port)
    controller.start()
    return controller


def demo_desk() -> tuple[SupportDesk, Mailbox]:
    """A desk in memory with one customer, and its mailbox."""
    desk = SupportDesk.in_memory()
    help_desk = desk.add_desk(Desk(key="HHA", name="EDI Support Desk"))
    general = desk.add_request_type(RequestType(desk_id=help_desk.id, name="General Inquiry"))
    desk.add_contact(Contact(email="alice@acme.test", full_name="Alice Payer"))
    return desk, Mailbox(address="help@portal.test", request_type_id=general.id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    desk, mailbox = demo_desk()
    controller = serve(desk, mailbox, host=args.host, port=args.port)
    print(f"taking in mail for {mailbox.address} on {args.host}:{args.port}; Ctrl-C stops")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
