"""The storage contract as tests, one module per area; subclass the contracts per adapter.

Each area's contract (``supportdesk.testing.contract.tickets.TicketsContract``,
...) runs on its own, so an adapter can be written and proved one area at a
time.  :class:`StoreContract` is all of them.  Give the subclass a ``store``
fixture that returns an empty store::

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self) -> Store:
            return MyStore()

The classes are not named ``Test...``, so pytest collects only your subclasses.
"""

from __future__ import annotations

from .accounts import AccountsContract
from .activity import ActivityContract
from .attachments import AttachmentsContract
from .base import ContractBase, World
from .content import ContentContract
from .desks import DesksContract
from .directory import DirectoryContract
from .feed import FeedContract
from .mail import MailContract
from .outbox import OutboxContract
from .participants import ParticipantsContract
from .privacy import PrivacyContract
from .search import SearchContract
from .tickets import TicketsContract
from .timers import TimersContract


class StoreContract(
    DirectoryContract,
    AccountsContract,
    DesksContract,
    TicketsContract,
    ActivityContract,
    ParticipantsContract,
    AttachmentsContract,
    TimersContract,
    ContentContract,
    SearchContract,
    OutboxContract,
    FeedContract,
    MailContract,
    PrivacyContract,
):
    """What every :class:`~supportdesk.Store` adapter must do: every area's contract."""


__all__ = [
    "AccountsContract",
    "ActivityContract",
    "AttachmentsContract",
    "ContentContract",
    "ContractBase",
    "DesksContract",
    "DirectoryContract",
    "FeedContract",
    "MailContract",
    "OutboxContract",
    "ParticipantsContract",
    "PrivacyContract",
    "SearchContract",
    "StoreContract",
    "TicketsContract",
    "TimersContract",
    "World",
]
