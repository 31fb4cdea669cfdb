"""The mail area's contract: inbound e-mails taken in once each, by Message-ID."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ..._models import MailOutcome, ReceivedMail
from ...storage.protocol import Store
from .base import T0, ContractBase, World


class MailContract(ContractBase):
    """What every adapter's ``work.mail`` must do; one test per promise."""

    def test_a_message_id_is_taken_in_once(self, store: Store, world: World) -> None:
        first = ReceivedMail(
            message_id="<a@mail.test>",
            received_at=T0,
            outcome=MailOutcome.UPDATED,
            ticket_id="t1",
            contact_id=world.alice.id,
        )
        again = ReceivedMail(
            message_id="<a@mail.test>", received_at=T0, outcome=MailOutcome.DROPPED, reason="x"
        )
        with store.unit_of_work() as work:
            assert work.mail.add(first)
            assert not work.mail.add(again)
        with store.unit_of_work() as work:
            assert not work.mail.add(again)
            assert work.mail.get("<a@mail.test>") == first
            assert work.mail.get("<b@mail.test>") is None

    def test_a_tickets_mail_oldest_first(self, store: Store, world: World) -> None:
        taken = [
            ReceivedMail(
                message_id=f"<{n}@mail.test>",
                received_at=T0 + timedelta(minutes=5 - n),
                outcome=MailOutcome.UPDATED,
                ticket_id="t1",
            )
            for n in range(3)
        ]
        other = ReceivedMail(
            message_id="<x@mail.test>", received_at=T0, outcome=MailOutcome.OPENED, ticket_id="t2"
        )
        with store.unit_of_work() as work:
            for mail in (*taken, other):
                work.mail.add(mail)
        with store.unit_of_work() as work:
            assert work.mail.list_for_ticket("t1") == taken[::-1]
            assert work.mail.list_for_ticket("t3") == []

    def test_a_rolled_back_message_can_be_taken_in_again(self, store: Store, world: World) -> None:
        mail = ReceivedMail(message_id="<r@mail.test>", received_at=T0, outcome=MailOutcome.OPENED)
        with pytest.raises(RuntimeError), store.unit_of_work() as work:
            work.mail.add(mail)
            raise RuntimeError("the ticket could not be opened")
        with store.unit_of_work() as work:
            assert work.mail.add(mail)
