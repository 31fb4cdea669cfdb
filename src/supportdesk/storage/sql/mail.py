"""The SQL inbound e-mails: one row per Message-ID, which the primary key keeps unique."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ..._models import ReceivedMail
from . import rows
from ._transaction import Repository
from .schema import received_mail

GET_MAIL = sa.select(received_mail).where(received_mail.c.message_id == sa.bindparam("key"))
MAIL_OF_TICKET = (
    sa.select(received_mail)
    .where(received_mail.c.ticket_id == sa.bindparam("ticket_id"))
    .order_by(received_mail.c.received_at, received_mail.c.message_id)
)


class SqlMail(Repository):
    """Inbound e-mails in SQL; a Message-ID taken twice inserts nothing the second time."""

    def add(self, mail: ReceivedMail) -> bool:
        return self._tx.add_new(received_mail, "message_id", rows.RECEIVED_MAIL.row(mail))

    def get(self, message_id: str) -> ReceivedMail | None:
        return self._tx.one(rows.RECEIVED_MAIL, GET_MAIL, key=message_id)

    def list_for_ticket(self, ticket_id: str) -> Sequence[ReceivedMail]:
        return self._tx.all(rows.RECEIVED_MAIL, MAIL_OF_TICKET, ticket_id=ticket_id)
