"""The memory store's inbound e-mails, by Message-ID."""

from __future__ import annotations

from collections.abc import Sequence

from ..._models import ReceivedMail
from ._changes import Area


class MailTables:
    """Every inbound e-mail taken in, by Message-ID."""

    def __init__(self) -> None:
        self.received: dict[str, ReceivedMail] = {}


class MemoryMail(Area[MailTables]):
    """The mail area of a :class:`~.store.MemoryUnitOfWork`."""

    def add(self, mail: ReceivedMail) -> bool:
        if mail.message_id in self._tables.received:
            return False
        self._changes.set(self._tables.received, mail.message_id, mail)
        return True

    def get(self, message_id: str) -> ReceivedMail | None:
        return self._tables.received.get(message_id)

    def list_for_ticket(self, ticket_id: str) -> Sequence[ReceivedMail]:
        mine = [m for m in self._tables.received.values() if m.ticket_id == ticket_id]
        return sorted(mine, key=lambda m: (m.received_at, m.message_id))
