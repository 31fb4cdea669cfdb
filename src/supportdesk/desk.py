"""SupportDesk, the facade: every use case is one method and one unit of work."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

from ._account_cases import _AccountCases
from ._attachment_cases import TICKET_BLOBS as TICKET_BLOBS
from ._attachment_cases import _AttachmentCases
from ._attachment_upkeep import _AttachmentUpkeep
from ._collaborator_cases import _CollaboratorCases
from ._content_cases import _ContentCases
from ._desk_base import DeskOptions as DeskOptions
from ._directory_cases import _DirectoryCases
from ._list_cases import _ListCases
from ._mail_cases import Mailbox as Mailbox
from ._mail_cases import MailReport as MailReport
from ._mail_cases import _MailCases
from ._notification_cases import _NotificationCases
from ._privacy_cases import _PrivacyCases
from ._ticket_cases import _TicketCases
from ._timer_cases import _TimerCases
from ._views import Feed as Feed
from ._views import ListCount as ListCount
from ._views import MailDirection as MailDirection
from ._views import Page as Page
from ._views import Participant as Participant
from ._views import PendingSignup as PendingSignup
from ._views import ScanReport as ScanReport
from ._views import SearchPage as SearchPage
from ._views import SweepReport as SweepReport
from ._views import TicketEmail as TicketEmail
from ._views import TicketList as TicketList
from ._views import TicketView as TicketView
from ._views import Upload as Upload
from ._workflow_cases import _WorkflowCases
from .blobs import BlobStore, FilesystemBlobStore, MemoryBlobStore
from .clock import Clock
from .storage.protocol import Maintained


class SupportDesk(
    _DirectoryCases,
    _AccountCases,
    _MailCases,
    _TicketCases,
    _AttachmentCases,
    _AttachmentUpkeep,
    _WorkflowCases,
    _CollaboratorCases,
    _ListCases,
    _TimerCases,
    _ContentCases,
    _NotificationCases,
    _PrivacyCases,
):
    """The support portal's back end.  Every use case takes the acting contact.

    A ticket the actor may not see raises :class:`~supportdesk.NotFound`,
    exactly as a ticket that does not exist.  Each call is one transaction:
    it either happens whole, events included, or not at all.  (Attachment
    bytes go to the blob store before that transaction, and are deleted
    again if it fails.)

    :param store: where everything but attachment bytes is kept.
    :param options: the keyword options of :class:`DeskOptions` (clock,
        workflow, calendar, policies, blob store, scanner), each optional.
    :raises ValueError: ``scan_later`` without a ``scanner``.
    :raises WorkflowDefinitionError: a workflow timer the calendar cannot count.
    """

    @classmethod
    def in_memory(cls, **options: Unpack[DeskOptions]) -> SupportDesk:
        """A desk on a fresh :class:`~supportdesk.storage.memory.MemoryStore`.

        ``options`` are the constructor's keyword arguments.
        """
        from .storage.memory import MemoryStore

        return cls(MemoryStore(), **options)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        create: bool = False,
        synchronous: str = "NORMAL",
        schema: str | None = None,
        **options: Unpack[DeskOptions],
    ) -> SupportDesk:
        """A desk on the database at ``url``: ``sqlite:///portal.db`` or ``postgresql+psycopg://...``.

        Attachment bytes of a SQLite file go to a folder beside it
        (``portal.db.attachments/``) unless ``blob_store`` says otherwise; on
        any other database pass a ``blob_store`` (an S3 bucket, say).

        :param create: migrate the database to the latest schema first;
            otherwise a database that is not up to date is refused.
        :param synchronous: SQLite's ``PRAGMA synchronous`` (NORMAL or FULL).
        :param schema: Postgres: keep the library's tables in this schema of
            the host's database (see ``docs/storage.md``).
        :raises StorageError: when the database is unreachable or not migrated.
        :raises ValueError: for a server database without a ``blob_store``.
        """
        from .storage.sql import SqlStore

        if "blob_store" not in options:
            options["blob_store"] = _default_blob_store(url)
        store = SqlStore.from_url(url, create=create, synchronous=synchronous, schema=schema)
        try:
            return cls(store, **options)
        except BaseException:
            store.close()
            raise

    @property
    def clock(self) -> Clock:
        """Where this desk's "now" comes from."""
        return self._clock

    @property
    def blob_store(self) -> BlobStore:
        """Where this desk keeps attachment bytes."""
        return self._blobs

    def maintain_storage(self) -> None:
        """Do the store's upkeep between requests (SQLite: checkpoint, planner statistics).

        The :class:`~supportdesk.Worker` calls it after each pass; a host
        with no worker may call it from its own scheduler, every few seconds
        to a minute.  On SQLite it folds the write-ahead log into the
        database file, which the commit that fills the log (every 8,000
        pages or so) otherwise does, making that request wait, and hourly
        refreshes the statistics the planner picks the lists' indexes by.
        Stores without such upkeep (memory, Postgres) do nothing.
        """
        if isinstance(self._store, Maintained):
            self._store.maintain()

    def dispose(self) -> None:
        """Release the store's connections and files."""
        self._store.close()


def _default_blob_store(url: str) -> BlobStore:
    """A folder beside a SQLite file; anything else must name its blob store."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return FilesystemBlobStore(Path(f"{parsed.database}.attachments"))
    if parsed.get_backend_name() == "sqlite":
        return MemoryBlobStore()
    raise ValueError(
        f"a desk on {parsed.get_backend_name()} needs blob_store=... for attachment bytes "
        "(S3BlobStore or FilesystemBlobStore)"
    )


__all__ = [
    "TICKET_BLOBS",
    "Feed",
    "ListCount",
    "MailDirection",
    "MailReport",
    "Mailbox",
    "Page",
    "ScanReport",
    "SearchPage",
    "SupportDesk",
    "SweepReport",
    "TicketEmail",
    "TicketList",
    "TicketView",
    "Upload",
]
