"""The mail area: inbound e-mails taken in, by Message-ID, so that none is taken in twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..._models import ReceivedMail


class ReceivedMailLog(Protocol):
    """Every inbound e-mail the desk took in and what it did, keyed by its Message-ID."""

    def add(self, mail: ReceivedMail) -> bool:
        """Record ``mail``; False, changing nothing, when its Message-ID is recorded already.

        Two transactions adding one Message-ID at once: one commits it, the
        other gets False (or, on Postgres, waits for the first to end).
        """
        ...

    def get(self, message_id: str) -> ReceivedMail | None:
        """The e-mail recorded with that Message-ID."""
        ...

    def list_for_ticket(self, ticket_id: str) -> Sequence[ReceivedMail]:
        """The e-mails that updated or opened the ticket, oldest first."""
        ...
