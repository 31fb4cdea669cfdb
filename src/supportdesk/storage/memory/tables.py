"""The memory store's tables: every area's, held together for the life of the store."""

from __future__ import annotations

from .accounts import AccountTables
from .activity import ActivityTables
from .attachments import AttachmentTables
from .content import ContentTables
from .desks import DeskTables
from .directory import DirectoryTables
from .feed import FeedTables
from .mail import MailTables
from .outbox import OutboxTables
from .participants import ParticipantTables
from .search import SearchTables
from .tickets import TicketTables
from .timers import TimerTables


class Tables:
    """Everything the store holds, by area; mutated only by a unit of work holding the lock."""

    def __init__(self) -> None:
        self.directory = DirectoryTables()
        self.accounts = AccountTables()
        self.desks = DeskTables()
        self.tickets = TicketTables()
        self.activity = ActivityTables()
        self.participants = ParticipantTables()
        self.attachments = AttachmentTables()
        self.timers = TimerTables()
        self.content = ContentTables()
        self.search = SearchTables()
        self.outbox = OutboxTables()
        self.feed = FeedTables()
        self.mail = MailTables()
